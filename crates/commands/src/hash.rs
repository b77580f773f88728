//! Hash commands: HSET HSETNX HGET HMGET HMSET HDEL HLEN HSTRLEN HEXISTS HKEYS HVALS
//! HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.

use bytes::Bytes;
use snapkv_keyspace::types::{HashRef, Item};
use snapkv_keyspace::{Value, ValueType};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::coll::{self, bulk};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::flags::*;
use crate::spec::key_flags;
use crate::spec::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("hset", -4, WRITE | DENYOOM | FAST, "hash", hset)
        .key_flags(key_flags::RW_UPDATE)
        .keys(1, 1, 1)
        .doc("Creates or modifies the value of a field in a hash.", "2.0.0"),
    CommandSpec::new("hmset", -4, WRITE | DENYOOM | FAST, "hash", hset)
        .key_flags(key_flags::RW_UPDATE)
        .keys(1, 1, 1)
        .doc("Sets the values of multiple fields.", "2.0.0"),
    CommandSpec::new("hsetnx", 4, WRITE | DENYOOM | FAST, "hash", hsetnx)
        .key_flags(key_flags::RW_INSERT)
        .keys(1, 1, 1)
        .doc("Sets the value of a field in a hash only when the field doesn't exist.", "2.0.0"),
    CommandSpec::new("hget", 3, READONLY | FAST, "hash", hget)
        .keys(1, 1, 1)
        .doc("Returns the value of a field in a hash.", "2.0.0"),
    CommandSpec::new("hmget", -3, READONLY | FAST, "hash", hmget)
        .keys(1, 1, 1)
        .doc("Returns the values of all fields in a hash.", "2.0.0"),
    CommandSpec::new("hdel", -3, WRITE | FAST, "hash", hdel)
        .key_flags(key_flags::RW_DELETE)
        .keys(1, 1, 1)
        .doc("Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "2.0.0"),
    CommandSpec::new("hlen", 2, READONLY | FAST, "hash", hlen)
        .key_flags(key_flags::RO)
        .keys(1, 1, 1)
        .doc("Returns the number of fields in a hash.", "2.0.0"),
    CommandSpec::new("hstrlen", 3, READONLY | FAST, "hash", hstrlen)
        .key_flags(key_flags::RO)
        .keys(1, 1, 1)
        .doc("Returns the length of the value of a field.", "3.2.0"),
    CommandSpec::new("hexists", 3, READONLY | FAST, "hash", hexists)
        .key_flags(key_flags::RO)
        .keys(1, 1, 1)
        .doc("Determines whether a field exists in a hash.", "2.0.0"),
    CommandSpec::new("hkeys", 2, READONLY, "hash", hkeys)
        .tips(&["nondeterministic_output_order"])
        .keys(1, 1, 1)
        .doc("Returns all fields in a hash.", "2.0.0"),
    CommandSpec::new("hvals", 2, READONLY, "hash", hvals)
        .tips(&["nondeterministic_output_order"])
        .keys(1, 1, 1)
        .doc("Returns all values in a hash.", "2.0.0"),
    CommandSpec::new("hgetall", 2, READONLY, "hash", hgetall)
        .tips(&["nondeterministic_output_order"])
        .keys(1, 1, 1)
        .doc("Returns all fields and values in a hash.", "2.0.0"),
    CommandSpec::new("hincrby", 4, WRITE | DENYOOM | FAST, "hash", hincrby)
        .keys(1, 1, 1)
        .doc("Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "2.0.0"),
    CommandSpec::new("hincrbyfloat", 4, WRITE | DENYOOM | FAST, "hash", hincrbyfloat)
        .keys(1, 1, 1)
        .doc("Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "2.6.0"),
    CommandSpec::new("hrandfield", -2, READONLY, "hash", hrandfield)
        .tips(&["nondeterministic_output"])
        .keys(1, 1, 1)
        .doc("Returns one or more random fields from a hash.", "6.2.0"),
    CommandSpec::new("hscan", -3, READONLY, "hash", hscan)
        .tips(&["nondeterministic_output"])
        .keys(1, 1, 1)
        .doc("Iterates over fields and values of a hash.", "2.8.0"),
];

fn read<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<HashRef<'c>>, CommandError> {
    Ok(coll::read(ctx, key, ValueType::Hash)?.and_then(Value::as_hash))
}

fn hset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if !args.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity(
            String::from_utf8_lossy(&args[0]).to_ascii_lowercase(),
        ));
    }
    let limits = ctx.limits();
    let v = coll::write(ctx, &args[1], ValueType::Hash, Some(Value::new_hash))?.expect("created");
    let mut h = v.as_hash_mut().expect("a hash");
    h.check_lengths(args[2..].iter().map(|a| a.len()), &limits);
    let mut added = 0;
    for pair in args[2..].chunks(2) {
        added += h.set(&pair[0], &pair[1], &limits) as i64;
    }
    if is(&args[0], "hmset") {
        Ok(Reply::Ok)
    } else {
        Ok(Reply::Int(added))
    }
}

fn hsetnx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let limits = ctx.limits();
    if coll::check(ctx, &args[1], ValueType::Hash)? {
        let db = ctx.db();
        let exists = ctx
            .ks
            .peek(db, &args[1])
            .and_then(|e| e.value.as_hash())
            .is_some_and(|h| h.get(&args[2]).is_some());
        if exists {
            return Ok(Reply::Int(0));
        }
    }
    let v = coll::write(ctx, &args[1], ValueType::Hash, Some(Value::new_hash))?.expect("created");
    v.as_hash_mut()
        .expect("a hash")
        .set(&args[2], &args[3], &limits);
    Ok(Reply::Int(1))
}

fn hget(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(match read(ctx, &args[1])?.and_then(|h| h.get(&args[2])) {
        Some(v) => bulk(v),
        None => Reply::Nil,
    })
}

fn hmget(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let h = read(ctx, &args[1])?;
    Ok(Reply::Array(
        args[2..]
            .iter()
            .map(|f| h.and_then(|h| h.get(f)).map_or(Reply::Nil, bulk))
            .collect(),
    ))
}

fn hdel(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let Some(v) = coll::write(ctx, &args[1], ValueType::Hash, None)? else {
        return Ok(Reply::Int(0));
    };
    let mut h = v.as_hash_mut().expect("a hash");
    let mut removed = 0;
    for f in &args[2..] {
        removed += h.remove(f) as i64;
        if h.is_empty() {
            break;
        }
    }
    coll::remove_if_empty(ctx, &args[1]);
    Ok(Reply::Int(removed))
}

fn hlen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Int(
        read(ctx, &args[1])?.map_or(0, |h| h.len()) as i64
    ))
}

fn hstrlen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let len = read(ctx, &args[1])?
        .and_then(|h| h.get(&args[2]))
        .map_or(0, |v| v.with_bytes(|b| b.len()));
    Ok(Reply::Int(len as i64))
}

fn hexists(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let found = read(ctx, &args[1])?.is_some_and(|h| h.get(&args[2]).is_some());
    Ok(Reply::Int(found as i64))
}

fn hkeys(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(match read(ctx, &args[1])? {
        Some(h) => Reply::Array(h.iter().map(|(f, _)| bulk(f)).collect()),
        None => Reply::Array(vec![]),
    })
}

fn hvals(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(match read(ctx, &args[1])? {
        Some(h) => Reply::Array(h.iter().map(|(_, v)| bulk(v)).collect()),
        None => Reply::Array(vec![]),
    })
}

fn hgetall(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(match read(ctx, &args[1])? {
        Some(h) => Reply::Map(h.iter().map(|(f, v)| (bulk(f), bulk(v))).collect()),
        None => Reply::Map(vec![]),
    })
}

/// The current value of a field, for HINCRBY/HINCRBYFLOAT.
fn current(ctx: &mut Ctx, key: &[u8], field: &[u8]) -> Result<Option<Vec<u8>>, CommandError> {
    coll::check(ctx, key, ValueType::Hash)?;
    let db = ctx.db();
    Ok(ctx
        .ks
        .peek(db, key)
        .and_then(|e| e.value.as_hash())
        .and_then(|h| h.get(field))
        .map(Item::to_vec))
}

fn set_field(ctx: &mut Ctx, key: &[u8], field: &[u8], value: &[u8]) -> Result<(), CommandError> {
    let limits = ctx.limits();
    let v = coll::write(ctx, key, ValueType::Hash, Some(Value::new_hash))?.expect("created");
    v.as_hash_mut().expect("a hash").set(field, value, &limits);
    Ok(())
}

fn hincrby(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let incr = parse_i64(&args[3])?;
    let cur = match current(ctx, &args[1], &args[2])? {
        None => 0,
        Some(v) => snapkv_keyspace::parse_canonical_i64(&v)
            .ok_or_else(|| CommandError::err("hash value is not an integer"))?,
    };
    let new = cur.checked_add(incr).ok_or(CommandError::Overflow)?;
    set_field(
        ctx,
        &args[1],
        &args[2],
        itoa::Buffer::new().format(new).as_bytes(),
    )?;
    Ok(Reply::Int(new))
}

fn hincrbyfloat(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    // Redis checks the increment (and refuses an infinite one) before the stored value.
    let incr = crate::args::parse_f64(&args[3])?;
    if incr.is_infinite() {
        return Err(CommandError::err("value is NaN or Infinity"));
    }
    let cur = current(ctx, &args[1], &args[2])?;
    let new = crate::float::incr_by_float(cur.as_deref(), &args[3]).map_err(|e| match e {
        CommandError::NotFloat => CommandError::err("hash value is not a float"),
        other => other,
    })?;
    set_field(ctx, &args[1], &args[2], &new)?;
    Ok(Reply::bulk(new))
}

fn hrandfield(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() == 2 {
        let Some(h) = read(ctx, &args[1])? else {
            return Ok(Reply::Nil);
        };
        let i = coll::random_index(h.len());
        return Ok(h.nth(i).map_or(Reply::Nil, |(f, _)| bulk(f)));
    }
    let rc = coll::random_count(args, "withvalues")?;
    let resp3 = ctx.client.resp == snapkv_protocol::RespVersion::Resp3;
    let Some(h) = read(ctx, &args[1])? else {
        return Ok(Reply::Array(vec![]));
    };
    if rc.count == 0 {
        return Ok(Reply::Array(vec![]));
    }
    let pick = |(f, v): (Item<'_>, Item<'_>), out: &mut Vec<Reply>| match (rc.with, resp3) {
        (false, _) => out.push(bulk(f)),
        (true, false) => {
            out.push(bulk(f));
            out.push(bulk(v));
        }
        (true, true) => out.push(Reply::Array(vec![bulk(f), bulk(v)])),
    };
    let mut out = Vec::new();
    match coll::random_picks(h.len(), &rc) {
        Some(picks) => {
            for i in picks {
                pick(h.nth(i).expect("in range"), &mut out);
            }
        }
        None => h.iter().for_each(|p| pick(p, &mut out)),
    }
    Ok(Reply::Array(out))
}

fn hscan(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let cursor = coll::scan_cursor(args)?;
    let Some(h) = read(ctx, &args[1])? else {
        return Ok(coll::scan_reply(0, vec![]));
    };
    let sa = coll::scan_args(args, cursor)?;
    let (page, next) = h.scan(sa.cursor, sa.count);
    let mut items = Vec::with_capacity(page.len() * 2);
    for (f, v) in page {
        if sa.matches(f) {
            items.push(bulk(f));
            items.push(bulk(v));
        }
    }
    Ok(coll::scan_reply(next, items))
}
