//! Persistence commands: SAVE and BGSAVE [SCHEDULE], the engine choice, the
//! synchronous save SHUTDOWN, FLUSHALL and DEBUG RELOAD perform, and stopping a running
//! background save ([`abort_bgsave`]) — one save at a time renames over the dump, as in
//! Redis.

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use snapkv_config::SnapshotMethod;
use snapkv_keyspace::Locked;
use snapkv_protocol::Reply;
use snapkv_snapshot::policy::{self, Engine};
use snapkv_snapshot::{write_locked, FileSink, SaveStats};

use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::shared::Shared;
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        "server",
        save,
    )
    .lock(LockPlan::All)
    .doc("Synchronously saves the database(s) to disk.", "1.0.0"),
    CommandSpec::new(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        "server",
        bgsave,
    )
    .lock(LockPlan::None)
    .doc("Asynchronously saves the database(s) to disk.", "1.0.0"),
];

/// Where SAVE and BGSAVE write: `dbfilename` in the working directory (which is `dir`,
/// as in Redis), synced as `rdb-save-incremental-fsync` says.
fn file_sink(settings: &snapkv_config::Settings) -> FileSink {
    FileSink::new(std::path::Path::new("."), &settings.dbfilename)
        .incremental_fsync(settings.rdb_save_incremental_fsync)
}

/// The RDB writer options the configuration asks for (`rdbcompression`, `rdbchecksum`).
/// The rdb encoder picks on-disk encodings with the same thresholds as the keyspace.
pub fn write_options(settings: &snapkv_config::Settings) -> snapkv_rdb::WriteOptions {
    snapkv_rdb::WriteOptions {
        compression: settings.rdbcompression,
        checksum: settings.rdbchecksum,
        hash_max_listpack_entries: settings.hash_max_listpack_entries as usize,
        hash_max_listpack_value: settings.hash_max_listpack_value as usize,
        set_max_intset_entries: settings.set_max_intset_entries as usize,
        zset_max_listpack_entries: settings.zset_max_listpack_entries as usize,
        zset_max_listpack_value: settings.zset_max_listpack_value as usize,
        list_max_listpack_size: settings.list_max_listpack_size,
        // 0 is "no limit" in Redis.
        stream_node_max_entries: unlimited_if_zero(settings.stream_node_max_entries),
        stream_node_max_bytes: unlimited_if_zero(settings.stream_node_max_bytes),
        key_save_delay: settings.rdb_key_save_delay,
    }
}

fn unlimited_if_zero(n: u64) -> usize {
    if n == 0 {
        usize::MAX
    } else {
        n as usize
    }
}

/// Writes the whole keyspace (every shard held by `locked`) to `dir/dbfilename`,
/// crash-safely, and records the save. The working directory is `dir` (as in Redis).
pub fn save_locked(shared: &Shared, locked: &mut Locked<'_>) -> Result<SaveStats, String> {
    let settings = shared.config.settings();
    let opts = write_options(&settings);
    let used = snapkv_keyspace::memory::used_memory_now();
    let stats = file_sink(&settings).write_with(|out| write_locked(locked, out, opts, used))?;
    for db in 0..shared.keyspace.databases() {
        locked.for_each_shard(db, |v| v.shard.stats.dirty = 0);
    }
    let p = &shared.persistence;
    p.lastsave_secs.store(locked.now_ms / 1000, Relaxed);
    tracing::info!(
        "DB saved on disk ({} keys, {} bytes)",
        stats.keys,
        stats.bytes
    );
    Ok(stats)
}

fn save(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let p = &ctx.shared.persistence;
    // Two saves at once would race to rename over the same dump, the older one last.
    if p.bgsave_running.load(Relaxed) {
        return Err(CommandError::err("Background save already in progress"));
    }
    p.saves.fetch_add(1, Relaxed);
    match save_locked(ctx.shared, ctx.ks) {
        Ok(_) => Ok(Reply::Ok),
        Err(e) => {
            tracing::warn!("{e}");
            Err(CommandError::Custom("ERR".into()))
        }
    }
}

/// Records the end of a background save.
fn finish_bgsave(
    s: &Shared,
    started: u64,
    dirty_at_start: &[u64],
    result: Result<SaveStats, String>,
) {
    let p = &s.persistence;
    let now = snapkv_keyspace::clock::now_ms();
    // Whole seconds on the clock between start and end, as Redis's two time(NULL)s.
    p.last_bgsave_secs
        .store((now / 1000).saturating_sub(started / 1000) as i64, Relaxed);
    if p.aborting.swap(false, Relaxed) && result.is_err() {
        // Stopped on purpose: not a failed save (no MISCONF), as Redis's SIGUSR1.
        tracing::info!("Background saving terminated on request");
        p.child_pid.store(0, Relaxed);
        p.bgsave_running.store(false, Relaxed);
        p.bgsave_in_progress.store(false, Relaxed);
        return;
    }
    match result {
        Ok(stats) => {
            s.keyspace.subtract_dirty(dirty_at_start);
            p.lastsave_secs.store(now / 1000, Relaxed);
            p.last_bgsave_ok.store(true, Relaxed);
            tracing::info!(
                "Background saving terminated with success ({} keys, {} bytes)",
                stats.keys,
                stats.bytes
            );
        }
        Err(e) => {
            p.last_bgsave_ok.store(false, Relaxed);
            tracing::warn!("Background saving error: {e}");
        }
    }
    p.child_pid.store(0, Relaxed);
    p.bgsave_running.store(false, Relaxed);
    p.bgsave_in_progress.store(false, Relaxed);
}

/// Stops a running background save, as Redis's `killRDBChild` (FLUSHALL, SHUTDOWN): the
/// fork child is killed and reaped before this returns; a forkless save is cancelled
/// and is sure never to rename its file into place, and ends at its next segment —
/// which may need a shard lock the caller holds, so it is not waited for. Its temp file
/// is removed either way, and the end does not count as a failed save. False if none
/// was running (a backup's snapshot is left to finish).
pub fn abort_bgsave(shared: &Shared) -> bool {
    let p = &shared.persistence;
    if !p.bgsave_running.load(Relaxed) {
        return false;
    }
    p.aborting.store(true, Relaxed);
    let pid = p.child_pid.load(Relaxed);
    if pid > 0 {
        tracing::info!("Killing the background save child {pid}");
        // SAFETY: signals our own child, still unreaped (the reaper clears child_pid
        // only after waitpid), so the pid cannot have been reused.
        unsafe { libc::kill(pid, libc::SIGUSR1) };
        let t = std::time::Instant::now();
        while p.bgsave_in_progress.load(Relaxed) && t.elapsed().as_secs() < 5 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    } else if let Some(capture) = p.capture.read().clone() {
        let _gate = p.commit_gate.lock();
        capture.cancel();
    }
    true
}

/// The engine for this save: `snapshot-method`, or the policy's choice under `auto`.
pub(crate) fn choose_engine(
    shared: &Shared,
    settings: &snapkv_config::Settings,
) -> (Engine, String) {
    match settings.snapshot_method {
        SnapshotMethod::Fork => (Engine::Fork, "snapshot-method fork".into()),
        SnapshotMethod::Forkless => (Engine::Forkless, "snapshot-method forkless".into()),
        SnapshotMethod::Auto => {
            let budget = if settings.maxmemory > 0 {
                settings.maxmemory
            } else {
                crate::info::total_system_memory()
            };
            let (_, in_kbps, _) = shared.stats.instantaneous();
            policy::choose(policy::Inputs {
                budget,
                used: snapkv_keyspace::memory::used_memory_now(),
                write_bytes_per_sec: in_kbps * 1024.0,
            })
        }
    }
}

/// A save's progress with INFO's current_save_keys_total set now, as Redis sets it
/// when the save starts.
fn new_progress(shared: &Shared) -> std::sync::Arc<snapkv_snapshot::forkless::Progress> {
    let progress = snapkv_snapshot::forkless::Progress::default();
    let keys = (0..shared.keyspace.databases())
        .map(|db| shared.keyspace.dbsize(db) as u64)
        .sum();
    progress.keys_total.store(keys, Relaxed);
    std::sync::Arc::new(progress)
}

/// Starts a background save to `dir/dbfilename`; false if one is running.
pub fn start_bgsave(shared: &Shared) -> Result<bool, String> {
    let p = &shared.persistence;
    if p.bgsave_in_progress.swap(true, Relaxed) {
        return Ok(false);
    }
    let Some(me) = shared.me.get().and_then(std::sync::Weak::upgrade) else {
        p.bgsave_in_progress.store(false, Relaxed);
        return Err("the server is shutting down".into());
    };
    let settings = shared.config.settings();
    let opts = write_options(&settings);
    let dirty_at_start = shared.keyspace.dirty_per_shard();
    let started = snapkv_keyspace::clock::now_ms();
    p.bgsave_started_ms.store(started, Relaxed);
    p.aborting.store(false, Relaxed);
    p.bgsave_running.store(true, Relaxed);
    p.saves.fetch_add(1, Relaxed);
    let (mut engine, mut reason) = choose_engine(shared, &settings);
    if engine == Engine::Fork {
        let used = snapkv_keyspace::memory::used_memory_now();
        let forked = {
            let mut locked = shared.keyspace.lock_all();
            snapkv_snapshot::fork::start(&mut locked, &file_sink(&settings), opts.clone(), used)
        };
        match forked {
            Ok(child) => {
                p.child_pid.store(child.pid.as_raw(), Relaxed);
                // The child does not report its progress: processed stays 0.
                *p.progress.lock() = Some(new_progress(shared));
                p.latest_fork_usec.store(child.fork_usec, Relaxed);
                p.total_forks.fetch_add(1, Relaxed);
                *p.last_method.lock() = ("fork", reason);
                tracing::info!("Background saving started by pid {}", child.pid);
                let spawned = std::thread::Builder::new()
                    .name("snapkv-reaper".into())
                    .spawn(move || {
                        let report = child.wait();
                        me.persistence
                            .last_cow_bytes
                            .store(report.cow_bytes, Relaxed);
                        let result = if report.ok {
                            Ok(SaveStats {
                                keys: report.keys,
                                bytes: report.bytes,
                            })
                        } else {
                            Err(report.error.unwrap_or_default())
                        };
                        finish_bgsave(&me, started, &dirty_at_start, result);
                    });
                return match spawned {
                    Ok(_) => Ok(true),
                    Err(e) => {
                        p.bgsave_running.store(false, Relaxed);
                        p.bgsave_in_progress.store(false, Relaxed);
                        Err(e.to_string())
                    }
                };
            }
            Err(e) => {
                // Like a failed fork in Redis, but we still save: fall back to forkless.
                tracing::warn!(
                    "Can't fork for the background save ({e}); using the forkless engine"
                );
                engine = Engine::Forkless;
                reason = format!("fork failed: {e}");
            }
        }
    }
    debug_assert_eq!(engine, Engine::Forkless);
    *p.last_method.lock() = ("forkless", reason);
    let (capture, epoch) = snapkv_snapshot::forkless::start(&shared.keyspace);
    p.writes_delayed.store(0, Relaxed);
    p.write_delay_us.store(0, Relaxed);
    *p.capture.write() = Some(capture.clone());
    let progress = new_progress(shared);
    *p.progress.lock() = Some(progress.clone());
    tracing::info!("Background saving started (forkless, epoch {epoch})");
    let spawned = std::thread::Builder::new()
        .name("snapkv-bgsave".into())
        .spawn(move || {
            let s = &*me;
            let result = file_sink(&settings).background().write_guarded(
                |out| {
                    snapkv_snapshot::forkless::run(
                        &s.keyspace,
                        &capture,
                        epoch,
                        out,
                        opts,
                        &progress,
                    )
                },
                // Under the gate: once abort_bgsave has cancelled us, no rename.
                || {
                    let gate = s.persistence.commit_gate.lock();
                    capture.check_cancelled().map_err(|e| e.to_string())?;
                    Ok(gate)
                },
            );
            s.persistence
                .last_cow_entries
                .store(capture.captured_by_writers.load(Relaxed), Relaxed);
            *s.persistence.capture.write() = None;
            finish_bgsave(s, started, &dirty_at_start, result);
        });
    if let Err(e) = spawned {
        shared.keyspace.set_capture(None);
        *p.capture.write() = None;
        p.bgsave_running.store(false, Relaxed);
        p.bgsave_in_progress.store(false, Relaxed);
        return Err(e.to_string());
    }
    Ok(true)
}

fn bgsave(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let schedule = match args.get(1) {
        None => false,
        Some(a) if crate::args::is(a, "schedule") => true,
        Some(_) => return Err(CommandError::Syntax),
    };
    if args.len() > 2 {
        return Err(CommandError::Syntax);
    }
    let p = &ctx.shared.persistence;
    if ctx.client.deny_blocking {
        // Inside EXEC, which may hold shards a fork must take: the cron starts it.
        if p.bgsave_running.load(Relaxed) {
            return Err(CommandError::err("Background save already in progress"));
        }
        p.scheduled.store(true, Relaxed);
        return Ok(Reply::simple("Background saving scheduled"));
    }
    match start_bgsave(ctx.shared) {
        Ok(true) => Ok(Reply::simple("Background saving started")),
        // Behind a backup's snapshot (Redis: behind another kind of child, an AOF
        // rewrite) SCHEDULE waits for it; behind a save it is refused like BGSAVE.
        Ok(false) if schedule && !p.bgsave_running.load(Relaxed) => {
            p.scheduled.store(true, Relaxed);
            Ok(Reply::simple("Background saving scheduled"))
        }
        Ok(false) => Err(CommandError::err("Background save already in progress")),
        Err(e) => Err(CommandError::err(e)),
    }
}
