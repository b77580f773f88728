//! Redis 7.0's number formatting. Replies and stored values must match it byte for byte,
//! so this reproduces C's `%.17g` (and friends) instead of Rust's shortest round-trip.

/// `printf("%.17g", x)` as glibc prints it, with Redis's spelling of the infinities.
pub fn fmt_g17(x: f64) -> String {
    fmt_g(x, 17)
}

/// `printf("%.<precision>g", x)`.
pub fn fmt_g(x: f64, precision: usize) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let p = precision.max(1);
    // Rust's `{:e}` rounds the exact binary value half-to-even, as glibc does.
    let sci = format!("{:.*e}", p - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let m = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_fraction(&format!("{:.*}", decimals, x)).to_string()
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_glibc() {
        assert_eq!(fmt_g17(1.5), "1.5");
        assert_eq!(fmt_g17(1.1), "1.1000000000000001");
        assert_eq!(fmt_g17(0.0), "0");
        assert_eq!(fmt_g17(-0.0), "-0");
        assert_eq!(fmt_g17(100.0), "100");
        assert_eq!(fmt_g17(1e17), "1e+17");
        assert_eq!(fmt_g17(1e16), "10000000000000000");
        assert_eq!(fmt_g17(0.0001), "0.0001");
        assert_eq!(fmt_g17(0.00001), "1.0000000000000001e-05");
        assert_eq!(fmt_g17(f64::INFINITY), "inf");
        assert_eq!(fmt_g17(-3.0), "-3");
        assert_eq!(fmt_g17(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(fmt_g(0.5, 6), "0.5");
    }
}
