//! CLIENT and its subcommands: ID, SETNAME, GETNAME, LIST, INFO, KILL, PAUSE, UNPAUSE,
//! NO-EVICT, REPLY.

use bytes::Bytes;
use snapkv_protocol::Reply;

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
];

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
