//! [`Entry`]: one key, its value, its expiry and its LRU/LFU stamp — 64 bytes for a short
//! key and a short string value.

use crate::bytes::SmallBytes;
use crate::value::Value;

#[derive(Clone, Debug)]
pub struct Entry {
    pub key: SmallBytes,
    pub value: Value,
    /// Absolute expiry in Unix milliseconds; 0 = persistent.
    pub(crate) expire_at: u64,
    /// LRU clock (seconds) in LRU mode, `ldt << 8 | counter` in LFU mode, as Redis's
    /// 24-bit `lru` field.
    pub lru: u32,
    /// Low 32 bits of the snapshot epoch at which this entry was created or handed to a
    /// running snapshot (fits the padding after `lru`). An entry equal to the running
    /// snapshot's epoch is not part of that snapshot's walk: it was born after the cut,
    /// or its value at the cut is already in the capture queue.
    pub(crate) snap: u32,
}

const _: () = assert!(std::mem::size_of::<Entry>() <= 64);

impl Entry {
    pub fn new(key: SmallBytes, value: Value, expire_at: Option<u64>, lru: u32) -> Entry {
        Entry {
            key,
            value,
            expire_at: expire_at.unwrap_or(0),
            lru,
            snap: 0,
        }
    }

    pub fn expire_at(&self) -> Option<u64> {
        (self.expire_at != 0).then_some(self.expire_at)
    }

    /// Whether the snapshot cut at `epoch` still has to be given this entry (if its
    /// segment has not been walked yet).
    #[inline]
    pub(crate) fn owed_to(&self, epoch: u64) -> bool {
        self.snap != epoch as u32
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_at != 0 && self.expire_at <= now_ms
    }
}
