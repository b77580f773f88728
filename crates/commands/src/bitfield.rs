//! BITFIELD and BITFIELD_RO: integers of 1–64 bits at arbitrary bit offsets of a string,
//! with Redis's OVERFLOW WRAP / SAT / FAIL semantics (`bitops.c`).

use bytes::Bytes;
use snapkv_keyspace::{SetExpiry, StrValue, Value};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("bitfield", -2, WRITE | DENYOOM, "bitmap", bitfield)
        .keys(1, 1, 1)
        .doc(
            "Performs arbitrary bitfield integer operations on strings.",
            "3.2.0",
        ),
    CommandSpec::new("bitfield_ro", -2, READONLY | FAST, "bitmap", bitfield_ro)
        .keys(1, 1, 1)
        .doc(
            "Performs arbitrary read-only bitfield integer operations on strings.",
            "6.0.0",
        ),
];

#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Get,
    Set,
    Incr,
}

struct Op {
    kind: Kind,
    signed: bool,
    bits: u32,
    offset: u64,
    value: i64,
    overflow: Overflow,
}

const TYPE_ERR: &str =
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

fn parse_type(arg: &[u8]) -> Result<(bool, u32), CommandError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(CommandError::err(TYPE_ERR)),
    };
    let bits =
        snapkv_keyspace::parse_canonical_i64(&arg[1..]).ok_or(CommandError::err(TYPE_ERR))?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return Err(CommandError::err(TYPE_ERR));
    }
    Ok((signed, bits as u32))
}

fn parse_offset(ctx: &Ctx, arg: &[u8], bits: u32) -> Result<u64, CommandError> {
    let err = || CommandError::err("bit offset is not an integer or out of range");
    let (hash, num) = match arg.first() {
        Some(b'#') => (true, &arg[1..]),
        _ => (false, arg),
    };
    let mut v = snapkv_keyspace::parse_canonical_i64(num).ok_or_else(err)?;
    if hash {
        v = v.checked_mul(bits as i64).ok_or_else(err)?;
    }
    if v < 0 || (v as u64 >> 3) >= ctx.settings().proto_max_bulk_len {
        return Err(err());
    }
    Ok(v as u64)
}

fn parse_ops(ctx: &Ctx, args: &[Bytes]) -> Result<Vec<Op>, CommandError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let a = &args[j];
        let kind = if is(a, "get") && rem >= 2 {
            Kind::Get
        } else if is(a, "set") && rem >= 3 {
            Kind::Set
        } else if is(a, "incrby") && rem >= 3 {
            Kind::Incr
        } else if is(a, "overflow") && rem >= 1 {
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
        let (signed, bits) = parse_type(&args[j + 1])?;
        let offset = parse_offset(ctx, &args[j + 2], bits)?;
        let value = if kind == Kind::Get {
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
        j += if kind == Kind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

fn get_bits(buf: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..bits as u64 {
        let pos = offset + i;
        let byte = buf.get((pos >> 3) as usize).copied().unwrap_or(0);
        v = (v << 1) | ((byte >> (7 - (pos & 7))) & 1) as u64;
    }
    v
}

fn set_bits(buf: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..bits as u64 {
        let pos = offset + i;
        let bit = (value >> (bits as u64 - 1 - i)) & 1;
        let byte = &mut buf[(pos >> 3) as usize];
        let mask = 0x80u8 >> (pos & 7);
        if bit == 1 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

fn get_signed(buf: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_bits(buf, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Redis's `checkUnsignedBitfieldOverflow`: Some(replacement) on overflow (None = FAIL).
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<Option<u64>> {
    let max = (1u64 << bits) - 1;
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || Some(value.wrapping_add(incr as u64) & max);
    if value > max || (incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => Some(max),
            Overflow::Fail => None,
        })
    } else if incr < 0 && incr < minincr {
        Some(match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => Some(0),
            Overflow::Fail => None,
        })
    } else {
        None
    }
}

/// Redis's `checkSignedBitfieldOverflow`.
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<Option<i64>> {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = max.wrapping_sub(value);
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
        Some(c as i64)
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => Some(max),
            Overflow::Fail => None,
        })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Some(match ow {
            Overflow::Wrap => wrap(),
            Overflow::Sat => Some(min),
            Overflow::Fail => None,
        })
    } else {
        None
    }
}

/// Runs one write op on `buf`; the reply is the old value (SET) or the new one (INCRBY),
/// nil when OVERFLOW FAIL refused it.
fn apply(buf: &mut [u8], op: &Op) -> Reply {
    let incr = if op.kind == Kind::Incr { op.value } else { 0 };
    if op.signed {
        let old = get_signed(buf, op.offset, op.bits);
        let base = if op.kind == Kind::Set { op.value } else { old };
        let mut new = base.wrapping_add(incr);
        if let Some(replacement) = signed_overflow(base, incr, op.bits, op.overflow) {
            match replacement {
                Some(v) => new = v,
                None => return Reply::Nil,
            }
        }
        set_bits(buf, op.offset, op.bits, new as u64);
        Reply::Int(if op.kind == Kind::Set { old } else { new })
    } else {
        let old = get_bits(buf, op.offset, op.bits);
        let base = if op.kind == Kind::Set {
            op.value as u64
        } else {
            old
        };
        let mut new = base.wrapping_add(incr as u64);
        if let Some(replacement) = unsigned_overflow(base, incr, op.bits, op.overflow) {
            match replacement {
                Some(v) => new = v,
                None => return Reply::Nil,
            }
        }
        set_bits(buf, op.offset, op.bits, new);
        Reply::Int(if op.kind == Kind::Set {
            old as i64
        } else {
            new as i64
        })
    }
}

fn run(ctx: &mut Ctx, args: &[Bytes], read_only_cmd: bool) -> CommandResult {
    let ops = parse_ops(ctx, args)?;
    let writes = ops.iter().any(|o| o.kind != Kind::Get);
    if !writes {
        let read = |v: &[u8]| -> Vec<Reply> {
            ops.iter()
                .map(|o| {
                    Reply::Int(if o.signed {
                        get_signed(v, o.offset, o.bits)
                    } else {
                        get_bits(v, o.offset, o.bits) as i64
                    })
                })
                .collect()
        };
        // Read in place (no copy of the whole bitmap); a missing key reads as zeroes.
        let db = ctx.db();
        let out = match ctx.ks.get(db, &args[1]) {
            None => read(&[]),
            Some(e) => e
                .value
                .as_str()
                .ok_or(CommandError::WrongType)?
                .with_bytes(read),
        };
        return Ok(Reply::Array(out));
    }
    if read_only_cmd {
        return Err(CommandError::err(
            "BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let highest = ops
        .iter()
        .filter(|o| o.kind != Kind::Get)
        .map(|o| ((o.offset + o.bits as u64 - 1) >> 3) as usize + 1)
        .max()
        .unwrap_or(0);
    let db = ctx.db();
    if ctx.ks.peek(db, &args[1]).is_none() {
        ctx.ks.insert(
            db,
            &args[1],
            Value::Str(StrValue::Raw(Box::default())),
            SetExpiry::Clear,
        );
    }
    let e = ctx
        .ks
        .get_mut(db, &args[1])
        .ok_or(CommandError::NoSuchKey)?;
    let buf = e
        .value
        .as_str_mut()
        .ok_or(CommandError::WrongType)?
        .make_raw();
    if buf.len() < highest {
        buf.resize(highest, 0);
    }
    let out = ops
        .iter()
        .map(|o| match o.kind {
            Kind::Get if o.signed => Reply::Int(get_signed(buf, o.offset, o.bits)),
            Kind::Get => Reply::Int(get_bits(buf, o.offset, o.bits) as i64),
            _ => apply(buf, o),
        })
        .collect();
    Ok(Reply::Array(out))
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
        set_bits(&mut p, 3, 13, 0x1abc);
        assert_eq!(get_bits(&p, 3, 13), 0x1abc);
        set_bits(&mut p, 64, 64, (-5i64) as u64);
        assert_eq!(get_signed(&p, 64, 64), -5);
        set_bits(&mut p, 0, 4, 0b1010);
        assert_eq!(get_signed(&p, 0, 4), -6);
        // Reads past the end see zero padding.
        assert_eq!(get_bits(&p, 200, 8), 0);
    }

    #[test]
    fn overflow_like_redis() {
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Wrap), Some(Some(4)));
        assert_eq!(
            unsigned_overflow(250, 10, 8, Overflow::Sat),
            Some(Some(255))
        );
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Fail), Some(None));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Sat), Some(Some(0)));
        assert_eq!(unsigned_overflow(5, -5, 8, Overflow::Sat), None);
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Wrap), Some(Some(-128)));
        assert_eq!(
            signed_overflow(-128, -1, 8, Overflow::Sat),
            Some(Some(-128))
        );
        assert_eq!(signed_overflow(100, 27, 8, Overflow::Sat), None);
        assert_eq!(
            signed_overflow(i64::MAX, 1, 64, Overflow::Wrap),
            Some(Some(i64::MIN))
        );
        assert_eq!(signed_overflow(300, 0, 8, Overflow::Wrap), Some(Some(44)));
        // Redis's quirk: i64::MIN written to a narrow field saturates to the maximum.
        assert_eq!(
            signed_overflow(i64::MIN, 0, 8, Overflow::Sat),
            Some(Some(127))
        );
    }
}
