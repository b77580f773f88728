//! Keyspace → RDB. Point-in-time by construction: the caller holds every shard (a
//! `Locked` over all databases), so no write can interleave.

use std::io::Write;

use snapkv_keyspace::{Entry, Locked};
use snapkv_rdb::{WriteOptions, Writer};

/// What a save wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct SaveStats {
    pub keys: u64,
    pub bytes: u64,
}

pub fn write_entry<W: Write>(w: &mut Writer<W>, e: &Entry) -> snapkv_rdb::Result<()> {
    let expire = e.expire_at().map(|t| t as i64);
    crate::convert::write_value(w, &e.key, expire, &e.value)
}

/// Writes every database of `locked` (which must hold all shards) as one RDB file.
pub fn write_locked<W: Write>(
    locked: &mut Locked<'_>,
    out: W,
    opts: WriteOptions,
    used_mem: u64,
) -> snapkv_rdb::Result<(W, SaveStats)> {
    let mut w = Writer::new(out, opts)?;
    let now_s = (locked.now_ms / 1000) as i64;
    w.write_default_aux(now_s, used_mem)?;
    let mut stats = SaveStats::default();
    let databases = locked.keyspace().databases();
    for db in 0..databases {
        let (mut keys, mut volatile) = (0u64, 0u64);
        locked.for_each_shard(db, |v| {
            keys += v.len() as u64;
            volatile += v.shard.volatile() as u64;
        });
        if keys == 0 {
            continue;
        }
        w.select_db(db as u64)?;
        w.resize_db(keys, volatile)?;
        let mut result = Ok(());
        locked.for_each_shard(db, |v| {
            for e in v.entries() {
                if result.is_err() {
                    return;
                }
                result = write_entry(&mut w, e);
                stats.keys += 1;
            }
        });
        result?;
    }
    stats.bytes = w.bytes_written();
    let out = w.finish()?;
    Ok((out, stats))
}
