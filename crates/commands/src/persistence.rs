//! Persistence commands: SAVE, and the save SHUTDOWN performs. (BGSAVE, save points and
//! DEBUG RELOAD arrive with the background snapshot engines.)

use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use snapkv_keyspace::Locked;
use snapkv_protocol::Reply;
use snapkv_snapshot::{write_locked, FileSink, SaveStats};

use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::shared::Shared;
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] =
    &[
        CommandSpec::new("save", 1, ADMIN | NOSCRIPT | NO_MULTI, "server", save)
            .lock(LockPlan::All)
            .doc("Synchronously saves the database(s) to disk.", "1.0.0"),
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
