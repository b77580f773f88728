//! CLIENT and its subcommands: ID, SETNAME, GETNAME, LIST, INFO, KILL, PAUSE, UNPAUSE,
//! NO-EVICT, REPLY, HELP. (Line formatting and KILL's filters: `client_list.rs`.)

use std::sync::atomic::Ordering;

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::args::is;
use crate::client::ReplyMode;
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("client|id", 2, NOSCRIPT | LOADING | STALE, "connection", id)
        .lock(LockPlan::None)
        .doc("Returns the unique client ID of the connection.", "5.0.0"),
    CommandSpec::new(
        "client|setname",
        3,
        NOSCRIPT | LOADING | STALE,
        "connection",
        setname,
    )
    .lock(LockPlan::None)
    .doc("Sets the connection name.", "2.6.9"),
    CommandSpec::new(
        "client|getname",
        2,
        NOSCRIPT | LOADING | STALE,
        "connection",
        getname,
    )
    .lock(LockPlan::None)
    .doc("Returns the name of the connection.", "2.6.9"),
    CommandSpec::new("client|list", -2, ADM, "connection", list)
        .lock(LockPlan::None)
        .doc("Lists open connections.", "2.4.0"),
    CommandSpec::new(
        "client|info",
        2,
        NOSCRIPT | LOADING | STALE,
        "connection",
        info,
    )
    .lock(LockPlan::None)
    .doc("Returns information about the connection.", "6.2.0"),
    CommandSpec::new("client|kill", -3, ADM, "connection", kill)
        .lock(LockPlan::None)
        .doc("Terminates open connections.", "2.4.0"),
    CommandSpec::new("client|pause", -3, ADM, "connection", pause)
        .lock(LockPlan::None)
        .doc("Suspends commands processing.", "3.0.0"),
    CommandSpec::new("client|unpause", 2, ADM, "connection", unpause)
        .lock(LockPlan::None)
        .doc("Resumes processing commands from paused clients.", "6.2.0"),
    CommandSpec::new("client|no-evict", 3, ADM, "connection", no_evict)
        .lock(LockPlan::None)
        .doc("Sets the client eviction mode of the connection.", "7.0.0"),
    CommandSpec::new(
        "client|reply",
        3,
        NOSCRIPT | LOADING | STALE,
        "connection",
        reply,
    )
    .lock(LockPlan::None)
    .doc(
        "Instructs the server whether to reply to commands.",
        "3.2.0",
    ),
    CommandSpec::new("client|help", 2, LOADING | STALE, "connection", help)
        .lock(LockPlan::None)
        .doc(
            "Returns helpful text about the different subcommands.",
            "5.0.0",
        ),
];

const ADM: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

/// Redis's rule for connection names: printable ASCII without spaces.
pub fn validate_name(name: &[u8]) -> Result<(), CommandError> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CommandError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

fn id(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(Reply::Int(ctx.client.id() as i64))
}

fn setname(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    validate_name(&args[2])?;
    *ctx.client.info.name.lock() = (!args[2].is_empty()).then(|| args[2].clone());
    Ok(Reply::Ok)
}

fn getname(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(match ctx.client.info.name.lock().clone() {
        Some(n) => Reply::Bulk(n),
        None => Reply::Nil,
    })
}

fn list(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let text = crate::client_list::list(ctx.shared, ctx.client, args)?;
    Ok(Reply::Verbatim(Bytes::from(text)))
}

fn info(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let now = snapkv_keyspace::clock::now_ms();
    let mut text = crate::client_list::line(ctx.shared, &ctx.client.info, Some(ctx.client), now);
    text.push('\n');
    Ok(Reply::Verbatim(Bytes::from(text)))
}

fn kill(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (killed, close_me) = crate::client_list::kill(ctx.shared, ctx.client, args)?;
    if close_me {
        ctx.client.close_after_reply = true;
    }
    Ok(match killed {
        None => Reply::Ok,
        Some(n) => Reply::Int(n as i64),
    })
}

fn pause(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let timeout = crate::args::parse_i64(&args[2])
        .map_err(|_| CommandError::err("timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(CommandError::err("timeout is negative"));
    }
    if args.len() > 4 {
        return Err(crate::server::subcommand_syntax(args));
    }
    let writes_only = match args.get(3) {
        None => false,
        Some(m) if is(m, "write") => true,
        Some(m) if is(m, "all") => false,
        Some(_) => return Err(CommandError::err("CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let p = &ctx.shared.pause;
    let now = snapkv_keyspace::clock::now_ms();
    let until = now.saturating_add(timeout as u64);
    let current = p.until_ms.load(Ordering::Acquire);
    if current > now {
        // A pause is already on: the longer end and the stricter mode win, as in Redis.
        if !writes_only {
            p.writes_only.store(false, Ordering::Release);
        }
        p.until_ms.fetch_max(until, Ordering::AcqRel);
    } else {
        p.writes_only.store(writes_only, Ordering::Release);
        p.until_ms.store(until, Ordering::Release);
    }
    Ok(Reply::Ok)
}

fn unpause(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    ctx.shared.pause.until_ms.store(0, Ordering::Release);
    ctx.shared.pause.notify.notify_waiters();
    Ok(Reply::Ok)
}

fn no_evict(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let on = if is(&args[2], "on") {
        true
    } else if is(&args[2], "off") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    ctx.client.info.no_evict.store(on, Ordering::Relaxed);
    Ok(Reply::Ok)
}

fn reply(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ctx.client.reply_mode = if is(&args[2], "on") {
        ReplyMode::On
    } else if is(&args[2], "off") {
        ReplyMode::Off
    } else if is(&args[2], "skip") {
        // Applies from the next command; this one gets no reply either.
        ReplyMode::SkipNext
    } else {
        return Err(CommandError::Syntax);
    };
    Ok(Reply::Ok)
}

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(crate::server::help_reply(
        "CLIENT",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    ))
}
