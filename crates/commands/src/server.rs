//! Server commands: TIME, LASTSAVE, SHUTDOWN, DEBUG, SLOWLOG, MONITOR and the CLIENT
//! container. (INFO: `info.rs`; CONFIG: `config_cmd.rs`; LATENCY: `latency.rs`.)

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::CommandResult;
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("client", -2, 0, "connection", container_help)
        .lock(LockPlan::None)
        .subs(crate::client_cmd::SUBCOMMANDS)
        .doc("A container for client connection commands.", "2.4.0"),
    CommandSpec::new("time", 1, LOADING | STALE | FAST, "server", time)
        .tips(&["nondeterministic_output"])
        .lock(LockPlan::None)
        .doc("Returns the server time.", "2.6.0"),
    CommandSpec::new("lastsave", 1, LOADING | STALE | FAST, "server", lastsave)
        .tips(&["nondeterministic_output"])
        .acl(&["@admin", "@dangerous"])
        .lock(LockPlan::None)
        .doc(
            "Returns the Unix timestamp of the last successful save to disk.",
            "1.0.0",
        ),
    CommandSpec::new(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "server",
        monitor,
    )
    .lock(LockPlan::None)
    .doc(
        "Listens for all requests received by the server in real-time.",
        "1.0.0",
    ),
    CommandSpec::new("slowlog", -2, 0, "server", slowlog_help)
        .lock(LockPlan::None)
        .subs(SLOWLOG)
        .doc("A container for slow log commands.", "2.2.12"),
    CommandSpec::new(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "server",
        crate::debug::debug,
    )
    .lock(LockPlan::Lazy)
    .doc("A container for debugging commands.", "1.0.0"),
    CommandSpec::new(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        "server",
        shutdown,
    )
    .lock(LockPlan::All)
    .doc(
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        "1.0.0",
    ),
];

static SLOWLOG: &[CommandSpec] = &[
    CommandSpec::new(
        "slowlog|get",
        -2,
        ADMIN | LOADING | STALE,
        "server",
        slowlog_get,
    )
    .tips(&["request_policy:all_nodes", "nondeterministic_output"])
    .lock(LockPlan::None)
    .doc("Returns the slow log's entries.", "2.2.12"),
    CommandSpec::new(
        "slowlog|len",
        2,
        ADMIN | LOADING | STALE,
        "server",
        slowlog_len,
    )
    .tips(&[
        "request_policy:all_nodes",
        "response_policy:agg_sum",
        "nondeterministic_output",
    ])
    .lock(LockPlan::None)
    .doc("Returns the number of entries in the slow log.", "2.2.12"),
    CommandSpec::new(
        "slowlog|reset",
        2,
        ADMIN | LOADING | STALE,
        "server",
        slowlog_reset,
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
    .lock(LockPlan::None)
    .doc("Clears all entries from the slow log.", "2.2.12"),
    CommandSpec::new("slowlog|help", 2, LOADING | STALE, "server", slowlog_help)
        .lock(LockPlan::None)
        .doc("Show helpful text about the different subcommands", "6.2.0"),
];

const SLOWLOG_HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

fn slowlog_help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(crate::object::help_reply(SLOWLOG_HELP))
}

fn slowlog_get(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 3 {
        return Err(crate::error::CommandError::subcommand_syntax(args));
    }
    let count = match args.get(2) {
        None => 10,
        Some(a) => {
            let n = crate::args::parse_i64(a).map_err(|_| {
                crate::error::CommandError::err("count should be greater than or equal to -1")
            })?;
            if n < -1 {
                return Err(crate::error::CommandError::err(
                    "count should be greater than or equal to -1",
                ));
            }
            if n == -1 {
                usize::MAX
            } else {
                n as usize
            }
        }
    };
    let entries = ctx.shared.slowlog.entries.lock();
    Ok(Reply::Array(
        entries
            .iter()
            .take(count)
            .map(|e| {
                Reply::Array(vec![
                    Reply::Int(e.id as i64),
                    Reply::Int(e.time_secs as i64),
                    Reply::Int(e.duration_us as i64),
                    Reply::Array(e.args.iter().map(|a| Reply::Bulk(a.clone())).collect()),
                    Reply::bulk(e.addr.clone()),
                    Reply::Bulk(e.name.clone()),
                ])
            })
            .collect(),
    ))
}

fn slowlog_len(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(Reply::Int(ctx.shared.slowlog.entries.lock().len() as i64))
}

fn slowlog_reset(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    ctx.shared.slowlog.reset();
    Ok(Reply::Ok)
}

fn time(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ok(Reply::Array(vec![
        Reply::bulk(now.as_secs().to_string()),
        Reply::bulk(now.subsec_micros().to_string()),
    ]))
}

fn lastsave(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(Reply::Int(
        ctx.shared
            .persistence
            .lastsave_secs
            .load(std::sync::atomic::Ordering::Relaxed) as i64,
    ))
}

fn monitor(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    if ctx.client.monitor.is_some() {
        return Ok(Reply::Ok);
    }
    let (tx, rx) = tokio::sync::mpsc::channel(crate::shared::MONITOR_BACKLOG);
    ctx.client.monitor = Some(rx);
    ctx.client
        .info
        .monitor
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let mut senders = ctx.shared.monitors.senders.lock();
    senders.push(tx);
    ctx.shared
        .monitors
        .count
        .store(senders.len(), std::sync::atomic::Ordering::Relaxed);
    Ok(Reply::Ok)
}

/// A container called with no (known) subcommand: answered before this by dispatch.
fn container_help(_ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Err(crate::error::CommandError::UnknownSubcommand {
        command: String::from_utf8_lossy(&args[0]).into_owned(),
        sub: args
            .get(1)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .unwrap_or_default(),
    })
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], parsed as Redis 7.0 does: every
/// argument is a flag, and an unknown one or an illegal mix (NOSAVE with SAVE, ABORT with
/// anything) is a syntax error that stops nothing. NOW has nothing to skip here (no
/// replicas to wait for); ABORT finds no shutdown in progress, since one never waits.
fn shutdown(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (mut save, mut nosave, mut force, mut now, mut abort) = (false, false, false, false, false);
    for a in &args[1..] {
        match crate::args::lower(a).as_str() {
            "nosave" => nosave = true,
            "save" => save = true,
            "now" => now = true,
            "force" => force = true,
            "abort" => abort = true,
            _ => return Err(crate::error::CommandError::Syntax),
        }
    }
    if (abort && (save || nosave || now || force)) || (save && nosave) {
        return Err(crate::error::CommandError::Syntax);
    }
    if abort {
        return Err(crate::error::CommandError::err("No shutdown in progress."));
    }
    // A running background save would finish after the process is gone — a fork child
    // renaming an older snapshot over the one saved here (Redis kills it too).
    if crate::persistence::abort_bgsave(ctx.shared) {
        tracing::warn!("There is a child saving an .rdb. Killing it!");
    }
    // Save before stopping when asked to, or by default when save points exist; a
    // failed save keeps the server running (Redis: "Errors trying to SHUTDOWN") unless
    // FORCE says to exit anyway.
    let must_save = save || (!nosave && !ctx.settings().save.is_empty());
    if must_save {
        if let Err(e) = crate::persistence::save_locked(ctx.shared, ctx.ks) {
            if !force {
                tracing::warn!("Error trying to save the DB, can't exit: {e}");
                return Err(crate::error::CommandError::err(
                    "Errors trying to SHUTDOWN. Check logs.",
                ));
            }
            tracing::warn!("Error trying to save the DB, exiting anyway (FORCE): {e}");
        }
    }
    ctx.shared.shutdown.request();
    ctx.client.close_after_reply = true;
    // Redis closes the connection without a reply when the shutdown succeeds.
    ctx.client.reply_mode = crate::client::ReplyMode::Skip;
    Ok(Reply::Ok)
}
