//! Argument parsing with Redis's rules and error texts (`string2ll`, `strtold`, keyword
//! options).

use bytes::Bytes;

use crate::error::CommandError;

/// An integer argument (`ERR value is not an integer or out of range` otherwise).
pub fn parse_i64(arg: &[u8]) -> Result<i64, CommandError> {
    snapkv_keyspace::parse_canonical_i64(arg).ok_or(CommandError::NotInteger)
}

/// A non-negative integer that must fit `usize`.
pub fn parse_usize(arg: &[u8]) -> Result<usize, CommandError> {
    let v = parse_i64(arg)?;
    usize::try_from(v).map_err(|_| CommandError::NotInteger)
}

/// A float argument like Redis's `getLongDoubleFromObject` / `strtod`: no spaces, no
/// NaN; `inf`, `-inf`, `+inf` accepted.
pub fn parse_f64(arg: &[u8]) -> Result<f64, CommandError> {
    let s = std::str::from_utf8(arg).map_err(|_| CommandError::NotFloat)?;
    if s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return Err(CommandError::NotFloat);
    }
    let lower = s.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            if lower.contains("nan") || lower.contains("inf") {
                return Err(CommandError::NotFloat);
            }
            // Rust accepts forms C rejects ("1_0" no, but "1." / ".5" / "1e5" both do).
            match lower.parse::<f64>() {
                Ok(v) => v,
                Err(_) => parse_hex_float(&lower).ok_or(CommandError::NotFloat)?,
            }
        }
    };
    Ok(v)
}

/// `strtod`'s hexadecimal form: `[+-]0x<hex>[.<hex>][p[+-]<dec>]` (lower-cased input).
fn parse_hex_float(s: &str) -> Option<f64> {
    let (neg, s) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let s = s.strip_prefix("0x")?;
    let (mant, exp) = match s.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    let v = v * 2f64.powi(exp);
    Some(if neg { -v } else { v })
}

/// Case-insensitive keyword comparison.
pub fn is(arg: &[u8], keyword: &str) -> bool {
    arg.eq_ignore_ascii_case(keyword.as_bytes())
}

/// Lowercased UTF-8 view of an argument (subcommand names, option names).
pub fn lower(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).to_ascii_lowercase()
}

/// Lossy string view of an argument for messages.
pub fn text(arg: &Bytes) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_redis() {
        assert_eq!(parse_f64(b"1.5").unwrap(), 1.5);
        assert_eq!(parse_f64(b"-inf").unwrap(), f64::NEG_INFINITY);
        assert_eq!(parse_f64(b"1e3").unwrap(), 1000.0);
        assert!(parse_f64(b"nan").is_err());
        assert!(parse_f64(b" 1").is_err());
        assert!(parse_f64(b"abc").is_err());
        assert!(parse_i64(b"01").is_err());
        assert_eq!(parse_i64(b"-12").unwrap(), -12);
    }
}
