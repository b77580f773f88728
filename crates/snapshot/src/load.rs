//! Loading an RDB file into the keyspace at start-up. Streaming (the reader keeps a
//! bounded buffer), checksum verified, expired keys dropped, progress shared for INFO.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use snapkv_keyspace::{clock, Keyspace, SetExpiry, StrValue, Value};
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
    #[error("The RDB file holds a {kind} at key '{key}' in db {db}: snapkv does not hold {kind} values yet; refusing to start without it")]
    Unsupported {
        kind: &'static str,
        key: String,
        db: u64,
    },
    #[error("The RDB file selects db {db} but the server has only {databases} databases (raise `databases`)")]
    DbOutOfRange { db: u64, databases: usize },
}

/// Loads `path` into `ks` (which should be empty). `progress` is filled as it goes.
pub fn load_file(
    ks: &Keyspace,
    path: &Path,
    progress: &mut Option<Arc<Progress>>,
) -> Result<LoadStats, LoadError> {
    let file = File::open(path).map_err(|err| LoadError::Io {
        path: path.display().to_string(),
        err,
    })?;
    let mut reader = Reader::new(BufReader::with_capacity(1 << 20, file))?;
    reader.drop_expired_before(clock::now_ms() as i64);
    *progress = Some(reader.progress());
    let mut stats = LoadStats::default();
    while let Some(event) = reader.next_event()? {
        let Event::Entry(e) = event else { continue };
        let db = e.db as usize;
        if db >= ks.databases() {
            return Err(LoadError::DbOutOfRange {
                db: e.db,
                databases: ks.databases(),
            });
        }
        let value = match e.value {
            snapkv_rdb::Value::Str(s) => Value::Str(StrValue::from_bytes(&s)),
            other => {
                return Err(LoadError::Unsupported {
                    kind: other.type_name(),
                    key: String::from_utf8_lossy(&e.key).into_owned(),
                    db: e.db,
                })
            }
        };
        let expiry = e
            .expire_ms
            .map(|t| SetExpiry::At(t.max(0) as u64))
            .unwrap_or(SetExpiry::Clear);
        ks.lock_keys(db, [&e.key[..]])
            .insert(db, &e.key, value, expiry);
        stats.keys_loaded += 1;
    }
    stats.keys_expired = reader.expired_dropped();
    stats.bytes = reader.offset();
    // Loading is not a change to be saved again.
    ks.clear_dirty();
    Ok(stats)
}
