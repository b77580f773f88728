//! DEBUG: SLEEP, SET-ACTIVE-EXPIRE, OBJECT, HELP (RELOAD arrives with snapshots).

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
    let allowed = match ctx.settings().enable_debug_command.as_str() {
        "yes" => true,
        "local" => {
            ctx.client.info.addr.starts_with("127.") || ctx.client.info.addr.starts_with("[::1]")
        }
        _ => false,
    };
    if !allowed {
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
