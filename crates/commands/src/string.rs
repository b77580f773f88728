//! String commands: GET, SET (EX PX EXAT PXAT NX XX KEEPTTL GET) and its relatives
//! (SETNX SETEX PSETEX GETSET GETDEL GETEX), MGET / MSET / MSETNX, and the byte-range
//! commands APPEND STRLEN SETRANGE GETRANGE SUBSTR. Counters are in `counter.rs`, LCS in
//! `lcs.rs`, bit commands in `bits.rs` / `bitfield.rs`.
//!
//! Values are stored like Redis stores them: `StrValue::from_bytes` for whole values (so
//! canonical integers get the `int` encoding), the growable `Raw` buffer for in-place
//! edits (APPEND, SETRANGE), which is what turns Redis's encoding into `raw`.

use bytes::Bytes;
use snapkv_keyspace::{Entry, SetCondition, SetExpiry, StrValue, Value};
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
    CommandSpec::new("getset", 3, WRITE | DENYOOM | FAST, "string", getset)
        .keys(1, 1, 1)
        .doc("Returns the previous string value of a key after setting it to a new value.", "1.0.0"),
    CommandSpec::new("getdel", 2, WRITE | FAST, "string", getdel)
        .keys(1, 1, 1)
        .doc("Returns the string value of a key after deleting the key.", "6.2.0"),
    CommandSpec::new("getex", -2, WRITE | FAST, "string", getex)
        .keys(1, 1, 1)
        .doc("Returns the string value of a key after setting its expiration time.", "6.2.0"),
    CommandSpec::new("mget", -2, READONLY | FAST, "string", mget)
        .keys(1, -1, 1)
        .doc("Atomically returns the string values of one or more keys.", "1.0.0"),
    CommandSpec::new("mset", -3, WRITE | DENYOOM, "string", mset)
        .keys(1, -1, 2)
        .doc("Atomically creates or modifies the string values of one or more keys.", "1.0.1"),
    CommandSpec::new("msetnx", -3, WRITE | DENYOOM, "string", msetnx)
        .keys(1, -1, 2)
        .doc("Atomically modifies the string values of one or more keys only when all keys don't exist.", "1.0.1"),
    CommandSpec::new("append", 3, WRITE | DENYOOM, "string", append)
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
];

/// The string an entry holds, or WRONGTYPE.
pub fn str_of(e: &Entry) -> Result<&StrValue, CommandError> {
    e.value.as_str().ok_or(CommandError::WrongType)
}

/// The string at `key` (None if missing), or WRONGTYPE. A read lookup (hits/misses).
pub fn read_string(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Bytes>, CommandError> {
    let db = ctx.db();
    match ctx.ks.get(db, key) {
        None => Ok(None),
        Some(e) => Ok(Some(str_of(e)?.to_bytes())),
    }
}

/// The length of the string at `key` without read side effects (Redis's
/// `lookupKeyWrite` + `checkType`): None if missing.
pub fn peek_len(ctx: &mut Ctx, key: &[u8]) -> Result<Option<usize>, CommandError> {
    let db = ctx.db();
    match ctx.ks.peek(db, key) {
        None => Ok(None),
        Some(e) => Ok(Some(str_of(e)?.len())),
    }
}

/// The growable buffer of an existing string, for an in-place edit (write path: dirty,
/// WATCH, snapshot capture; the TTL is kept).
pub fn raw_mut<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Option<&'c mut Vec<u8>> {
    let db = ctx.db();
    let e = ctx.ks.get_mut(db, key)?;
    Some(e.value.as_str_mut()?.make_raw())
}

/// Redis's `checkStringLength`: a string grown to `size + append` bytes must fit
/// `proto-max-bulk-len` (and must not overflow).
pub fn check_string_length(ctx: &Ctx, size: u64, append: u64) -> Result<(), CommandError> {
    match size.checked_add(append) {
        Some(total) if total <= ctx.settings().proto_max_bulk_len => Ok(()),
        _ => Err(CommandError::err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        )),
    }
}

fn get(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(match read_string(ctx, &args[1])? {
        Some(v) => Reply::Bulk(v),
        None => Reply::Nil,
    })
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
    let value = Value::Str(StrValue::from_bytes(&args[2]));
    let (written, _) = ctx.ks.set(db, &args[1], value, cond, expiry);
    Ok(match (o.has(GET), written) {
        (true, _) => old.map(Reply::Bulk).unwrap_or(Reply::Nil),
        (false, true) => Reply::Ok,
        (false, false) => Reply::Nil,
    })
}

fn setnx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let value = Value::Str(StrValue::from_bytes(&args[2]));
    let (written, _) = ctx
        .ks
        .set(db, &args[1], value, SetCondition::IfMissing, SetExpiry::Clear);
    Ok(Reply::Int(written as i64))
}

fn set_with_ttl(ctx: &mut Ctx, args: &[Bytes], unit_ms: i64, cmd: &str) -> CommandResult {
    let at = expire_at(&args[2], unit_ms, false, ctx.now_ms(), cmd)?;
    let db = ctx.db();
    let value = Value::Str(StrValue::from_bytes(&args[3]));
    ctx.ks.insert(db, &args[1], value, SetExpiry::At(at));
    Ok(Reply::Ok)
}

fn setex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    set_with_ttl(ctx, args, 1000, "setex")
}

fn psetex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    set_with_ttl(ctx, args, 1, "psetex")
}

fn getset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let old = read_string(ctx, &args[1])?;
    let db = ctx.db();
    let value = Value::Str(StrValue::from_bytes(&args[2]));
    ctx.ks.insert(db, &args[1], value, SetExpiry::Clear);
    Ok(old.map(Reply::Bulk).unwrap_or(Reply::Nil))
}

fn getdel(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let Some(v) = read_string(ctx, &args[1])? else {
        return Ok(Reply::Nil);
    };
    let db = ctx.db();
    ctx.ks.remove(db, &args[1]);
    Ok(Reply::Bulk(v))
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
        None if o.has(PERSIST) => {
            // Like `removeExpire`: a key without a TTL is not touched (no WATCH hit).
            if ctx.ks.peek(db, key).and_then(Entry::expire_at).is_some() {
                ctx.ks.set_expire(db, key, None);
            }
        }
        None => {}
    }
    Ok(Reply::Bulk(v))
}

fn mget(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let mut out = Vec::with_capacity(args.len() - 1);
    for key in &args[1..] {
        // Non-strings answer nil here, not WRONGTYPE.
        out.push(match ctx.ks.get(db, key).and_then(|e| e.value.as_str()) {
            Some(s) => Reply::Bulk(s.to_bytes()),
            None => Reply::Nil,
        });
    }
    Ok(Reply::Array(out))
}

fn mset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() % 2 == 0 {
        return Err(CommandError::WrongArity("mset".into()));
    }
    let db = ctx.db();
    for pair in args[1..].chunks_exact(2) {
        let value = Value::Str(StrValue::from_bytes(&pair[1]));
        ctx.ks.insert(db, &pair[0], value, SetExpiry::Clear);
    }
    Ok(Reply::Ok)
}

fn msetnx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() % 2 == 0 {
        return Err(CommandError::WrongArity("msetnx".into()));
    }
    let db = ctx.db();
    for pair in args[1..].chunks_exact(2) {
        if ctx.ks.exists(db, &pair[0]) {
            return Ok(Reply::Int(0));
        }
    }
    for pair in args[1..].chunks_exact(2) {
        let value = Value::Str(StrValue::from_bytes(&pair[1]));
        ctx.ks.insert(db, &pair[0], value, SetExpiry::Clear);
    }
    Ok(Reply::Int(1))
}

fn append(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (key, add) = (&args[1], &args[2]);
    match peek_len(ctx, key)? {
        None => {
            let db = ctx.db();
            let value = Value::Str(StrValue::from_bytes(add));
            ctx.ks.insert(db, key, value, SetExpiry::Clear);
            Ok(Reply::Int(add.len() as i64))
        }
        Some(len) => {
            check_string_length(ctx, len as u64, add.len() as u64)?;
            let buf = raw_mut(ctx, key).ok_or(CommandError::WrongType)?;
            buf.extend_from_slice(add);
            Ok(Reply::Int(buf.len() as i64))
        }
    }
}

fn strlen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    Ok(Reply::Int(match ctx.ks.get(db, &args[1]) {
        None => 0,
        Some(e) => str_of(e)?.len() as i64,
    }))
}

fn setrange(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (key, value) = (&args[1], &args[3]);
    let offset = parse_i64(&args[2])?;
    if offset < 0 {
        return Err(CommandError::err("offset is out of range"));
    }
    let offset = offset as u64;
    let end = offset + value.len() as u64;
    match peek_len(ctx, key)? {
        None => {
            // Setting nothing on a missing key creates nothing.
            if value.is_empty() {
                return Ok(Reply::Int(0));
            }
            check_string_length(ctx, offset, value.len() as u64)?;
            let mut buf = vec![0u8; end as usize];
            buf[offset as usize..].copy_from_slice(value);
            let db = ctx.db();
            let v = Value::Str(StrValue::Raw(Box::new(buf)));
            ctx.ks.insert(db, key, v, SetExpiry::Clear);
            Ok(Reply::Int(end as i64))
        }
        Some(len) => {
            if value.is_empty() {
                return Ok(Reply::Int(len as i64));
            }
            check_string_length(ctx, offset, value.len() as u64)?;
            let buf = raw_mut(ctx, key).ok_or(CommandError::WrongType)?;
            if buf.len() < end as usize {
                buf.resize(end as usize, 0);
            }
            buf[offset as usize..end as usize].copy_from_slice(value);
            Ok(Reply::Int(buf.len() as i64))
        }
    }
}

/// GETRANGE / SUBSTR's index arithmetic (negative from the end, clamped); None = empty.
fn byte_range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len_i = len as i64;
    let mut start = if start < 0 { len_i.wrapping_add(start) } else { start };
    let mut end = if end < 0 { len_i.wrapping_add(end) } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len_i {
        end = len_i - 1;
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
    let empty = || Reply::Bulk(Bytes::new());
    let Some(e) = ctx.ks.get(db, &args[1]) else {
        return Ok(empty());
    };
    Ok(str_of(e)?.with_bytes(|s| match byte_range(s.len(), start, end) {
        Some((a, b)) => Reply::Bulk(Bytes::copy_from_slice(&s[a..=b])),
        None => empty(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(items: &[&str]) -> Vec<Bytes> {
        items.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())).collect()
    }

    #[test]
    fn ranges_like_redis() {
        assert_eq!(byte_range(5, 0, -1), Some((0, 4)));
        assert_eq!(byte_range(5, -3, -1), Some((2, 4)));
        assert_eq!(byte_range(5, -1, -3), None);
        assert_eq!(byte_range(5, 3, 100), Some((3, 4)));
        assert_eq!(byte_range(5, 10, 20), None);
        assert_eq!(byte_range(0, 0, -1), None);
        assert_eq!(byte_range(5, i64::MIN, i64::MAX), Some((0, 4)));
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
