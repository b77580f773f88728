//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP over `snapkv_config::Config`.

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::object::help_reply;
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] = &[CommandSpec::new("config", -2, 0, "server", help)
    .lock(LockPlan::None)
    .subs(SUBCOMMANDS)
    .doc("A container for server configuration commands.", "2.0.0")];

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "config|get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "server",
        get,
    )
    .lock(LockPlan::None)
    .doc(
        "Returns the effective values of configuration parameters.",
        "2.0.0",
    ),
    CommandSpec::new(
        "config|set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "server",
        set,
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
    .lock(LockPlan::None)
    .doc("Sets configuration parameters in-flight.", "2.0.0"),
    CommandSpec::new(
        "config|resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "server",
        resetstat,
    )
    .lock(LockPlan::Lazy)
    .doc("Resets the server's statistics.", "2.0.0"),
    CommandSpec::new(
        "config|rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "server",
        rewrite,
    )
    .lock(LockPlan::None)
    .doc("Persists the effective configuration to file.", "2.8.0"),
    CommandSpec::new("config|help", 2, LOADING | STALE, "server", help)
        .lock(LockPlan::None)
        .doc(
            "Returns helpful text about the different subcommands.",
            "5.0.0",
        ),
];

const HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(help_reply(HELP))
}

fn get(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pat in &args[2..] {
        let found = if pat.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
            ctx.shared.config.get_matching(&[&pat[..]])
        } else {
            // An exact name is answered as the client spelled it (Redis 7.0).
            let name = String::from_utf8_lossy(pat).into_owned();
            match ctx.shared.config.get_value(&name) {
                Some(v) => vec![(name, v)],
                None => vec![],
            }
        };
        for (n, v) in found {
            if !pairs.iter().any(|(m, _)| *m == n) {
                pairs.push((n, v));
            }
        }
    }
    Ok(Reply::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (Reply::bulk(k), Reply::bulk(v)))
            .collect(),
    ))
}

fn set(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() % 2 == 1 {
        return Err(CommandError::Syntax);
    }
    let owned: Vec<(String, String)> = args[2..]
        .chunks_exact(2)
        .map(|kv| {
            (
                String::from_utf8_lossy(&kv[0]).into_owned(),
                String::from_utf8_lossy(&kv[1]).into_owned(),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    ctx.shared
        .config
        .set(&pairs, ctx.client.is_local())
        .map_err(CommandError::Custom)?;
    ctx.shared.apply_config();
    // This connection sees its own change at once.
    ctx.client.settings = ctx.shared.config.settings();
    ctx.client.settings_gen = ctx.shared.config.generation();
    Ok(Reply::Ok)
}

fn resetstat(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    ctx.shared.stats.reset();
    ctx.shared.commands.reset_stats();
    ctx.shared
        .persistence
        .saves
        .store(0, std::sync::atomic::Ordering::Relaxed);
    for db in 0..ctx.shared.keyspace.databases() {
        ctx.ks.for_each_shard(db, |v| {
            let dirty = v.shard.stats.dirty;
            v.shard.stats = snapkv_keyspace::ShardStats {
                dirty,
                ..Default::default()
            };
        });
    }
    Ok(Reply::Ok)
}

fn rewrite(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    ctx.shared.config.rewrite().map_err(CommandError::Custom)?;
    Ok(Reply::Ok)
}
