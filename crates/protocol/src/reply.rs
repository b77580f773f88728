//! [`Reply`]: what a command answers, independent of the connection's protocol version,
//! and its encoding into RESP2 or RESP3 (`HELLO 3`). RESP3-only shapes degrade the way
//! Redis 7.0 degrades them for RESP2 clients (maps become flat arrays, doubles bulk
//! strings, booleans integers, nulls `$-1` / `*-1`).

use bytes::{BufMut, Bytes, BytesMut};

use crate::float::fmt_g17;

/// The protocol a connection speaks, chosen by `HELLO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RespVersion {
    #[default]
    Resp2,
    Resp3,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`
    Ok,
    /// A status reply: `+<text>`.
    Simple(Bytes),
    /// An error reply; the text is the whole line after `-` (e.g. `ERR syntax error`).
    Error(String),
    Int(i64),
    Bulk(Bytes),
    /// Null bulk string (`$-1`; RESP3 `_`).
    Nil,
    /// Null array (`*-1`; RESP3 `_`).
    NilArray,
    Array(Vec<Reply>),
    /// A RESP3 set; an array in RESP2.
    Set(Vec<Reply>),
    /// A RESP3 map; a flat array of key, value, … in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// A RESP3 double; a bulk string (`%.17g`) in RESP2.
    Double(f64),
    /// A RESP3 boolean; `:1` / `:0` in RESP2.
    Bool(bool),
    /// A RESP3 verbatim string (`=len\r\ntxt:…`); a bulk string in RESP2.
    Verbatim(Bytes),
    /// A RESP3 push (`>`); an array in RESP2.
    Push(Vec<Reply>),
}

impl Reply {
    pub fn bulk(data: impl Into<Bytes>) -> Reply {
        Reply::Bulk(data.into())
    }

    pub fn simple(text: &'static str) -> Reply {
        Reply::Simple(Bytes::from_static(text.as_bytes()))
    }

    pub fn error(text: impl Into<String>) -> Reply {
        Reply::Error(text.into())
    }

    /// An array of bulk strings, the most common multi-value reply.
    pub fn bulks<I, B>(items: I) -> Reply
    where
        I: IntoIterator<Item = B>,
        B: Into<Bytes>,
    {
        Reply::Array(items.into_iter().map(|b| Reply::Bulk(b.into())).collect())
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// Appends the wire form of `self` to `out`. (Hot path: every reply passes here.)
    pub fn encode(&self, version: RespVersion, out: &mut BytesMut) {
        let v3 = version == RespVersion::Resp3;
        match self {
            Reply::Ok => out.put_slice(b"+OK\r\n"),
            Reply::Simple(s) => {
                out.put_u8(b'+');
                out.put_slice(s);
                out.put_slice(b"\r\n");
            }
            Reply::Error(e) => {
                out.put_u8(b'-');
                // An error line cannot carry newlines: Redis replaces them with spaces.
                out.extend(
                    e.bytes()
                        .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
                );
                out.put_slice(b"\r\n");
            }
            Reply::Int(i) => header(out, b':', *i),
            Reply::Bulk(b) => bulk(out, b),
            Reply::Nil if v3 => out.put_slice(b"_\r\n"),
            Reply::Nil => out.put_slice(b"$-1\r\n"),
            Reply::NilArray if v3 => out.put_slice(b"_\r\n"),
            Reply::NilArray => out.put_slice(b"*-1\r\n"),
            Reply::Array(items) => aggregate(out, b'*', items, version),
            Reply::Set(items) => aggregate(out, if v3 { b'~' } else { b'*' }, items, version),
            Reply::Push(items) => aggregate(out, if v3 { b'>' } else { b'*' }, items, version),
            Reply::Map(pairs) => {
                if v3 {
                    header(out, b'%', pairs.len() as i64);
                } else {
                    header(out, b'*', 2 * pairs.len() as i64);
                }
                for (k, v) in pairs {
                    k.encode(version, out);
                    v.encode(version, out);
                }
            }
            Reply::Double(d) => {
                let text = fmt_g17(*d);
                if v3 {
                    out.put_u8(b',');
                    out.put_slice(text.as_bytes());
                    out.put_slice(b"\r\n");
                } else {
                    bulk(out, text.as_bytes());
                }
            }
            Reply::Bool(b) if v3 => out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Reply::Bool(b) => header(out, b':', *b as i64),
            Reply::Verbatim(text) if v3 => {
                header(out, b'=', text.len() as i64 + 4);
                out.put_slice(b"txt:");
                out.put_slice(text);
                out.put_slice(b"\r\n");
            }
            Reply::Verbatim(text) => bulk(out, text),
        }
    }
}

fn header(out: &mut BytesMut, kind: u8, n: i64) {
    let mut num = itoa::Buffer::new();
    out.put_u8(kind);
    out.put_slice(num.format(n).as_bytes());
    out.put_slice(b"\r\n");
}

fn bulk(out: &mut BytesMut, data: &[u8]) {
    header(out, b'$', data.len() as i64);
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

fn aggregate(out: &mut BytesMut, kind: u8, items: &[Reply], version: RespVersion) {
    header(out, kind, items.len() as i64);
    for item in items {
        item.encode(version, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis_protocol::resp2::{decode::decode as decode2, types::OwnedFrame as F2};
    use redis_protocol::resp3::{decode::complete::decode as decode3, types::OwnedFrame as F3};

    fn enc(r: &Reply, v: RespVersion) -> Vec<u8> {
        let mut out = BytesMut::new();
        r.encode(v, &mut out);
        out.to_vec()
    }

    /// The redis-protocol crate is the reference for what we put on the wire.
    #[test]
    fn resp2_decodes_with_reference_crate() {
        let r = Reply::Array(vec![
            Reply::Ok,
            Reply::Int(-7),
            Reply::bulk("x\r\ny"),
            Reply::Nil,
            Reply::Double(1.5),
            Reply::Map(vec![(Reply::bulk("k"), Reply::Bool(true))]),
        ]);
        let bytes = enc(&r, RespVersion::Resp2);
        let (frame, n) = decode2(&bytes).unwrap().unwrap();
        assert_eq!(n, bytes.len());
        assert_eq!(
            frame,
            F2::Array(vec![
                F2::SimpleString(b"OK".to_vec()),
                F2::Integer(-7),
                F2::BulkString(b"x\r\ny".to_vec()),
                F2::Null,
                F2::BulkString(b"1.5".to_vec()),
                F2::Array(vec![F2::BulkString(b"k".to_vec()), F2::Integer(1)]),
            ])
        );
    }

    #[test]
    fn resp3_decodes_with_reference_crate() {
        let r = Reply::Map(vec![
            (Reply::bulk("d"), Reply::Double(2.0)),
            (Reply::bulk("s"), Reply::Set(vec![Reply::Int(1)])),
            (Reply::bulk("n"), Reply::Nil),
            (Reply::bulk("b"), Reply::Bool(false)),
        ]);
        let bytes = enc(&r, RespVersion::Resp3);
        let (frame, n) = decode3(&bytes).unwrap().unwrap();
        assert_eq!(n, bytes.len());
        let F3::Map { data, .. } = frame else {
            panic!("not a map: {frame:?}")
        };
        assert_eq!(data.len(), 4);
        assert_eq!(enc(&Reply::Double(2.0), RespVersion::Resp3), b",2\r\n");
        assert_eq!(enc(&Reply::Nil, RespVersion::Resp3), b"_\r\n");
    }

    #[test]
    fn error_lines_have_no_newlines() {
        assert_eq!(
            enc(&Reply::error("ERR a\nb"), RespVersion::Resp2),
            b"-ERR a b\r\n"
        );
    }
}
