//! [`Segment`]: a bounded hash table of entries — the unit of snapshot copy-on-write.
//! A segment never grows past [`SEGMENT_MAX`] entries; the shard splits it instead, so
//! copying or serialising one segment is always a bounded amount of work.
//!
//! Layout: entries live densely in a `Vec` (grown by a quarter at a time), and a hashbrown
//! table of `u16` positions indexes them (a segment holds at most [`SEGMENT_MAX`]; only
//! one at the directory's maximum depth could pass 2^16, which would take 2^16 keys
//! agreeing on 30 bits of a per-process seeded hash). A table of whole 64-byte entries would sit at
//! 44–87% load between doublings (≈ 100 bytes per key); the dense array wastes at most a
//! quarter of an entry and the index costs ≈ 6–11 bytes, which is what keeps per-key
//! overhead near Redis's. Removal swaps the last entry into the hole (its index slot is
//! found by its hash and rewritten).

use hashbrown::HashTable;

use crate::entry::Entry;

/// Entries before a split: 7/8 of 1024 index buckets, hashbrown's largest load there.
pub const SEGMENT_MAX: usize = 896;

/// The entry capacity to grow to for `n` entries: the next of jemalloc's size classes
/// (four per doubling: 2^k × 1, 1.25, 1.5, 1.75), so a grown array wastes nothing to
/// allocator rounding and each step copies at most a quarter more; never past
/// [`SEGMENT_MAX`], where the segment splits instead.
fn grow_to(n: usize) -> usize {
    let bytes = n * std::mem::size_of::<Entry>();
    let class = if bytes <= 64 {
        64
    } else {
        let p = bytes.next_power_of_two() / 2;
        let step = (p / 4).max(16);
        bytes.div_ceil(step) * step
    };
    (class / std::mem::size_of::<Entry>())
        .max(n)
        .min(SEGMENT_MAX.max(n))
}

#[derive(Clone)]
pub struct Segment {
    entries: Vec<Entry>,
    index: HashTable<u16>,
    /// Extendible hashing local depth: how many directory bits this segment owns.
    pub(crate) depth: u8,
    /// Snapshot epoch this segment's content was last captured at (see the crate docs).
    pub version: u64,
    /// Entries with an expiry, so active expiry can skip segments without any.
    pub(crate) volatile: u32,
}

impl Segment {
    pub(crate) fn new(depth: u8, version: u64) -> Segment {
        Segment {
            entries: Vec::new(),
            index: HashTable::new(),
            depth,
            version,
            volatile: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// The entry at dense position `i` (random sampling: positions are uniform).
    pub(crate) fn at(&self, i: usize) -> Option<&Entry> {
        self.entries.get(i)
    }

    pub(crate) fn find(&self, hash: u64, key: &[u8]) -> Option<&Entry> {
        let entries = &self.entries;
        let i = *self
            .index
            .find(hash, |&i| &*entries[i as usize].key == key)?;
        Some(&entries[i as usize])
    }

    pub(crate) fn find_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Entry> {
        let entries = &self.entries;
        let i = *self
            .index
            .find(hash, |&i| &*entries[i as usize].key == key)?;
        Some(&mut self.entries[i as usize])
    }

    /// Inserts an entry whose key is known to be absent.
    pub(crate) fn insert_new(&mut self, hash: u64, entry: Entry, rehash: impl Fn(&Entry) -> u64) {
        if entry.expire_at != 0 {
            self.volatile += 1;
        }
        if self.entries.len() == self.entries.capacity() {
            let n = self.entries.len();
            self.entries.reserve_exact(grow_to(n + 1) - n);
        }
        let pos = self.entries.len() as u16;
        self.entries.push(entry);
        let entries = &self.entries;
        self.index
            .insert_unique(hash, pos, |&i| rehash(&entries[i as usize]));
    }

    pub(crate) fn remove(
        &mut self,
        hash: u64,
        key: &[u8],
        rehash: impl Fn(&Entry) -> u64,
    ) -> Option<Entry> {
        let entries = &self.entries;
        let (pos, _) = self
            .index
            .find_entry(hash, |&i| &*entries[i as usize].key == key)
            .ok()?
            .remove();
        let pos = pos as usize;
        let last = self.entries.len() - 1;
        if pos != last {
            // The last entry moves into the hole: point its index slot at `pos`.
            let h = rehash(&self.entries[last]);
            if let Some(slot) = self.index.find_mut(h, |&i| i as usize == last) {
                *slot = pos as u16;
            }
        }
        let entry = self.entries.swap_remove(pos);
        if entry.expire_at != 0 {
            self.volatile -= 1;
        }
        // Give memory back when a segment empties out; neither part shrinks by itself.
        let len = self.entries.len();
        if self.entries.capacity() > 64 && len < self.entries.capacity() / 4 {
            self.entries.shrink_to(len * 2);
            let entries = &self.entries;
            self.index
                .shrink_to(len * 2, |&i| rehash(&entries[i as usize]));
        }
        Some(entry)
    }

    /// Moves the entries matching `pred` into a new segment (a split), both right-sized.
    pub(crate) fn split_off(
        &mut self,
        pred: impl Fn(&Entry) -> bool,
        rehash: impl Fn(&Entry) -> u64,
        depth: u8,
    ) -> Segment {
        let (moved, kept): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(pred);
        let mut new = Segment::new(depth, self.version);
        new.rebuild(moved, &rehash);
        self.rebuild(kept, &rehash);
        self.depth = depth;
        new
    }

    fn rebuild(&mut self, mut entries: Vec<Entry>, rehash: &impl Fn(&Entry) -> u64) {
        entries.shrink_to(grow_to(entries.len()));
        let mut index = HashTable::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            index.insert_unique(rehash(e), i as u16, |&j| rehash(&entries[j as usize]));
        }
        self.volatile = entries.iter().filter(|e| e.expire_at != 0).count() as u32;
        self.entries = entries;
        self.index = index;
    }

    /// Sets or clears an entry's expiry, keeping the volatile count right.
    pub(crate) fn set_expire(entry: &mut Entry, volatile: &mut u32, at: Option<u64>) {
        let was = entry.expire_at != 0;
        entry.expire_at = at.unwrap_or(0);
        match (was, at.is_some()) {
            (false, true) => *volatile += 1,
            (true, false) => *volatile -= 1,
            _ => {}
        }
    }

    /// The entry at position `start` (wrapping): uniform random sampling.
    pub(crate) fn sample_from(&self, start: usize) -> Option<&Entry> {
        if self.entries.is_empty() {
            return None;
        }
        self.entries.get(start % self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SmallBytes, StrValue, Value};

    #[test]
    fn growth_follows_allocator_size_classes() {
        assert_eq!(std::mem::size_of::<Entry>(), 64);
        let mut n = 1;
        let mut steps = vec![];
        while n < SEGMENT_MAX {
            n = grow_to(n + 1);
            steps.push(n);
        }
        assert_eq!(&steps[..8], &[2, 3, 4, 5, 6, 7, 8, 10]);
        assert!(steps.contains(&448) && steps.contains(&512) && steps.contains(&640));
        assert_eq!(*steps.last().unwrap(), SEGMENT_MAX);
        for w in steps.windows(2) {
            assert!(w[1] * 4 <= w[0] * 5 + 4, "{w:?}: at most a quarter more");
        }
    }
    use proptest::prelude::*;

    fn h(e: &Entry) -> u64 {
        // A deliberately weak hash: collisions exercise the index's key comparison.
        e.key
            .iter()
            .fold(0u64, |a, &b| a.wrapping_mul(31).wrapping_add(b as u64))
            % 97
    }

    fn entry(k: u16, ttl: bool) -> Entry {
        let key = SmallBytes::new(format!("key:{k}").as_bytes());
        let v = Value::Str(StrValue::Int(k as i64));
        Entry::new(key, v, ttl.then_some(1), 0)
    }

    proptest! {
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((any::<bool>(), 0u16..300, any::<bool>()), 0..800),
                              split_bit in 0u32..4) {
            let mut seg = Segment::new(0, 0);
            let mut model = std::collections::HashMap::new();
            for (insert, k, ttl) in ops {
                let e = entry(k, ttl);
                let hash = h(&e);
                if insert {
                    if seg.find(hash, &e.key).is_none() {
                        seg.insert_new(hash, e, h);
                        model.insert(k, ttl);
                    }
                } else {
                    let got = seg.remove(hash, &e.key, h).is_some();
                    prop_assert_eq!(got, model.remove(&k).is_some());
                }
                prop_assert_eq!(seg.len(), model.len());
            }
            prop_assert_eq!(seg.volatile as usize, model.values().filter(|t| **t).count());
            for k in model.keys() {
                let e = entry(*k, false);
                prop_assert!(seg.find(h(&e), &e.key).is_some());
            }
            let other = seg.split_off(|e| (h(e) >> split_bit) & 1 == 1, h, 1);
            prop_assert_eq!(seg.len() + other.len(), model.len());
            for k in model.keys() {
                let e = entry(*k, false);
                let in_new = (h(&e) >> split_bit) & 1 == 1;
                let (yes, no) = if in_new { (&other, &seg) } else { (&seg, &other) };
                prop_assert!(yes.find(h(&e), &e.key).is_some());
                prop_assert!(no.find(h(&e), &e.key).is_none());
            }
        }
    }
}
