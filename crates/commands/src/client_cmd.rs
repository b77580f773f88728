//! CLIENT and its subcommands: ID, SETNAME, GETNAME, LIST, INFO, KILL, PAUSE, UNPAUSE,
//! NO-EVICT, REPLY, HELP.

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::args::{is, lower, parse_i64};
use crate::client::{ClientInfo, ReplyMode};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::object::help_reply;
use crate::spec::{flags::*, CommandSpec, LockPlan};

const fn sub(
    name: &'static str,
    arity: i32,
    handler: crate::spec::Handler,
    summary: &'static str,
    since: &'static str,
) -> CommandSpec {
    CommandSpec::new(
        name,
        arity,
        NOSCRIPT | LOADING | STALE,
        "connection",
        handler,
    )
    .lock(LockPlan::None)
    .doc(summary, since)
}

/// The subcommands Redis flags `admin` (LIST, KILL, PAUSE, UNPAUSE, NO-EVICT).
const fn admin(spec: CommandSpec) -> CommandSpec {
    CommandSpec {
        flags: spec.flags | ADMIN,
        ..spec
    }
}

pub static SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "client|id",
        2,
        id,
        "Returns the unique client ID of the connection.",
        "5.0.0",
    ),
    sub(
        "client|setname",
        3,
        setname,
        "Sets the connection name.",
        "2.6.9",
    ),
    sub(
        "client|getname",
        2,
        getname,
        "Returns the name of the connection.",
        "2.6.9",
    ),
    admin(
        sub("client|list", -2, list, "Lists open connections.", "2.4.0")
            .tips(&["nondeterministic_output"]),
    ),
    sub(
        "client|info",
        2,
        info,
        "Returns information about the connection.",
        "6.2.0",
    )
    .tips(&["nondeterministic_output"]),
    admin(sub(
        "client|kill",
        -3,
        kill,
        "Terminates open connections.",
        "2.4.0",
    )),
    admin(sub(
        "client|pause",
        -3,
        pause,
        "Suspends commands processing.",
        "3.0.0",
    )),
    admin(sub(
        "client|unpause",
        2,
        unpause,
        "Resumes processing commands from paused clients.",
        "6.2.0",
    )),
    admin(sub(
        "client|unblock",
        -3,
        unblock,
        "Unblock a client blocked in a blocking command from a different connection",
        "5.0.0",
    )),
    admin(sub(
        "client|no-evict",
        3,
        no_evict,
        "Sets the client eviction mode of the connection.",
        "7.0.0",
    )),
    sub(
        "client|reply",
        3,
        reply,
        "Instructs the server whether to reply to commands.",
        "3.2.0",
    ),
    CommandSpec {
        flags: LOADING | STALE,
        ..sub(
            "client|help",
            2,
            help,
            "Returns helpful text about the different subcommands.",
            "5.0.0",
        )
    },
];

const HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
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
    "HELP",
    "    Prints this help.",
];

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(help_reply(HELP))
}

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

/// One CLIENT LIST line, in Redis 7.0's field order.
pub fn client_line(c: &ClientInfo, now_ms: u64, table: &crate::table::CommandTable) -> String {
    let name = c.name.lock().clone().unwrap_or_default();
    // In Redis's order: O (monitor) before x (MULTI).
    let mut flags = String::new();
    if c.monitor.load(Relaxed) {
        flags.push('O');
    }
    if c.in_multi.load(Relaxed) {
        flags.push('x');
    }
    if c.blocked.load(Relaxed) {
        flags.push('b');
    }
    if c.no_evict.load(Relaxed) {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let qbuf = c.qbuf.load(Relaxed);
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        String::from_utf8_lossy(&name),
        now_ms.saturating_sub(c.created_ms) / 1000,
        now_ms.saturating_sub(c.last_interaction_ms.load(Relaxed)) / 1000,
        flags,
        c.db.load(Relaxed),
        if c.in_multi.load(Relaxed) {
            c.queued.load(Relaxed) as i64
        } else {
            -1
        },
        qbuf,
        16384usize.saturating_sub(qbuf),
        c.omem.load(Relaxed),
        16384 + qbuf + c.omem.load(Relaxed),
        table
            .spec(c.last_cmd.load(Relaxed))
            .map(|s| s.name)
            .unwrap_or("NULL"),
        c.resp.load(Relaxed),
    )
}

fn list(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut ids: Option<Vec<u64>> = None;
    let mut i = 2;
    while i < args.len() {
        if is(&args[i], "type") && i + 1 < args.len() {
            match lower(&args[i + 1]).as_str() {
                "normal" | "master" | "replica" | "slave" | "pubsub" => {}
                other => {
                    return Err(CommandError::err(format!("Unknown client type '{other}'")));
                }
            }
            if !is(&args[i + 1], "normal") {
                ids = Some(Vec::new());
            }
            i += 2;
        } else if is(&args[i], "id") && i + 1 < args.len() {
            let mut v = ids.take().unwrap_or_default();
            for a in &args[i + 1..] {
                let id = parse_i64(a)
                    .ok()
                    .filter(|x| *x > 0)
                    .ok_or_else(|| CommandError::err("Invalid client ID"))?;
                v.push(id as u64);
            }
            ids = Some(v);
            i = args.len();
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let now = ctx.now_ms();
    let mut out = String::new();
    for c in ctx.shared.clients.all() {
        if ids.as_ref().is_some_and(|ids| !ids.contains(&c.id)) {
            continue;
        }
        out.push_str(&client_line(&c, now, &ctx.shared.commands));
        out.push('\n');
    }
    Ok(Reply::Verbatim(Bytes::from(out)))
}

fn info(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let line = client_line(&ctx.client.info, ctx.now_ms(), &ctx.shared.commands) + "\n";
    Ok(Reply::Verbatim(Bytes::from(line)))
}

fn kill(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let me = ctx.client.id();
    if args.len() == 3 {
        // Old form: CLIENT KILL ip:port.
        let addr = String::from_utf8_lossy(&args[2]).into_owned();
        let n = ctx.shared.clients.kill(|c| c.addr == addr);
        if n == 0 {
            return Err(CommandError::err("No such client"));
        }
        if ctx.client.info.addr == addr {
            ctx.client.close_after_reply = true;
        }
        return Ok(Reply::Ok);
    }
    let (mut id, mut addr, mut laddr, mut user) = (None, None, None, None);
    let mut skipme = true;
    let mut kind_ok = true;
    for pair in args[2..].chunks(2) {
        let [opt, val] = pair else {
            return Err(CommandError::Syntax);
        };
        let v = String::from_utf8_lossy(val).into_owned();
        match lower(opt).as_str() {
            "id" => {
                id =
                    Some(
                        parse_i64(val).ok().filter(|x| *x > 0).ok_or_else(|| {
                            CommandError::err("client-id should be greater than 0")
                        })? as u64,
                    )
            }
            "addr" => addr = Some(v),
            "laddr" => laddr = Some(v),
            "user" => {
                // Only the default user exists (no ACL users yet).
                if v != "default" {
                    return Err(CommandError::err(format!("No such user '{v}'")));
                }
                user = Some(v)
            }
            "type" => match v.to_ascii_lowercase().as_str() {
                "normal" => {}
                "master" | "replica" | "slave" | "pubsub" => kind_ok = false,
                _ => return Err(CommandError::err(format!("Unknown client type '{v}'"))),
            },
            "skipme" => match v.to_ascii_lowercase().as_str() {
                "yes" => skipme = true,
                "no" => skipme = false,
                _ => return Err(CommandError::Syntax),
            },
            _ => return Err(CommandError::Syntax),
        }
    }
    if !kind_ok || user.as_deref().is_some_and(|u| u != "default") {
        return Ok(Reply::Int(0));
    }
    let mut killed_self = false;
    let n = ctx.shared.clients.kill(|c| {
        let matched = id.is_none_or(|i| c.id == i)
            && addr.as_ref().is_none_or(|a| &c.addr == a)
            && laddr.as_ref().is_none_or(|a| &c.laddr == a)
            && !(skipme && c.id == me);
        if matched && c.id == me {
            killed_self = true;
        }
        matched
    });
    if killed_self {
        ctx.client.close_after_reply = true;
    }
    Ok(Reply::Int(n as i64))
}

fn pause(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 4 {
        return Err(CommandError::subcommand_syntax(args));
    }
    let ms = parse_i64(&args[2])
        .map_err(|_| CommandError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CommandError::err("timeout is negative"));
    }
    let writes_only = match args.get(3) {
        None => false,
        Some(a) if is(a, "write") => true,
        Some(a) if is(a, "all") => false,
        Some(_) => return Err(CommandError::err("CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let p = &ctx.shared.pause;
    let until = ctx.now_ms() + ms as u64;
    // A new pause never shortens one in force (Redis keeps the later end and ALL wins).
    let in_force = p.until_ms.load(Relaxed) > ctx.now_ms();
    if until > p.until_ms.load(Relaxed) {
        p.until_ms.store(until, Relaxed);
    }
    // While a pause is in force the stricter mode wins (ALL over WRITE), as in Redis.
    if !in_force || !writes_only {
        p.writes_only.store(writes_only, Relaxed);
    }
    Ok(Reply::Ok)
}

fn unpause(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    ctx.shared.pause.until_ms.store(0, Relaxed);
    ctx.shared.pause.notify.notify_waiters();
    Ok(Reply::Ok)
}

fn unblock(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 4 {
        return Err(CommandError::subcommand_syntax(args));
    }
    let how = match args.get(3) {
        None => crate::blocking::Unblock::Timeout,
        Some(a) if is(a, "timeout") => crate::blocking::Unblock::Timeout,
        Some(a) if is(a, "error") => crate::blocking::Unblock::Error,
        Some(_) => {
            return Err(CommandError::err(
                "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    let id = parse_i64(&args[2])?;
    let done = u64::try_from(id).is_ok_and(|id| ctx.shared.blocking.unblock(id, how));
    Ok(Reply::Int(done as i64))
}

fn no_evict(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let on = if is(&args[2], "on") {
        true
    } else if is(&args[2], "off") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    ctx.client.info.no_evict.store(on, Relaxed);
    Ok(Reply::Ok)
}

fn reply(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mode = if is(&args[2], "on") {
        ReplyMode::On
    } else if is(&args[2], "off") {
        ReplyMode::Off
    } else if is(&args[2], "skip") {
        ReplyMode::SkipNext
    } else {
        return Err(CommandError::Syntax);
    };
    // OFF and SKIP already swallow this very reply (see the connection's emit).
    ctx.client.reply_mode = mode;
    Ok(Reply::Ok)
}
