//! Loading an RDB file into the keyspace at start-up. Streaming (the reader keeps a
//! bounded buffer), checksum verified, expired keys dropped, progress shared for INFO.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use snapkv_keyspace::{clock, Keyspace, Limits, SetExpiry, Value};
use snapkv_rdb::{Event, Progress, Reader};

#[derive(Debug, Default, Clone, Copy)]
pub struct LoadStats {
    pub keys_loaded: u64,
    pub keys_expired: u64,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("Fatal error loading the DB {path}: {err}")]
    Io { path: String, err: std::io::Error },
    #[error("Short read or OOM loading DB. Unrecoverable error, aborting now. ({0})")]
    Format(#[from] snapkv_rdb::Error),
    #[error("The RDB file holds a {kind} at key '{key}' in db {db}: snapkv does not hold {kind} values; refusing to start without it")]
    Unsupported {
        kind: &'static str,
        key: String,
        db: u64,
    },
    #[error("The RDB file selects db {db} but the server has only {databases} databases (raise `databases`)")]
    DbOutOfRange { db: u64, databases: usize },
}

/// Loads `path` into `ks` (which should be empty). `on_start` receives the progress
/// counters (bytes read, keys loaded) as soon as the file is open, for INFO.
pub fn load_file(
    ks: &Keyspace,
    path: &Path,
    limits: &Limits,
    on_start: impl FnOnce(Arc<Progress>),
) -> Result<LoadStats, LoadError> {
    let stats = load_with(
        path,
        limits,
        ks.databases(),
        on_start,
        |db, key, value, expiry| {
            ks.lock_keys(db, [key]).insert(db, key, value, expiry);
        },
    )?;
    // Loading is not a change to be saved again.
    ks.clear_dirty();
    Ok(stats)
}

/// Reads `path` and hands every live key to `insert(db, key, value, expiry)` (start-up
/// loading locks per key; DEBUG RELOAD inserts under the locks it already holds).
pub fn load_with(
    path: &Path,
    limits: &Limits,
    databases: usize,
    on_start: impl FnOnce(Arc<Progress>),
    mut insert: impl FnMut(usize, &[u8], Value, SetExpiry),
) -> Result<LoadStats, LoadError> {
    let file = File::open(path).map_err(|err| LoadError::Io {
        path: path.display().to_string(),
        err,
    })?;
    let mut reader = Reader::new(BufReader::with_capacity(1 << 20, file))?;
    reader.drop_expired_before(clock::now_ms() as i64);
    on_start(reader.progress());
    let mut stats = LoadStats::default();
    while let Some(event) = reader.next_event()? {
        let Event::Entry(e) = event else { continue };
        let db = e.db as usize;
        if db >= databases {
            return Err(LoadError::DbOutOfRange {
                db: e.db,
                databases,
            });
        }
        let value =
            crate::convert::from_rdb(e.value, limits).map_err(|kind| LoadError::Unsupported {
                kind,
                key: String::from_utf8_lossy(&e.key).into_owned(),
                db: e.db,
            })?;
        let expiry = e
            .expire_ms
            .map(|t| SetExpiry::At(t.max(0) as u64))
            .unwrap_or(SetExpiry::Clear);
        insert(db, &e.key, value, expiry);
        stats.keys_loaded += 1;
    }
    stats.keys_expired = reader.expired_dropped();
    stats.bytes = reader.offset();
    Ok(stats)
}

/// Removes `temp-<pid>.rdb` (and forkless `temp-bg-<pid>.rdb`) files in `dir` left by
/// processes that no longer exist (a server or fork child killed mid-save); the dump
/// itself is never touched.
pub fn remove_stale_temp_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("temp-")
            .map(|r| r.strip_prefix("bg-").unwrap_or(r))
            .and_then(|r| r.strip_suffix(".rdb"))
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let alive = pid == std::process::id() as i32 || unsafe { libc::kill(pid, 0) } == 0;
        if !alive && std::fs::remove_file(e.path()).is_ok() {
            removed.push(e.path());
        }
    }
    removed
}
