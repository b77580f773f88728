//! Listpack: Redis's compact sequence of strings and integers (`listpack.c`), byte for
//! byte. Used for list nodes, small hashes, small sorted sets, 7.2 small sets and streams.
//!
//! Layout: `<total-bytes u32 LE> <count u16 LE> <entry>* 0xFF`; each entry is
//! `<encoding+data> <backlen>` where backlen (1–5 bytes) lets the list be walked backwards.

use crate::error::CodecError;
use crate::num::{i64_to_vec, parse_i64_canonical};

const HEADER: usize = 6;
const EOF: u8 = 0xFF;
/// Count stored in the header when the real count does not fit in 16 bits.
const COUNT_UNKNOWN: u16 = u16::MAX;
const WHAT: &str = "listpack";

/// One decoded element: listpacks store integers natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LpValue<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl LpValue<'_> {
    /// The element as Redis would return it to a client.
    pub fn to_vec(&self) -> Vec<u8> {
        match *self {
            LpValue::Str(s) => s.to_vec(),
            LpValue::Int(v) => i64_to_vec(v),
        }
    }
}

/// Builds one listpack; reusable (`clear`) so hot paths keep one allocation.
#[derive(Debug, Clone)]
pub struct ListpackBuilder {
    buf: Vec<u8>,
    count: usize,
    // `finish` appended the terminator; the next push removes it.
    sealed: bool,
}

impl Default for ListpackBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ListpackBuilder {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.resize(HEADER, 0);
        Self {
            buf,
            count: 0,
            sealed: false,
        }
    }

    pub fn clear(&mut self) {
        self.buf.truncate(HEADER);
        self.count = 0;
        self.sealed = false;
    }

    fn unseal(&mut self) {
        if self.sealed {
            self.buf.pop();
            self.sealed = false;
        }
    }

    /// Number of elements pushed.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Size the finished listpack will have.
    pub fn bytes(&self) -> usize {
        self.buf.len() + usize::from(!self.sealed)
    }

    /// Append an element, stored as an integer when it is one in canonical form
    /// (as `lpAppend` does).
    pub fn push(&mut self, s: &[u8]) {
        match parse_i64_canonical(s) {
            Some(v) => self.push_int(v),
            None => self.push_str(s),
        }
    }

    /// Append a string element without trying the integer encodings.
    pub fn push_str(&mut self, s: &[u8]) {
        self.unseal();
        let len = s.len();
        let start = self.buf.len();
        if len < 64 {
            self.buf.push(0x80 | len as u8);
        } else if len < 4096 {
            self.buf.push(0xE0 | (len >> 8) as u8);
            self.buf.push(len as u8);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(len as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        let l = self.buf.len() - start;
        push_backlen(&mut self.buf, l);
        self.count += 1;
    }

    pub fn push_int(&mut self, v: i64) {
        self.unseal();
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1 << 13) + v } else { v } as u16;
            self.buf.push(0xC0 | (u >> 8) as u8);
            self.buf.push(u as u8);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xF1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8388608..=8388607).contains(&v) {
            self.buf.push(0xF2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
            self.buf.push(0xF3);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            self.buf.push(0xF4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        let l = self.buf.len() - start;
        push_backlen(&mut self.buf, l);
        self.count += 1;
    }

    /// Terminate and return the listpack bytes (valid until the next mutation).
    pub fn finish(&mut self) -> &[u8] {
        self.unseal();
        self.buf.push(EOF);
        self.sealed = true;
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let count = if self.count < COUNT_UNKNOWN as usize {
            self.count as u16
        } else {
            COUNT_UNKNOWN
        };
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        &self.buf
    }
}

fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

fn push_backlen(buf: &mut Vec<u8>, l: usize) {
    // Stored so that reading right to left yields the low 7 bits first.
    match backlen_size(l) {
        1 => buf.push(l as u8),
        2 => buf.extend_from_slice(&[(l >> 7) as u8, (l & 127) as u8 | 128]),
        3 => buf.extend_from_slice(&[
            (l >> 14) as u8,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]),
        4 => buf.extend_from_slice(&[
            (l >> 21) as u8,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]),
        _ => buf.extend_from_slice(&[
            (l >> 28) as u8,
            ((l >> 21) & 127) as u8 | 128,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]),
    }
}

/// Encoded size of `s` as one element (including its backlen), matching `push`.
pub fn entry_size(s: &[u8]) -> usize {
    let l = match parse_i64_canonical(s) {
        Some(v) => match v {
            0..=127 => 1,
            -4096..=4095 => 2,
            -32768..=32767 => 3,
            -8388608..=8388607 => 4,
            _ if (i32::MIN as i64..=i32::MAX as i64).contains(&v) => 5,
            _ => 9,
        },
        None => {
            let n = s.len();
            n + if n < 64 {
                1
            } else if n < 4096 {
                2
            } else {
                5
            }
        }
    };
    l + backlen_size(l)
}

/// Validating iterator over a listpack's elements.
pub struct ListpackIter<'a> {
    blob: &'a [u8],
    pos: usize,
    seen: usize,
    header_count: u16,
    done: bool,
}

/// Check the header and return an iterator; each element is validated as it is reached,
/// and the header count is checked at the end.
pub fn iter(blob: &[u8]) -> Result<ListpackIter<'_>, CodecError> {
    if blob.len() < HEADER + 1 {
        return Err(CodecError::new(WHAT, 0, "shorter than its header"));
    }
    let total = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    if total != blob.len() {
        return Err(CodecError::new(WHAT, 0, "total size does not match"));
    }
    if blob[blob.len() - 1] != EOF {
        return Err(CodecError::new(WHAT, blob.len() - 1, "missing terminator"));
    }
    Ok(ListpackIter {
        blob,
        pos: HEADER,
        seen: 0,
        header_count: u16::from_le_bytes([blob[4], blob[5]]),
        done: false,
    })
}

/// Decode every element into owned byte strings.
pub fn to_vecs(blob: &[u8]) -> Result<Vec<Vec<u8>>, CodecError> {
    let it = iter(blob)?;
    let mut out = Vec::with_capacity((it.header_count as usize).min(blob.len() / 2));
    for v in it {
        out.push(v?.to_vec());
    }
    Ok(out)
}

impl<'a> ListpackIter<'a> {
    fn err(&mut self, at: usize, detail: &'static str) -> Option<Result<LpValue<'a>, CodecError>> {
        self.done = true;
        Some(Err(CodecError::new(WHAT, at, detail)))
    }

    fn slice_at(&self, at: usize, n: usize) -> Option<&'a [u8]> {
        // The terminator byte is never part of an element.
        let end = at.checked_add(n)?;
        if end < self.blob.len() {
            Some(&self.blob[at..end])
        } else {
            None
        }
    }
}

impl<'a> Iterator for ListpackIter<'a> {
    type Item = Result<LpValue<'a>, CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let start = self.pos;
        let b = self.blob[start];
        if b == EOF {
            self.done = true;
            if start != self.blob.len() - 1 {
                return self.err(start, "terminator before the end");
            }
            if self.header_count != COUNT_UNKNOWN && self.header_count as usize != self.seen {
                return self.err(4, "element count does not match");
            }
            return None;
        }
        let (value, len) = if b & 0x80 == 0 {
            (LpValue::Int((b & 0x7f) as i64), 1)
        } else if b & 0xC0 == 0x80 {
            let n = (b & 0x3f) as usize;
            match self.slice_at(start + 1, n) {
                Some(s) => (LpValue::Str(s), 1 + n),
                None => return self.err(start, "string overflows"),
            }
        } else if b & 0xE0 == 0xC0 {
            let Some(d) = self.slice_at(start, 2) else {
                return self.err(start, "int overflows");
            };
            let u = (((d[0] & 0x1f) as u16) << 8 | d[1] as u16) as i64;
            let v = if u >= 1 << 12 { u - (1 << 13) } else { u };
            (LpValue::Int(v), 2)
        } else if b & 0xF0 == 0xE0 {
            let Some(d) = self.slice_at(start, 2) else {
                return self.err(start, "string overflows");
            };
            let n = ((d[0] & 0x0f) as usize) << 8 | d[1] as usize;
            match self.slice_at(start + 2, n) {
                Some(s) => (LpValue::Str(s), 2 + n),
                None => return self.err(start, "string overflows"),
            }
        } else {
            let int_len = match b {
                0xF0 => 0,
                0xF1 => 2,
                0xF2 => 3,
                0xF3 => 4,
                0xF4 => 8,
                _ => return self.err(start, "bad encoding byte"),
            };
            if b == 0xF0 {
                let Some(d) = self.slice_at(start + 1, 4) else {
                    return self.err(start, "string overflows");
                };
                let n = u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as usize;
                match self.slice_at(start + 5, n) {
                    Some(s) => (LpValue::Str(s), 5 + n),
                    None => return self.err(start, "string overflows"),
                }
            } else {
                let Some(d) = self.slice_at(start + 1, int_len) else {
                    return self.err(start, "int overflows");
                };
                let mut raw = [0u8; 8];
                raw[..int_len].copy_from_slice(d);
                // Sign-extend from the stored width.
                let shift = 64 - 8 * int_len as u32;
                let v = (i64::from_le_bytes(raw) << shift) >> shift;
                (LpValue::Int(v), 1 + int_len)
            }
        };
        let bl = backlen_size(len);
        let Some(back) = self.slice_at(start + len, bl) else {
            return self.err(start, "backlen overflows");
        };
        let mut decoded: usize = 0;
        for &x in back {
            decoded = (decoded << 7) | (x & 127) as usize;
        }
        if decoded != len {
            return self.err(start + len, "backlen does not match");
        }
        self.pos = start + len + bl;
        self.seen += 1;
        Some(Ok(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_bytes() {
        // lpNew + lpAppend("hello"), lpAppend("1024") as produced by Redis.
        let mut b = ListpackBuilder::new();
        b.push(b"hello");
        b.push(b"1024");
        let lp = b.finish().to_vec();
        assert_eq!(
            lp,
            vec![17, 0, 0, 0, 2, 0, 0x85, b'h', b'e', b'l', b'l', b'o', 6, 0xC4, 0x00, 2, 0xFF]
        );
    }

    #[test]
    fn roundtrip_all_encodings() {
        let ints = [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            40000,
            -8388608,
            8388607,
            8388608,
            i32::MIN as i64,
            i32::MAX as i64,
            i64::MIN,
            i64::MAX,
        ];
        let strs: Vec<Vec<u8>> = [0usize, 1, 63, 64, 4095, 4096, 70000]
            .iter()
            .map(|&n| vec![b'x'; n])
            .collect();
        let mut b = ListpackBuilder::new();
        for v in ints {
            b.push_int(v);
        }
        for s in &strs {
            b.push(s);
        }
        b.push(b"007");
        let lp = b.finish().to_vec();
        let got: Vec<LpValue> = iter(&lp).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(got.len(), ints.len() + strs.len() + 1);
        for (i, v) in ints.iter().enumerate() {
            assert_eq!(got[i], LpValue::Int(*v));
        }
        for (i, s) in strs.iter().enumerate() {
            assert_eq!(got[ints.len() + i], LpValue::Str(s));
            assert_eq!(entry_size(s), {
                let mut one = ListpackBuilder::new();
                one.push(s);
                one.bytes() - HEADER - 1
            });
        }
        assert_eq!(got.last(), Some(&LpValue::Str(b"007")));
    }

    #[test]
    fn rejects_corruption() {
        let mut b = ListpackBuilder::new();
        b.push(b"abc");
        let lp = b.finish().to_vec();
        for i in 0..lp.len() {
            for x in [0u8, 0x7f, 0x80, 0xff] {
                let mut bad = lp.clone();
                bad[i] = x;
                // must not panic; either error or some consistent decode
                let _ = iter(&bad).map(|it| it.collect::<Vec<_>>());
            }
        }
        let mut bad = lp.clone();
        bad[4] = 5;
        assert!(to_vecs(&bad).is_err());
        assert!(to_vecs(&lp[..lp.len() - 1]).is_err());
    }
}
