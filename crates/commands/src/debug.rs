//! DEBUG: SLEEP, SET-ACTIVE-EXPIRE, OBJECT, RELOAD, POPULATE, HELP.

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::args::{lower, parse_f64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::object::help_reply;

const HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "OBJECT <key>",
    "    Show low level info about the `key` and associated value.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
];

fn syntax(args: &[Bytes]) -> CommandError {
    CommandError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
        String::from_utf8_lossy(&args[1])
    ))
}

pub fn debug(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if !snapkv_config::allows(&ctx.settings().enable_debug_command, ctx.client.is_local()) {
        return Err(CommandError::err(
            "DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
        ));
    }
    match (lower(&args[1]).as_str(), args.len()) {
        ("help", 2) => Ok(help_reply(HELP)),
        ("sleep", 3) => {
            let secs = parse_f64(&args[2])?;
            if secs > 0.0 && secs.is_finite() {
                // Like Redis, DEBUG SLEEP stalls the thread serving this client.
                std::thread::sleep(std::time::Duration::from_secs_f64(secs));
            }
            Ok(Reply::Ok)
        }
        ("set-active-expire", 3) => {
            let on = crate::args::parse_i64(&args[2])? != 0;
            ctx.shared.active_expire.store(on, Relaxed);
            Ok(Reply::Ok)
        }
        ("reload", _) => reload(ctx, args),
        ("populate", 3..=5) => populate(ctx, args),
        ("object", 3) => {
            let db = ctx.db();
            let now = ctx.now_ms();
            let Some(e) = ctx.ks.peek(db, &args[2]) else {
                return Err(CommandError::NoSuchKey);
            };
            let len = e.value.as_str().map(|s| s.len()).unwrap_or(0);
            let addr = e as *const _ as usize;
            Ok(Reply::Simple(Bytes::from(format!(
                "Value at:{addr:#x} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                e.value.encoding(),
                len + 1,
                e.lru & 0xffffff,
                snapkv_keyspace::clock::idle_secs(e.lru, now)
            ))))
        }
        _ => Err(syntax(args)),
    }
}

/// DEBUG POPULATE count [prefix] [size]: keys `prefix:N` (default `key`) holding
/// `value:N`, cut or zero-padded to `size` bytes when a size is given; keys that exist
/// are left alone, and nothing counts towards save points — as Redis 7.0.
fn populate(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let positive = |a: &Bytes| {
        crate::args::parse_i64(a)
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| CommandError::err("value is out of range, must be positive"))
    };
    let count = positive(&args[2])?;
    let size = args.get(4).map(positive).transpose()?.unwrap_or(0) as usize;
    let prefix = args.get(3).map_or(&b"key"[..], |p| &p[..]);
    let db = ctx.db();
    let mut key = Vec::with_capacity(prefix.len() + 21);
    for n in 0..count {
        key.clear();
        key.extend_from_slice(prefix);
        key.extend_from_slice(format!(":{n}").as_bytes());
        let mut value = format!("value:{n}").into_bytes();
        if size > 0 {
            value.resize(size, 0);
        }
        ctx.ks.populate(
            db,
            &key,
            snapkv_keyspace::Value::Str(snapkv_keyspace::StrValue::from_bytes(&value)),
        );
    }
    Ok(Reply::Ok)
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save (unless NOSAVE), empty every database
/// (unless NOFLUSH) and load the dump back, all while holding every shard, so no client
/// sees the keyspace in between. With NOFLUSH, loaded keys replace existing ones (Redis
/// would stop the server on a conflict without MERGE).
fn reload(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (mut nosave, mut noflush) = (false, false);
    for a in &args[2..] {
        match lower(a).as_str() {
            "merge" => {}
            "noflush" => noflush = true,
            "nosave" => nosave = true,
            _ => {
                return Err(CommandError::err(
                    "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                ))
            }
        }
    }
    if ctx.client.deny_blocking {
        // Inside EXEC every shard is already held by this very command.
        return Err(CommandError::err(
            "DEBUG RELOAD is not allowed inside MULTI",
        ));
    }
    let shared = ctx.shared;
    let settings = ctx.settings().clone();
    let mut all = shared.keyspace.lock_all();
    if !nosave {
        if let Err(e) = crate::persistence::save_locked(shared, &mut all) {
            tracing::warn!("{e}");
            return Err(CommandError::err("Error trying to save the DB"));
        }
    }
    if !noflush {
        for db in 0..shared.keyspace.databases() {
            all.flush_db(db);
        }
    }
    let limits = crate::ctx::limits(&settings);
    let path = std::path::Path::new(&settings.dbfilename);
    let loaded = snapkv_snapshot::load_with(
        path,
        &limits,
        shared.keyspace.databases(),
        |_| {},
        |db, key, value, expiry| {
            all.insert(db, key, value, expiry);
        },
    );
    for db in 0..shared.keyspace.databases() {
        all.for_each_shard(db, |v| v.shard.stats.dirty = 0);
    }
    match loaded {
        Ok(stats) => {
            shared.persistence.record_load(&stats);
            tracing::info!("DB reloaded by DEBUG RELOAD ({} keys)", stats.keys_loaded);
            Ok(Reply::Ok)
        }
        Err(e) => {
            tracing::warn!("{e}");
            Err(CommandError::err(format!(
                "Error trying to load the RDB dump: {e}"
            )))
        }
    }
}
