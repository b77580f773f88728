//! Server commands: TIME, LASTSAVE, SHUTDOWN, INFO,
//! CONFIG, DEBUG, SLOWLOG, LATENCY, MONITOR, CLIENT (container).

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use std::sync::atomic::Ordering;

use crate::error::{CommandError, CommandResult};
use crate::shared::ShutdownMode;
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("client", -2, 0, "connection", container_help)
        .lock(LockPlan::None)
        .subs(crate::client_cmd::SUBCOMMANDS)
        .doc("A container for client connection commands.", "2.4.0"),
    CommandSpec::new("config", -2, 0, "server", container_help)
        .lock(LockPlan::None)
        .subs(crate::config_cmd::SUBCOMMANDS)
        .doc("A container for server configuration commands.", "2.0.0"),
    CommandSpec::new(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "server",
        crate::debug::debug,
    )
    .doc("A container for debugging commands.", "1.0.0"),
    CommandSpec::new("slowlog", -2, 0, "server", container_help)
        .lock(LockPlan::None)
        .subs(crate::slowlog_cmd::SUBCOMMANDS)
        .doc("A container for slow log commands.", "2.2.12"),
    CommandSpec::new("latency", -2, 0, "server", container_help)
        .lock(LockPlan::None)
        .subs(crate::latency::SUBCOMMANDS)
        .doc("A container for latency diagnostics commands.", "2.8.13"),
    CommandSpec::new("time", 1, LOADING | STALE | FAST, "server", time)
        .lock(LockPlan::None)
        .doc("Returns the server time.", "2.6.0"),
    CommandSpec::new("lastsave", 1, LOADING | STALE | FAST, "server", lastsave)
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
    CommandSpec::new(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        "server",
        shutdown,
    )
    .lock(LockPlan::None)
    .doc(
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        "1.0.0",
    ),
];

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

/// Redis's `addReplyHelp`: a header line, the subcommand lines, then HELP's own.
pub fn help_reply(command: &str, lines: &[&str]) -> Reply {
    let mut out = vec![Reply::Simple(Bytes::from(format!(
        "{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    )))];
    out.extend(
        lines
            .iter()
            .chain(&["HELP", "    Prints this help."])
            .map(|l| Reply::Simple(Bytes::copy_from_slice(l.as_bytes()))),
    );
    Reply::Array(out)
}

/// Redis's `addReplySubcommandSyntaxError`.
pub fn subcommand_syntax(args: &[Bytes]) -> CommandError {
    CommandError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&args[1]),
        String::from_utf8_lossy(&args[0]).to_ascii_uppercase()
    ))
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
        ctx.shared.persistence.lastsave_secs.load(Ordering::Relaxed) as i64,
    ))
}

/// Turns this connection into a monitor: the connection loop forwards the feed after
/// this +OK is written.
fn monitor(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    if ctx.client.multi.is_some() {
        return Err(CommandError::err(
            "MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    if ctx.client.monitor.is_some() {
        // Already monitoring: Redis ignores the repeat without a reply.
        return Ok(Reply::Ok);
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let monitors = &ctx.shared.monitors;
    {
        let mut senders = monitors.senders.lock();
        senders.push(tx);
        monitors.count.store(senders.len(), Ordering::Relaxed);
    }
    ctx.client.monitor = Some(rx);
    ctx.client.info.monitor.store(true, Ordering::Relaxed);
    Ok(Reply::Ok)
}

fn shutdown(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mode = match args.get(1).map(|a| crate::args::lower(a)) {
        None => ShutdownMode::Default,
        Some(m) if m == "nosave" => ShutdownMode::NoSave,
        Some(m) if m == "save" => ShutdownMode::Save,
        Some(_) => return Err(crate::error::CommandError::Syntax),
    };
    ctx.shared.shutdown.request(mode);
    ctx.client.close_after_reply = true;
    // Redis closes the connection without a reply when the shutdown succeeds.
    ctx.client.reply_mode = crate::client::ReplyMode::Skip;
    Ok(Reply::Ok)
}
