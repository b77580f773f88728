//! Generic key commands: DEL, UNLINK, EXISTS, TYPE, TOUCH, KEYS, SCAN, RANDOMKEY, RENAME,
//! RENAMENX, COPY, MOVE, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB. (OBJECT is in `object.rs`,
//! expiry commands in `expire.rs`.)

use bytes::Bytes;
use snapkv_keyspace::{ScanFilter, SetExpiry, ValueType};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::key_flags;
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, WRITE, "generic", del)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .key_flags(key_flags::RM_DELETE)
        .keys(1, -1, 1)
        .doc("Deletes one or more keys.", "1.0.0"),
    CommandSpec::new("unlink", -2, WRITE | FAST, "generic", del)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .key_flags(key_flags::RM_DELETE)
        .keys(1, -1, 1)
        .doc("Asynchronously deletes one or more keys.", "4.0.0"),
    CommandSpec::new("exists", -2, READONLY | FAST, "generic", exists)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .key_flags(key_flags::RO)
        .keys(1, -1, 1)
        .doc("Determines whether one or more keys exist.", "1.0.0"),
    CommandSpec::new("touch", -2, READONLY | FAST, "generic", touch)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .key_flags(key_flags::RO)
        .keys(1, -1, 1)
        .doc("Returns the number of existing keys out of those specified after updating the time they were last accessed.", "3.2.1"),
    CommandSpec::new("type", 2, READONLY | FAST, "generic", type_)
        .key_flags(key_flags::RO)
        .keys(1, 1, 1)
        .doc("Determines the type of value stored at a key.", "1.0.0"),
    CommandSpec::new("keys", 2, READONLY, "generic", keys)
        .tips(&["request_policy:all_shards", "nondeterministic_output_order"])
        .acl(&["@keyspace", "@dangerous"])
        .lock(LockPlan::Lazy)
        .doc("Returns all key names that match a pattern.", "1.0.0"),
    CommandSpec::new("scan", -2, READONLY, "generic", scan)
        .tips(&["nondeterministic_output", "request_policy:special"])
        .lock(LockPlan::Lazy)
        .doc("Iterates over the key names in the database.", "2.8.0"),
    CommandSpec::new("randomkey", 1, READONLY, "generic", randomkey)
        .tips(&["request_policy:all_shards", "nondeterministic_output"])
        .lock(LockPlan::Lazy)
        .doc("Returns a random key name from the database.", "1.0.0"),
    CommandSpec::new("rename", 3, WRITE, "generic", rename)
        .key_flags2(key_flags::RW_ACCESS_DELETE, key_flags::OW_UPDATE)
        .keys(1, 2, 1)
        .doc("Renames a key and overwrites the destination.", "1.0.0"),
    CommandSpec::new("renamenx", 3, WRITE | FAST, "generic", renamenx)
        .key_flags2(key_flags::RW_ACCESS_DELETE, key_flags::OW_INSERT)
        .keys(1, 2, 1)
        .doc("Renames a key only when the target key name doesn't exist.", "1.0.0"),
    CommandSpec::new("copy", -3, WRITE | DENYOOM, "generic", copy)
        .key_flags2(key_flags::RO_ACCESS, key_flags::OW_UPDATE)
        .keys(1, 2, 1)
        .lock(LockPlan::Custom(copy_keys))
        .doc("Copies the value of a key to a new key.", "6.2.0"),
    CommandSpec::new("move", 3, WRITE | FAST, "generic", move_)
        .keys(1, 1, 1)
        .lock(LockPlan::Custom(move_keys))
        .doc("Moves a key to another database.", "1.0.0"),
    CommandSpec::new("dbsize", 1, READONLY | FAST, "server", dbsize)
        .tips(&["request_policy:all_shards", "response_policy:agg_sum"])
        .acl(&["@keyspace"])
        .lock(LockPlan::Lazy)
        .doc("Returns the number of keys in the database.", "1.0.0"),
    CommandSpec::new("flushdb", -1, WRITE, "server", flushdb)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .acl(&["@keyspace", "@dangerous"])
        .lock(LockPlan::Db)
        .doc("Remove all keys from the current database.", "1.0.0"),
    CommandSpec::new("flushall", -1, WRITE, "server", flushall)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .acl(&["@keyspace", "@dangerous"])
        .lock(LockPlan::All)
        .doc("Removes all keys from all databases.", "1.0.0"),
    CommandSpec::new("swapdb", 3, WRITE | FAST, "server", swapdb)
        .acl(&["@keyspace", "@dangerous"])
        .lock(LockPlan::All)
        .doc("Swaps two Redis databases.", "4.0.0"),
];

fn del(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let n = args[1..]
        .iter()
        .filter(|k| ctx.ks.remove(db, k).is_some())
        .count();
    Ok(Reply::Int(n as i64))
}

fn exists(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let n = args[1..]
        .iter()
        .filter(|k| ctx.ks.get_notouch(db, k).is_some())
        .count();
    Ok(Reply::Int(n as i64))
}

fn touch(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let n = args[1..]
        .iter()
        .filter(|k| ctx.ks.get(db, k).is_some())
        .count();
    Ok(Reply::Int(n as i64))
}

fn type_(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let name = ctx
        .ks
        .get_notouch(db, &args[1])
        .map(|e| e.value.value_type().name())
        .unwrap_or("none");
    Ok(Reply::simple(name))
}

fn keys(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let pattern = &args[1];
    let all = &pattern[..] == b"*";
    let mut out = Vec::new();
    ctx.ks.for_each_shard(db, |v| {
        out.extend(
            v.entries()
                .filter(|e| all || snapkv_keyspace::glob::matches(pattern, &e.key, false))
                .map(|e| Reply::Bulk(e.key.to_bytes())),
        );
    });
    Ok(Reply::Array(out))
}

fn scan(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let cursor = parse_cursor(&args[1]).ok_or_else(|| CommandError::err("invalid cursor"))?;
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    let mut type_filter: Option<Option<ValueType>> = None;
    let mut i = 2;
    while i < args.len() {
        let more = i + 1 < args.len();
        if is(&args[i], "count") && more {
            let c = parse_i64(&args[i + 1])?;
            if c < 1 {
                return Err(CommandError::Syntax);
            }
            count = c as usize;
        } else if is(&args[i], "match") && more {
            pattern = Some(&args[i + 1]);
        } else if is(&args[i], "type") && more {
            type_filter = Some(ValueType::from_name(&args[i + 1]));
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    let db = ctx.db();
    let filter = ScanFilter {
        pattern,
        value_type: None,
    };
    let (next, mut keys) = ctx.ks.scan(db, cursor, count, &filter);
    if let Some(want) = type_filter {
        // Like Redis, the type check is a read lookup of each candidate (it counts as a
        // keyspace hit); an unknown TYPE name matches nothing.
        keys.retain(|k| {
            let found = ctx.ks.get_notouch(db, k).map(|e| e.value.value_type());
            want.is_some() && found == want
        });
    }
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::Array(
            keys.into_iter()
                .map(|k| Reply::Bulk(k.to_bytes()))
                .collect(),
        ),
    ]))
}

/// C's `strtoul` as Redis's `parseScanCursorOrReply` uses it: optional sign (a minus
/// wraps), digits, nothing after; an empty string is cursor 0.
pub(crate) fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        Some(c) if c.is_ascii_whitespace() => return None,
        _ => (false, arg),
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // A bare sign converts nothing, so strtoul leaves it unparsed: an invalid cursor.
    // Only the empty string (no sign) is the zero cursor.
    let v = if digits.is_empty() {
        if !arg.is_empty() {
            return None;
        }
        0
    } else {
        std::str::from_utf8(digits).ok()?.parse::<u64>().ok()?
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

fn randomkey(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    Ok(match ctx.ks.random_key(db) {
        Some(k) => Reply::Bulk(k.to_bytes()),
        None => Reply::Nil,
    })
}

fn rename_generic(ctx: &mut Ctx, args: &[Bytes], nx: bool) -> CommandResult {
    let db = ctx.db();
    if ctx.ks.lookup_write(db, &args[1]).is_none() {
        return Err(CommandError::NoSuchKey);
    }
    if args[1] == args[2] {
        return Ok(if nx { Reply::Int(0) } else { Reply::Ok });
    }
    if nx && ctx.ks.lookup_write(db, &args[2]).is_some() {
        return Ok(Reply::Int(0));
    }
    // The same object under a new name: TTL and access stamp travel with it, and any
    // destination is overwritten (its TTL with the source's).
    if !ctx.ks.move_entry(db, &args[1], db, &args[2]) {
        return Err(CommandError::NoSuchKey);
    }
    crate::blocking::signal_written(ctx, db, &args[2]);
    Ok(if nx { Reply::Int(1) } else { Reply::Ok })
}

fn rename(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    rename_generic(ctx, args, true)
}

/// A database index argument as Redis's `getIntFromObjectOrReply`: `msg` replaces both
/// the not-an-integer and the out-of-int-range texts when given (SWAPDB's).
fn db_index(arg: &[u8], msg: Option<&str>) -> Result<i64, CommandError> {
    let fail = |default: CommandError| msg.map(CommandError::err).unwrap_or(default);
    let v = parse_i64(arg).map_err(|_| fail(CommandError::NotInteger))?;
    if v < i32::MIN as i64 || v > i32::MAX as i64 {
        return Err(fail(CommandError::err(
            "value is out of range, value must between -2147483648 and 2147483647",
        )));
    }
    Ok(v)
}

/// A database index that must name an existing database (`selectDb`'s check).
fn existing_db(arg: &[u8], databases: usize) -> Result<usize, CommandError> {
    let v = db_index(arg, None)?;
    if v < 0 || v as usize >= databases {
        return Err(CommandError::DbIndexOutOfRange);
    }
    Ok(v as usize)
}

/// COPY's options: (destination db, REPLACE). Like Redis, each DB option is checked as
/// it is read, so a bad index wins over a later syntax error.
fn copy_options(
    args: &[Bytes],
    db: usize,
    databases: usize,
) -> Result<(usize, bool), CommandError> {
    let (mut dst_db, mut replace) = (db, false);
    let mut i = 3;
    while i < args.len() {
        if is(&args[i], "replace") {
            replace = true;
            i += 1;
        } else if is(&args[i], "db") && i + 1 < args.len() {
            dst_db = existing_db(&args[i + 1], databases)?;
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok((dst_db, replace))
}

/// COPY's lock set: the source and the destination in its (maybe other) database. An
/// index past the last database is dropped by dispatch; the handler then errors.
fn copy_keys(args: &[Bytes], db: usize) -> Vec<(usize, Bytes)> {
    let dst = copy_options(args, db, usize::MAX)
        .map(|(d, _)| d)
        .unwrap_or(db);
    vec![(db, args[1].clone()), (dst, args[2].clone())]
}

fn copy(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let (dst_db, replace) = copy_options(args, db, ctx.shared.keyspace.databases())?;
    if dst_db == db && args[1] == args[2] {
        return Err(CommandError::err(
            "source and destination objects are the same",
        ));
    }
    let Some(entry) = ctx.ks.get(db, &args[1]) else {
        return Ok(Reply::Int(0));
    };
    let (value, expire_at) = (entry.value.clone(), entry.expire_at());
    if ctx.ks.lookup_write(dst_db, &args[2]).is_some() {
        if !replace {
            return Ok(Reply::Int(0));
        }
        ctx.ks.remove(dst_db, &args[2]);
    }
    // A duplicate is a new object (fresh access stamp) that keeps the source's TTL.
    let expiry = expire_at.map_or(SetExpiry::Clear, SetExpiry::At);
    ctx.ks.insert(dst_db, &args[2], value, expiry);
    crate::blocking::signal_written(ctx, dst_db, &args[2]);
    Ok(Reply::Int(1))
}

fn move_keys(args: &[Bytes], db: usize) -> Vec<(usize, Bytes)> {
    let mut v = vec![(db, args[1].clone())];
    if let Ok(d) = existing_db(&args[2], usize::MAX) {
        v.push((d, args[1].clone()));
    }
    v
}

fn move_(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let dst = existing_db(&args[2], ctx.shared.keyspace.databases())?;
    if dst == db {
        return Err(CommandError::err(
            "source and destination objects are the same",
        ));
    }
    if ctx.ks.lookup_write(db, &args[1]).is_none() || ctx.ks.lookup_write(dst, &args[1]).is_some() {
        return Ok(Reply::Int(0));
    }
    let moved = ctx.ks.move_entry(db, &args[1], dst, &args[1]);
    crate::blocking::signal_written(ctx, dst, &args[1]);
    Ok(Reply::Int(moved as i64))
}

fn dbsize(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let mut n = 0;
    ctx.ks.for_each_shard(db, |v| n += v.len());
    Ok(Reply::Int(n as i64))
}

/// FLUSHDB / FLUSHALL's optional ASYNC | SYNC; without one, `lazyfree-lazy-user-flush`
/// decides. True for asynchronous.
fn flush_mode(ctx: &Ctx, args: &[Bytes]) -> Result<bool, CommandError> {
    match args.len() {
        1 => Ok(ctx
            .shared
            .config
            .get_value("lazyfree-lazy-user-flush")
            .is_some_and(|v| v == "yes")),
        2 if is(&args[1], "async") => Ok(true),
        2 if is(&args[1], "sync") => Ok(false),
        _ => Err(CommandError::Syntax),
    }
}

/// Below this many removed keys freeing in place is cheaper than handing off.
const LAZYFREE_MIN_KEYS: usize = 4096;

/// Empties `dbs`. Asynchronously, the old segments are only unlinked under the locks and
/// freed by a short-lived thread, so a big flush does not stall every shard.
fn flush_dbs(ctx: &mut Ctx, dbs: std::ops::Range<usize>, lazy: bool) {
    if !lazy {
        for db in dbs {
            ctx.ks.flush_db(db);
        }
        return;
    }
    let mut garbage = Vec::new();
    let mut removed = 0;
    for db in dbs {
        removed += ctx.ks.flush_db_into(db, &mut garbage);
    }
    if removed >= LAZYFREE_MIN_KEYS {
        // If no thread can be started the closure, and the garbage, is dropped here.
        let _ = std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || drop(garbage));
    }
}

fn flushdb(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let lazy = flush_mode(ctx, args)?;
    let db = ctx.db();
    flush_dbs(ctx, db..db + 1, lazy);
    Ok(Reply::Ok)
}

/// FLUSHALL, as Redis 7.0's `flushAllDataAndResetRDB`: a running background save is
/// stopped (its snapshot is of data just thrown away), and with save points configured
/// the now empty dataset is saved at once, so a restart does not bring the keys back.
fn flushall(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let lazy = flush_mode(ctx, args)?;
    flush_dbs(ctx, 0..ctx.shared.keyspace.databases(), lazy);
    crate::persistence::abort_bgsave(ctx.shared);
    if !ctx.settings().save.is_empty() {
        if let Err(e) = crate::persistence::save_locked(ctx.shared, ctx.ks) {
            tracing::warn!("{e}");
        }
    }
    Ok(Reply::Ok)
}

fn swapdb(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let a = db_index(&args[1], Some("invalid first DB index"))?;
    let b = db_index(&args[2], Some("invalid second DB index"))?;
    let n = ctx.shared.keyspace.databases() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(CommandError::DbIndexOutOfRange);
    }
    ctx.ks.swap_dbs(a as usize, b as usize);
    crate::blocking::signal_dbs(ctx, [a as usize, b as usize]);
    // One change for save points, as Redis counts it (even swapping a db with itself).
    ctx.ks.add_dirty(a as usize, b"", 1);
    Ok(Reply::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_cursor_like_strtoul() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b"-"[..],
            b"+",
            b" 1",
            b"1 ",
            b"0x1",
            b"1.0",
            b"18446744073709551616",
        ] {
            assert_eq!(parse_cursor(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn db_index_texts_like_get_int_from_object() {
        let text = |r: Result<i64, CommandError>| r.unwrap_err().to_string();
        assert_eq!(db_index(b"-3", None), Ok(-3));
        assert_eq!(
            text(db_index(b"x", None)),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(
            text(db_index(b"2147483648", None)),
            "ERR value is out of range, value must between -2147483648 and 2147483647"
        );
        assert_eq!(
            text(db_index(b"2147483648", Some("invalid first DB index"))),
            "ERR invalid first DB index"
        );
        assert_eq!(existing_db(b"16", 16), Err(CommandError::DbIndexOutOfRange));
        assert_eq!(existing_db(b"15", 16), Ok(15));
    }
}
