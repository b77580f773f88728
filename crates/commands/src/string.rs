//! String commands: GET, SET (EX PX EXAT PXAT NX XX KEEPTTL GET), SETNX, SETEX, PSETEX,
//! MGET, MSET, MSETNX, GETSET, GETDEL, GETEX, APPEND, STRLEN, SETRANGE, GETRANGE, SUBSTR,
//! LCS. Counters (INCR…) are in `counter.rs`.

use bytes::Bytes;
use snapkv_keyspace::{SetCondition, SetExpiry, StrValue, Value};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, READONLY | FAST, "string", get)
        .keys(1, 1, 1)
        .doc("Returns the string value of a key.", "1.0.0"),
    CommandSpec::new("set", -3, WRITE | DENYOOM, "string", set)
        .keys(1, 1, 1)
        .doc("Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "1.0.0"),
    CommandSpec::new("setnx", 3, WRITE | DENYOOM | FAST, "string", setnx)
        .keys(1, 1, 1)
        .doc("Set the string value of a key only when the key doesn't exist.", "1.0.0"),
    CommandSpec::new("setex", 4, WRITE | DENYOOM, "string", setex)
        .keys(1, 1, 1)
        .doc("Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "2.0.0"),
    CommandSpec::new("psetex", 4, WRITE | DENYOOM, "string", psetex)
        .keys(1, 1, 1)
        .doc("Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", "2.6.0"),
    CommandSpec::new("mget", -2, READONLY | FAST, "string", mget)
        .keys(1, -1, 1)
        .doc("Atomically returns the string values of one or more keys.", "1.0.0"),
    CommandSpec::new("mset", -3, WRITE | DENYOOM, "string", mset)
        .keys(1, -1, 2)
        .doc("Atomically creates or modifies the string values of one or more keys.", "1.0.1"),
    CommandSpec::new("msetnx", -3, WRITE | DENYOOM, "string", msetnx)
        .keys(1, -1, 2)
        .doc("Atomically modifies the string values of one or more keys only when all keys don't exist.", "1.0.1"),
    CommandSpec::new("getset", 3, WRITE | DENYOOM | FAST, "string", getset)
        .keys(1, 1, 1)
        .doc("Returns the previous string value of a key after setting it to a new value.", "1.0.0"),
    CommandSpec::new("getdel", 2, WRITE | FAST, "string", getdel)
        .keys(1, 1, 1)
        .doc("Returns the string value of a key after deleting the key.", "6.2.0"),
    CommandSpec::new("getex", -2, WRITE | FAST, "string", getex)
        .keys(1, 1, 1)
        .doc("Returns the string value of a key after setting its expiration time.", "6.2.0"),
    CommandSpec::new("append", 3, WRITE | DENYOOM | FAST, "string", append)
        .keys(1, 1, 1)
        .doc("Appends a string to the value of a key. Creates the key if it doesn't exist.", "2.0.0"),
    CommandSpec::new("strlen", 2, READONLY | FAST, "string", strlen)
        .keys(1, 1, 1)
        .doc("Returns the length of a string value.", "2.2.0"),
    CommandSpec::new("setrange", 4, WRITE | DENYOOM, "string", setrange)
        .keys(1, 1, 1)
        .doc("Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", "2.2.0"),
    CommandSpec::new("getrange", 4, READONLY, "string", getrange)
        .keys(1, 1, 1)
        .doc("Returns a substring of the string stored at a key.", "2.4.0"),
    CommandSpec::new("substr", 4, READONLY, "string", getrange)
        .keys(1, 1, 1)
        .doc("Returns a substring from a string value.", "1.0.0"),
    CommandSpec::new("lcs", -3, READONLY, "string", crate::lcs::lcs)
        .keys(1, 2, 1)
        .doc("Finds the longest common substring.", "7.0.0"),
];

/// The string at `key` (None if missing), or WRONGTYPE.
pub fn read_string(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Bytes>, CommandError> {
    let db = ctx.db();
    match ctx.ks.get(db, key) {
        None => Ok(None),
        Some(e) => match e.value.as_str() {
            Some(s) => Ok(Some(s.to_bytes())),
            None => Err(CommandError::WrongType),
        },
    }
}

fn str_value(data: &[u8]) -> Value {
    Value::Str(StrValue::from_bytes(data))
}

fn bulk_or_nil(v: Option<Bytes>) -> Reply {
    v.map(Reply::Bulk).unwrap_or(Reply::Nil)
}

fn get(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(bulk_or_nil(read_string(ctx, &args[1])?))
}

/// Parses an expiry option value into absolute Unix ms, with Redis's validity rules.
/// `unit_ms` is 1000 for seconds; `absolute` for EXAT/PXAT.
pub fn expire_at(
    arg: &[u8],
    unit_ms: i64,
    absolute: bool,
    now_ms: u64,
    cmd: &str,
) -> Result<u64, CommandError> {
    let invalid = || CommandError::err(format!("invalid expire time in '{cmd}' command"));
    let v = parse_i64(arg)?;
    if v <= 0 || (unit_ms == 1000 && v > i64::MAX / 1000) {
        return Err(invalid());
    }
    let ms = v * unit_ms;
    let at = if absolute {
        ms
    } else {
        ms.checked_add(now_ms as i64).ok_or_else(invalid)?
    };
    Ok(at as u64)
}

/// The EX/PX/EXAT/PXAT keyword's (unit, absolute), if `a` is one.
fn expiry_keyword(a: &[u8]) -> Option<(i64, bool)> {
    if is(a, "ex") {
        Some((1000, false))
    } else if is(a, "px") {
        Some((1, false))
    } else if is(a, "exat") {
        Some((1000, true))
    } else if is(a, "pxat") {
        Some((1, true))
    } else {
        None
    }
}

fn set(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut cond = SetCondition::Always;
    let mut expiry = SetExpiry::Clear;
    let mut get_old = false;
    let mut has_expiry = false;
    let now = ctx.now_ms();
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        let next = args.get(i + 1);
        if is(a, "nx") && cond != SetCondition::IfExists {
            cond = SetCondition::IfMissing;
        } else if is(a, "xx") && cond != SetCondition::IfMissing {
            cond = SetCondition::IfExists;
        } else if is(a, "get") {
            get_old = true;
        } else if is(a, "keepttl") && !has_expiry {
            has_expiry = true;
            expiry = SetExpiry::Keep;
        } else if let (Some((unit, absolute)), false, Some(v)) =
            (expiry_keyword(a), has_expiry, next)
        {
            expiry = SetExpiry::At(expire_at(v, unit, absolute, now, "set")?);
            has_expiry = true;
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    let db = ctx.db();
    let old = if get_old {
        read_string(ctx, &args[1])?
    } else {
        None
    };
    let (written, _) = ctx.ks.set(db, &args[1], str_value(&args[2]), cond, expiry);
    Ok(match (get_old, written) {
        (true, _) => bulk_or_nil(old),
        (false, true) => Reply::Ok,
        (false, false) => Reply::Nil,
    })
}

fn setnx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let (written, _) = ctx.ks.set(
        db,
        &args[1],
        str_value(&args[2]),
        SetCondition::IfMissing,
        SetExpiry::Clear,
    );
    Ok(Reply::Int(written as i64))
}

fn setex_generic(ctx: &mut Ctx, args: &[Bytes], unit: i64, name: &str) -> CommandResult {
    let at = expire_at(&args[2], unit, false, ctx.now_ms(), name)?;
    let db = ctx.db();
    ctx.ks
        .insert(db, &args[1], str_value(&args[3]), SetExpiry::At(at));
    Ok(Reply::Ok)
}

fn setex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    setex_generic(ctx, args, 1000, "setex")
}

fn psetex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    setex_generic(ctx, args, 1, "psetex")
}

fn mget(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let replies = args[1..]
        .iter()
        .map(|k| match ctx.ks.get(db, k).and_then(|e| e.value.as_str()) {
            Some(s) => Reply::Bulk(s.to_bytes()),
            None => Reply::Nil,
        })
        .collect();
    Ok(Reply::Array(replies))
}

fn mset_pairs<'a>(
    args: &'a [Bytes],
    name: &str,
) -> Result<std::slice::ChunksExact<'a, Bytes>, CommandError> {
    if args.len().is_multiple_of(2) {
        return Err(CommandError::WrongArity(name.into()));
    }
    Ok(args[1..].chunks_exact(2))
}

fn mset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    for kv in mset_pairs(args, "mset")? {
        ctx.ks
            .insert(db, &kv[0], str_value(&kv[1]), SetExpiry::Clear);
    }
    Ok(Reply::Ok)
}

fn msetnx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let pairs = mset_pairs(args, "msetnx")?;
    if pairs.clone().any(|kv| ctx.ks.exists(db, &kv[0])) {
        return Ok(Reply::Int(0));
    }
    for kv in pairs {
        ctx.ks
            .insert(db, &kv[0], str_value(&kv[1]), SetExpiry::Clear);
    }
    Ok(Reply::Int(1))
}

fn getset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let old = read_string(ctx, &args[1])?;
    let db = ctx.db();
    ctx.ks
        .insert(db, &args[1], str_value(&args[2]), SetExpiry::Clear);
    Ok(bulk_or_nil(old))
}

fn getdel(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let old = read_string(ctx, &args[1])?;
    if old.is_some() {
        let db = ctx.db();
        ctx.ks.remove(db, &args[1]);
    }
    Ok(bulk_or_nil(old))
}

fn getex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    enum Change {
        None,
        Persist,
        At(u64),
    }
    let mut change = Change::None;
    let mut i = 2;
    let now = ctx.now_ms();
    while i < args.len() {
        let a = &args[i];
        if let (Some((unit, absolute)), true, Some(v)) = (
            expiry_keyword(a),
            matches!(change, Change::None),
            args.get(i + 1),
        ) {
            change = Change::At(expire_at(v, unit, absolute, now, "getex")?);
            i += 2;
        } else if is(a, "persist") && matches!(change, Change::None) {
            change = Change::Persist;
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let value = read_string(ctx, &args[1])?;
    if value.is_some() {
        let db = ctx.db();
        match change {
            Change::None => {}
            Change::Persist => {
                if ctx
                    .ks
                    .peek(db, &args[1])
                    .and_then(|e| e.expire_at())
                    .is_some()
                {
                    ctx.ks.set_expire(db, &args[1], None);
                }
            }
            // A time already past deletes the key, as Redis does.
            Change::At(at) if at <= now => {
                ctx.ks.remove(db, &args[1]);
            }
            Change::At(at) => {
                ctx.ks.set_expire(db, &args[1], Some(at));
            }
        }
    }
    Ok(bulk_or_nil(value))
}

/// Redis's `checkStringLength`.
pub fn check_length(ctx: &Ctx, len: u64) -> Result<(), CommandError> {
    if len > ctx.settings().proto_max_bulk_len {
        return Err(CommandError::err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    Ok(())
}

fn append(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let cur_len = match ctx.ks.peek(db, &args[1]) {
        None => None,
        Some(e) => Some(e.value.as_str().ok_or(CommandError::WrongType)?.len()),
    };
    let Some(cur_len) = cur_len else {
        ctx.ks
            .insert(db, &args[1], str_value(&args[2]), SetExpiry::Clear);
        return Ok(Reply::Int(args[2].len() as i64));
    };
    check_length(ctx, (cur_len + args[2].len()) as u64)?;
    let e = ctx
        .ks
        .get_mut(db, &args[1])
        .ok_or(CommandError::NoSuchKey)?;
    let s = e.value.as_str_mut().ok_or(CommandError::WrongType)?;
    let buf = s.make_raw();
    buf.extend_from_slice(&args[2]);
    Ok(Reply::Int(buf.len() as i64))
}

fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    match ctx.ks.get(db, &args[1]) {
        None => Ok(Reply::Int(0)),
        Some(e) => Ok(Reply::Int(
            e.value.as_str().ok_or(CommandError::WrongType)?.len() as i64,
        )),
    }
}

fn setrange(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let offset = parse_i64(&args[2])?;
    if offset < 0 {
        return Err(CommandError::err("offset is out of range"));
    }
    let value = &args[3];
    let db = ctx.db();
    let cur_len = match ctx.ks.peek(db, &args[1]) {
        None => None,
        Some(e) => Some(e.value.as_str().ok_or(CommandError::WrongType)?.len()),
    };
    if value.is_empty() {
        return Ok(Reply::Int(cur_len.unwrap_or(0) as i64));
    }
    check_length(ctx, offset as u64 + value.len() as u64)?;
    let offset = offset as usize;
    if cur_len.is_none() {
        let mut buf = vec![0u8; offset + value.len()];
        buf[offset..].copy_from_slice(value);
        ctx.ks.insert(
            db,
            &args[1],
            Value::Str(StrValue::Raw(Box::new(buf))),
            SetExpiry::Clear,
        );
        return Ok(Reply::Int((offset + value.len()) as i64));
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
    if buf.len() < offset + value.len() {
        buf.resize(offset + value.len(), 0);
    }
    buf[offset..offset + value.len()].copy_from_slice(value);
    Ok(Reply::Int(buf.len() as i64))
}

/// Redis's GETRANGE index arithmetic: negative indexes from the end, clamped.
pub fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

fn getrange(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let start = parse_i64(&args[2])?;
    let end = parse_i64(&args[3])?;
    let Some(v) = read_string(ctx, &args[1])? else {
        return Ok(Reply::bulk(Bytes::new()));
    };
    Ok(match clamp_range(start, end, v.len()) {
        Some((s, e)) => Reply::Bulk(v.slice(s..=e)),
        None => Reply::bulk(Bytes::new()),
    })
}
