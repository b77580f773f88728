//! Per-command latency histograms: Redis 7.0's latency tracking (`latency-tracking`,
//! INFO latencystats, LATENCY HISTOGRAM).
//!
//! A [`LatencyHistogram`] is sharded per worker thread like the command counters and
//! each shard is allocated on its first call, so recording is one relaxed increment in
//! memory the thread owns, and a command never called costs nothing. Buckets are
//! log-linear over nanoseconds: 32 per power of two, so a percentile reads within 3% of
//! the true value (Redis's HdrHistogram keeps two significant digits); calls are clamped
//! to 1 ns ..= 1 s as Redis clamps them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::sharded::{slot, SLOTS};

const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Redis's `CMD_LATENCY_HISTOGRAM_MAX_VALUE`.
const MAX_NS: u64 = 1_000_000_000;
const BUCKETS: usize = index(MAX_NS) + 1;

/// The bucket of a duration: exact below 32 ns, then 32 buckets per power of two.
const fn index(ns: u64) -> usize {
    let v = if ns < 1 {
        1
    } else if ns > MAX_NS {
        MAX_NS
    } else {
        ns
    };
    if v < SUB {
        return v as usize;
    }
    let shift = 63 - v.leading_zeros() - SUB_BITS;
    let sub = (v >> shift) & (SUB - 1);
    (((shift + 1) as usize) << SUB_BITS) | sub as usize
}

/// The highest duration bucket `i` holds (HdrHistogram's "highest equivalent value").
fn upper(i: usize) -> u64 {
    if (i as u64) < SUB {
        return i as u64;
    }
    let shift = (i >> SUB_BITS) as u32 - 1;
    ((SUB + (i as u64 & (SUB - 1)) + 1) << shift) - 1
}

#[derive(Default)]
pub struct LatencyHistogram {
    shards: [OnceLock<Box<[AtomicU64]>>; SLOTS],
}

impl LatencyHistogram {
    /// One call of `ns` nanoseconds. (Hot path.)
    #[inline]
    pub fn record(&self, ns: u64) {
        let shard =
            self.shards[slot()].get_or_init(|| (0..BUCKETS).map(|_| AtomicU64::new(0)).collect());
        shard[index(ns)].fetch_add(1, Ordering::Relaxed);
    }

    /// The counts summed over every thread; None when nothing was recorded (since the
    /// last reset), as Redis has no histogram for a command not yet called.
    pub fn counts(&self) -> Option<Counts> {
        let mut buckets = vec![0u64; BUCKETS];
        for shard in self.shards.iter().filter_map(OnceLock::get) {
            for (sum, c) in buckets.iter_mut().zip(shard.iter()) {
                *sum += c.load(Ordering::Relaxed);
            }
        }
        let total = buckets.iter().sum();
        (total > 0).then_some(Counts { buckets, total })
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for shard in self.shards.iter().filter_map(OnceLock::get) {
            for c in shard.iter() {
                c.store(0, Ordering::Relaxed);
            }
        }
    }
}

/// A histogram read at one moment.
pub struct Counts {
    buckets: Vec<u64>,
    pub total: u64,
}

impl Counts {
    /// The duration (ns) at `percentile` (0–100), read as HdrHistogram reads it: the
    /// highest value of the bucket where the count reaches that share of all calls.
    pub fn at_percentile(&self, percentile: f64) -> u64 {
        let wanted = ((percentile.clamp(0.0, 100.0) / 100.0 * self.total as f64) + 0.5) as u64;
        let wanted = wanted.max(1);
        let mut seen = 0;
        for (i, &c) in self.buckets.iter().enumerate() {
            seen += c;
            if seen >= wanted {
                return upper(i);
            }
        }
        MAX_NS
    }

    /// LATENCY HISTOGRAM's cumulative distribution: (µs, calls taking at most that
    /// long) at 1024 ns and every doubling after, each step that adds calls, as Redis's
    /// `hdr_iter_log_init(…, 1024, 2)` walk reports it. A step is labelled, as there,
    /// with the highest value HdrHistogram (two significant digits) files with it.
    pub fn log_cdf(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let (mut seen, mut i, mut previous) = (0, 0, 0);
        let mut bound: u64 = 1024;
        while previous < self.total {
            while i < BUCKETS && upper(i) < bound {
                seen += self.buckets[i];
                i += 1;
            }
            if seen > previous {
                out.push(((bound + bound / 128 - 1) / 1000, seen));
            }
            previous = seen;
            bound *= 2;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_tile_the_range_and_hold_their_values() {
        let mut last = 0;
        for i in 1..BUCKETS {
            assert_eq!(index(upper(i)), i, "bucket {i}");
            assert_eq!(
                index(upper(i - 1) + 1),
                i,
                "bucket {i} starts after {}",
                i - 1
            );
            assert!(upper(i) > last);
            last = upper(i);
        }
        assert!(upper(BUCKETS - 1) >= MAX_NS);
        // Within 1/32 of any value.
        for v in [33, 1000, 7_007, 123_456, 999_999_999] {
            let u = upper(index(v));
            assert!(u >= v && (u - v) as f64 <= v as f64 / 32.0, "{v} -> {u}");
        }
    }

    #[test]
    fn percentiles_and_cdf_read_what_was_recorded() {
        let h = LatencyHistogram::default();
        assert!(h.counts().is_none());
        for _ in 0..90 {
            h.record(5_000); // 5 µs
        }
        for _ in 0..10 {
            h.record(3_000_000); // 3 ms
        }
        h.record(5_000_000_000); // clamped to 1 s
        let c = h.counts().unwrap();
        assert_eq!(c.total, 101);
        let p50 = c.at_percentile(50.0);
        assert!((5_000..5_200).contains(&p50), "{p50}");
        let p99 = c.at_percentile(99.0);
        assert!((3_000_000..3_100_000).contains(&p99), "{p99}");
        assert!(c.at_percentile(100.0) >= MAX_NS);
        // 5 µs calls first appear at the 8 µs step; 3 ms ones at 4227 µs (4194304 ns, as
        // Redis labels it); the clamped one at the first step past 1 s.
        assert_eq!(
            c.log_cdf(),
            vec![(8, 90), (4227, 100), (1082130, 101)],
            "{:?}",
            c.log_cdf()
        );
        h.reset();
        assert!(h.counts().is_none());
    }
}
