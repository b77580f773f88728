//! Intset: Redis's sorted array of integers for small all-integer sets (`intset.c`).
//!
//! Layout: `<encoding u32 LE: 2|4|8> <length u32 LE> <values, ascending, LE, that width>`.

use crate::error::CodecError;

const WHAT: &str = "intset";

/// Encode `values` (any order, may repeat) as an intset: sorted, deduplicated, with the
/// narrowest width that holds them all.
pub fn encode(values: &mut Vec<i64>, out: &mut Vec<u8>) {
    values.sort_unstable();
    values.dedup();
    let width: usize = if values
        .iter()
        .all(|&v| (i16::MIN as i64..=i16::MAX as i64).contains(&v))
    {
        2
    } else if values
        .iter()
        .all(|&v| (i32::MIN as i64..=i32::MAX as i64).contains(&v))
    {
        4
    } else {
        8
    };
    out.reserve(8 + width * values.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for &v in values.iter() {
        match width {
            2 => out.extend_from_slice(&(v as i16).to_le_bytes()),
            4 => out.extend_from_slice(&(v as i32).to_le_bytes()),
            _ => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
}

/// Decode an intset, checking width, length and strict ascending order.
pub fn decode(blob: &[u8]) -> Result<Vec<i64>, CodecError> {
    if blob.len() < 8 {
        return Err(CodecError::new(WHAT, 0, "shorter than its header"));
    }
    let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(CodecError::new(WHAT, 0, "bad encoding width"));
    }
    let len = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    let body = &blob[8..];
    if len.checked_mul(width) != Some(body.len()) {
        return Err(CodecError::new(WHAT, 4, "length does not match size"));
    }
    let mut out = Vec::with_capacity(len);
    for (i, c) in body.chunks_exact(width).enumerate() {
        let v = match width {
            2 => i16::from_le_bytes([c[0], c[1]]) as i64,
            4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        };
        if out.last().is_some_and(|&p| p >= v) {
            return Err(CodecError::new(
                WHAT,
                8 + i * width,
                "not strictly ascending",
            ));
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_widths() {
        for set in [
            vec![3i64, 1, 2, 2],
            vec![70000, -5],
            vec![i64::MIN, 0, i64::MAX],
        ] {
            let mut v = set.clone();
            let mut out = Vec::new();
            encode(&mut v, &mut out);
            let mut want = set.clone();
            want.sort();
            want.dedup();
            assert_eq!(decode(&out).unwrap(), want);
        }
        let mut out = Vec::new();
        encode(&mut vec![1, 2], &mut out);
        assert_eq!(out, vec![2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0]);
    }

    #[test]
    fn rejects_bad() {
        assert!(decode(&[3, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(decode(&[2, 0, 0, 0, 2, 0, 0, 0, 1, 0]).is_err());
        assert!(decode(&[2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0]).is_err());
        assert!(decode(&[2, 0, 0, 0, 255, 255, 255, 255]).is_err());
    }
}
