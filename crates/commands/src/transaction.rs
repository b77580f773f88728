//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. EXEC takes every shard its queued
//! commands touch (all of them if one is keyless or switches databases) and checks the
//! WATCH flags under those locks, so the whole transaction is atomic across shards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use smallvec::SmallVec;
use snapkv_protocol::Reply;

use crate::client::{ClientState, WatchState};
use crate::ctx::Ctx;
use crate::dispatch::{begin_multi, resolve, run};
use crate::error::{CommandError, CommandResult};
use crate::shared::Shared;
use crate::spec::key_flags;
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        "transactions",
        multi,
    )
    .lock(LockPlan::None)
    .doc("Starts a transaction.", "1.2.0"),
    CommandSpec::new(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        "transactions",
        exec,
    )
    .lock(LockPlan::None)
    .doc("Executes all commands in a transaction.", "1.2.0"),
    CommandSpec::new(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        "transactions",
        discard,
    )
    .lock(LockPlan::None)
    .doc("Discards a transaction.", "2.0.0"),
    CommandSpec::new(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        "transactions",
        watch,
    )
    .key_flags(key_flags::RO)
    .keys(1, -1, 1)
    .doc(
        "Monitors changes to keys to determine the execution of a transaction.",
        "2.2.0",
    ),
    CommandSpec::new(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        "transactions",
        unwatch,
    )
    .doc("Forgets about watched keys of a transaction.", "2.2.0"),
];

fn multi(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    if ctx.client.multi.is_some() {
        return Err(CommandError::err("MULTI calls can not be nested"));
    }
    begin_multi(ctx.client);
    Ok(Reply::Ok)
}

fn discard(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    if ctx.client.multi.take().is_none() {
        return Err(CommandError::err("DISCARD without MULTI"));
    }
    ctx.client.info.in_multi.store(false, Ordering::Relaxed);
    unwatch_all(ctx);
    Ok(Reply::Ok)
}

fn watch(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if ctx.client.multi.is_some() {
        return Err(CommandError::err("WATCH inside MULTI is not allowed"));
    }
    let db = ctx.db();
    let state = ctx.client.watch.get_or_insert_with(|| WatchState {
        flag: Arc::new(AtomicBool::new(false)),
        keys: Vec::new(),
    });
    let flag = state.flag.clone();
    for key in &args[1..] {
        if state.keys.iter().any(|(d, k)| *d == db && k == key) {
            continue;
        }
        state.keys.push((db, key.clone()));
        ctx.ks.watch(db, key, flag.clone());
    }
    ctx.client
        .info
        .watching
        .store(state.keys.len(), Ordering::Relaxed);
    Ok(Reply::Ok)
}

fn unwatch(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    unwatch_all(ctx);
    Ok(Reply::Ok)
}

/// Forgets the client's WATCHes (UNWATCH, DISCARD, after EXEC, on disconnect).
fn unwatch_all(ctx: &mut Ctx) {
    if let Some(w) = ctx.client.watch.take() {
        for (db, key) in &w.keys {
            ctx.ks.unwatch(*db, key, &w.flag);
        }
    }
    ctx.client.info.watching.store(0, Ordering::Relaxed);
}

/// Drops a disconnected client's WATCH registrations.
pub fn forget_client(shared: &Shared, client: &mut ClientState) {
    if let Some(w) = client.watch.take() {
        let mut ks = shared.keyspace.lazy();
        for (db, key) in &w.keys {
            ks.unwatch(*db, key, &w.flag);
        }
    }
}

fn exec(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let Some(multi) = ctx.client.multi.take() else {
        return Err(CommandError::err("EXEC without MULTI"));
    };
    ctx.client.info.in_multi.store(false, Ordering::Relaxed);
    if multi.dirty {
        unwatch_all(ctx);
        return Err(CommandError::ExecAbort);
    }
    let shared = ctx.shared;
    let resolved: Vec<_> = multi
        .queue
        .iter()
        .map(|args| resolve(shared, args).ok())
        .collect();
    let db = ctx.db();
    let needs_all = resolved.iter().any(|r| match r {
        Some((_, spec)) => {
            !matches!(spec.lock, LockPlan::Keys | LockPlan::None) || spec.name == "select"
        }
        None => false,
    });
    let ks = &shared.keyspace;
    let mut locked = if needs_all {
        ks.lock_all()
    } else {
        let mut ids: SmallVec<[u32; 4]> = SmallVec::new();
        for (r, args) in resolved.iter().zip(&multi.queue) {
            if let Some((_, spec)) = r {
                ids.extend(
                    spec.key_indexes(args.len())
                        .map(|i| ks.shard_id(db, &args[i])),
                );
            }
        }
        ks.lock(ids)
    };
    // Checked under the locks: no write can land between this check and the commands.
    let aborted = ctx
        .client
        .watch
        .as_ref()
        .is_some_and(|w| w.flag.load(Ordering::Acquire));
    let reply = if aborted {
        Reply::NilArray
    } else {
        let mut replies = Vec::with_capacity(multi.queue.len());
        // Blocking commands answer at once inside a transaction.
        ctx.client.deny_blocking = true;
        for (r, args) in resolved.into_iter().zip(&multi.queue) {
            replies.push(match r {
                Some((idx, spec)) => run(shared, ctx.client, idx, spec, args, &mut locked),
                None => Reply::from(CommandError::unknown_command(args)),
            });
        }
        ctx.client.deny_blocking = false;
        crate::blocking::serve_ready(shared, ctx.client, &mut locked);
        Reply::Array(replies)
    };
    drop(locked);
    unwatch_all(ctx);
    Ok(reply)
}
