//! DEBUG: the subcommands clients and test suites use — SLEEP, SET-ACTIVE-EXPIRE,
//! OBJECT, HELP. (Redis's DEBUG is one command that parses its own subcommands; so is
//! ours, so that unknown ones get Redis's answer.)

use std::sync::atomic::Ordering;

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::args::lower;
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};

pub fn debug(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let sub = lower(&args[1]);
    match (sub.as_str(), args.len()) {
        ("help", 2) => Ok(help()),
        ("sleep", 3) => {
            let secs = std::str::from_utf8(&args[2])
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            // Blocks this worker thread on purpose, like Redis blocks its event loop:
            // tests use it to simulate a slow server.
            if secs > 0.0 && secs.is_finite() {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
            }
            Ok(Reply::Ok)
        }
        ("set-active-expire", 3) => {
            let on = crate::args::parse_i64(&args[2]).unwrap_or(0) != 0;
            ctx.shared.active_expire.store(on, Ordering::Relaxed);
            Ok(Reply::Ok)
        }
        ("object", 3) => object(ctx, &args[2]),
        _ => Err(CommandError::UnknownSubcommand {
            command: "debug".into(),
            sub: String::from_utf8_lossy(&args[1]).into_owned(),
        }),
    }
}

fn object(ctx: &mut Ctx, key: &Bytes) -> CommandResult {
    let db = ctx.db();
    let now = ctx.now_ms();
    let Some(e) = ctx.ks.peek(db, key) else {
        return Err(CommandError::NoSuchKey);
    };
    let addr = e as *const _ as usize;
    let serialized = match e.value.as_str() {
        Some(s) => s.len(),
        None => e.value.heap_size(),
    };
    let lru = e.lru;
    let idle = snapkv_keyspace::clock::idle_secs(lru, now);
    Ok(Reply::Simple(Bytes::from(format!(
        "Value at:{addr:#x} refcount:1 encoding:{} serializedlength:{serialized} lru:{lru} lru_seconds_idle:{idle}",
        e.value.encoding()
    ))))
}

fn help() -> Reply {
    crate::server::help_reply(
        "DEBUG",
        &[
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
        ],
    )
}
