//! Bit commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS (BYTE|BIT ranges), BITOP
//! (AND OR XOR NOT). BITFIELD is in `bitfield.rs`. Bit 0 is the most significant bit of
//! the first byte, as in Redis.

use bytes::Bytes;
use snapkv_keyspace::{SetExpiry, StrValue, Value};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec};
use crate::string::{raw_mut, str_of};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("setbit", 4, WRITE | DENYOOM, "bitmap", setbit)
        .keys(1, 1, 1)
        .doc("Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", "2.2.0"),
    CommandSpec::new("getbit", 3, READONLY | FAST, "bitmap", getbit)
        .keys(1, 1, 1)
        .doc("Returns a bit value by offset.", "2.2.0"),
    CommandSpec::new("bitcount", -2, READONLY, "bitmap", bitcount)
        .keys(1, 1, 1)
        .doc("Counts the number of set bits (population counting) in a string.", "2.6.0"),
    CommandSpec::new("bitpos", -3, READONLY, "bitmap", bitpos)
        .keys(1, 1, 1)
        .doc("Finds the first set (1) or clear (0) bit in a string.", "2.8.7"),
    CommandSpec::new("bitop", -4, WRITE | DENYOOM, "bitmap", bitop)
        .keys(2, -1, 1)
        .doc("Performs bitwise operations on multiple strings, and stores the result.", "2.6.0"),
];

const BIT_OFFSET_ERR: &str = "bit offset is not an integer or out of range";

/// Redis's `getBitOffsetFromArgument`: a bit offset, or with `type_bits > 0` also the
/// `#N` form (N × the field width). Limited to `proto-max-bulk-len` bytes.
pub fn bit_offset(ctx: &Ctx, arg: &[u8], type_bits: u32) -> Result<u64, CommandError> {
    let err = || CommandError::err(BIT_OFFSET_ERR);
    let hash = type_bits > 0 && arg.first() == Some(&b'#');
    let digits = if hash { &arg[1..] } else { arg };
    let mut off = parse_i64(digits).map_err(|_| err())?;
    if hash {
        // Redis multiplies in C without a check; wrapping keeps its answer.
        off = off.wrapping_mul(type_bits as i64);
    }
    if off < 0 || (off >> 3) as u64 >= ctx.settings().proto_max_bulk_len {
        return Err(err());
    }
    Ok(off as u64)
}

fn setbit(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let key = &args[1];
    let off = bit_offset(ctx, &args[2], 0)?;
    let bad_bit = || CommandError::err("bit is not an integer or out of range");
    let on = parse_i64(&args[3]).map_err(|_| bad_bit())?;
    if on & !1 != 0 {
        return Err(bad_bit());
    }
    let on = on == 1;
    let byte = (off >> 3) as usize;
    let mask = 1u8 << (7 - (off & 7));
    let db = ctx.db();
    let current = match ctx.ks.peek(db, key) {
        None => None,
        Some(e) => Some(str_of(e)?.with_bytes(|b| (b.len(), b.get(byte).copied().unwrap_or(0)))),
    };
    let old = current.is_some_and(|(_, v)| v & mask != 0);
    match current {
        None => {
            let mut buf = vec![0u8; byte + 1];
            if on {
                buf[byte] |= mask;
            }
            ctx.ks
                .insert(db, key, Value::Str(StrValue::Raw(Box::new(buf))), SetExpiry::Clear);
        }
        // Like Redis, only a real change (growth or a flipped bit) is a modification.
        Some((len, _)) if byte >= len || old != on => {
            let buf = raw_mut(ctx, key).ok_or(CommandError::WrongType)?;
            if buf.len() <= byte {
                buf.resize(byte + 1, 0);
            }
            if on {
                buf[byte] |= mask;
            } else {
                buf[byte] &= !mask;
            }
        }
        Some(_) => {}
    }
    Ok(Reply::Int(old as i64))
}

fn getbit(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let off = bit_offset(ctx, &args[2], 0)?;
    let db = ctx.db();
    let Some(e) = ctx.ks.get(db, &args[1]) else {
        return Ok(Reply::Int(0));
    };
    let byte = (off >> 3) as usize;
    let mask = 1u8 << (7 - (off & 7));
    let v = str_of(e)?.with_bytes(|b| b.get(byte).is_some_and(|v| v & mask != 0));
    Ok(Reply::Int(v as i64))
}

/// A BITCOUNT / BITPOS range after Redis's index arithmetic: inclusive bit positions
/// `[first, last]`, or None when empty.
fn bit_range(len: usize, start: i64, end: i64, in_bits: bool) -> Option<(u64, u64)> {
    let total = if in_bits { (len as i64) << 3 } else { len as i64 };
    let mut start = if start < 0 { total.wrapping_add(start) } else { start };
    let mut end = if end < 0 { total.wrapping_add(end) } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    if start > end {
        return None;
    }
    let (first, last) = (start as u64, end as u64);
    Some(if in_bits {
        (first, last)
    } else {
        (first * 8, last * 8 + 7)
    })
}

/// The `BYTE` / `BIT` unit keyword.
fn unit_is_bit(arg: &[u8]) -> Result<bool, CommandError> {
    if is(arg, "bit") {
        Ok(true)
    } else if is(arg, "byte") {
        Ok(false)
    } else {
        Err(CommandError::Syntax)
    }
}

/// Byte `i`'s bits that fall in `[first, last]`, as a mask.
fn range_mask(i: u64, first: u64, last: u64) -> u8 {
    let lo = if i == first / 8 { first % 8 } else { 0 };
    let hi = if i == last / 8 { last % 8 } else { 7 };
    (0xffu8 >> lo) & (0xffu8 << (7 - hi))
}

fn popcount(p: &[u8]) -> u64 {
    let mut chunks = p.chunks_exact(8);
    let mut n: u64 = chunks
        .by_ref()
        .map(|c| u64::from_ne_bytes(c.try_into().unwrap_or([0; 8])).count_ones() as u64)
        .sum();
    n += chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>();
    n
}

fn count_bits(p: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = ((first / 8) as usize, (last / 8) as usize);
    if fb == lb {
        return (p[fb] & range_mask(fb as u64, first, last)).count_ones() as u64;
    }
    let head = (p[fb] & range_mask(fb as u64, first, last)).count_ones() as u64;
    let tail = (p[lb] & range_mask(lb as u64, first, last)).count_ones() as u64;
    head + popcount(&p[fb + 1..lb]) + tail
}

fn bitcount(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    // Redis 7.0 looks the key up before parsing the range: a missing key answers 0
    // whatever the arguments.
    let db = ctx.db();
    let Some(e) = ctx.ks.get(db, &args[1]) else {
        return Ok(Reply::Int(0));
    };
    let s = str_of(e)?;
    s.with_bytes(|p| {
        let range = match args.len() {
            2 => bit_range(p.len(), 0, -1, false),
            4 | 5 => {
                let start = parse_i64(&args[2])?;
                let end = parse_i64(&args[3])?;
                if start < 0 && end < 0 && start > end {
                    return Ok(Reply::Int(0));
                }
                let in_bits = match args.get(4) {
                    Some(u) => unit_is_bit(u)?,
                    None => false,
                };
                bit_range(p.len(), start, end, in_bits)
            }
            _ => return Err(CommandError::Syntax),
        };
        Ok(Reply::Int(match range {
            Some((first, last)) => count_bits(p, first, last) as i64,
            None => 0,
        }))
    })
}

/// The first bit equal to `bit` in `[first, last]`.
fn find_bit(p: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    for i in first / 8..=last / 8 {
        let b = p[i as usize];
        let x = if bit { b } else { !b } & range_mask(i, first, last);
        if x != 0 {
            return Some(i * 8 + x.leading_zeros() as u64);
        }
    }
    None
}

fn bitpos(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let bit = parse_i64(&args[2])?;
    if bit != 0 && bit != 1 {
        return Err(CommandError::err("The bit argument must be 1 or 0."));
    }
    let bit = bit == 1;
    let db = ctx.db();
    // A missing key is an infinite run of zeroes.
    let Some(e) = ctx.ks.get(db, &args[1]) else {
        return Ok(Reply::Int(if bit { -1 } else { 0 }));
    };
    let s = str_of(e)?;
    s.with_bytes(|p| {
        let (range, end_given) = match args.len() {
            3 => (bit_range(p.len(), 0, -1, false), false),
            4..=6 => {
                let start = parse_i64(&args[3])?;
                let in_bits = match args.get(5) {
                    Some(u) => unit_is_bit(u)?,
                    None => false,
                };
                match args.get(4) {
                    Some(e) => (bit_range(p.len(), start, parse_i64(e)?, in_bits), true),
                    None => (bit_range(p.len(), start, -1, in_bits), false),
                }
            }
            _ => return Err(CommandError::Syntax),
        };
        let Some((first, last)) = range else {
            return Ok(Reply::Int(-1));
        };
        Ok(Reply::Int(match find_bit(p, bit, first, last) {
            Some(pos) => pos as i64,
            // Looking for a clear bit past an open-ended range finds the zero padding
            // right after the string; an explicit end forbids that.
            None if !bit && !end_given => last as i64 + 1,
            None => -1,
        }))
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

fn bitop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let op = match &args[1] {
        a if is(a, "and") => BitOp::And,
        a if is(a, "or") => BitOp::Or,
        a if is(a, "xor") => BitOp::Xor,
        a if is(a, "not") => BitOp::Not,
        _ => return Err(CommandError::Syntax),
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(CommandError::err(
            "BITOP NOT must be called with a single source key.",
        ));
    }
    let db = ctx.db();
    // Folded one source at a time: a missing byte (shorter or missing string) is 0.
    let mut res: Vec<u8> = Vec::new();
    for (j, key) in args[3..].iter().enumerate() {
        let Some(e) = ctx.ks.get(db, key) else {
            if op == BitOp::And {
                res.iter_mut().for_each(|b| *b = 0);
            }
            continue;
        };
        str_of(e)?.with_bytes(|src| {
            if j == 0 {
                res = match op {
                    BitOp::Not => src.iter().map(|b| !b).collect(),
                    _ => src.to_vec(),
                };
                return;
            }
            if res.len() < src.len() {
                res.resize(src.len(), 0);
            }
            for (i, r) in res.iter_mut().enumerate() {
                let s = src.get(i).copied().unwrap_or(0);
                match op {
                    BitOp::And => *r &= s,
                    BitOp::Or => *r |= s,
                    BitOp::Xor => *r ^= s,
                    BitOp::Not => {}
                }
            }
        });
    }
    let dest = &args[2];
    let len = res.len();
    if len > 0 {
        let v = Value::Str(StrValue::Raw(Box::new(res)));
        ctx.ks.insert(db, dest, v, SetExpiry::Clear);
    } else {
        ctx.ks.remove(db, dest);
    }
    Ok(Reply::Int(len as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_masks() {
        assert_eq!(range_mask(0, 0, 7), 0xff);
        assert_eq!(range_mask(0, 1, 6), 0b0111_1110);
        assert_eq!(range_mask(1, 1, 9), 0b1100_0000);
        assert_eq!(bit_range(3, 0, -1, false), Some((0, 23)));
        assert_eq!(bit_range(3, 5, 30, true), Some((5, 23)));
        assert_eq!(bit_range(3, 2, 1, false), None);
        assert_eq!(count_bits(b"foobar", 0, 47), 26);
        assert_eq!(count_bits(b"foobar", 8, 15), 6);
        assert_eq!(count_bits(b"foobar", 5, 30), 17);
        assert_eq!(find_bit(&[0xff, 0xf0, 0], false, 0, 23), Some(12));
        assert_eq!(find_bit(&[0, 0, 1], true, 0, 23), Some(23));
        assert_eq!(find_bit(&[0, 0, 1], true, 0, 22), None);
        assert_eq!(popcount(&[0xff; 19]), 152);
    }
}
