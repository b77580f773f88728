//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP over the live [`snapkv_config::Config`].

use std::sync::atomic::Ordering;

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec, LockPlan};

const ADM: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("config|get", -3, ADM, "server", get)
        .lock(LockPlan::None)
        .doc(
            "Returns the effective values of configuration parameters.",
            "2.0.0",
        ),
    CommandSpec::new("config|set", -4, ADM | MAY_REPLICATE, "server", set)
        .lock(LockPlan::None)
        .doc("Sets configuration parameters in-flight.", "2.0.0"),
    CommandSpec::new("config|resetstat", 2, ADM, "server", resetstat)
        .doc("Resets the server's statistics.", "2.0.0"),
    CommandSpec::new("config|rewrite", 2, ADM, "server", rewrite)
        .lock(LockPlan::None)
        .doc("Persists the effective configuration to file.", "2.8.0"),
    CommandSpec::new("config|help", 2, LOADING | STALE, "server", help)
        .lock(LockPlan::None)
        .doc(
            "Returns helpful text about the different subcommands.",
            "5.0.0",
        ),
];

fn get(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut out: Vec<(String, String)> = Vec::new();
    for pat in &args[2..] {
        let is_glob = pat.iter().any(|c| matches!(c, b'*' | b'?' | b'['));
        if is_glob {
            for (n, v) in ctx.shared.config.get_matching(&[&pat[..]]) {
                if !out.iter().any(|(o, _)| *o == n) {
                    out.push((n, v));
                }
            }
        } else {
            // Redis answers an exact name with the name as the client spelled it.
            let name = String::from_utf8_lossy(pat).into_owned();
            if let Some(v) = ctx.shared.config.get_value(&name) {
                if !out.iter().any(|(o, _)| o.eq_ignore_ascii_case(&name)) {
                    out.push((name, v));
                }
            }
        }
    }
    Ok(Reply::Map(
        out.into_iter()
            .map(|(n, v)| (Reply::bulk(n), Reply::bulk(v)))
            .collect(),
    ))
}

fn set(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if !args.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    let texts: Vec<String> = args[2..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let pairs: Vec<(&str, &str)> = texts
        .chunks(2)
        .map(|c| (c[0].as_str(), c[1].as_str()))
        .collect();
    ctx.shared
        .config
        .set(&pairs)
        .map_err(CommandError::Custom)?;
    ctx.shared.apply_config();
    // This connection sees its own change at once, not from its next command.
    ctx.client.settings = ctx.shared.config.settings();
    ctx.client.settings_gen = ctx.shared.config.generation();
    Ok(Reply::Ok)
}

/// Zeroes INFO's counters. Keyspace counters are reset through `ctx.ks`, shard by shard,
/// so this also works inside EXEC (which already holds every shard).
fn resetstat(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let sh = ctx.shared;
    for db in 0..sh.keyspace.databases() {
        ctx.ks.for_each_shard(db, |v| {
            let dirty = v.shard.stats.dirty;
            v.shard.stats = snapkv_keyspace::ShardStats {
                dirty,
                ..Default::default()
            };
        });
    }
    sh.commands.reset_stats();
    let st = &sh.stats;
    for c in [
        &st.commands_processed,
        &st.net_input_bytes,
        &st.net_output_bytes,
        &st.rejected_calls,
        &st.failed_calls,
        &st.total_error_replies,
        &st.unexpected_error_replies,
        &st.client_qbuf_limit_disconnections,
        &st.client_outbuf_limit_disconnections,
        &st.evicted_clients,
        &st.expire_cycle_cpu_ms,
        &sh.clients.total_connections,
        &sh.clients.rejected_connections,
    ] {
        c.store(0, Ordering::Relaxed);
    }
    sh.error_counts.lock().clear();
    sh.metrics.reset();
    Ok(Reply::Ok)
}

fn rewrite(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    ctx.shared.config.rewrite().map_err(CommandError::Custom)?;
    Ok(Reply::Ok)
}

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(crate::server::help_reply(
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    ))
}
