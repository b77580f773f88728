//! [`Locked`]: the shards one command holds, and every access to entries.
//!
//! Reads go through [`Locked::get`] (counts hits/misses, stamps LRU/LFU),
//! [`Locked::get_notouch`] (counts, no stamp), [`Locked::lookup_write`] (stamps, no count)
//! or [`Locked::peek`] (neither) — Redis's lookupKey flags; writes through [`Locked::get_mut`], [`Locked::insert`],
//! [`Locked::remove`] and friends, which all run the write path: hand the entry's old
//! state to a running snapshot that still owes it, invalidate WATCHers, count a change.
//! Every lookup first drops the key if it has expired (lazy expiry), through that same
//! write path.

use parking_lot::MutexGuard;
use smallvec::SmallVec;

use crate::bytes::SmallBytes;
use crate::clock;
use crate::entry::Entry;
use crate::evict::EvictionPolicy;
use crate::keyspace::Keyspace;
use crate::segment::Segment;
use crate::shard::Shard;
use crate::value::Value;

/// Where a key lives.
#[derive(Clone, Copy)]
struct Loc {
    hash: u64,
    dhash: u64,
    gid: u32,
}

/// SET's NX / XX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetCondition {
    Always,
    IfMissing,
    IfExists,
}

/// What a write does to the key's TTL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetExpiry {
    /// Remove any TTL (plain SET).
    Clear,
    /// Keep the current TTL (KEEPTTL, or in-place updates like INCR).
    Keep,
    /// Expire at this Unix time in ms.
    At(u64),
}

pub struct Locked<'a> {
    ks: &'a Keyspace,
    guards: SmallVec<[(u32, MutexGuard<'a, Shard>); 2]>,
    lazy: bool,
    epoch: u64,
    /// Command time: every expiry decision in one command (or EXEC) uses this instant.
    pub now_ms: u64,
    policy: EvictionPolicy,
}

impl<'a> Locked<'a> {
    pub(crate) fn acquire(ks: &'a Keyspace, sorted_ids: &[u32], lazy: bool) -> Locked<'a> {
        let guards = sorted_ids
            .iter()
            .map(|&id| (id, ks.mutex(id).lock()))
            .collect();
        // Read after the locks are held: this command is wholly before or after a cut.
        let epoch = ks.current_epoch();
        Locked {
            ks,
            guards,
            lazy,
            epoch,
            now_ms: clock::now_ms(),
            policy: ks.policy(),
        }
    }

    pub fn keyspace(&self) -> &'a Keyspace {
        self.ks
    }

    fn loc(&self, db: usize, key: &[u8]) -> Loc {
        let hash = self.ks.hash(key);
        let (shard, dhash) = self.ks.route(hash);
        Loc {
            hash,
            dhash,
            gid: ((db << self.ks.shard_bits) + shard) as u32,
        }
    }

    /// The held shard `gid`, taking it if this is a lazy set (or, defensively, if a
    /// command touched a key it did not declare: then everything is re-taken in order).
    fn shard(&mut self, gid: u32) -> &mut Shard {
        let pos = match self.guards.iter().position(|(id, _)| *id == gid) {
            Some(p) => p,
            None => {
                if self.lazy {
                    self.guards.clear();
                    self.guards.push((gid, self.ks.mutex(gid).lock()));
                } else {
                    debug_assert!(false, "shard {gid} used but not locked");
                    let mut ids: Vec<u32> = self.guards.iter().map(|(id, _)| *id).collect();
                    ids.push(gid);
                    ids.sort_unstable();
                    self.guards.clear();
                    for id in ids {
                        self.guards.push((id, self.ks.mutex(id).lock()));
                    }
                }
                self.epoch = self.ks.current_epoch();
                self.guards
                    .iter()
                    .position(|(id, _)| *id == gid)
                    .unwrap_or(0)
            }
        };
        &mut self.guards[pos].1
    }

    /// Before a write changes `e`, which lives in a segment at `version`: a running
    /// snapshot that still owes `e` gets it as it is now, and `e` is marked as given.
    #[inline]
    fn before_write(ks: &Keyspace, epoch: u64, gid: u32, version: u64, e: &mut Entry) {
        if version < epoch && e.owed_to(epoch) {
            Self::hand_over(ks, gid, e);
            e.snap = epoch as u32;
        }
    }

    /// After a write removed `e` from a segment at `version`.
    #[inline]
    fn after_remove(ks: &Keyspace, epoch: u64, gid: u32, version: u64, e: &Entry) {
        if version < epoch && e.owed_to(epoch) {
            Self::hand_over(ks, gid, e);
        }
    }

    #[cold]
    fn hand_over(ks: &Keyspace, gid: u32, e: &Entry) {
        if let Some(hook) = ks.capture.read().as_ref() {
            hook.capture(ks.split_id(gid).0, e);
        }
    }

    /// Drops `key` if it has expired. Returns whether it is (still) present.
    fn expire_if_needed(&mut self, l: Loc, key: &[u8]) -> bool {
        let now = self.now_ms;
        let (ks, epoch) = (self.ks, self.epoch);
        let shard = self.shard(l.gid);
        let si = shard.seg_index(l.dhash);
        match shard.segs[si].find(l.hash, key) {
            None => false,
            Some(e) if !e.is_expired(now) => true,
            Some(_) => {
                let seg = &mut shard.segs[si];
                let version = seg.version;
                if let Some(e) = seg.remove(l.hash, key, |e| ks.hash(&e.key)) {
                    Self::after_remove(ks, epoch, l.gid, version, &e);
                }
                shard.len -= 1;
                shard.volatile -= 1;
                shard.stats.expired += 1;
                shard.stats.dirty += 1;
                shard.touch_watched(key);
                false
            }
        }
    }

    /// A read lookup: counts a hit or miss and stamps LRU/LFU, like `lookupKeyRead`.
    pub fn get(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        let l = self.loc(db, key);
        let present = self.expire_if_needed(l, key);
        let (now, policy) = (self.now_ms, self.policy);
        let shard = self.shard(l.gid);
        if !present {
            shard.stats.misses += 1;
            return None;
        }
        shard.stats.hits += 1;
        let si = shard.seg_index(l.dhash);
        let e = shard.segs[si].find_mut(l.hash, key)?;
        touch(e, policy, now);
        Some(e)
    }

    /// A lookup with no side effects besides lazy expiry: no hit/miss, no LRU stamp.
    pub fn peek(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        let l = self.loc(db, key);
        if !self.expire_if_needed(l, key) {
            return None;
        }
        let shard = self.shard(l.gid);
        let si = shard.seg_index(l.dhash);
        shard.segs[si].find(l.hash, key)
    }

    pub fn exists(&mut self, db: usize, key: &[u8]) -> bool {
        let l = self.loc(db, key);
        self.expire_if_needed(l, key)
    }

    /// Redis's `lookupKeyReadWithFlags(LOOKUP_NOTOUCH)`: counts a hit or miss but leaves
    /// the LRU/LFU stamp alone (EXISTS, TYPE, TTL, OBJECT).
    pub fn get_notouch(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        let l = self.loc(db, key);
        let present = self.expire_if_needed(l, key);
        let shard = self.shard(l.gid);
        if !present {
            shard.stats.misses += 1;
            return None;
        }
        shard.stats.hits += 1;
        let si = shard.seg_index(l.dhash);
        shard.segs[si].find(l.hash, key)
    }

    /// Redis's `lookupKeyWrite`: stamps LRU/LFU but counts no hit or miss, and is no
    /// change by itself (RENAME, MOVE, EXPIRE look up their keys this way and may then
    /// decide not to write).
    pub fn lookup_write(&mut self, db: usize, key: &[u8]) -> Option<&Entry> {
        let l = self.loc(db, key);
        if !self.expire_if_needed(l, key) {
            return None;
        }
        let (now, policy) = (self.now_ms, self.policy);
        let shard = self.shard(l.gid);
        let si = shard.seg_index(l.dhash);
        let e = shard.segs[si].find_mut(l.hash, key)?;
        touch(e, policy, now);
        Some(e)
    }

    /// A lookup for writing: the caller will change the value in place (the TTL is
    /// kept). Counts a change and invalidates watchers.
    pub fn get_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let l = self.loc(db, key);
        if !self.expire_if_needed(l, key) {
            return None;
        }
        let (ks, epoch, now, policy) = (self.ks, self.epoch, self.now_ms, self.policy);
        let shard = self.shard(l.gid);
        shard.stats.dirty += 1;
        if !shard.watched.is_empty() {
            shard.touch_watched(key);
        }
        let si = shard.seg_index(l.dhash);
        let seg = &mut shard.segs[si];
        let version = seg.version;
        let e = seg.find_mut(l.hash, key)?;
        Self::before_write(ks, epoch, l.gid, version, e);
        touch(e, policy, now);
        Some(e)
    }

    /// Stores `value` at `key`, applying `cond` and `expiry`. Returns `(written, old)`;
    /// `old` is the previous (unexpired) entry, so SET … GET and GETSET can answer it.
    pub fn set(
        &mut self,
        db: usize,
        key: &[u8],
        value: Value,
        cond: SetCondition,
        expiry: SetExpiry,
    ) -> (bool, Option<Entry>) {
        let l = self.loc(db, key);
        let present = self.expire_if_needed(l, key);
        match (cond, present) {
            (SetCondition::IfMissing, true) | (SetCondition::IfExists, false) => {
                let old = present.then(|| self.peek(db, key).cloned()).flatten();
                return (false, old);
            }
            _ => {}
        }
        let (ks, epoch, now, policy) = (self.ks, self.epoch, self.now_ms, self.policy);
        let shard = self.shard(l.gid);
        shard.stats.dirty += 1;
        if !shard.watched.is_empty() {
            shard.touch_watched(key);
        }
        let mut si = shard.seg_index(l.dhash);
        let seg = &mut shard.segs[si];
        let (mut seg_volatile, version) = (seg.volatile, seg.version);
        if let Some(e) = seg.find_mut(l.hash, key) {
            Self::before_write(ks, epoch, l.gid, version, e);
            let at = match expiry {
                SetExpiry::Clear => None,
                SetExpiry::Keep => e.expire_at(),
                SetExpiry::At(t) => Some(t),
            };
            let old_value = std::mem::replace(&mut e.value, value);
            let old = Entry::new(e.key.clone(), old_value, e.expire_at(), e.lru);
            let was_volatile = e.expire_at != 0;
            Segment::set_expire(e, &mut seg_volatile, at);
            touch(e, policy, now);
            seg.volatile = seg_volatile;
            match (was_volatile, at.is_some()) {
                (false, true) => shard.volatile += 1,
                (true, false) => shard.volatile -= 1,
                _ => {}
            }
            return (true, Some(old));
        }
        let at = match expiry {
            SetExpiry::At(t) => Some(t),
            _ => None,
        };
        shard.make_room(si, &|e: &Entry| {
            let h = ks.hash(&e.key);
            (h, ks.route(h).1)
        });
        si = shard.seg_index(l.dhash);
        let mut entry = Entry::new(SmallBytes::new(key), value, at, 0);
        // Born after any running snapshot's cut: never part of its walk.
        entry.snap = epoch as u32;
        touch_new(&mut entry, policy, now);
        shard.segs[si].insert_new(l.hash, entry, |e| ks.hash(&e.key));
        shard.len += 1;
        if at.is_some() {
            shard.volatile += 1;
        }
        (true, None)
    }

    /// Plain overwrite (no condition, TTL cleared unless `expiry` says otherwise).
    pub fn insert(
        &mut self,
        db: usize,
        key: &[u8],
        value: Value,
        expiry: SetExpiry,
    ) -> Option<Entry> {
        self.set(db, key, value, SetCondition::Always, expiry).1
    }

    /// Puts back a whole entry (RENAME, MOVE, COPY, RESTORE), keeping its TTL and LRU.
    pub fn insert_entry(&mut self, db: usize, entry: Entry) -> Option<Entry> {
        let at = entry.expire_at();
        let key = entry.key.clone();
        let lru = entry.lru;
        let old = self.insert(
            db,
            &key,
            entry.value,
            at.map(SetExpiry::At).unwrap_or(SetExpiry::Clear),
        );
        if let Some(e) = self.find_raw(db, &key) {
            e.lru = lru;
        }
        old
    }

    /// Moves the entry at `key` to `to_key` in `to_db` (RENAME, MOVE), replacing any entry
    /// there and keeping TTL and LRU/LFU stamp. Counts one change, as Redis does for the
    /// whole move. Returns false if `key` does not exist.
    pub fn move_entry(&mut self, db: usize, key: &[u8], to_db: usize, to_key: &[u8]) -> bool {
        let Some(mut entry) = self.remove(db, key) else {
            return false;
        };
        entry.key = SmallBytes::new(to_key);
        self.insert_entry(to_db, entry);
        let l = self.loc(to_db, to_key);
        let stats = &mut self.shard(l.gid).stats;
        // The insert just counted one; the removal already counted the other.
        stats.dirty = stats.dirty.saturating_sub(1);
        true
    }

    fn find_raw(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        let l = self.loc(db, key);
        let shard = self.shard(l.gid);
        let si = shard.seg_index(l.dhash);
        shard.segs[si].find_mut(l.hash, key)
    }

    /// Deletes `key`; returns its entry if it existed (and had not expired).
    pub fn remove(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        let l = self.loc(db, key);
        if !self.expire_if_needed(l, key) {
            return None;
        }
        let (ks, epoch) = (self.ks, self.epoch);
        let shard = self.shard(l.gid);
        let si = shard.seg_index(l.dhash);
        let seg = &mut shard.segs[si];
        let version = seg.version;
        let e = seg.remove(l.hash, key, |e| ks.hash(&e.key))?;
        Self::after_remove(ks, epoch, l.gid, version, &e);
        shard.len -= 1;
        if e.expire_at != 0 {
            shard.volatile -= 1;
        }
        shard.stats.dirty += 1;
        if !shard.watched.is_empty() {
            shard.touch_watched(key);
        }
        Some(e)
    }

    /// Sets (`Some`) or removes (`None`) the TTL of an existing key. Returns false if
    /// the key does not exist.
    pub fn set_expire(&mut self, db: usize, key: &[u8], at: Option<u64>) -> bool {
        let l = self.loc(db, key);
        if !self.expire_if_needed(l, key) {
            return false;
        }
        let (ks, epoch) = (self.ks, self.epoch);
        let shard = self.shard(l.gid);
        let si = shard.seg_index(l.dhash);
        let seg = &mut shard.segs[si];
        let (mut volatile, version) = (seg.volatile, seg.version);
        let Some(e) = seg.find_mut(l.hash, key) else {
            return false;
        };
        Self::before_write(ks, epoch, l.gid, version, e);
        let was = e.expire_at != 0;
        Segment::set_expire(e, &mut volatile, at);
        seg.volatile = volatile;
        match (was, at.is_some()) {
            (false, true) => shard.volatile += 1,
            (true, false) => shard.volatile -= 1,
            _ => {}
        }
        shard.stats.dirty += 1;
        if !shard.watched.is_empty() {
            shard.touch_watched(key);
        }
        true
    }

    /// Adds `key` unless it exists, without counting a change: DEBUG POPULATE, which
    /// Redis does not count towards save points. Returns whether it was added.
    pub fn populate(&mut self, db: usize, key: &[u8], value: Value) -> bool {
        let (added, _) = self.set(db, key, value, SetCondition::IfMissing, SetExpiry::Clear);
        if added {
            let l = self.loc(db, key);
            let stats = &mut self.shard(l.gid).stats;
            stats.dirty = stats.dirty.saturating_sub(1);
        }
        added
    }

    /// Counts `n` extra changes (commands whose effect is not a single entry write).
    pub fn add_dirty(&mut self, db: usize, key: &[u8], n: u64) {
        let l = self.loc(db, key);
        self.shard(l.gid).stats.dirty += n;
    }

    /// Runs `f` on every shard of `db` in order: the held ones, or (lazy) each taken in
    /// turn. Used by KEYS, SCAN, DBSIZE, FLUSHDB.
    pub fn for_each_shard(&mut self, db: usize, mut f: impl FnMut(&mut ShardView<'_>)) {
        let per = self.ks.shards_per_db() as u32;
        for s in 0..per {
            let gid = ((db as u32) << self.ks.shard_bits) + s;
            let (ks, now) = (self.ks, self.now_ms);
            let shard = self.shard(gid);
            f(&mut ShardView {
                ks,
                shard,
                now_ms: now,
                gid,
            });
        }
    }

    /// Empties database `db` (FLUSHDB): every segment is captured first by a running
    /// snapshot, so the snapshot still sees the pre-flush content.
    pub fn flush_db(&mut self, db: usize) -> usize {
        let mut removed = 0;
        let epoch = self.epoch;
        self.for_each_shard(db, |v| {
            v.capture_all(epoch);
            removed += v.shard.len;
            v.shard.touch_all_watched(false);
            v.shard.stats.dirty += v.shard.len as u64;
            v.shard.clear(epoch);
        });
        removed
    }

    /// FLUSHDB / FLUSHALL ASYNC: [`Locked::flush_db`], but the old segments move into
    /// `garbage` so the caller can free them after the locks are released (Redis's
    /// lazyfree of a whole database).
    pub fn flush_db_into(&mut self, db: usize, garbage: &mut Vec<Segment>) -> usize {
        let mut removed = 0;
        let epoch = self.epoch;
        self.for_each_shard(db, |v| {
            v.capture_all(epoch);
            removed += v.shard.len;
            v.shard.touch_all_watched(false);
            v.shard.stats.dirty += v.shard.len as u64;
            garbage.append(&mut v.shard.segs);
            v.shard.clear(epoch);
        });
        removed
    }

    /// Swaps the contents of two databases (SWAPDB). Both must be held whole.
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let per = self.ks.shards_per_db() as u32;
        let epoch = self.epoch;
        for s in 0..per {
            let ga = ((a as u32) << self.ks.shard_bits) + s;
            let gb = ((b as u32) << self.ks.shard_bits) + s;
            let pa = self.guards.iter().position(|(id, _)| *id == ga);
            let pb = self.guards.iter().position(|(id, _)| *id == gb);
            let (Some(pa), Some(pb)) = (pa, pb) else {
                debug_assert!(false, "swap_dbs needs both databases locked");
                return;
            };
            for (p, gid) in [(pa, ga), (pb, gb)] {
                let ks = self.ks;
                let mut v = ShardView {
                    ks,
                    shard: &mut self.guards[p].1,
                    now_ms: self.now_ms,
                    gid,
                };
                v.capture_all(epoch);
                v.shard.touch_all_watched(false);
            }
            let (lo, hi) = if pa < pb { (pa, pb) } else { (pb, pa) };
            let (left, right) = self.guards.split_at_mut(hi);
            left[lo].1.swap_data(&mut right[0].1);
            self.guards[pa].1.touch_all_watched(false);
            self.guards[pb].1.touch_all_watched(false);
        }
    }

    /// A uniformly-ish random unexpired key of `db` (RANDOMKEY).
    pub fn random_key(&mut self, db: usize) -> Option<SmallBytes> {
        let per = self.ks.shards_per_db();
        let mut tries = 0;
        while tries < 100 {
            tries += 1;
            let s = rand::random_range(0..per);
            let gid = ((db << self.ks.shard_bits) + s) as u32;
            let now = self.now_ms;
            let shard = self.shard(gid);
            if shard.len == 0 {
                // Walk on to a non-empty shard rather than burn tries on empty ones.
                if tries == 100 {
                    break;
                }
                continue;
            }
            let si = rand::random_range(0..shard.segs.len());
            let seg = &shard.segs[si];
            // Rejection by size keeps bigger segments proportionally likelier.
            if seg.is_empty() || rand::random_range(0..crate::segment::SEGMENT_MAX) >= seg.len() * 2
            {
                tries -= 1;
                continue;
            }
            let start = rand::random_range(0..seg.len());
            let e = seg.sample_from(start)?;
            if !e.is_expired(now) {
                return Some(e.key.clone());
            }
        }
        // Fall back to a full walk (e.g. almost every key expired, or a sparse db).
        let mut found = None;
        let now = self.now_ms;
        self.for_each_shard(db, |v| {
            if found.is_none() {
                found = v
                    .shard
                    .segs
                    .iter()
                    .flat_map(|s| s.iter())
                    .find(|e| !e.is_expired(now))
                    .map(|e| e.key.clone());
            }
        });
        found
    }

    pub fn policy(&self) -> EvictionPolicy {
        self.policy
    }
}

/// One shard, as handed to [`Locked::for_each_shard`].
pub struct ShardView<'s> {
    ks: &'s Keyspace,
    pub shard: &'s mut Shard,
    pub now_ms: u64,
    gid: u32,
}

impl ShardView<'_> {
    /// Unexpired entries.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        let now = self.now_ms;
        self.shard
            .segs
            .iter()
            .flat_map(|s| s.iter())
            .filter(move |e| !e.is_expired(now))
    }

    pub fn len(&self) -> usize {
        self.shard.len
    }

    pub fn is_empty(&self) -> bool {
        self.shard.len == 0
    }

    /// Hands every entry a running snapshot still owes to it (before FLUSHDB/SWAPDB
    /// takes the segments away) and stamps the segments.
    fn capture_all(&mut self, epoch: u64) {
        for seg in self.shard.segs.iter_mut().filter(|s| s.version < epoch) {
            for e in seg.iter().filter(|e| e.owed_to(epoch)) {
                Locked::hand_over(self.ks, self.gid, e);
            }
            seg.version = epoch;
        }
    }
}

/// Stamps an entry on access (Redis's `updateLFU` / LRU clock).
#[inline]
fn touch(e: &mut Entry, policy: EvictionPolicy, now: u64) {
    if policy.is_lfu() {
        let counter = clock::lfu_decayed(e.lru, now);
        let counter = clock::lfu_log_incr(counter, rand::random::<f64>());
        e.lru = (clock::lfu_minutes(now) << 8) | counter;
    } else {
        e.lru = clock::lru_clock(now);
    }
}

fn touch_new(e: &mut Entry, policy: EvictionPolicy, now: u64) {
    e.lru = if policy.is_lfu() {
        (clock::lfu_minutes(now) << 8) | clock::LFU_INIT
    } else {
        clock::lru_clock(now)
    };
}

impl Locked<'_> {
    /// Runs `f` on shard `idx` of `db` (held, or taken if lazy).
    pub(crate) fn with_shard_index<R>(
        &mut self,
        db: usize,
        idx: usize,
        f: impl FnOnce(&mut Shard) -> R,
    ) -> R {
        let gid = ((db << self.ks.shard_bits) + idx) as u32;
        f(self.shard(gid))
    }
}

impl Locked<'_> {
    /// Registers a WATCH of `key` in `db`: `flag` is set when the key changes.
    pub fn watch(
        &mut self,
        db: usize,
        key: &[u8],
        flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) {
        let l = self.loc(db, key);
        self.shard(l.gid).watch(key, flag);
    }

    pub fn unwatch(
        &mut self,
        db: usize,
        key: &[u8],
        flag: &std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) {
        let l = self.loc(db, key);
        self.shard(l.gid).unwatch(key, flag);
    }
}
