//! Request framing: bytes from a client → one command's arguments at a time.
//!
//! Multibulk requests (`*N\r\n$len\r\n…`) are scanned incrementally by [`RequestParser`]
//! so that a command arriving over many reads is scanned once (no quadratic rescans) and
//! every limit (`proto-max-bulk-len`, unauthenticated sizes, header line length) is
//! enforced before its bytes pile up. Once the whole frame is present it is decoded by
//! `redis_protocol::resp2::decode::decode_range` and the arguments are zero-copy slices
//! of the frozen frame. Anything that does not start with `*` is an inline command.

use bytes::{Bytes, BytesMut};
use redis_protocol::resp2::{decode::decode_range, types::RangeFrame};

/// Redis's `PROTO_INLINE_MAX_SIZE`: the longest inline request or header line.
pub const INLINE_MAX: usize = 64 * 1024;

/// Limits a connection's requests must respect (from the config).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub proto_max_bulk_len: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            proto_max_bulk_len: 512 * 1024 * 1024,
        }
    }
}

/// A framing error. Its `Display` is the exact text Redis replies with before it closes
/// the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigInline,
    UnbalancedQuotes,
    TooBigMbulkCount,
    InvalidMultibulkLen,
    UnauthenticatedMultibulkLen,
    TooBigBulkCount,
    ExpectedDollar(u8),
    InvalidBulkLen,
    UnauthenticatedBulkLen,
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use ProtocolError::*;
        f.write_str("Protocol error: ")?;
        match self {
            TooBigInline => f.write_str("too big inline request"),
            UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
            TooBigMbulkCount => f.write_str("too big mbulk count string"),
            InvalidMultibulkLen => f.write_str("invalid multibulk length"),
            UnauthenticatedMultibulkLen => f.write_str("unauthenticated multibulk length"),
            TooBigBulkCount => f.write_str("too big bulk count string"),
            ExpectedDollar(b) => write!(f, "expected '$', got '{}'", *b as char),
            InvalidBulkLen => f.write_str("invalid bulk length"),
            UnauthenticatedBulkLen => f.write_str("unauthenticated bulk length"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Where an incomplete multibulk scan stopped, so the next read resumes there.
#[derive(Debug, Default, Clone, Copy)]
struct Scan {
    /// Offset of the next header line to read.
    pos: usize,
    /// Arguments still to scan; `None` before the `*N` line is read.
    left: Option<u64>,
    /// Don't look again until the buffer holds this many bytes.
    need: usize,
}

/// Incremental request parser for one connection.
#[derive(Debug, Default)]
pub struct RequestParser {
    pub limits: Limits,
    scan: Scan,
}

enum Step {
    /// The frame is complete and `n` bytes long.
    Complete(usize),
    /// An empty multibulk (`*0`, `*-1`) of `n` bytes: consume and ignore, as Redis does.
    Skip(usize),
    Incomplete,
}

impl RequestParser {
    pub fn new(limits: Limits) -> Self {
        RequestParser {
            limits,
            scan: Scan::default(),
        }
    }

    /// Takes the next complete command off the front of `buf`. `Ok(None)` means more
    /// bytes are needed. An empty `Vec` never comes back: blank lines and empty
    /// multibulks are consumed silently.
    pub fn next(
        &mut self,
        buf: &mut BytesMut,
        authenticated: bool,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            if buf.is_empty() {
                return Ok(None);
            }
            if buf[0] != b'*' {
                match parse_inline(buf)? {
                    Some(args) if args.is_empty() => continue,
                    other => return Ok(other),
                }
            }
            if buf.len() < self.scan.need {
                return Ok(None);
            }
            match self.scan_multibulk(buf, authenticated)? {
                Step::Incomplete => return Ok(None),
                Step::Skip(n) => {
                    let _ = buf.split_to(n);
                    self.scan = Scan::default();
                }
                Step::Complete(n) => {
                    self.scan = Scan::default();
                    let frame = buf.split_to(n).freeze();
                    return decode_args(frame).map(Some);
                }
            }
        }
    }

    fn scan_multibulk(&mut self, buf: &[u8], authenticated: bool) -> Result<Step, ProtocolError> {
        let s = &mut self.scan;
        if s.left.is_none() {
            let Some((line, next)) = header_line(buf, 1) else {
                if buf.len() > INLINE_MAX {
                    return Err(ProtocolError::TooBigMbulkCount);
                }
                s.need = buf.len() + 1;
                return Ok(Step::Incomplete);
            };
            let n = parse_len(line).ok_or(ProtocolError::InvalidMultibulkLen)?;
            if n > i32::MAX as i64 {
                return Err(ProtocolError::InvalidMultibulkLen);
            }
            if !authenticated && n > 10 {
                return Err(ProtocolError::UnauthenticatedMultibulkLen);
            }
            if n <= 0 {
                return Ok(Step::Skip(next));
            }
            s.left = Some(n as u64);
            s.pos = next;
        }
        while let Some(left) = s.left.filter(|l| *l > 0) {
            let at = s.pos;
            if at >= buf.len() {
                s.need = at + 1;
                return Ok(Step::Incomplete);
            }
            if buf[at] != b'$' {
                return Err(ProtocolError::ExpectedDollar(buf[at]));
            }
            let Some((line, data)) = header_line(buf, at + 1) else {
                if buf.len() - at > INLINE_MAX {
                    return Err(ProtocolError::TooBigBulkCount);
                }
                s.need = buf.len() + 1;
                return Ok(Step::Incomplete);
            };
            let len = parse_len(line).ok_or(ProtocolError::InvalidBulkLen)?;
            if len < 0 || len as u64 > self.limits.proto_max_bulk_len {
                return Err(ProtocolError::InvalidBulkLen);
            }
            if !authenticated && len > 16384 {
                return Err(ProtocolError::UnauthenticatedBulkLen);
            }
            let end = data + len as usize + 2;
            if buf.len() < end {
                s.need = end;
                return Ok(Step::Incomplete);
            }
            s.pos = end;
            s.left = Some(left - 1);
        }
        Ok(Step::Complete(s.pos))
    }
}

/// The header line starting at `from` (after the type byte), and where the next one
/// starts. Redis reads up to `\r` and requires the `\n` after it.
fn header_line(buf: &[u8], from: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(from..)?;
    let cr = rest.iter().position(|&b| b == b'\r')?;
    if rest.len() < cr + 2 {
        return None;
    }
    Some((&rest[..cr], from + cr + 2))
}

/// Redis's `string2ll` on a length header: optional sign, digits only, fits an i64.
fn parse_len(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn decode_args(frame: Bytes) -> Result<Vec<Bytes>, ProtocolError> {
    match decode_range(&frame) {
        Ok(Some((RangeFrame::Array(items), _))) => items
            .into_iter()
            .map(|item| match item {
                RangeFrame::BulkString((start, end)) => Ok(frame.slice(start..end)),
                // The scanner already rejected anything else; keep a clear error anyway.
                _ => Err(ProtocolError::ExpectedDollar(b'?')),
            })
            .collect(),
        _ => Err(ProtocolError::InvalidMultibulkLen),
    }
}

/// One inline command line off the front of `buf`, split like `sdssplitargs`.
fn parse_inline(buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > INLINE_MAX {
            return Err(ProtocolError::TooBigInline);
        }
        return Ok(None);
    };
    if nl > INLINE_MAX {
        return Err(ProtocolError::TooBigInline);
    }
    let line = buf.split_to(nl + 1);
    let mut line = &line[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    split_args(line)
        .map(|args| Some(args.into_iter().map(Bytes::from).collect()))
        .ok_or(ProtocolError::UnbalancedQuotes)
}

/// `sdssplitargs`: whitespace-separated words, `"…"` with C escapes (`\n`, `\xHH`, …),
/// `'…'` with only `\'`. A closing quote must be followed by a space or the end.
/// Returns `None` on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // Redis splits a C string: a NUL ends the line.
    let line = line.split(|&b| b == 0).next().unwrap_or_default();
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                    if let (Some(h), Some(l)) = (hex(line[i + 2]), hex(line[i + 3])) {
                        cur.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

/// C's `isspace`.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(cmd) = p.next(&mut buf, true)? {
            out.push(cmd);
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_pipeline() {
        let cmds = parse_all(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").unwrap();
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[1], vec![Bytes::from("GET"), Bytes::from("k")]);
    }

    #[test]
    fn byte_at_a_time_equals_whole() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhe\r\nl\r\nPING\r\n";
        let mut p = RequestParser::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for &b in input.iter() {
            buf.extend_from_slice(&[b]);
            while let Some(cmd) = p.next(&mut buf, true).unwrap() {
                got.push(cmd);
            }
        }
        assert_eq!(got, parse_all(input).unwrap());
        assert_eq!(got[0][2], Bytes::from("he\r\nl"));
        assert_eq!(got[1], vec![Bytes::from("PING")]);
    }

    #[test]
    fn inline_quotes_and_escapes() {
        let cmds = parse_all(b"set \"a b\" '\\'x' \"\\x41\\n\"\r\n\r\nping\n").unwrap();
        assert_eq!(cmds[0][1], Bytes::from("a b"));
        assert_eq!(cmds[0][2], Bytes::from("'x"));
        assert_eq!(cmds[0][3], Bytes::from("A\n"));
        assert_eq!(cmds[1], vec![Bytes::from("ping")]);
        assert_eq!(
            parse_all(b"set \"a\r\n").unwrap_err(),
            ProtocolError::UnbalancedQuotes
        );
        assert_eq!(
            parse_all(b"set \"a\"b\r\n").unwrap_err(),
            ProtocolError::UnbalancedQuotes
        );
    }

    #[test]
    fn errors_have_redis_texts() {
        let e = parse_all(b"*1\r\n:1\r\n").unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: expected '$', got ':'");
        let e = parse_all(b"*x\r\n").unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: invalid multibulk length");
        let e = parse_all(b"*1\r\n$-5\r\n").unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: invalid bulk length");
        let e = parse_all(b"*1\r\n$600000000\r\n").unwrap_err();
        assert_eq!(e.to_string(), "Protocol error: invalid bulk length");
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(
            p.next(&mut buf, false).unwrap_err(),
            ProtocolError::UnauthenticatedMultibulkLen
        );
        assert_eq!(
            parse_all(&vec![b'a'; INLINE_MAX + 1]).unwrap_err(),
            ProtocolError::TooBigInline
        );
        let mut big = b"*1\r\n$".to_vec();
        big.extend(vec![b'1'; INLINE_MAX + 1]);
        assert_eq!(parse_all(&big).unwrap_err(), ProtocolError::TooBigBulkCount);
    }

    #[test]
    fn empty_multibulk_is_skipped() {
        let cmds = parse_all(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n").unwrap();
        assert_eq!(cmds, vec![vec![Bytes::from("PING")]]);
    }

    #[test]
    fn huge_declared_bulk_waits_without_rescanning() {
        let mut p = RequestParser::default();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$100000\r\n"[..]);
        assert!(p.next(&mut buf, true).unwrap().is_none());
        assert_eq!(p.scan.need, 4 + 9 + 9 + 100_000 + 2);
        buf.extend_from_slice(&vec![b'x'; 100_000]);
        buf.extend_from_slice(b"\r\n");
        let cmd = p.next(&mut buf, true).unwrap().unwrap();
        assert_eq!(cmd[1].len(), 100_000);
        assert!(buf.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = parse_all(&data);
        }

        /// The fuzz target's property, run in CI: framing does not depend on how the
        /// bytes are split across reads.
        #[test]
        fn chunking_does_not_change_framing(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            step in 1usize..17,
        ) {
            let whole = parse_all(&data);
            let mut p = RequestParser::default();
            let mut buf = BytesMut::new();
            let mut split = Ok(Vec::new());
            'outer: for chunk in data.chunks(step) {
                buf.extend_from_slice(chunk);
                loop {
                    match p.next(&mut buf, true) {
                        Ok(Some(cmd)) => { if let Ok(v) = split.as_mut() { v.push(cmd) } }
                        Ok(None) => break,
                        Err(e) => { split = Err(e); break 'outer; }
                    }
                }
            }
            if let (Ok(a), Ok(b)) = (&whole, &split) {
                proptest::prop_assert_eq!(a, b);
            }
        }

        #[test]
        fn roundtrips_any_args(args in proptest::collection::vec(
            proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40), 1..8)) {
            let mut wire = format!("*{}\r\n", args.len()).into_bytes();
            for a in &args {
                wire.extend(format!("${}\r\n", a.len()).bytes());
                wire.extend(a);
                wire.extend(b"\r\n");
            }
            let cmds = parse_all(&wire).unwrap();
            proptest::prop_assert_eq!(cmds.len(), 1);
            let got: Vec<Vec<u8>> = cmds[0].iter().map(|b| b.to_vec()).collect();
            proptest::prop_assert_eq!(got, args);
        }
    }
}
