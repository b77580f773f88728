//! Ziplist and zipmap decoders (`ziplist.c`, `zipmap.c`): the compact encodings of RDB
//! files older than Redis 7.0. Read-only: nothing writes them any more.
//!
//! Ziplist: `<zlbytes u32 LE> <zltail u32 LE> <zllen u16 LE> <entry>* 0xFF`, entry =
//! `<prevlen 1|5> <encoding> <data>`. Zipmap: `<count u8> (<len> key <len> <free u8>
//! value <free bytes>)* 0xFF`.

use crate::error::CodecError;
use crate::listpack::LpValue;

/// Field/value pairs of a hash.
pub type FieldValues = Vec<(Vec<u8>, Vec<u8>)>;

const ZL: &str = "ziplist";
const ZM: &str = "zipmap";

/// Decode a ziplist into its elements, validating every entry against the buffer.
pub fn decode(blob: &[u8]) -> Result<Vec<LpValue<'_>>, CodecError> {
    let err = |at, d| Err(CodecError::new(ZL, at, d));
    if blob.len() < 11 {
        return err(0, "shorter than its header");
    }
    let zlbytes = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    if zlbytes != blob.len() {
        return err(0, "total size does not match");
    }
    if blob[blob.len() - 1] != 0xFF {
        return err(blob.len() - 1, "missing terminator");
    }
    let count = u16::from_le_bytes([blob[8], blob[9]]);
    let end = blob.len() - 1;
    let mut out = Vec::with_capacity((count as usize).min(end / 2));
    let mut pos = 10;
    let mut prev_len = 0usize;
    while pos < end {
        let start = pos;
        let (prevlen, n) = if blob[pos] < 254 {
            (blob[pos] as usize, 1)
        } else if blob[pos] == 254 {
            if pos + 5 > end {
                return err(start, "prevlen overflows");
            }
            let p = &blob[pos + 1..pos + 5];
            (u32::from_le_bytes([p[0], p[1], p[2], p[3]]) as usize, 5)
        } else {
            return err(start, "terminator before the end");
        };
        if prevlen != prev_len {
            return err(start, "prevlen does not match");
        }
        pos += n;
        if pos >= end {
            return err(start, "entry overflows");
        }
        let e = blob[pos];
        let take = |at: usize, len: usize| -> Option<&[u8]> {
            let stop = at.checked_add(len)?;
            (stop <= end).then(|| &blob[at..stop])
        };
        let (value, hdr_and_data) = match e >> 6 {
            0..=2 => {
                let (len, hdr) = match e >> 6 {
                    0 => ((e & 0x3f) as usize, 1),
                    1 => match take(pos + 1, 1) {
                        Some(b) => (((e & 0x3f) as usize) << 8 | b[0] as usize, 2),
                        None => return err(start, "entry overflows"),
                    },
                    _ => match take(pos + 1, 4) {
                        Some(b) if e == 0x80 => {
                            (u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize, 5)
                        }
                        _ => return err(start, "bad string encoding"),
                    },
                };
                match take(pos + hdr, len) {
                    Some(s) => (LpValue::Str(s), hdr + len),
                    None => return err(start, "string overflows"),
                }
            }
            _ => {
                let width = match e {
                    0xC0 => 2,
                    0xD0 => 4,
                    0xE0 => 8,
                    0xF0 => 3,
                    0xFE => 1,
                    0xF1..=0xFD => 0,
                    _ => return err(pos, "bad encoding byte"),
                };
                if width == 0 {
                    (LpValue::Int((e & 0x0f) as i64 - 1), 1)
                } else {
                    let Some(d) = take(pos + 1, width) else {
                        return err(start, "int overflows");
                    };
                    let mut raw = [0u8; 8];
                    raw[..width].copy_from_slice(d);
                    let shift = 64 - 8 * width as u32;
                    (
                        LpValue::Int((i64::from_le_bytes(raw) << shift) >> shift),
                        1 + width,
                    )
                }
            }
        };
        pos += hdr_and_data;
        prev_len = pos - start;
        out.push(value);
    }
    if count != u16::MAX && count as usize != out.len() {
        return err(8, "element count does not match");
    }
    Ok(out)
}

/// Decode a ziplist into owned byte strings.
pub fn to_vecs(blob: &[u8]) -> Result<Vec<Vec<u8>>, CodecError> {
    Ok(decode(blob)?.iter().map(LpValue::to_vec).collect())
}

/// Decode a zipmap (Redis < 2.6 small hashes) into field/value pairs.
pub fn decode_zipmap(blob: &[u8]) -> Result<FieldValues, CodecError> {
    let err = |at, d| Err(CodecError::new(ZM, at, d));
    if blob.len() < 2 {
        return err(0, "too short");
    }
    let mut pos = 1;
    let mut out = Vec::new();
    let read_len = |pos: &mut usize| -> Option<usize> {
        let b = *blob.get(*pos)?;
        *pos += 1;
        match b {
            0..=253 => Some(b as usize),
            254 => {
                let d = blob.get(*pos..*pos + 4)?;
                *pos += 4;
                Some(u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as usize)
            }
            _ => None,
        }
    };
    loop {
        match blob.get(pos) {
            None => return err(pos, "missing terminator"),
            Some(255) => {
                if pos + 1 != blob.len() {
                    return err(pos, "trailing bytes");
                }
                return Ok(out);
            }
            Some(_) => {}
        }
        let start = pos;
        let Some(klen) = read_len(&mut pos) else {
            return err(start, "bad key length");
        };
        let Some(key) = blob.get(pos..pos.saturating_add(klen)) else {
            return err(start, "key overflows");
        };
        pos += klen;
        let Some(vlen) = read_len(&mut pos) else {
            return err(start, "bad value length");
        };
        let Some(&free) = blob.get(pos) else {
            return err(start, "value overflows");
        };
        pos += 1;
        let Some(val) = blob.get(pos..pos.saturating_add(vlen)) else {
            return err(start, "value overflows");
        };
        pos += vlen + free as usize;
        out.push((key.to_vec(), val.to_vec()));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Minimal ziplist encoder for tests (strings as strings, no int conversion except
    /// for the i64 variant).
    pub(crate) fn build(items: &[LpValue<'_>]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        for it in items {
            let mut e = Vec::new();
            if prev < 254 {
                e.push(prev as u8);
            } else {
                e.push(254);
                e.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            match *it {
                LpValue::Str(s) if s.len() < 64 => {
                    e.push(s.len() as u8);
                    e.extend_from_slice(s);
                }
                LpValue::Str(s) if s.len() < 16384 => {
                    e.push(0x40 | (s.len() >> 8) as u8);
                    e.push(s.len() as u8);
                    e.extend_from_slice(s);
                }
                LpValue::Str(s) => {
                    e.push(0x80);
                    e.extend_from_slice(&(s.len() as u32).to_be_bytes());
                    e.extend_from_slice(s);
                }
                LpValue::Int(v) if (0..=12).contains(&v) => e.push(0xF1 + v as u8),
                LpValue::Int(v) if (-128..=127).contains(&v) => {
                    e.push(0xFE);
                    e.push(v as i8 as u8);
                }
                LpValue::Int(v) if (-32768..=32767).contains(&v) => {
                    e.push(0xC0);
                    e.extend_from_slice(&(v as i16).to_le_bytes());
                }
                LpValue::Int(v) if (-8388608..=8388607).contains(&v) => {
                    e.push(0xF0);
                    e.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
                }
                LpValue::Int(v) if (i32::MIN as i64..=i32::MAX as i64).contains(&v) => {
                    e.push(0xD0);
                    e.extend_from_slice(&(v as i32).to_le_bytes());
                }
                LpValue::Int(v) => {
                    e.push(0xE0);
                    e.extend_from_slice(&v.to_le_bytes());
                }
            }
            prev = e.len();
            body.extend_from_slice(&e);
        }
        let total = 10 + body.len() + 1;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&(total as u32).to_le_bytes());
        out.extend_from_slice(&((total - 1 - prev) as u32).to_le_bytes());
        out.extend_from_slice(&(items.len().min(65535) as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out.push(0xFF);
        out
    }

    #[test]
    fn roundtrip() {
        let big = vec![b'z'; 300];
        let huge = vec![b'q'; 20000];
        let items = [
            LpValue::Str(b"hello"),
            LpValue::Int(0),
            LpValue::Int(12),
            LpValue::Int(-1),
            LpValue::Int(300),
            LpValue::Int(-70000),
            LpValue::Int(1 << 40),
            LpValue::Int(i32::MIN as i64),
            LpValue::Str(&big),
            LpValue::Str(&huge),
            LpValue::Str(b""),
        ];
        let zl = build(&items);
        assert_eq!(decode(&zl).unwrap(), items.to_vec());
        for i in 0..zl.len() {
            let mut bad = zl.clone();
            bad[i] ^= 0x5a;
            let _ = decode(&bad);
        }
        assert!(decode(&zl[..zl.len() - 1]).is_err());
    }

    #[test]
    fn zipmap() {
        // zipmap {"foo": "bar", "k": "vv"} with one free byte after "bar".
        let zm = [
            2, 3, b'f', b'o', b'o', 3, 1, b'b', b'a', b'r', 0, 1, b'k', 2, 0, b'v', b'v', 255,
        ];
        assert_eq!(
            decode_zipmap(&zm).unwrap(),
            vec![
                (b"foo".to_vec(), b"bar".to_vec()),
                (b"k".to_vec(), b"vv".to_vec())
            ]
        );
        assert!(decode_zipmap(&zm[..zm.len() - 1]).is_err());
        assert!(decode_zipmap(&[1, 200, 1]).is_err());
    }
}
