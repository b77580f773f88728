//! Redis's `long double` float increments (INCRBYFLOAT, HINCRBYFLOAT): parse both
//! operands like `string2ld`, add in the C `long double` type, format like
//! `ld2string(LD_STR_HUMAN)`. Rust has no `long double` and `f64` prints different digits
//! (10.5 + 0.1 is "10.6" in Redis), so the arithmetic is in `csrc/long_double.c`.

use std::os::raw::{c_char, c_int};

extern "C" {
    fn snapkv_ld_add(
        value: *const c_char,
        value_len: usize,
        incr: *const c_char,
        incr_len: usize,
        out: *mut c_char,
        out_cap: usize,
        out_len: *mut usize,
    ) -> c_int;
}

/// Why an increment failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdError {
    /// The current value is not a valid float.
    BadValue,
    /// The increment is not a valid float.
    BadIncrement,
    /// The sum is NaN or infinite.
    NotFinite,
}

/// Redis's `MAX_LONG_DOUBLE_CHARS`: room for the widest `%.17Lf` of a long double.
const OUT_CAP: usize = 5 * 1024;

/// `value + incr` formatted as Redis stores and replies it.
pub fn add(value: &[u8], incr: &[u8]) -> Result<Vec<u8>, LdError> {
    let mut out = vec![0u8; OUT_CAP];
    let mut len = 0usize;
    // SAFETY: the pointers and lengths describe live buffers; the C side writes at most
    // `OUT_CAP` bytes into `out` and only reads `value_len` / `incr_len` bytes.
    let rc = unsafe {
        snapkv_ld_add(
            value.as_ptr().cast(),
            value.len(),
            incr.as_ptr().cast(),
            incr.len(),
            out.as_mut_ptr().cast(),
            OUT_CAP,
            &mut len,
        )
    };
    match rc {
        0 => {
            out.truncate(len.min(OUT_CAP));
            Ok(out)
        }
        1 => Err(LdError::BadValue),
        2 => Err(LdError::BadIncrement),
        _ => Err(LdError::NotFinite),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str, i: &str) -> Result<String, LdError> {
        add(v.as_bytes(), i.as_bytes()).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn like_redis() {
        assert_eq!(s("10.5", "0.1").unwrap(), "10.6");
        assert_eq!(s("0", "1").unwrap(), "1");
        assert_eq!(s("5", "5.0e3").unwrap(), "5005");
        assert_eq!(s("3", "-3").unwrap(), "0");
        assert_eq!(s("0", "-0.000000000000000001").unwrap(), "0");
        assert_eq!(s("abc", "1"), Err(LdError::BadValue));
        assert_eq!(s("1", " 1"), Err(LdError::BadIncrement));
        assert_eq!(s("1", "nan"), Err(LdError::BadIncrement));
        assert_eq!(s("1", "inf"), Err(LdError::NotFinite));
        assert_eq!(s("", "1"), Err(LdError::BadValue));
        assert!(s("1", "1e300").unwrap().starts_with("1000000000000000000"));
    }
}
