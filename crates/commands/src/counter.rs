//! Counter commands: INCR DECR INCRBY DECRBY (64-bit integers, results stored with the
//! `int` encoding) and INCRBYFLOAT (Redis's `long double` arithmetic, `long_double.rs`).
//! Updates happen in place, so the key keeps its TTL, as with Redis's `dbOverwrite`.

use bytes::Bytes;
use snapkv_keyspace::{SetExpiry, SmallBytes, StrValue, Value};
use snapkv_protocol::Reply;

use crate::args::parse_i64;
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::long_double::{self, LdError};
use crate::spec::{flags::*, CommandSpec};
use crate::string::str_of;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("incr", 2, WRITE | DENYOOM | FAST, "string", incr)
        .keys(1, 1, 1)
        .doc("Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0"),
    CommandSpec::new("decr", 2, WRITE | DENYOOM | FAST, "string", decr)
        .keys(1, 1, 1)
        .doc("Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0"),
    CommandSpec::new("incrby", 3, WRITE | DENYOOM | FAST, "string", incrby)
        .keys(1, 1, 1)
        .doc("Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "1.0.0"),
    CommandSpec::new("decrby", 3, WRITE | DENYOOM | FAST, "string", decrby)
        .keys(1, 1, 1)
        .doc("Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", "1.0.0"),
    CommandSpec::new("incrbyfloat", 3, WRITE | DENYOOM | FAST, "string", incrbyfloat)
        .keys(1, 1, 1)
        .doc("Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "2.6.0"),
];

/// Replaces the value of `key` in place (keeping its TTL), or creates it.
fn store(ctx: &mut Ctx, key: &[u8], existed: bool, value: StrValue) {
    let db = ctx.db();
    if existed {
        if let Some(s) = ctx.ks.get_mut(db, key).and_then(|e| e.value.as_str_mut()) {
            *s = value;
            return;
        }
    }
    ctx.ks.insert(db, key, Value::Str(value), SetExpiry::Clear);
}

fn incr_decr(ctx: &mut Ctx, key: &[u8], by: i64) -> CommandResult {
    let db = ctx.db();
    // Validate before the write lookup, so a failing command dirties nothing.
    let current = match ctx.ks.peek(db, key) {
        None => None,
        Some(e) => Some(str_of(e)?.as_i64().ok_or(CommandError::NotInteger)?),
    };
    let old = current.unwrap_or(0);
    let new = old.checked_add(by).ok_or(CommandError::Overflow)?;
    store(ctx, key, current.is_some(), StrValue::Int(new));
    Ok(Reply::Int(new))
}

fn incr(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    incr_decr(ctx, &args[1], 1)
}

fn decr(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    incr_decr(ctx, &args[1], -1)
}

fn incrby(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let by = parse_i64(&args[2])?;
    incr_decr(ctx, &args[1], by)
}

fn decrby(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let by = parse_i64(&args[2])?;
    if by == i64::MIN {
        return Err(CommandError::err("decrement would overflow"));
    }
    incr_decr(ctx, &args[1], -by)
}

fn incrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let key = &args[1];
    let db = ctx.db();
    let current = match ctx.ks.peek(db, key) {
        None => None,
        Some(e) => Some(str_of(e)?.to_vec()),
    };
    let sum = long_double::add(current.as_deref().unwrap_or(b"0"), &args[2]).map_err(|e| {
        match e {
            LdError::BadValue | LdError::BadIncrement => CommandError::NotFloat,
            LdError::NotFinite => CommandError::err("increment would produce NaN or Infinity"),
        }
    })?;
    // Redis stores the formatted text as a plain string (embstr), never as `int`.
    let value = StrValue::Bytes(SmallBytes::new(&sum));
    store(ctx, key, current.is_some(), value);
    Ok(Reply::Bulk(Bytes::from(sum)))
}
