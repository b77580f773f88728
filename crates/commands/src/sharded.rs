//! Statistics counters that every worker thread bumps on every command, sharded per
//! thread so the hot path never bounces a cache line between cores. Reads (INFO) sum the
//! shards; the method names mirror `AtomicU64` so call sites read the same.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Shards per counter; threads beyond this share slots (still correct, just contended).
pub(crate) const SLOTS: usize = 8;

static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// This thread's shard index.
#[inline]
pub(crate) fn slot() -> usize {
    SLOT.with(|s| {
        let v = s.get();
        if v != usize::MAX {
            return v;
        }
        let v = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS;
        s.set(v);
        v
    })
}

#[repr(align(64))]
#[derive(Default)]
struct Padded<T>(T);

#[derive(Default)]
pub struct ShardedCounter {
    slots: [Padded<AtomicU64>; SLOTS],
}

impl ShardedCounter {
    #[inline]
    pub fn fetch_add(&self, n: u64, order: Ordering) {
        self.slots[slot()].0.fetch_add(n, order);
    }

    pub fn load(&self, order: Ordering) -> u64 {
        self.slots.iter().map(|s| s.0.load(order)).sum()
    }

    pub fn store(&self, v: u64, order: Ordering) {
        for (i, s) in self.slots.iter().enumerate() {
            s.0.store(if i == 0 { v } else { 0 }, order);
        }
    }
}

/// Per-command statistics (INFO commandstats), one cache line per thread shard, and the
/// command's latency histogram (INFO latencystats).
#[derive(Default)]
pub struct CmdStats {
    slots: [Padded<[AtomicU64; 4]>; SLOTS],
    pub latency: crate::histogram::LatencyHistogram,
}

const CALLS: usize = 0;
const USEC: usize = 1;
const REJECTED: usize = 2;
const FAILED: usize = 3;

impl CmdStats {
    /// One completed call that took `usec` microseconds. (Hot path.)
    #[inline]
    pub fn record_call(&self, usec: u64) {
        let s = &self.slots[slot()].0;
        s[CALLS].fetch_add(1, Ordering::Relaxed);
        s[USEC].fetch_add(usec, Ordering::Relaxed);
    }

    pub fn record_rejected(&self) {
        self.slots[slot()].0[REJECTED].fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_failed(&self) {
        self.slots[slot()].0[FAILED].fetch_add(1, Ordering::Relaxed);
    }

    fn sum(&self, i: usize) -> u64 {
        self.slots
            .iter()
            .map(|s| s.0[i].load(Ordering::Relaxed))
            .sum()
    }

    pub fn calls(&self) -> u64 {
        self.sum(CALLS)
    }

    pub fn usec(&self) -> u64 {
        self.sum(USEC)
    }

    pub fn rejected(&self) -> u64 {
        self.sum(REJECTED)
    }

    pub fn failed(&self) -> u64 {
        self.sum(FAILED)
    }

    pub fn reset(&self) {
        for s in &self.slots {
            for c in &s.0 {
                c.store(0, Ordering::Relaxed);
            }
        }
        self.latency.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_across_threads() {
        let c = std::sync::Arc::new(ShardedCounter::default());
        let s = std::sync::Arc::new(CmdStats::default());
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let (c, s) = (c.clone(), s.clone());
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        c.fetch_add(2, Ordering::Relaxed);
                        s.record_call(3);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(c.load(Ordering::Relaxed), 8000);
        assert_eq!((s.calls(), s.usec()), (4000, 12000));
        c.store(0, Ordering::Relaxed);
        assert_eq!(c.load(Ordering::Relaxed), 0);
    }
}
