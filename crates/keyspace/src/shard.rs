//! [`Shard`]: the part of one database that one mutex guards — an extendible-hashing
//! directory over [`Segment`]s. The directory is indexed by the low `global_depth` bits
//! of the key's directory hash (`dhash`); a segment of local depth `d` owns every slot
//! whose low `d` bits match. A full segment splits on bit `d`, doubling the directory
//! first if `d == global_depth`. Splits move at most [`SEGMENT_MAX`] entries, so no write
//! ever pays for rehashing a whole shard.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use hashbrown::HashMap;

use crate::bytes::SmallBytes;
use crate::entry::Entry;
use crate::segment::{Segment, SEGMENT_MAX};

/// Deepest a segment may split: 30 directory bits are always available below the
/// hashbrown tag bits (see the crate docs), and beyond that colliding keys just share.
const MAX_DEPTH: u8 = 30;

/// Per-shard counters, kept under the shard lock so the hot path never touches a shared
/// cache line; INFO sums them.
#[derive(Default, Clone, Debug)]
pub struct ShardStats {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
    pub evicted: u64,
    /// Changes since the last successful save (Redis's `server.dirty`).
    pub dirty: u64,
}

pub struct Shard {
    pub(crate) dir: Vec<u32>,
    pub(crate) segs: Vec<Segment>,
    pub(crate) global_depth: u8,
    pub(crate) len: usize,
    pub(crate) volatile: usize,
    pub stats: ShardStats,
    /// WATCHed keys in this shard and the flags of the transactions watching them.
    pub(crate) watched: HashMap<SmallBytes, Vec<Arc<AtomicBool>>>,
}

impl Shard {
    pub(crate) fn new(version: u64) -> Shard {
        Shard {
            dir: vec![0],
            segs: vec![Segment::new(0, version)],
            global_depth: 0,
            len: 0,
            volatile: 0,
            stats: ShardStats::default(),
            watched: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn volatile(&self) -> usize {
        self.volatile
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segs
    }

    pub(crate) fn seg_index(&self, dhash: u64) -> usize {
        self.dir[(dhash & ((1u64 << self.global_depth) - 1)) as usize] as usize
    }

    /// Splits segment `si` if it is full, so one more entry fits. Returns whether the
    /// segment for `dhash` may have changed.
    pub(crate) fn make_room(&mut self, si: usize, dhash_of: &impl Fn(&Entry) -> (u64, u64)) {
        let seg = &self.segs[si];
        if seg.len() < SEGMENT_MAX || seg.depth >= MAX_DEPTH {
            return;
        }
        let d = seg.depth;
        if d == self.global_depth {
            self.dir.extend_from_within(..);
            self.global_depth += 1;
        }
        let new_index = self.segs.len() as u32;
        let new =
            self.segs[si].split_off(|e| (dhash_of(e).1 >> d) & 1 == 1, |x| dhash_of(x).0, d + 1);
        self.segs.push(new);
        for (i, slot) in self.dir.iter_mut().enumerate() {
            if *slot as usize == si && (i >> d) & 1 == 1 {
                *slot = new_index;
            }
        }
    }

    /// Marks every transaction watching `key` as dirty.
    pub(crate) fn touch_watched(&mut self, key: &[u8]) {
        if let Some(flags) = self.watched.get(key) {
            for f in flags {
                f.store(true, Ordering::Release);
            }
        }
    }

    /// Marks every watcher of a key that exists in this shard (FLUSHDB, SWAPDB).
    pub(crate) fn touch_all_watched(&mut self, also_missing: bool) {
        for (key, flags) in &self.watched {
            let exists = self.segs.iter().any(|s| s.iter().any(|e| e.key == *key));
            if also_missing || exists {
                for f in flags {
                    f.store(true, Ordering::Release);
                }
            }
        }
    }

    pub fn watch(&mut self, key: &[u8], flag: Arc<AtomicBool>) {
        self.watched
            .entry(SmallBytes::new(key))
            .or_default()
            .push(flag);
    }

    pub fn unwatch(&mut self, key: &[u8], flag: &Arc<AtomicBool>) {
        if let Some(v) = self.watched.get_mut(key) {
            v.retain(|f| !Arc::ptr_eq(f, flag));
            if v.is_empty() {
                self.watched.remove(key);
            }
        }
    }

    /// Drops every entry (FLUSHDB), keeping one empty segment at `version`.
    pub(crate) fn clear(&mut self, version: u64) {
        self.dir = vec![0];
        self.segs = vec![Segment::new(0, version)];
        self.global_depth = 0;
        self.len = 0;
        self.volatile = 0;
    }

    /// Swaps the data (not the watchers or counters) of two shards: SWAPDB.
    pub(crate) fn swap_data(&mut self, other: &mut Shard) {
        std::mem::swap(&mut self.dir, &mut other.dir);
        std::mem::swap(&mut self.segs, &mut other.segs);
        std::mem::swap(&mut self.global_depth, &mut other.global_depth);
        std::mem::swap(&mut self.len, &mut other.len);
        std::mem::swap(&mut self.volatile, &mut other.volatile);
    }
}
