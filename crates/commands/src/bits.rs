//! Bit commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP (BITFIELD is in
//! `bitfield.rs`). Bit 0 is the most significant bit of byte 0, as in Redis.

use bytes::Bytes;
use snapkv_keyspace::{SetExpiry, StrValue, Value};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::key_flags;
use crate::spec::{flags::*, CommandSpec};
use crate::string::read_string;

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
        .key_flags2(key_flags::OW_UPDATE, key_flags::RO_ACCESS)
        .keys(2, -1, 1)
        .doc("Performs bitwise operations on multiple strings, and stores the result.", "2.6.0"),
];

/// Redis's `getBitOffsetFromArgument` for SETBIT/GETBIT.
pub fn bit_offset(ctx: &Ctx, arg: &[u8]) -> Result<u64, CommandError> {
    let err = || CommandError::err("bit offset is not an integer or out of range");
    let v = snapkv_keyspace::parse_canonical_i64(arg).ok_or_else(err)?;
    if v < 0 || (v as u64 >> 3) >= ctx.settings().proto_max_bulk_len {
        return Err(err());
    }
    Ok(v as u64)
}

fn setbit(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let offset = bit_offset(ctx, &args[2])?;
    let on = match &args[3][..] {
        b"1" => true,
        b"0" => false,
        _ => return Err(CommandError::err("bit is not an integer or out of range")),
    };
    let byte = (offset >> 3) as usize;
    let mask = 0x80u8 >> (offset & 7);
    let db = ctx.db();
    let current = match ctx.ks.peek(db, &args[1]) {
        None => None,
        Some(e) => Some(
            e.value
                .as_str()
                .ok_or(CommandError::WrongType)?
                .with_bytes(|b| (b.len(), b.get(byte).is_some_and(|v| v & mask != 0))),
        ),
    };
    let old = current.is_some_and(|(_, bit)| bit);
    match current {
        None => {
            let mut buf = vec![0u8; byte + 1];
            if on {
                buf[byte] |= mask;
            }
            let value = Value::Str(StrValue::Raw(Box::new(buf)));
            ctx.ks.insert(db, &args[1], value, SetExpiry::Clear);
        }
        // Redis 7.0 counts (and signals WATCHers of) only a real change: the string
        // grew or the bit flipped.
        Some((len, _)) if byte >= len || old != on => {
            let Some(buf) = ctx
                .ks
                .get_mut(db, &args[1])
                .and_then(|e| e.value.as_str_mut())
                .map(StrValue::make_raw)
            else {
                return Err(CommandError::WrongType);
            };
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
    let offset = bit_offset(ctx, &args[2])?;
    let db = ctx.db();
    let Some(e) = ctx.ks.get(db, &args[1]) else {
        return Ok(Reply::Int(0));
    };
    let byte = (offset >> 3) as usize;
    // Read in place: copying a large bitmap per GETBIT would make it O(size).
    let bit = e
        .value
        .as_str()
        .ok_or(CommandError::WrongType)?
        .with_bytes(|v| v.get(byte).is_some_and(|b| b & (0x80 >> (offset & 7)) != 0));
    Ok(Reply::Int(bit as i64))
}

/// BYTE / BIT unit keyword.
fn unit(arg: &[u8]) -> Result<bool, CommandError> {
    if is(arg, "bit") {
        Ok(true)
    } else if is(arg, "byte") {
        Ok(false)
    } else {
        Err(CommandError::Syntax)
    }
}

/// Normalises a (start, end) range like Redis over `len` units; None = empty.
fn normalise(start: i64, end: i64, len: i64) -> Option<(i64, i64)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if end < 0 { len + end } else { end };
    s = s.max(0);
    e = e.max(0);
    if e >= len {
        e = len - 1;
    }
    (s <= e).then_some((s, e))
}

/// The mask of bits of byte `i` that lie in the bit range [lo, hi].
fn byte_mask(i: u64, lo: u64, hi: u64) -> u8 {
    let first = i * 8;
    let mut mask = 0xffu8;
    if lo > first {
        mask &= 0xff >> (lo - first);
    }
    if hi < first + 7 {
        mask &= 0xffu8 << (first + 7 - hi);
    }
    mask
}

fn bitcount(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    // Redis 7.0 looks the key up before it parses the range: a missing key answers 0
    // whatever the arguments, and an inverted negative range answers 0 before the unit
    // keyword is looked at. The count runs on the stored bytes (no copy).
    let db = ctx.db();
    let Some(e) = ctx.ks.get(db, &args[1]) else {
        return Ok(Reply::Int(0));
    };
    let s = e.value.as_str().ok_or(CommandError::WrongType)?;
    s.with_bytes(|v| {
        let (lo, hi) = match args.len() {
            2 if v.is_empty() => return Ok(Reply::Int(0)),
            2 => (0, v.len() as u64 * 8 - 1),
            4 | 5 => {
                let s = parse_i64(&args[2])?;
                let e = parse_i64(&args[3])?;
                if s < 0 && e < 0 && s > e {
                    return Ok(Reply::Int(0));
                }
                let bits = match args.get(4) {
                    Some(u) => unit(u)?,
                    None => false,
                };
                let len = v.len() as i64 * if bits { 8 } else { 1 };
                match normalise(s, e, len) {
                    None => return Ok(Reply::Int(0)),
                    Some((s, e)) if bits => (s as u64, e as u64),
                    Some((s, e)) => (s as u64 * 8, e as u64 * 8 + 7),
                }
            }
            _ => return Err(CommandError::Syntax),
        };
        Ok(Reply::Int(count_range(v, lo, hi) as i64))
    })
}

/// Set bits of `v` in the bit range [lo, hi]: masked edge bytes, whole words between.
fn count_range(v: &[u8], lo: u64, hi: u64) -> u64 {
    let (first, last) = (lo / 8, hi / 8);
    let edge = |i: u64| (v[i as usize] & byte_mask(i, lo, hi)).count_ones() as u64;
    if first == last {
        return edge(first);
    }
    let middle = &v[first as usize + 1..last as usize];
    let mut words = middle.chunks_exact(8);
    let mut n: u64 = words
        .by_ref()
        .map(|w| u64::from_ne_bytes(w.try_into().unwrap_or([0; 8])).count_ones() as u64)
        .sum();
    n += words
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>();
    edge(first) + n + edge(last)
}

fn bitpos(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let bit = parse_i64(&args[2])?;
    if bit != 0 && bit != 1 {
        return Err(CommandError::err("The bit argument must be 1 or 0."));
    }
    // As in Redis 7.0: the lookup comes before the range is parsed, and a missing key
    // is an endless run of clear bits.
    let db = ctx.db();
    let Some(e) = ctx.ks.get(db, &args[1]) else {
        return Ok(Reply::Int(if bit == 1 { -1 } else { 0 }));
    };
    let s = e.value.as_str().ok_or(CommandError::WrongType)?;
    s.with_bytes(|v| {
        let (mut start, mut end, mut bits) = (0i64, -1i64, false);
        let mut end_given = false;
        match args.len() {
            3 => {}
            4..=6 => {
                start = parse_i64(&args[3])?;
                if args.len() == 6 {
                    bits = unit(&args[5])?;
                }
                if args.len() >= 5 {
                    end = parse_i64(&args[4])?;
                    end_given = true;
                }
            }
            _ => return Err(CommandError::Syntax),
        }
        let len = v.len() as i64 * if bits { 8 } else { 1 };
        let Some((s, e)) = normalise(start, end, len) else {
            return Ok(Reply::Int(-1));
        };
        let (lo, hi) = if bits {
            (s as u64, e as u64)
        } else {
            (s as u64 * 8, e as u64 * 8 + 7)
        };
        for i in lo / 8..=hi / 8 {
            let byte = v[i as usize];
            let candidates = if bit == 1 { byte } else { !byte } & byte_mask(i, lo, hi);
            if candidates != 0 {
                return Ok(Reply::Int(
                    (i * 8 + candidates.leading_zeros() as u64) as i64,
                ));
            }
        }
        // No match: for clear bits without an explicit end, the string is zero-padded.
        Ok(Reply::Int(if bit == 0 && !end_given {
            (hi + 1) as i64
        } else {
            -1
        }))
    })
}

fn bitop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    #[derive(PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = match crate::args::lower(&args[1]).as_str() {
        "and" => Op::And,
        "or" => Op::Or,
        "xor" => Op::Xor,
        "not" => Op::Not,
        _ => return Err(CommandError::Syntax),
    };
    if op == Op::Not && args.len() != 4 {
        return Err(CommandError::err(
            "BITOP NOT must be called with a single source key.",
        ));
    }
    let mut sources = Vec::with_capacity(args.len() - 3);
    for k in &args[3..] {
        sources.push(read_string(ctx, k)?.unwrap_or_default());
    }
    let max = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let db = ctx.db();
    if max == 0 {
        ctx.ks.remove(db, &args[2]);
        return Ok(Reply::Int(0));
    }
    let mut out = vec![0u8; max];
    for (i, o) in out.iter_mut().enumerate() {
        let byte = |s: &Bytes| s.get(i).copied().unwrap_or(0);
        *o = match op {
            Op::Not => !byte(&sources[0]),
            Op::And => sources.iter().fold(0xff, |acc, s| acc & byte(s)),
            Op::Or => sources.iter().fold(0, |acc, s| acc | byte(s)),
            Op::Xor => sources.iter().fold(0, |acc, s| acc ^ byte(s)),
        };
    }
    ctx.ks.insert(
        db,
        &args[2],
        Value::Str(StrValue::Raw(Box::new(out))),
        SetExpiry::Clear,
    );
    Ok(Reply::Int(max as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_masks_counts() {
        assert_eq!(normalise(0, -1, 3), Some((0, 2)));
        assert_eq!(normalise(-1, -3, 3), None);
        assert_eq!(normalise(5, 100, 3), None);
        assert_eq!(normalise(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(byte_mask(0, 0, 7), 0xff);
        assert_eq!(byte_mask(0, 1, 6), 0b0111_1110);
        assert_eq!(byte_mask(1, 1, 9), 0b1100_0000);
        assert_eq!(count_range(b"foobar", 0, 47), 26);
        assert_eq!(count_range(b"foobar", 8, 15), 6);
        assert_eq!(count_range(b"foobar", 5, 30), 17);
        let ones = [0xffu8; 40];
        assert_eq!(count_range(&ones, 3, 40 * 8 - 2), 40 * 8 - 4);
    }
}
