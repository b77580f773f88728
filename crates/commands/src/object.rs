//! OBJECT: ENCODING, FREQ, IDLETIME, REFCOUNT, HELP — introspection that never touches
//! the key's LRU/LFU stamp.

use bytes::Bytes;
use snapkv_keyspace::{clock, StrValue, Value};
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::key_flags;
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] = &[CommandSpec::new("object", -2, 0, "generic", help)
    .lock(LockPlan::None)
    .subs(SUBCOMMANDS)
    .doc("A container for object introspection commands.", "2.2.3")];

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("object|encoding", 3, READONLY, "generic", encoding)
        .tips(&["nondeterministic_output"])
        .key_flags(key_flags::RO)
        .keys(2, 2, 1)
        .doc("Returns the internal encoding of a Redis object.", "2.2.3"),
    CommandSpec::new("object|freq", 3, READONLY, "generic", freq)
        .tips(&["nondeterministic_output"])
        .key_flags(key_flags::RO)
        .keys(2, 2, 1)
        .doc(
            "Returns the logarithmic access frequency counter of a Redis object.",
            "4.0.0",
        ),
    CommandSpec::new("object|idletime", 3, READONLY, "generic", idletime)
        .tips(&["nondeterministic_output"])
        .key_flags(key_flags::RO)
        .keys(2, 2, 1)
        .doc(
            "Returns the time since the last access to a Redis object.",
            "2.2.3",
        ),
    CommandSpec::new("object|refcount", 3, READONLY, "generic", refcount)
        .tips(&["nondeterministic_output"])
        .key_flags(key_flags::RO)
        .keys(2, 2, 1)
        .doc("Returns the reference count of a value of a key.", "2.2.3"),
    CommandSpec::new("object|help", 2, LOADING | STALE, "generic", help)
        .lock(LockPlan::None)
        .doc(
            "Returns helpful text about the different subcommands.",
            "6.2.0",
        ),
];

const HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// Renders a HELP text as Redis does: an array of status lines.
pub fn help_reply(lines: &[&str]) -> Reply {
    Reply::Array(
        lines
            .iter()
            .map(|l| Reply::Simple(Bytes::copy_from_slice(l.as_bytes())))
            .collect(),
    )
}

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(help_reply(HELP))
}

fn encoding(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    Ok(match ctx.ks.get_notouch(db, &args[2]) {
        Some(e) => Reply::bulk(e.value.encoding()),
        None => Reply::Nil,
    })
}

const POLICY_NOTE: &str = "Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

fn freq(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let lfu = ctx.ks.policy().is_lfu();
    let now = ctx.now_ms();
    let Some(e) = ctx.ks.get_notouch(db, &args[2]) else {
        return Ok(Reply::Nil);
    };
    if !lfu {
        return Err(CommandError::err(format!(
            "An LFU maxmemory policy is not selected, access frequency not tracked. {POLICY_NOTE}"
        )));
    }
    Ok(Reply::Int(clock::lfu_decayed(e.lru, now) as i64))
}

fn idletime(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let lfu = ctx.ks.policy().is_lfu();
    let now = ctx.now_ms();
    let Some(e) = ctx.ks.get_notouch(db, &args[2]) else {
        return Ok(Reply::Nil);
    };
    if lfu {
        return Err(CommandError::err(format!(
            "An LFU maxmemory policy is selected, idle time not tracked. {POLICY_NOTE}"
        )));
    }
    Ok(Reply::Int(clock::idle_secs(e.lru, now) as i64))
}

fn refcount(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    // Redis shares the integer objects 0..9999 unless an LRU/LFU maxmemory needs per-key
    // stamps; those report INT_MAX references.
    let sharing = ctx.settings().maxmemory == 0
        || !matches!(
            ctx.ks.policy(),
            snapkv_keyspace::EvictionPolicy::AllKeysLru
                | snapkv_keyspace::EvictionPolicy::VolatileLru
                | snapkv_keyspace::EvictionPolicy::AllKeysLfu
                | snapkv_keyspace::EvictionPolicy::VolatileLfu
        );
    Ok(match ctx.ks.get_notouch(db, &args[2]) {
        None => Reply::Nil,
        Some(e) => match &e.value {
            Value::Str(StrValue::Int(i)) if sharing && (0..10_000).contains(i) => {
                Reply::Int(i32::MAX as i64)
            }
            _ => Reply::Int(1),
        },
    })
}
