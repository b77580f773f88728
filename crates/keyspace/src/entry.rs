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

    /// Where this entry's heap value starts, if it has one of its own (see `prefetch`).
    #[inline]
    pub(crate) fn value_start(&self) -> Option<*const u8> {
        self.value.heap_span().map(|(p, _)| p)
    }

    /// Starts loading this entry's heap value into cache (a string's bytes up to 4 KiB, a
    /// collection's `Arc` block), for a walk that reaches it a few entries from now. A
    /// snapshot reads values nothing else has touched lately; without this its CPU went
    /// mostly to waiting for memory.
    #[inline]
    pub fn prefetch(&self) {
        if let Some((start, len)) = self.value.heap_span() {
            for off in (0..len.min(4096)).step_by(64) {
                prefetch_line(start.wrapping_add(off));
            }
        }
    }
}

/// Asks the CPU to start loading the cache line at `p` (any address: a hint never faults).
#[inline(always)]
pub(crate) fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults and reads nothing the program sees,
    // whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
