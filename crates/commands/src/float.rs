//! INCRBYFLOAT arithmetic in C's `long double`, like Redis 7.0 (see csrc/longdouble.c).

use crate::error::CommandError;

extern "C" {
    fn snapkv_ld_incr(
        cur: *const u8,
        cur_len: usize,
        has_cur: i32,
        incr: *const u8,
        incr_len: usize,
        out: *mut u8,
        out_len: usize,
        written: *mut usize,
    ) -> i32;
}

/// `current + increment` formatted as Redis stores it. `current` None = 0.
pub fn incr_by_float(current: Option<&[u8]>, increment: &[u8]) -> Result<Vec<u8>, CommandError> {
    // 5 KiB of digits plus sign, point and 17 decimals always fit.
    let mut out = vec![0u8; 5 * 1024 + 64];
    let mut written = 0usize;
    let (cur, has) = match current {
        Some(c) => (c, 1),
        None => (&b""[..], 0),
    };
    // SAFETY: every pointer/length pair describes a live buffer of that length; the C
    // side writes at most `out.len()` bytes into `out` and sets `written`.
    let rc = unsafe {
        snapkv_ld_incr(
            cur.as_ptr(),
            cur.len(),
            has,
            increment.as_ptr(),
            increment.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut written,
        )
    };
    match rc {
        0 => {
            out.truncate(written);
            Ok(out)
        }
        1 | 2 => Err(CommandError::NotFloat),
        _ => Err(CommandError::err("increment would produce NaN or Infinity")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_double_digits() {
        assert_eq!(incr_by_float(Some(b"10.5"), b"0.1").unwrap(), b"10.6");
        assert_eq!(incr_by_float(None, b"3.0e3").unwrap(), b"3000");
        assert_eq!(incr_by_float(Some(b"5"), b"-5").unwrap(), b"0");
        assert!(incr_by_float(Some(b"abc"), b"1").is_err());
        assert!(incr_by_float(Some(b"1"), b" 1").is_err());
        assert!(incr_by_float(Some(b"1"), b"inf").is_err());
        // strtold's ERANGE: overflow and underflow to zero are not valid floats.
        assert_eq!(
            incr_by_float(Some(b"1"), b"1e5000"),
            Err(CommandError::NotFloat)
        );
        assert_eq!(
            incr_by_float(Some(b"1"), b"1e-5000"),
            Err(CommandError::NotFloat)
        );
        assert_eq!(incr_by_float(Some(b"1\0x"), b"1").unwrap(), b"2");
    }
}
