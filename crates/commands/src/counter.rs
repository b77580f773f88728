//! Counters on string values: INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT. Integer results
//! stay integer-encoded, as Redis's shared/int encoding does.

use bytes::Bytes;
use snapkv_keyspace::{SetExpiry, StrValue, Value};
use snapkv_protocol::Reply;

use crate::args::parse_i64;
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec};

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

/// Adds `delta` to the integer at `key` (0 if missing), keeping its TTL. The value is
/// validated before the write lookup, so a failing INCR dirties nothing and leaves a
/// WATCH intact, as in Redis.
fn add(ctx: &mut Ctx, key: &[u8], delta: i64) -> CommandResult {
    let db = ctx.db();
    let current = match ctx.ks.peek(db, key) {
        None => None,
        Some(e) => Some(
            e.value
                .as_str()
                .ok_or(CommandError::WrongType)?
                .as_i64()
                .ok_or(CommandError::NotInteger)?,
        ),
    };
    let new = current
        .unwrap_or(0)
        .checked_add(delta)
        .ok_or(CommandError::Overflow)?;
    if current.is_some() {
        if let Some(s) = ctx.ks.get_mut(db, key).and_then(|e| e.value.as_str_mut()) {
            *s = StrValue::Int(new);
            return Ok(Reply::Int(new));
        }
    }
    ctx.ks
        .insert(db, key, Value::Str(StrValue::Int(new)), SetExpiry::Clear);
    Ok(Reply::Int(new))
}

fn incr(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    add(ctx, &args[1], 1)
}

fn decr(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    add(ctx, &args[1], -1)
}

fn incrby(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let d = parse_i64(&args[2])?;
    add(ctx, &args[1], d)
}

fn decrby(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let d = parse_i64(&args[2])?;
    if d == i64::MIN {
        return Err(CommandError::err("decrement would overflow"));
    }
    add(ctx, &args[1], -d)
}

fn incrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    // A write lookup, as Redis's `lookupKeyWrite`: no keyspace hit/miss is counted.
    let current = match ctx.ks.peek(db, &args[1]) {
        None => None,
        Some(e) => Some(e.value.as_str().ok_or(CommandError::WrongType)?.to_vec()),
    };
    let new = crate::float::incr_by_float(current.as_deref(), &args[2])?;
    // Redis stores the formatted result as a string (embstr), even when integral.
    let value = Value::Str(StrValue::Bytes(snapkv_keyspace::SmallBytes::new(&new)));
    ctx.ks.insert(db, &args[1], value, SetExpiry::Keep);
    Ok(Reply::bulk(new))
}
