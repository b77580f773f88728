//! [`Segment`]: a bounded hash table of entries — the unit of snapshot copy-on-write.
//! A segment never grows past [`SEGMENT_MAX`] entries; the shard splits it instead, so
//! copying or serialising one segment is always a bounded amount of work.

use hashbrown::HashTable;

use crate::entry::Entry;

/// Entries before a split: 7/8 of 1024 buckets, hashbrown's largest load at that size.
pub const SEGMENT_MAX: usize = 896;

#[derive(Clone)]
pub struct Segment {
    pub(crate) table: HashTable<Entry>,
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
            table: HashTable::new(),
            depth,
            version,
            volatile: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.table.iter()
    }

    pub(crate) fn find(&self, hash: u64, key: &[u8]) -> Option<&Entry> {
        self.table.find(hash, |e| &*e.key == key)
    }

    pub(crate) fn find_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Entry> {
        self.table.find_mut(hash, |e| &*e.key == key)
    }

    /// Inserts an entry whose key is known to be absent.
    pub(crate) fn insert_new(&mut self, hash: u64, entry: Entry, rehash: impl Fn(&Entry) -> u64) {
        if entry.expire_at != 0 {
            self.volatile += 1;
        }
        self.table.insert_unique(hash, entry, rehash);
    }

    pub(crate) fn remove(
        &mut self,
        hash: u64,
        key: &[u8],
        rehash: impl Fn(&Entry) -> u64,
    ) -> Option<Entry> {
        let (entry, _) = self
            .table
            .find_entry(hash, |e| &*e.key == key)
            .ok()?
            .remove();
        if entry.expire_at != 0 {
            self.volatile -= 1;
        }
        // Give memory back when a segment empties out; hashbrown never shrinks by itself.
        let len = self.table.len();
        if self.table.capacity() > 64 && len < self.table.capacity() / 4 {
            self.table.shrink_to(len * 2, rehash);
        }
        Some(entry)
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

    /// The entry in bucket `start` or the next occupied bucket after it (wrapping):
    /// uniform-ish random sampling without iterating the table.
    pub(crate) fn sample_from(&self, start: usize) -> Option<&Entry> {
        let n = self.table.num_buckets();
        if self.table.is_empty() || n == 0 {
            return None;
        }
        (0..n).find_map(|i| self.table.get_bucket((start + i) % n))
    }
}
