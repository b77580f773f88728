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

/// Writes one key; then waits as `rdb-key-save-delay` asks (Redis's `debugDelay`; its
/// "1 µs with probability 1/N" for -N is taken as every N-th key).
pub fn write_entry<W: Write>(w: &mut Writer<W>, e: &Entry) -> snapkv_rdb::Result<()> {
    let expire = e.expire_at().map(|t| t as i64);
    crate::convert::write_value(w, &e.key, expire, &e.value)?;
    match w.options().key_save_delay {
        0 => {}
        d if d > 0 => std::thread::sleep(std::time::Duration::from_micros(d as u64)),
        d => {
            thread_local!(static KEYS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) });
            let n = KEYS.with(|k| {
                k.set(k.get().wrapping_add(1));
                k.get()
            });
            if n.is_multiple_of(d.unsigned_abs()) {
                std::thread::sleep(std::time::Duration::from_micros(1));
            }
        }
    }
    Ok(())
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
