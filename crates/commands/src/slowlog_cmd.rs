//! SLOWLOG GET / LEN / RESET / HELP over the [`crate::slowlog::SlowLog`] that dispatch
//! fills.

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec, LockPlan};

const ADM: u32 = ADMIN | LOADING | STALE;

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("slowlog|get", -2, ADM, "server", get)
        .lock(LockPlan::None)
        .doc("Returns the slow log's entries.", "2.2.12"),
    CommandSpec::new("slowlog|len", 2, ADM, "server", len)
        .lock(LockPlan::None)
        .doc("Returns the number of entries in the slow log.", "2.2.12"),
    CommandSpec::new("slowlog|reset", 2, ADM, "server", reset)
        .lock(LockPlan::None)
        .doc("Clears all entries from the slow log.", "2.2.12"),
    CommandSpec::new("slowlog|help", 2, LOADING | STALE, "server", help)
        .lock(LockPlan::None)
        .doc("Show helpful text about the different subcommands", "6.2.0"),
];

fn get(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let entries = ctx.shared.slowlog.entries.lock();
    let count = match args.len() {
        2 => 10,
        3 => {
            let range = || CommandError::err("count should be greater than or equal to -1");
            let n = crate::args::parse_i64(&args[2]).map_err(|_| range())?;
            if n < -1 {
                return Err(range());
            }
            if n == -1 {
                entries.len()
            } else {
                n as usize
            }
        }
        _ => return Err(crate::server::subcommand_syntax(args)),
    };
    Ok(Reply::Array(
        entries
            .iter()
            .take(count)
            .map(|e| {
                Reply::Array(vec![
                    Reply::Int(e.id as i64),
                    Reply::Int(e.time_secs as i64),
                    Reply::Int(e.duration_us as i64),
                    Reply::Array(e.args.iter().cloned().map(Reply::Bulk).collect()),
                    Reply::bulk(e.addr.clone()),
                    Reply::Bulk(e.name.clone()),
                ])
            })
            .collect(),
    ))
}

fn len(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(Reply::Int(ctx.shared.slowlog.entries.lock().len() as i64))
}

fn reset(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    ctx.shared.slowlog.reset();
    Ok(Reply::Ok)
}

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(crate::server::help_reply(
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    ))
}
