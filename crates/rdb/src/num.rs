//! Number ⇄ text conversions with Redis's exact rules (`string2ll`, `ll2string`, scores).

/// Parse `s` as an i64 only if it is in canonical form (what `ll2string` would print):
/// no sign but `-`, no leading zeros, no `-0`, no spaces. Redis uses this rule to decide
/// whether a string may be stored as an integer, so the text round-trips exactly.
pub fn parse_i64_canonical(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits {
        [] => return None,
        [b'0'] => return if neg { None } else { Some(0) },
        [b'0', ..] => return None,
        _ => {}
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v <= i64::MAX as u64 + 1 {
            Some((v as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(v).ok()
    }
}

/// Append the decimal text of `v`.
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let neg = v < 0;
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

pub fn i64_to_vec(v: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(20);
    push_i64(&mut out, v);
    out
}

/// Text for a sorted-set score as stored in listpacks: integers below 2^52 print as
/// integers (as Redis's `d2string` does), others with the shortest text that parses back
/// to the same double.
pub fn push_score(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"nan");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
    } else if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
    } else if v > -4503599627370495.0 && v < 4503599627370496.0 && v == (v as i64) as f64 {
        push_i64(out, v as i64);
    } else {
        out.extend_from_slice(format!("{v:?}").as_bytes());
    }
}

/// Parse a score written as text (`strtod`-like: accepts inf/-inf/nan spelled any case).
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let t = std::str::from_utf8(s).ok()?.trim();
    match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" | "-nan" => return Some(f64::NAN),
        _ => {}
    }
    t.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_ints() {
        assert_eq!(parse_i64_canonical(b"0"), Some(0));
        assert_eq!(parse_i64_canonical(b"-1"), Some(-1));
        assert_eq!(parse_i64_canonical(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64_canonical(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"-0"[..],
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"",
            b"-",
            b"9223372036854775808",
            b"1a",
        ] {
            assert_eq!(parse_i64_canonical(bad), None, "{:?}", bad);
        }
        for v in [0, 1, -1, 12345, i64::MIN, i64::MAX] {
            assert_eq!(i64_to_vec(v), v.to_string().into_bytes());
        }
    }

    #[test]
    fn scores() {
        for (v, s) in [
            (1.0, "1"),
            (-2.0, "-2"),
            (1.5, "1.5"),
            (1e300, "1e300"),
            (f64::INFINITY, "inf"),
        ] {
            let mut out = Vec::new();
            push_score(&mut out, v);
            assert_eq!(out, s.as_bytes());
            assert_eq!(parse_f64(&out), Some(v));
        }
    }
}
