//! Generic key commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME,
//! RENAMENX, COPY, MOVE, TOUCH, OBJECT.

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::CommandResult;
use crate::spec::{flags::*, CommandSpec};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, WRITE, "generic", del)
        .keys(1, -1, 1)
        .doc("Deletes one or more keys.", "1.0.0"),
    CommandSpec::new("exists", -2, READONLY | FAST, "generic", exists)
        .keys(1, -1, 1)
        .doc("Determines whether one or more keys exist.", "1.0.0"),
];

fn del(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let n = args[1..]
        .iter()
        .filter(|k| ctx.ks.remove(db, k).is_some())
        .count();
    Ok(Reply::Int(n as i64))
}

fn exists(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let n = args[1..].iter().filter(|k| ctx.ks.exists(db, k)).count();
    Ok(Reply::Int(n as i64))
}
