//! Running one command: lookup, arity, auth, MULTI queueing, maxmemory, locking, the
//! handler, then statistics, slowlog and MONITOR. Transactions reuse [`call`] under one
//! lock set.

use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use smallvec::SmallVec;
use snapkv_keyspace::{EvictOutcome, Locked};
use snapkv_protocol::Reply;

use crate::client::{ClientState, MultiState};
use crate::ctx::Ctx;
use crate::error::CommandError;
use crate::shared::Shared;
use crate::spec::{flags, CommandSpec, LockPlan};

/// Commands that run immediately inside MULTI instead of being queued.
const MULTI_IMMEDIATE: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

/// Resolves `args` to a spec (following container subcommands), checking arity.
pub fn resolve(
    shared: &Shared,
    args: &[Bytes],
) -> Result<(usize, &'static CommandSpec), CommandError> {
    let Some((mut idx, mut spec)) = shared.commands.lookup(&args[0]) else {
        return Err(CommandError::unknown_command(args));
    };
    if !spec.subcommands.is_empty() && args.len() >= 2 {
        match shared.commands.lookup_sub(spec, &args[1]) {
            Some(found) => (idx, spec) = found,
            None => {
                return Err(CommandError::UnknownSubcommand {
                    command: spec.name.to_string(),
                    sub: String::from_utf8_lossy(&args[1]).into_owned(),
                })
            }
        }
    }
    if !spec.arity_ok(args.len()) {
        return Err(CommandError::WrongArity(spec.name.to_string()));
    }
    Ok((idx, spec))
}

/// Executes one client command and returns its reply.
pub fn execute(shared: &Shared, client: &mut ClientState, args: Vec<Bytes>) -> Reply {
    let generation = shared.config.generation();
    if generation != client.settings_gen {
        client.settings = shared.config.settings();
        client.settings_gen = generation;
    }
    let (idx, spec) = match resolve(shared, &args) {
        Ok(found) => found,
        Err(e) => {
            // A known command with the wrong arity counts as its rejected call (Redis's
            // cmdstat rejected_calls).
            let idx = match &e {
                CommandError::WrongArity(name) => {
                    shared.commands.lookup(name.as_bytes()).map(|(i, _)| i)
                }
                _ => None,
            };
            return reject(shared, client, idx, e);
        }
    };
    // CLIENT LIST's cmd=: every resolved command, queued ones too; inside EXEC it stays
    // `exec` (as Redis's lastcmd). One relaxed store: this is the hot path.
    client.info.last_cmd.store(idx, Ordering::Relaxed);
    if !client.authenticated && !spec.has(flags::NO_AUTH) {
        return reject(shared, client, Some(idx), CommandError::NoAuth);
    }
    if !spec.has(flags::LOADING) && shared.loading.load(Ordering::Relaxed) {
        return reject(
            shared,
            client,
            Some(idx),
            CommandError::Custom("LOADING Redis is loading the dataset in memory".into()),
        );
    }
    if client.multi.is_some() && !MULTI_IMMEDIATE.contains(&spec.name) {
        if spec.has(flags::NO_MULTI) {
            return reject(
                shared,
                client,
                Some(idx),
                CommandError::err("Command not allowed inside a transaction"),
            );
        }
        if spec.has(flags::DENYOOM) && over_maxmemory(shared, client) {
            return reject(shared, client, Some(idx), CommandError::Oom);
        }
        if let Some(m) = client.multi.as_mut() {
            m.queue.push(args);
            client.info.queued.store(m.queue.len(), Ordering::Relaxed);
        }
        return Reply::simple("QUEUED");
    }
    if spec.has(flags::DENYOOM) && over_maxmemory(shared, client) {
        return reject(shared, client, Some(idx), CommandError::Oom);
    }
    if (spec.has(flags::WRITE) || spec.name == "ping") && writes_refused(shared, client) {
        return reject(shared, client, Some(idx), CommandError::Misconf);
    }
    let mut locked = lock_for(shared, spec, &args, client.db);
    run(shared, client, idx, spec, &args, &mut locked)
}

/// Counts and answers a rejected command; inside MULTI it also dooms the transaction.
fn reject(shared: &Shared, client: &mut ClientState, idx: Option<usize>, e: CommandError) -> Reply {
    if let Some(m) = client.multi.as_mut() {
        m.dirty = true;
    }
    shared.stats.rejected_calls.fetch_add(1, Ordering::Relaxed);
    shared
        .stats
        .total_error_replies
        .fetch_add(1, Ordering::Relaxed);
    if let Some(i) = idx {
        shared.commands.stats(i).record_rejected();
    }
    let reply: Reply = e.into();
    if let Reply::Error(text) = &reply {
        shared.stats.record_error(text);
    }
    reply
}

/// Redis's `writeCommandsDeniedByDiskError`: the last background save failed, save
/// points are configured and `stop-writes-on-bgsave-error` is on.
fn writes_refused(shared: &Shared, client: &ClientState) -> bool {
    let s = &client.settings;
    s.stop_writes_on_bgsave_error
        && !s.save.is_empty()
        && !shared.persistence.last_bgsave_ok.load(Ordering::Relaxed)
}

/// Evicts while over `maxmemory`; true if still over afterwards (the OOM answer).
fn over_maxmemory(shared: &Shared, client: &ClientState) -> bool {
    let max = client.settings.maxmemory;
    if max == 0 {
        return false;
    }
    // The snapshot reserve is held back from data (reserved-memory-percent).
    let limit = client.settings.data_limit(max);
    loop {
        if snapkv_keyspace::memory::used_memory() <= limit {
            return false;
        }
        if shared.keyspace.evict_one() == EvictOutcome::NothingToEvict {
            return snapkv_keyspace::memory::used_memory_now() > limit;
        }
    }
}

/// The shards a command must hold before it runs.
pub fn lock_for<'k>(
    shared: &'k Shared,
    spec: &CommandSpec,
    args: &[Bytes],
    db: usize,
) -> Locked<'k> {
    let ks = &shared.keyspace;
    match spec.lock {
        LockPlan::Keys => {
            let ids: SmallVec<[u32; 4]> = spec
                .key_indexes(args.len())
                .map(|i| ks.shard_id(db, &args[i]))
                .collect();
            ks.lock(ids)
        }
        LockPlan::Lazy | LockPlan::None => ks.lazy(),
        LockPlan::Db => ks.lock_dbs(&[db]),
        LockPlan::All => ks.lock_all(),
        LockPlan::NumKeys { at, dest } => ks.lock(
            LockPlan::numkeys_to_lock(at, dest, args)
                .map(|i| ks.shard_id(db, &args[i]))
                .collect(),
        ),
        LockPlan::Custom(f) => ks.lock(
            f(args, db)
                .iter()
                .filter(|(d, _)| *d < ks.databases())
                .map(|(d, k)| ks.shard_id(*d, k))
                .collect(),
        ),
    }
}

/// Runs a resolved command under `locked` and does the bookkeeping.
pub fn run(
    shared: &Shared,
    client: &mut ClientState,
    idx: usize,
    spec: &'static CommandSpec,
    args: &[Bytes],
    locked: &mut Locked<'_>,
) -> Reply {
    // A blocked command re-run when woken: its call was counted (stats, slowlog,
    // MONITOR) when it first ran, once, as Redis counts it.
    if client.blocked.is_some() {
        return crate::blocking::rerun(shared, client, spec.handler, args, locked);
    }
    let start = Instant::now();
    let result = {
        let mut ctx = Ctx {
            shared,
            client,
            ks: locked,
        };
        (spec.handler)(&mut ctx, args)
    };
    let ns = start.elapsed().as_nanos() as u64;
    let st = shared.commands.stats(idx);
    let us = ns / 1000;
    st.record_call(us);
    if client.settings.latency_tracking {
        st.latency.record(ns);
    }
    shared
        .stats
        .commands_processed
        .fetch_add(1, Ordering::Relaxed);
    let reply = match result {
        Ok(r) => {
            if let Reply::Error(text) = &r {
                shared.stats.record_error(text);
                shared
                    .stats
                    .total_error_replies
                    .fetch_add(1, Ordering::Relaxed);
            }
            r
        }
        Err(e) => {
            st.record_failed();
            shared.stats.failed_calls.fetch_add(1, Ordering::Relaxed);
            shared
                .stats
                .total_error_replies
                .fetch_add(1, Ordering::Relaxed);
            let reply: Reply = e.into();
            if let Reply::Error(text) = &reply {
                shared.stats.record_error(text);
            }
            reply
        }
    };
    let s = &client.settings;
    if s.slowlog_log_slower_than >= 0
        && us >= s.slowlog_log_slower_than as u64
        && !spec.has(flags::SKIP_SLOWLOG)
    {
        let name = client.info.name.lock().clone().unwrap_or_default();
        let shown: Vec<Bytes> = args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if is_redacted(args, i) {
                    Bytes::from_static(b"(redacted)")
                } else {
                    a.clone()
                }
            })
            .collect();
        shared.slowlog.push(
            &shown,
            us,
            client.info.addr.clone(),
            name,
            s.slowlog_max_len as usize,
        );
    }
    let threshold_ms = s.latency_monitor_threshold;
    if threshold_ms > 0 && us / 1000 >= threshold_ms {
        let event = if spec.has(flags::FAST) {
            "fast-command"
        } else {
            "command"
        };
        shared.latency.record(event, us / 1000);
    }
    // Like Redis, admin commands (CONFIG, DEBUG, …) are not shown to monitors.
    if shared.monitors.count.load(Ordering::Relaxed) > 0
        && !spec.has(flags::SKIP_MONITOR | flags::ADMIN)
    {
        shared.monitors.feed(monitor_line(client, args));
    }
    reply
}

/// `+1700000000.123456 [0 127.0.0.1:5000] "set" "k" "v"` (Redis's
/// `replicationFeedMonitors`).
fn monitor_line(client: &ClientState, args: &[Bytes]) -> Bytes {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = format!(
        "+{}.{:06} [{} {}]",
        now.as_secs(),
        now.subsec_micros(),
        client.db,
        client.info.addr
    );
    for (i, a) in args.iter().enumerate() {
        if is_redacted(args, i) {
            line.push_str(" \"(redacted)\"");
            continue;
        }
        line.push_str(" \"");
        for &b in a.iter() {
            match b {
                b'\\' => line.push_str("\\\\"),
                b'"' => line.push_str("\\\""),
                b'\n' => line.push_str("\\n"),
                b'\r' => line.push_str("\\r"),
                b'\t' => line.push_str("\\t"),
                7 => line.push_str("\\a"),
                8 => line.push_str("\\b"),
                0x20..=0x7e => line.push(b as char),
                _ => line.push_str(&format!("\\x{b:02x}")),
            }
        }
        line.push('"');
    }
    line.push_str("\r\n");
    Bytes::from(line)
}

/// How long a command must wait for CLIENT PAUSE (None: run now). Writes wait under
/// `PAUSE … WRITE`; everything waits under `PAUSE … ALL`.
pub fn pause_wait(shared: &Shared, args: &[Bytes]) -> Option<std::time::Duration> {
    let until = shared.pause.until_ms.load(Ordering::Relaxed);
    if until == 0 {
        return None;
    }
    let now = snapkv_keyspace::clock::now_ms();
    if now >= until {
        // Cleared once over, so later commands take the one-load fast path again.
        let _ =
            shared
                .pause
                .until_ms
                .compare_exchange(until, 0, Ordering::Relaxed, Ordering::Relaxed);
        return None;
    }
    if shared.pause.writes_only.load(Ordering::Relaxed) {
        let write = match resolve(shared, args) {
            Ok((_, spec)) => spec.has(flags::WRITE | flags::MAY_REPLICATE) || spec.name == "exec",
            Err(_) => false,
        };
        if !write {
            return None;
        }
    }
    Some(std::time::Duration::from_millis(until - now))
}

/// Passwords never reach monitors or the slowlog (Redis's
/// `redactClientCommandArgument`): AUTH's arguments, HELLO's AUTH user and password.
fn is_redacted(args: &[Bytes], i: usize) -> bool {
    if args[0].eq_ignore_ascii_case(b"auth") {
        return i >= 1;
    }
    if args[0].eq_ignore_ascii_case(b"hello") {
        return args
            .iter()
            .position(|a| a.eq_ignore_ascii_case(b"auth"))
            .is_some_and(|p| p > 0 && i > p && i <= p + 2);
    }
    false
}

/// How long a write must wait for a forkless snapshot whose capture queue is over half
/// of `snapshot-buffer-limit`, or which is falling behind its pace (None: run now). The
/// caller waits asynchronously.
pub fn throttle_wait(
    shared: &Shared,
    client: &ClientState,
    args: &[Bytes],
) -> Option<std::time::Duration> {
    let p = &shared.persistence;
    if !p.bgsave_in_progress.load(Ordering::Relaxed) {
        return None;
    }
    let guard = p.capture.read();
    let capture = guard.as_ref()?;
    let s = &client.settings;
    let max = std::time::Duration::from_millis(s.snapshot_throttle_max_delay_ms);
    let memory = snapkv_snapshot::throttle::delay(
        capture.queued_bytes.load(Ordering::Relaxed),
        s.snapshot_buffer_limit,
        max,
    );
    let pace =
        snapkv_snapshot::throttle::pace_delay(capture.pace_permille.load(Ordering::Relaxed), max);
    drop(guard);
    let d = memory.max(pace)?;
    let write =
        resolve(shared, args).is_ok_and(|(_, spec)| spec.has(flags::WRITE) || spec.name == "exec");
    if !write {
        return None;
    }
    p.writes_delayed.fetch_add(1, Ordering::Relaxed);
    p.write_delay_us
        .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    Some(d)
}

/// The longest a write waits for a forkless snapshot to write a big collection first
/// (see [`write_first`]); past it the write goes ahead and copies the table.
pub const WRITE_FIRST_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// For a write to a big collection (a table of `BIG_TABLE_ELEMENTS` or more) that a
/// running forkless snapshot still owes: asks the snapshot to write it first, and
/// returns what the caller must await (asynchronously, at most [`WRITE_FIRST_MAX_WAIT`])
/// before running the command — each receiver resolves, as closed, once its key is
/// written. Empty: run now. Without this detour the write would copy the whole table
/// under its shard lock, because the snapshot shares the old one (a 1M-field hash
/// stalled its io thread for 49 ms); after it, the table is the keyspace's alone again
/// and changes in place.
pub fn write_first(
    shared: &Shared,
    client: &ClientState,
    args: &[Bytes],
) -> Vec<tokio::sync::oneshot::Receiver<()>> {
    let p = &shared.persistence;
    if !p.bgsave_in_progress.load(Ordering::Relaxed) || client.multi.is_some() {
        return Vec::new();
    }
    let Ok((_, spec)) = resolve(shared, args) else {
        return Vec::new();
    };
    if !spec.has(flags::WRITE) {
        return Vec::new();
    }
    // Keys the command only reads are no copy however big (SUNIONSTORE's sources).
    let owed: SmallVec<[usize; 2]> = spec
        .key_args(args)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter(|&(nth, i)| {
            !spec.only_reads(nth) && shared.keyspace.owes_big_value(client.db, &args[i])
        })
        .map(|(_, i)| i)
        .collect();
    if owed.is_empty() {
        return Vec::new();
    }
    // Only now, on the rare write that needs it: the snapshot's handle.
    let Some(capture) = p.capture.read().clone() else {
        return Vec::new();
    };
    p.writes_delayed.fetch_add(1, Ordering::Relaxed);
    owed.into_iter()
        .map(|i| {
            let (done, written) = tokio::sync::oneshot::channel::<()>();
            capture.write_first(client.db, args[i].to_vec(), Box::new(done));
            written
        })
        .collect()
}

/// Starts a transaction (MULTI's effect on the client).
pub fn begin_multi(client: &mut ClientState) {
    client.multi = Some(MultiState::default());
    client.info.in_multi.store(true, Ordering::Relaxed);
    client.info.queued.store(0, Ordering::Relaxed);
}
