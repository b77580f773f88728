//! Generic key commands: DEL, UNLINK, EXISTS, TYPE, TOUCH, KEYS, SCAN, RANDOMKEY, RENAME,
//! RENAMENX, COPY, MOVE, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB. (OBJECT is in `object.rs`,
//! expiry commands in `expire.rs`.)

use bytes::Bytes;
use snapkv_keyspace::{ScanFilter, ValueType};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, WRITE, "generic", del)
        .keys(1, -1, 1)
        .doc("Deletes one or more keys.", "1.0.0"),
    CommandSpec::new("unlink", -2, WRITE | FAST, "generic", del)
        .keys(1, -1, 1)
        .doc("Asynchronously deletes one or more keys.", "4.0.0"),
    CommandSpec::new("exists", -2, READONLY | FAST, "generic", exists)
        .keys(1, -1, 1)
        .doc("Determines whether one or more keys exist.", "1.0.0"),
    CommandSpec::new("touch", -2, READONLY | FAST, "generic", touch)
        .keys(1, -1, 1)
        .doc("Returns the number of existing keys out of those specified after updating the time they were last accessed.", "3.2.1"),
    CommandSpec::new("type", 2, READONLY | FAST, "generic", type_)
        .keys(1, 1, 1)
        .doc("Determines the type of value stored at a key.", "1.0.0"),
    CommandSpec::new("keys", 2, READONLY, "generic", keys)
        .lock(LockPlan::Lazy)
        .doc("Returns all key names that match a pattern.", "1.0.0"),
    CommandSpec::new("scan", -2, READONLY, "generic", scan)
        .lock(LockPlan::Lazy)
        .doc("Iterates over the key names in the database.", "2.8.0"),
    CommandSpec::new("randomkey", 1, READONLY, "generic", randomkey)
        .lock(LockPlan::Lazy)
        .doc("Returns a random key name from the database.", "1.0.0"),
    CommandSpec::new("rename", 3, WRITE, "generic", rename)
        .keys(1, 2, 1)
        .doc("Renames a key and overwrites the destination.", "1.0.0"),
    CommandSpec::new("renamenx", 3, WRITE | FAST, "generic", renamenx)
        .keys(1, 2, 1)
        .doc("Renames a key only when the target key name doesn't exist.", "1.0.0"),
    CommandSpec::new("copy", -3, WRITE | DENYOOM, "generic", copy)
        .keys(1, 2, 1)
        .lock(LockPlan::Custom(copy_keys))
        .doc("Copies the value of a key to a new key.", "6.2.0"),
    CommandSpec::new("move", 3, WRITE | FAST, "generic", move_)
        .keys(1, 1, 1)
        .lock(LockPlan::Custom(move_keys))
        .doc("Moves a key to another database.", "1.0.0"),
    CommandSpec::new("dbsize", 1, READONLY | FAST, "server", dbsize)
        .lock(LockPlan::Lazy)
        .doc("Returns the number of keys in the database.", "1.0.0"),
    CommandSpec::new("flushdb", -1, WRITE, "server", flushdb)
        .lock(LockPlan::Db)
        .doc("Remove all keys from the current database.", "1.0.0"),
    CommandSpec::new("flushall", -1, WRITE, "server", flushall)
        .lock(LockPlan::All)
        .doc("Removes all keys from all databases.", "1.0.0"),
    CommandSpec::new("swapdb", 3, WRITE | FAST, "server", swapdb)
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
    let n = args[1..].iter().filter(|k| ctx.ks.exists(db, k)).count();
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
        .peek(db, &args[1])
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
    // An unknown TYPE name matches nothing, as in Redis 7.0.
    let (next, keys) = match type_filter {
        Some(None) => {
            let (next, _) = ctx.ks.scan(db, cursor, count, &ScanFilter::default());
            (next, Vec::new())
        }
        Some(Some(t)) => ctx.ks.scan(
            db,
            cursor,
            count,
            &ScanFilter {
                pattern,
                value_type: Some(t),
            },
        ),
        None => ctx.ks.scan(
            db,
            cursor,
            count,
            &ScanFilter {
                pattern,
                value_type: None,
            },
        ),
    };
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
fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        Some(c) if c.is_ascii_whitespace() => return None,
        _ => (false, arg),
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = if digits.is_empty() {
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
    if !ctx.ks.exists(db, &args[1]) {
        return Err(CommandError::NoSuchKey);
    }
    if args[1] == args[2] {
        return Ok(if nx { Reply::Int(0) } else { Reply::Ok });
    }
    if nx && ctx.ks.exists(db, &args[2]) {
        return Ok(Reply::Int(0));
    }
    let Some(mut entry) = ctx.ks.remove(db, &args[1]) else {
        return Err(CommandError::NoSuchKey);
    };
    entry.key = snapkv_keyspace::SmallBytes::new(&args[2]);
    ctx.ks.remove(db, &args[2]);
    ctx.ks.insert_entry(db, entry);
    Ok(if nx { Reply::Int(1) } else { Reply::Ok })
}

fn rename(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    rename_generic(ctx, args, true)
}

/// COPY's options: (destination db, REPLACE).
fn copy_options(args: &[Bytes], db: usize) -> Result<(usize, bool), CommandError> {
    let (mut dst_db, mut replace) = (db as i64, false);
    let mut i = 3;
    while i < args.len() {
        if is(&args[i], "replace") {
            replace = true;
            i += 1;
        } else if is(&args[i], "db") && i + 1 < args.len() {
            dst_db = parse_i64(&args[i + 1])?;
            if dst_db < i32::MIN as i64 || dst_db > i32::MAX as i64 {
                return Err(CommandError::NotInteger);
            }
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if dst_db < 0 {
        return Err(CommandError::DbIndexOutOfRange);
    }
    Ok((dst_db as usize, replace))
}

fn copy_keys(args: &[Bytes], db: usize) -> Vec<(usize, Bytes)> {
    let dst = copy_options(args, db).map(|(d, _)| d).unwrap_or(db);
    vec![(db, args[1].clone()), (dst, args[2].clone())]
}

fn copy(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let (dst_db, replace) = copy_options(args, db)?;
    if dst_db >= ctx.shared.keyspace.databases() {
        return Err(CommandError::DbIndexOutOfRange);
    }
    if dst_db == db && args[1] == args[2] {
        return Err(CommandError::err(
            "source and destination objects are the same",
        ));
    }
    let Some(mut entry) = ctx.ks.peek(db, &args[1]).cloned() else {
        return Ok(Reply::Int(0));
    };
    if ctx.ks.exists(dst_db, &args[2]) {
        if !replace {
            return Ok(Reply::Int(0));
        }
        ctx.ks.remove(dst_db, &args[2]);
    }
    entry.key = snapkv_keyspace::SmallBytes::new(&args[2]);
    ctx.ks.insert_entry(dst_db, entry);
    Ok(Reply::Int(1))
}

fn move_keys(args: &[Bytes], db: usize) -> Vec<(usize, Bytes)> {
    let mut v = vec![(db, args[1].clone())];
    if let Ok(d) = parse_i64(&args[2]) {
        if d >= 0 {
            v.push((d as usize, args[1].clone()));
        }
    }
    v
}

fn move_(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let dst = parse_i64(&args[2])?;
    if dst < i32::MIN as i64 || dst > i32::MAX as i64 {
        return Err(CommandError::NotInteger);
    }
    if dst < 0 || dst as usize >= ctx.shared.keyspace.databases() {
        return Err(CommandError::DbIndexOutOfRange);
    }
    let dst = dst as usize;
    if dst == db {
        return Err(CommandError::err(
            "source and destination objects are the same",
        ));
    }
    if !ctx.ks.exists(db, &args[1]) || ctx.ks.exists(dst, &args[1]) {
        return Ok(Reply::Int(0));
    }
    match ctx.ks.remove(db, &args[1]) {
        Some(entry) => {
            ctx.ks.insert_entry(dst, entry);
            Ok(Reply::Int(1))
        }
        None => Ok(Reply::Int(0)),
    }
}

fn dbsize(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let mut n = 0;
    ctx.ks.for_each_shard(db, |v| n += v.len());
    Ok(Reply::Int(n as i64))
}

/// FLUSHDB / FLUSHALL's optional ASYNC | SYNC.
fn flush_mode(args: &[Bytes]) -> Result<(), CommandError> {
    match args.len() {
        1 => Ok(()),
        2 if is(&args[1], "async") || is(&args[1], "sync") => Ok(()),
        _ => Err(CommandError::Syntax),
    }
}

fn flushdb(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    flush_mode(args)?;
    let db = ctx.db();
    ctx.ks.flush_db(db);
    Ok(Reply::Ok)
}

fn flushall(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    flush_mode(args)?;
    for db in 0..ctx.shared.keyspace.databases() {
        ctx.ks.flush_db(db);
    }
    Ok(Reply::Ok)
}

fn swapdb(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let a = parse_i64(&args[1]).map_err(|_| CommandError::err("invalid first DB index"))?;
    let b = parse_i64(&args[2]).map_err(|_| CommandError::err("invalid second DB index"))?;
    let n = ctx.shared.keyspace.databases() as i64;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(CommandError::DbIndexOutOfRange);
    }
    ctx.ks.swap_dbs(a as usize, b as usize);
    Ok(Reply::Ok)
}
