//! BITFIELD and BITFIELD_RO: signed/unsigned integer fields of 1..64 bits at any bit
//! offset (`#N` = N × width), with GET, SET, INCRBY and OVERFLOW WRAP|SAT|FAIL.
//! Overflow detection mirrors Redis's `check{Signed,Unsigned}BitfieldOverflow`
//! operation for operation (including its wrapping arithmetic), so edge answers match.

use bytes::Bytes;
use snapkv_keyspace::{SetExpiry, StrValue, Value};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::bits::bit_offset;
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec};
use crate::string::{raw_mut, str_of};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("bitfield", -2, WRITE | DENYOOM, "bitmap", bitfield)
        .keys(1, 1, 1)
        .doc("Performs arbitrary bitfield integer operations on strings.", "3.2.0"),
    CommandSpec::new("bitfield_ro", -2, READONLY | FAST, "bitmap", bitfield_ro)
        .keys(1, 1, 1)
        .doc("Performs arbitrary read-only bitfield integer operations on strings.", "6.0.0"),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Get,
    Set,
    IncrBy,
}

#[derive(Clone, Copy)]
struct Op {
    kind: OpKind,
    signed: bool,
    bits: u32,
    offset: u64,
    value: i64,
    overflow: Overflow,
}

/// `i1`..`i64` / `u1`..`u63` (lower-case only, as in Redis).
fn field_type(arg: &[u8]) -> Result<(bool, u32), CommandError> {
    let err = || {
        CommandError::err(
            "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        )
    };
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    let bits = parse_i64(&arg[1..]).map_err(|_| err())?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return Err(err());
    }
    Ok((signed, bits as u32))
}

fn parse_ops(ctx: &Ctx, args: &[Bytes]) -> Result<Vec<Op>, CommandError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let sub = &args[j];
        let kind = if is(sub, "get") && rem >= 2 {
            OpKind::Get
        } else if is(sub, "set") && rem >= 3 {
            OpKind::Set
        } else if is(sub, "incrby") && rem >= 3 {
            OpKind::IncrBy
        } else if is(sub, "overflow") && rem >= 1 {
            let t = &args[j + 1];
            overflow = if is(t, "wrap") {
                Overflow::Wrap
            } else if is(t, "sat") {
                Overflow::Sat
            } else if is(t, "fail") {
                Overflow::Fail
            } else {
                return Err(CommandError::err("Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CommandError::Syntax);
        };
        let (signed, bits) = field_type(&args[j + 1])?;
        let offset = bit_offset(ctx, &args[j + 2], bits)?;
        let value = if kind == OpKind::Get {
            0
        } else {
            parse_i64(&args[j + 3])?
        };
        ops.push(Op {
            kind,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += if kind == OpKind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for k in 0..bits as u64 {
        let o = offset + k;
        let byte = p.get((o >> 3) as usize).copied().unwrap_or(0);
        v = (v << 1) | ((byte >> (7 - (o & 7))) & 1) as u64;
    }
    v
}

fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let mut v = get_unsigned(p, offset, bits);
    if bits < 64 && v & (1u64 << (bits - 1)) != 0 {
        v |= u64::MAX << bits;
    }
    v as i64
}

fn set_unsigned(p: &mut [u8], offset: u64, bits: u32, value: u64) {
    for k in 0..bits as u64 {
        let bit = (value >> (bits as u64 - 1 - k)) & 1;
        let o = offset + k;
        let mask = 1u8 << (7 - (o & 7));
        let b = &mut p[(o >> 3) as usize];
        if bit == 1 {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// Redis's `checkUnsignedBitfieldOverflow`: Some(replacement) on overflow (the
/// replacement is unused for FAIL).
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<u64> {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX << bits);
    if value > max || (incr > 0 && incr > maxincr) {
        Some(if ow == Overflow::Sat { max } else { wrap() })
    } else if incr < 0 && incr < minincr {
        Some(if ow == Overflow::Sat { 0 } else { wrap() })
    } else {
        None
    }
}

/// Redis's `checkSignedBitfieldOverflow`, wrapping where C would (silently) wrap.
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr)
    {
        Some(if ow == Overflow::Sat { max } else { wrap() })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Some(if ow == Overflow::Sat { min } else { wrap() })
    } else {
        None
    }
}

/// Runs a SET or INCRBY on `p`: the reply (old value for SET, new for INCRBY, nil when
/// FAIL stops it).
fn write_op(p: &mut [u8], op: &Op) -> Reply {
    let fail = op.overflow == Overflow::Fail;
    if op.signed {
        let old = get_signed(p, op.offset, op.bits);
        let (ovf, new) = match op.kind {
            OpKind::IncrBy => match signed_overflow(old, op.value, op.bits, op.overflow) {
                Some(w) => (true, w),
                None => (false, old.wrapping_add(op.value)),
            },
            _ => match signed_overflow(op.value, 0, op.bits, op.overflow) {
                Some(w) => (true, w),
                None => (false, op.value),
            },
        };
        if ovf && fail {
            return Reply::Nil;
        }
        set_unsigned(p, op.offset, op.bits, new as u64);
        Reply::Int(if op.kind == OpKind::IncrBy { new } else { old })
    } else {
        let old = get_unsigned(p, op.offset, op.bits);
        let (ovf, new) = match op.kind {
            OpKind::IncrBy => match unsigned_overflow(old, op.value, op.bits, op.overflow) {
                Some(w) => (true, w),
                None => (false, old.wrapping_add(op.value as u64)),
            },
            _ => match unsigned_overflow(op.value as u64, 0, op.bits, op.overflow) {
                Some(w) => (true, w),
                None => (false, op.value as u64),
            },
        };
        if ovf && fail {
            return Reply::Nil;
        }
        set_unsigned(p, op.offset, op.bits, new);
        Reply::Int(if op.kind == OpKind::IncrBy { new } else { old } as i64)
    }
}

fn read_op(p: &[u8], op: &Op) -> Reply {
    Reply::Int(if op.signed {
        get_signed(p, op.offset, op.bits)
    } else {
        get_unsigned(p, op.offset, op.bits) as i64
    })
}

fn run(ctx: &mut Ctx, args: &[Bytes], readonly_cmd: bool) -> CommandResult {
    let ops = parse_ops(ctx, args)?;
    let key = &args[1];
    let db = ctx.db();
    let highest = ops
        .iter()
        .filter(|o| o.kind != OpKind::Get)
        .map(|o| o.offset + o.bits as u64 - 1)
        .max();
    let Some(highest) = highest else {
        // Only GETs: a read lookup; a missing key reads as zeroes.
        let replies = match ctx.ks.get(db, key) {
            None => ops.iter().map(|op| read_op(&[], op)).collect(),
            Some(e) => str_of(e)?.with_bytes(|p| ops.iter().map(|op| read_op(p, op)).collect()),
        };
        return Ok(Reply::Array(replies));
    };
    if readonly_cmd {
        return Err(CommandError::err(
            "BITFIELD_RO only supports the GET subcommand",
        ));
    }
    // Grow to the farthest bit written (Redis's `lookupStringForBitCommand`); the key
    // is created even if every write then fails under OVERFLOW FAIL.
    let need = (highest >> 3) as usize + 1;
    let exists = match ctx.ks.peek(db, key) {
        None => false,
        Some(e) => {
            str_of(e)?;
            true
        }
    };
    if !exists {
        let v = Value::Str(StrValue::Raw(Box::new(vec![0u8; need])));
        ctx.ks.insert(db, key, v, SetExpiry::Clear);
    }
    let buf = raw_mut(ctx, key).ok_or(CommandError::WrongType)?;
    if buf.len() < need {
        buf.resize(need, 0);
    }
    let replies = ops
        .iter()
        .map(|op| match op.kind {
            OpKind::Get => read_op(buf, op),
            _ => write_op(buf, op),
        })
        .collect();
    Ok(Reply::Array(replies))
}

fn bitfield(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    run(ctx, args, false)
}

fn bitfield_ro(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    run(ctx, args, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let mut p = vec![0u8; 16];
        set_unsigned(&mut p, 3, 13, 0x1abc);
        assert_eq!(get_unsigned(&p, 3, 13), 0x1abc);
        set_unsigned(&mut p, 64, 64, (-5i64) as u64);
        assert_eq!(get_signed(&p, 64, 64), -5);
        set_unsigned(&mut p, 0, 4, 0b1010);
        assert_eq!(get_signed(&p, 0, 4), -6);
    }

    #[test]
    fn overflow_like_redis() {
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Wrap), Some(4));
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Sat), Some(255));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_overflow(5, -5, 8, Overflow::Sat), None);
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Wrap), Some(-128));
        assert_eq!(signed_overflow(-128, -1, 8, Overflow::Sat), Some(-128));
        assert_eq!(signed_overflow(100, 27, 8, Overflow::Sat), None);
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Overflow::Wrap), Some(i64::MIN));
        assert_eq!(signed_overflow(300, 0, 8, Overflow::Wrap), Some(44));
    }
}
