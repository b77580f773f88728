//! String commands: GET, SET (EX PX EXAT PXAT NX XX KEEPTTL GET), SETNX, SETEX, PSETEX,
//! MGET, MSET, MSETNX, GETSET, GETDEL, GETEX, APPEND, STRLEN, SETRANGE, GETRANGE, SUBSTR,
//! LCS. Counters (INCR…) are in `counter.rs`.

use bytes::Bytes;
use snapkv_keyspace::{Entry, SetCondition, SetExpiry, StrValue, Value};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::key_flags;
use crate::spec::{flags::*, CommandSpec};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, READONLY | FAST, "string", get)
        .keys(1, 1, 1)
        .doc("Returns the string value of a key.", "1.0.0"),
    CommandSpec::new("set", -3, WRITE | DENYOOM, "string", set)
        .keys(1, 1, 1)
        .doc("Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "1.0.0"),
    CommandSpec::new("setnx", 3, WRITE | DENYOOM | FAST, "string", setnx)
        .key_flags(key_flags::OW_INSERT)
        .keys(1, 1, 1)
        .doc("Set the string value of a key only when the key doesn't exist.", "1.0.0"),
    CommandSpec::new("setex", 4, WRITE | DENYOOM, "string", setex)
        .key_flags(key_flags::OW_UPDATE)
        .keys(1, 1, 1)
        .doc("Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "2.0.0"),
    CommandSpec::new("psetex", 4, WRITE | DENYOOM, "string", psetex)
        .key_flags(key_flags::OW_UPDATE)
        .keys(1, 1, 1)
        .doc("Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", "2.6.0"),
    CommandSpec::new("mget", -2, READONLY | FAST, "string", mget)
        .tips(&["request_policy:multi_shard"])
        .keys(1, -1, 1)
        .doc("Atomically returns the string values of one or more keys.", "1.0.0"),
    CommandSpec::new("mset", -3, WRITE | DENYOOM, "string", mset)
        .tips(&["request_policy:multi_shard", "response_policy:all_succeeded"])
        .key_flags(key_flags::OW_UPDATE)
        .keys(1, -1, 2)
        .doc("Atomically creates or modifies the string values of one or more keys.", "1.0.1"),
    CommandSpec::new("msetnx", -3, WRITE | DENYOOM, "string", msetnx)
        .tips(&["request_policy:multi_shard", "response_policy:agg_min"])
        .key_flags(key_flags::OW_INSERT)
        .keys(1, -1, 2)
        .doc("Atomically modifies the string values of one or more keys only when all keys don't exist.", "1.0.1"),
    CommandSpec::new("getset", 3, WRITE | DENYOOM | FAST, "string", getset)
        .keys(1, 1, 1)
        .doc("Returns the previous string value of a key after setting it to a new value.", "1.0.0"),
    CommandSpec::new("getdel", 2, WRITE | FAST, "string", getdel)
        .key_flags(key_flags::RW_ACCESS_DELETE)
        .keys(1, 1, 1)
        .doc("Returns the string value of a key after deleting the key.", "6.2.0"),
    CommandSpec::new("getex", -2, WRITE | FAST, "string", getex)
        .keys(1, 1, 1)
        .doc("Returns the string value of a key after setting its expiration time.", "6.2.0"),
    CommandSpec::new("append", 3, WRITE | DENYOOM | FAST, "string", append)
        .key_flags(key_flags::RW_INSERT)
        .keys(1, 1, 1)
        .doc("Appends a string to the value of a key. Creates the key if it doesn't exist.", "2.0.0"),
    CommandSpec::new("strlen", 2, READONLY | FAST, "string", strlen)
        .key_flags(key_flags::RO)
        .keys(1, 1, 1)
        .doc("Returns the length of a string value.", "2.2.0"),
    CommandSpec::new("setrange", 4, WRITE | DENYOOM, "string", setrange)
        .key_flags(key_flags::RW_UPDATE)
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

// Option flags of SET and GETEX, as in Redis's `parseExtendedStringArgumentsOrReply`.
const NX: u16 = 1;
const XX: u16 = 2;
const GET: u16 = 4;
const KEEPTTL: u16 = 8;
const PERSIST: u16 = 16;
const EX: u16 = 32;
const PX: u16 = 64;
const EXAT: u16 = 128;
const PXAT: u16 = 256;
const ANY_EXPIRY: u16 = EX | PX | EXAT | PXAT;

/// SET / GETEX options: flags plus the expiry argument, if any.
struct ExtOpts<'a> {
    flags: u16,
    expire: Option<&'a [u8]>,
}

impl ExtOpts<'_> {
    fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }

    /// The expiry as absolute Unix ms (validated like `getExpireMillisecondsOrReply`).
    fn expire_ms(&self, now: u64, cmd: &str) -> Result<Option<u64>, CommandError> {
        let Some(arg) = self.expire else {
            return Ok(None);
        };
        let unit = if self.has(EX | EXAT) { 1000 } else { 1 };
        expire_at(arg, unit, self.has(EXAT | PXAT), now, cmd).map(Some)
    }
}

/// Redis's option grammar: repeating the same option is allowed (the last expiry
/// wins), conflicting ones are a syntax error.
fn parse_ext(args: &[Bytes], start: usize, for_set: bool) -> Result<ExtOpts<'_>, CommandError> {
    let mut o = ExtOpts {
        flags: 0,
        expire: None,
    };
    let mut j = start;
    while j < args.len() {
        let opt = &args[j][..];
        let next = args.get(j + 1);
        let expiry = [("ex", EX), ("px", PX), ("exat", EXAT), ("pxat", PXAT)]
            .into_iter()
            .find(|(name, _)| is(opt, name))
            .map(|(_, f)| f);
        if for_set && is(opt, "nx") && !o.has(XX) {
            o.flags |= NX;
        } else if for_set && is(opt, "xx") && !o.has(NX) {
            o.flags |= XX;
        } else if for_set && is(opt, "get") {
            o.flags |= GET;
        } else if for_set && is(opt, "keepttl") && !o.has(PERSIST | ANY_EXPIRY) {
            o.flags |= KEEPTTL;
        } else if !for_set && is(opt, "persist") && !o.has(ANY_EXPIRY | KEEPTTL) {
            o.flags |= PERSIST;
        } else if let (Some(f), Some(next)) = (expiry, next) {
            if o.has(KEEPTTL | PERSIST | (ANY_EXPIRY & !f)) {
                return Err(CommandError::Syntax);
            }
            o.flags |= f;
            o.expire = Some(&next[..]);
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

fn set(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let o = parse_ext(args, 3, true)?;
    let at = o.expire_ms(ctx.now_ms(), "set")?;
    let old = if o.has(GET) {
        read_string(ctx, &args[1])?
    } else {
        None
    };
    let cond = if o.has(NX) {
        SetCondition::IfMissing
    } else if o.has(XX) {
        SetCondition::IfExists
    } else {
        SetCondition::Always
    };
    let expiry = match at {
        Some(t) => SetExpiry::At(t),
        None if o.has(KEEPTTL) => SetExpiry::Keep,
        None => SetExpiry::Clear,
    };
    let db = ctx.db();
    let (written, _) = ctx.ks.set(db, &args[1], str_value(&args[2]), cond, expiry);
    Ok(match (o.has(GET), written) {
        (true, _) => old.map(Reply::Bulk).unwrap_or(Reply::Nil),
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
    // Redis's order: option syntax, then the lookup (a missing key answers nil even
    // with a bad expiry), then the expiry value.
    let o = parse_ext(args, 2, false)?;
    let key = &args[1];
    let Some(v) = read_string(ctx, key)? else {
        return Ok(Reply::Nil);
    };
    let now = ctx.now_ms();
    let at = o.expire_ms(now, "getex")?;
    let db = ctx.db();
    match at {
        Some(t) if o.has(EXAT | PXAT) && t <= now => {
            ctx.ks.remove(db, key);
        }
        Some(t) => {
            ctx.ks.set_expire(db, key, Some(t));
        }
        // Like `removeExpire`: a key without a TTL is not touched (no WATCH hit).
        None if o.has(PERSIST) && ctx.ks.peek(db, key).and_then(Entry::expire_at).is_some() => {
            ctx.ks.set_expire(db, key, None);
        }
        None => {}
    }
    Ok(Reply::Bulk(v))
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
    let db = ctx.db();
    let Some(e) = ctx.ks.get(db, &args[1]) else {
        return Ok(Reply::bulk(Bytes::new()));
    };
    // Copy only the requested range, not the whole value.
    let s = e.value.as_str().ok_or(CommandError::WrongType)?;
    Ok(s.with_bytes(|v| match clamp_range(start, end, v.len()) {
        Some((s, e)) => Reply::Bulk(Bytes::copy_from_slice(&v[s..=e])),
        None => Reply::bulk(Bytes::new()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(items: &[&str]) -> Vec<Bytes> {
        items
            .iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect()
    }

    #[test]
    fn option_grammar() {
        let a = b(&["set", "k", "v", "EX", "1", "ex", "2"]);
        let o = parse_ext(&a, 3, true).unwrap();
        assert_eq!(o.expire, Some(&b"2"[..]));
        for bad in [
            &["set", "k", "v", "EX", "1", "PX", "2"][..],
            &["set", "k", "v", "NX", "XX"],
            &["set", "k", "v", "KEEPTTL", "EX", "1"],
            &["set", "k", "v", "PERSIST"],
            &["set", "k", "v", "EX"],
        ] {
            assert!(parse_ext(&b(bad), 3, true).is_err(), "{bad:?}");
        }
        assert!(parse_ext(&b(&["getex", "k", "persist"]), 2, false).is_ok());
        assert!(parse_ext(&b(&["getex", "k", "nx"]), 2, false).is_err());
        assert!(parse_ext(&b(&["getex", "k", "persist", "ex", "1"]), 2, false).is_err());
    }
}
