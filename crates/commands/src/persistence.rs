//! Persistence commands: SAVE, BGSAVE [SCHEDULE] (the forkless engine), and the save
//! SHUTDOWN performs. (The fork engine, engine choice and DEBUG RELOAD come next.)

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use snapkv_keyspace::Locked;
use snapkv_protocol::Reply;
use snapkv_snapshot::{write_locked, FileSink, SaveStats};

use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::shared::Shared;
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("save", 1, ADMIN | NOSCRIPT | NO_MULTI, "server", save)
        .lock(LockPlan::All)
        .doc("Synchronously saves the database(s) to disk.", "1.0.0"),
    CommandSpec::new("bgsave", -1, ADMIN | NOSCRIPT, "server", bgsave)
        .lock(LockPlan::None)
        .doc("Asynchronously saves the database(s) to disk.", "1.0.0"),
];

/// Writes the whole keyspace (every shard held by `locked`) to `dir/dbfilename`,
/// crash-safely, and records the save. The working directory is `dir` (as in Redis).
pub fn save_locked(shared: &Shared, locked: &mut Locked<'_>) -> Result<SaveStats, String> {
    let settings = shared.config.settings();
    let sink = FileSink::new(std::path::Path::new("."), &settings.dbfilename);
    let out = sink.open().map_err(|e| e.to_string())?;
    let opts = snapkv_rdb::WriteOptions {
        compression: settings.rdbcompression,
        checksum: settings.rdbchecksum,
        ..Default::default()
    };
    let used = snapkv_keyspace::memory::used_memory_now();
    let (out, stats) = match write_locked(locked, out, opts, used) {
        Ok(x) => x,
        Err(e) => {
            sink.abort();
            return Err(format!("Write error saving DB on disk: {e}"));
        }
    };
    sink.commit(out).map_err(|e| e.to_string())?;
    for db in 0..shared.keyspace.databases() {
        locked.for_each_shard(db, |v| v.shard.stats.dirty = 0);
    }
    let p = &shared.persistence;
    p.lastsave_secs.store(locked.now_ms / 1000, Relaxed);
    p.saves.fetch_add(1, Relaxed);
    tracing::info!(
        "DB saved on disk ({} keys, {} bytes)",
        stats.keys,
        stats.bytes
    );
    Ok(stats)
}

fn save(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    match save_locked(ctx.shared, ctx.ks) {
        Ok(_) => Ok(Reply::Ok),
        Err(e) => {
            tracing::warn!("{e}");
            Err(CommandError::Custom("ERR".into()))
        }
    }
}

/// Starts a forkless background save to `dir/dbfilename`; false if one is running.
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
    let dirty_at_start = shared.keyspace.dirty_per_shard();
    let (capture, epoch) = snapkv_snapshot::forkless::start(&shared.keyspace);
    let progress = std::sync::Arc::new(snapkv_snapshot::forkless::Progress::default());
    *p.progress.lock() = Some(progress.clone());
    let started = snapkv_keyspace::clock::now_ms();
    p.bgsave_started_ms.store(started, Relaxed);
    tracing::info!("Background saving started (forkless, epoch {epoch})");
    let spawned = std::thread::Builder::new()
        .name("snapkv-bgsave".into())
        .spawn(move || {
            let s = &*me;
            let sink = FileSink::new(std::path::Path::new("."), &settings.dbfilename);
            let opts = snapkv_rdb::WriteOptions {
                compression: settings.rdbcompression,
                checksum: settings.rdbchecksum,
                ..Default::default()
            };
            let result = sink.open().map_err(|e| e.to_string()).and_then(|out| {
                match snapkv_snapshot::forkless::run(
                    &s.keyspace,
                    &capture,
                    epoch,
                    out,
                    opts,
                    &progress,
                ) {
                    Ok((out, stats)) => sink.commit(out).map(|_| stats).map_err(|e| e.to_string()),
                    Err(e) => {
                        sink.abort();
                        Err(e.to_string())
                    }
                }
            });
            let p = &s.persistence;
            let now = snapkv_keyspace::clock::now_ms();
            p.last_bgsave_secs
                .store(((now - started) / 1000) as i64, Relaxed);
            p.last_cow_entries
                .store(capture.captured_by_writers.load(Relaxed), Relaxed);
            match result {
                Ok(stats) => {
                    s.keyspace.subtract_dirty(&dirty_at_start);
                    p.lastsave_secs.store(now / 1000, Relaxed);
                    p.saves.fetch_add(1, Relaxed);
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
            p.bgsave_in_progress.store(false, Relaxed);
        });
    if let Err(e) = spawned {
        shared.keyspace.set_capture(None);
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
    match start_bgsave(ctx.shared) {
        Ok(true) => Ok(Reply::simple("Background saving started")),
        Ok(false) if schedule => {
            ctx.shared.persistence.scheduled.store(true, Relaxed);
            Ok(Reply::simple("Background saving scheduled"))
        }
        Ok(false) => Err(CommandError::err("Background save already in progress")),
        Err(e) => Err(CommandError::err(e)),
    }
}
