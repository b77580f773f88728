//! [`Keyspace`]: all databases, the hash seed, the snapshot epoch and the eviction policy.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use foldhash::fast::FixedState;
use parking_lot::{Mutex, RwLock};

use crate::entry::Entry;
use crate::evict::EvictionPolicy;
use crate::locked::Locked;
use crate::shard::{Shard, ShardStats};

#[derive(Debug, Clone, Copy)]
pub struct KeyspaceConfig {
    pub databases: usize,
    /// Shards per database; rounded up to a power of two.
    pub shards_per_db: usize,
}

impl Default for KeyspaceConfig {
    fn default() -> Self {
        KeyspaceConfig {
            databases: 16,
            shards_per_db: 64,
        }
    }
}

/// One database: a power-of-two array of independently locked shards.
pub struct Db {
    pub(crate) shards: Box<[Mutex<Shard>]>,
}

/// The forkless engine's pre-write hook: called, under the shard lock, with an entry as
/// it was at the cut, just before a writer changes or removes it (or FLUSHDB/SWAPDB
/// empties its segment) while the snapshot's walk has not reached its segment. Each
/// entry reaches the snapshot exactly once: here, or through the walk
/// ([`Keyspace::capture_segment`]).
pub trait SnapshotCapture: Send + Sync {
    fn capture(&self, db: usize, entry: &Entry);
}

/// A shard identified by database and index, for callers that walk shards one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ShardRef {
    pub db: usize,
    pub shard: usize,
}

/// Totals over every shard (INFO stats / keyspace).
#[derive(Debug, Default, Clone)]
pub struct KeyspaceStats {
    pub counters: ShardStats,
    pub keys: usize,
    pub volatile: usize,
}

pub struct Keyspace {
    pub(crate) dbs: Box<[Db]>,
    hasher: FixedState,
    pub(crate) shard_bits: u32,
    pub(crate) epoch: AtomicU64,
    policy: AtomicU8,
    /// Keys sampled per eviction (`maxmemory-samples`).
    pub(crate) samples: AtomicU64,
    pub(crate) capture: RwLock<Option<Arc<dyn SnapshotCapture>>>,
}

impl Keyspace {
    pub fn new(cfg: KeyspaceConfig) -> Keyspace {
        let shards = cfg.shards_per_db.max(1).next_power_of_two();
        let dbs = (0..cfg.databases.max(1))
            .map(|_| Db {
                shards: (0..shards).map(|_| Mutex::new(Shard::new(0))).collect(),
            })
            .collect();
        Keyspace {
            dbs,
            hasher: FixedState::with_seed(rand::random()),
            shard_bits: shards.trailing_zeros(),
            epoch: AtomicU64::new(0),
            policy: AtomicU8::new(EvictionPolicy::NoEviction as u8),
            samples: AtomicU64::new(5),
            capture: RwLock::new(None),
        }
    }

    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    pub fn shards_per_db(&self) -> usize {
        1 << self.shard_bits
    }

    /// The key's 64-bit hash (hot path: once per key per command).
    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// (shard index, directory hash) for a key hash.
    #[inline]
    pub(crate) fn route(&self, hash: u64) -> (usize, u64) {
        let route = hash >> 20;
        (
            (route & ((1 << self.shard_bits) - 1)) as usize,
            route >> self.shard_bits,
        )
    }

    /// Global shard id used for lock ordering: `db * shards_per_db + shard`.
    #[inline]
    pub fn shard_id(&self, db: usize, key: &[u8]) -> u32 {
        let (shard, _) = self.route(self.hash(key));
        ((db << self.shard_bits) + shard) as u32
    }

    pub(crate) fn split_id(&self, gid: u32) -> (usize, usize) {
        let gid = gid as usize;
        (gid >> self.shard_bits, gid & ((1 << self.shard_bits) - 1))
    }

    pub(crate) fn mutex(&self, gid: u32) -> &Mutex<Shard> {
        let (db, shard) = self.split_id(gid);
        &self.dbs[db].shards[shard]
    }

    /// Locks the given shards (any order, duplicates allowed) in global id order.
    pub fn lock(&self, mut ids: smallvec::SmallVec<[u32; 4]>) -> Locked<'_> {
        ids.sort_unstable();
        ids.dedup();
        Locked::acquire(self, &ids, false)
    }

    /// Locks the shards of `keys` in `db`.
    pub fn lock_keys<'k>(&self, db: usize, keys: impl IntoIterator<Item = &'k [u8]>) -> Locked<'_> {
        self.lock(keys.into_iter().map(|k| self.shard_id(db, k)).collect())
    }

    /// Locks every shard of the given databases (FLUSHDB, SWAPDB, an EXEC with keyless
    /// commands): the command is atomic against all others.
    pub fn lock_dbs(&self, dbs: &[usize]) -> Locked<'_> {
        let per = self.shards_per_db() as u32;
        let mut ids: Vec<u32> = dbs
            .iter()
            .filter(|&&db| db < self.dbs.len())
            .flat_map(|&db| (db as u32 * per)..(db as u32 + 1) * per)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Locked::acquire(self, &ids, false)
    }

    pub fn lock_all(&self) -> Locked<'_> {
        let all: Vec<usize> = (0..self.dbs.len()).collect();
        self.lock_dbs(&all)
    }

    /// A `Locked` holding nothing that takes each shard as it is touched, releasing the
    /// previous one first: for keyless commands that walk the keyspace (KEYS, SCAN,
    /// DBSIZE, RANDOMKEY) without stopping everyone else.
    pub fn lazy(&self) -> Locked<'_> {
        Locked::acquire(self, &[], true)
    }

    /// Runs `f` on one shard under its lock (background work: expiry, snapshots).
    pub fn with_shard<R>(&self, at: ShardRef, f: impl FnOnce(&mut Shard) -> R) -> R {
        f(&mut self.dbs[at.db].shards[at.shard].lock())
    }

    pub fn current_epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Starts a snapshot cut: every segment with `version` below the returned epoch is
    /// "not yet walked", and in it every entry whose `snap` differs from the epoch is
    /// owed to the snapshot.
    pub fn advance_epoch(&self) -> u64 {
        self.epoch.fetch_add(1, Ordering::AcqRel) + 1
    }

    pub fn set_capture(&self, hook: Option<Arc<dyn SnapshotCapture>>) {
        *self.capture.write() = hook;
    }

    pub fn policy(&self) -> EvictionPolicy {
        EvictionPolicy::from_u8(self.policy.load(Ordering::Relaxed))
    }

    pub fn set_policy(&self, p: EvictionPolicy) {
        self.policy.store(p as u8, Ordering::Relaxed);
    }

    pub fn set_samples(&self, n: u64) {
        self.samples.store(n.max(1), Ordering::Relaxed);
    }

    /// Keys in one database.
    pub fn dbsize(&self, db: usize) -> usize {
        self.dbs[db].shards.iter().map(|s| s.lock().len()).sum()
    }

    /// Sums every shard's counters and sizes; `db` limits it to one database.
    pub fn stats(&self, db: Option<usize>) -> KeyspaceStats {
        let mut out = KeyspaceStats::default();
        for (i, d) in self.dbs.iter().enumerate() {
            if db.is_some_and(|want| want != i) {
                continue;
            }
            for s in d.shards.iter() {
                let s = s.lock();
                let c = &s.stats;
                out.counters.hits += c.hits;
                out.counters.misses += c.misses;
                out.counters.expired += c.expired;
                out.counters.evicted += c.evicted;
                out.counters.dirty += c.dirty;
                out.keys += s.len();
                out.volatile += s.volatile();
            }
        }
        out
    }

    /// Zeroes hit/miss/expired/evicted counters (CONFIG RESETSTAT).
    pub fn reset_stats(&self) {
        for d in self.dbs.iter() {
            for s in d.shards.iter() {
                let mut s = s.lock();
                let dirty = s.stats.dirty;
                s.stats = ShardStats {
                    dirty,
                    ..ShardStats::default()
                };
            }
        }
    }

    /// Resets the dirty counters after a successful save, minus what changed during it.
    pub fn clear_dirty(&self) {
        for d in self.dbs.iter() {
            for s in d.shards.iter() {
                s.lock().stats.dirty = 0;
            }
        }
    }

    /// Every shard, for walkers.
    pub fn shard_refs(&self) -> impl Iterator<Item = ShardRef> + '_ {
        let per = self.shards_per_db();
        (0..self.dbs.len()).flat_map(move |db| (0..per).map(move |shard| ShardRef { db, shard }))
    }
}

impl Keyspace {
    /// The forkless snapshot's walk step: under the shard's lock, hands every entry of
    /// segment `si` still owed to the snapshot cut at `epoch` to `f` and stamps the
    /// segment, so writers stop capturing there. Returns false once the shard has no
    /// segment `si`. The lock is held for one segment (at most `SEGMENT_MAX` entries), not
    /// a whole shard, so a writer never waits long behind the walk; segments born of
    /// splits meanwhile are appended and reached later with their inherited version.
    pub fn capture_segment(
        &self,
        at: ShardRef,
        si: usize,
        epoch: u64,
        mut f: impl FnMut(&Entry),
    ) -> bool {
        let lock = &self.dbs[at.db].shards[at.shard];
        // First a look: where the owed values live. Their lines are then loaded all at
        // once, with the lock released, so that the pass that bumps their counts under the
        // lock finds them in cache. (A count bump is a locked instruction: done on cold
        // lines one after another, each waited for its own miss, under the shard lock.)
        let mut starts = Vec::new();
        {
            let shard = lock.lock();
            let Some(seg) = shard.segs.get(si) else {
                return false;
            };
            if seg.version >= epoch {
                return true;
            }
            starts.reserve(seg.len());
            starts.extend(
                seg.iter()
                    .filter(|e| e.owed_to(epoch))
                    .filter_map(|e| e.value_start().map(|p| p as usize)),
            );
        }
        for &p in &starts {
            crate::entry::prefetch_line(p as *const u8);
        }
        let mut shard = lock.lock();
        let Some(seg) = shard.segs.get_mut(si) else {
            return false;
        };
        if seg.version < epoch {
            seg.iter().filter(|e| e.owed_to(epoch)).for_each(&mut f);
            seg.version = epoch;
        }
        true
    }
}

impl Keyspace {
    /// Whether `key` in `db` holds a big shared collection (see
    /// [`Value::is_big_table`](crate::Value::is_big_table)) that the running snapshot still
    /// owes. A write to it would copy the whole table under the shard lock (the snapshot
    /// holds the old one), so the caller can ask the snapshot to write it first.
    pub fn owes_big_value(&self, db: usize, key: &[u8]) -> bool {
        let epoch = self.current_epoch();
        self.with_segment_of(db, key, |seg, hash| {
            seg.version < epoch
                && seg
                    .find(hash, key)
                    .is_some_and(|e| e.owed_to(epoch) && e.value.is_big_table())
        })
        .unwrap_or(false)
    }

    /// The snapshot's out-of-turn capture: if `key` in `db` is still owed to the snapshot
    /// cut at `epoch`, marks it given (the walk and writers skip it from now on) and
    /// returns it.
    pub fn capture_key(&self, db: usize, key: &[u8], epoch: u64) -> Option<Entry> {
        self.with_segment_of(db, key, |seg, hash| {
            if seg.version >= epoch {
                return None;
            }
            let e = seg.find_mut(hash, key)?;
            if !e.owed_to(epoch) {
                return None;
            }
            e.snap = epoch as u32;
            Some(e.clone())
        })
        .flatten()
    }

    /// Runs `f` on the segment where `key` of `db` lives (or would), under its shard's
    /// lock, with the key's hash; None if there is no database `db`.
    fn with_segment_of<R>(
        &self,
        db: usize,
        key: &[u8],
        f: impl FnOnce(&mut crate::segment::Segment, u64) -> R,
    ) -> Option<R> {
        let d = self.dbs.get(db)?;
        let hash = self.hash(key);
        let (shard, dhash) = self.route(hash);
        let mut s = d.shards[shard].lock();
        let si = s.seg_index(dhash);
        Some(f(&mut s.segs[si], hash))
    }
}

impl Keyspace {
    /// Every shard's change counter, in `shard_refs` order (taken when a save starts).
    pub fn dirty_per_shard(&self) -> Vec<u64> {
        self.shard_refs()
            .map(|at| self.with_shard(at, |s| s.stats.dirty))
            .collect()
    }

    /// After a successful background save: forget the changes it covered, keep those made
    /// while it ran (Redis's `dirty - dirty_before_bgsave`).
    pub fn subtract_dirty(&self, at_start: &[u64]) {
        for (at, before) in self.shard_refs().zip(at_start) {
            self.with_shard(at, |s| {
                s.stats.dirty = s.stats.dirty.saturating_sub(*before)
            });
        }
    }
}
