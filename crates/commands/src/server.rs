//! Server commands: TIME, LASTSAVE, SHUTDOWN, INFO,
//! CONFIG, DEBUG, SLOWLOG, LATENCY, MONITOR, CLIENT (container).

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::CommandResult;
use crate::shared::ShutdownMode;
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("client", -2, 0, "connection", container_help)
        .lock(LockPlan::None)
        .subs(crate::client_cmd::SUBCOMMANDS)
        .doc("A container for client connection commands.", "2.4.0"),
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
