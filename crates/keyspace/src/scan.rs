//! SCAN over a sharded, segment-splitting table with Redis's guarantee: every key present
//! for the whole iteration is returned at least once.
//!
//! The cursor is a position in the key-routing hash space (`hash >> 20`, whose low bits
//! pick the shard and the next ones the directory slot), advanced with Redis's
//! reverse-binary increment. Each step visits one "bucket" — all keys whose low `g` route
//! bits equal the cursor's — where `g` covers the shard, the segment's local depth, and a
//! few extra bits so a full segment is visited in chunks of about COUNT keys. Because the
//! increment works on reversed bits, `g` may differ from one call to the next (segments
//! split, COUNT changes) without skipping any bucket, exactly as in Redis's `dictScan`.

use crate::bytes::SmallBytes;
use crate::entry::Entry;
use crate::locked::Locked;
use crate::value::ValueType;

/// SCAN's MATCH and TYPE options.
#[derive(Default)]
pub struct ScanFilter<'p> {
    pub pattern: Option<&'p [u8]>,
    pub value_type: Option<ValueType>,
}

impl ScanFilter<'_> {
    pub fn accepts(&self, e: &Entry) -> bool {
        self.pattern
            .is_none_or(|p| crate::glob::matches(p, &e.key, false))
            && self.value_type.is_none_or(|t| e.value.value_type() == t)
    }
}

/// Route bits the cursor may use (`hash >> 20` leaves 44).
const ROUTE_BITS: u32 = 44;

fn next_cursor(v: u64, bits: u32) -> u64 {
    let mask = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let v = v | !mask;
    let v = v.reverse_bits().wrapping_add(1).reverse_bits();
    v & ((1u64 << ROUTE_BITS) - 1)
}

impl Locked<'_> {
    /// One SCAN call: keys from `cursor` on, about `count` of them before filtering, and
    /// the next cursor (0 when the iteration is complete).
    pub fn scan(
        &mut self,
        db: usize,
        mut cursor: u64,
        count: usize,
        filter: &ScanFilter<'_>,
    ) -> (u64, Vec<SmallBytes>) {
        let count = count.max(1);
        let ks = self.keyspace();
        let shard_bits = ks.shards_per_db().trailing_zeros();
        let mut out = Vec::new();
        let mut visited = 0usize;
        let max_steps = count.saturating_mul(10).max(ks.shards_per_db() * 2);
        for _ in 0..max_steps {
            let shard_idx = (cursor & ((1 << shard_bits) - 1)) as usize;
            let dpos = cursor >> shard_bits;
            let mut step_bits = shard_bits;
            let now = self.now_ms;
            self.with_shard_index(db, shard_idx, |shard| {
                let si = shard.seg_index(dpos);
                let seg = &shard.segs[si];
                let depth = seg.depth as u32;
                // Extra bits so one step returns about `count` keys of a big segment.
                let mut extra = 0;
                while extra < 16 && (seg.len() >> extra) > count {
                    extra += 1;
                }
                step_bits = (shard_bits + depth + extra).min(ROUTE_BITS);
                let mask = (1u64 << step_bits) - 1;
                for e in seg.iter() {
                    visited += 1;
                    let route = ks.hash(&e.key) >> 20;
                    if route & mask == cursor & mask && !e.is_expired(now) && filter.accepts(e) {
                        out.push(e.key.clone());
                    }
                }
            });
            cursor = next_cursor(cursor, step_bits);
            if cursor == 0 || out.len() >= count || visited >= count.saturating_mul(64) {
                break;
            }
        }
        (cursor, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Keyspace, KeyspaceConfig, SetExpiry, StrValue, Value};
    use std::collections::HashSet;

    fn fill(ks: &Keyspace, range: std::ops::Range<u32>) {
        for i in range {
            let k = format!("key:{i}");
            let mut l = ks.lock_keys(0, [k.as_bytes()]);
            l.insert(
                0,
                k.as_bytes(),
                Value::Str(StrValue::from_bytes(b"v")),
                SetExpiry::Clear,
            );
        }
    }

    #[test]
    fn full_iteration_returns_every_key_even_while_segments_split() {
        let ks = Keyspace::new(KeyspaceConfig {
            databases: 1,
            shards_per_db: 4,
        });
        fill(&ks, 0..5000);
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut calls = 0;
        let mut next = 5000;
        loop {
            let (c, keys) = ks.lazy().scan(0, cursor, 10, &ScanFilter::default());
            seen.extend(keys.iter().map(|k| k.to_vec()));
            // Grow the table during the scan: forces splits.
            fill(&ks, next..next + 7);
            next += 7;
            calls += 1;
            cursor = c;
            if cursor == 0 {
                break;
            }
            assert!(calls < 100_000, "scan does not terminate");
        }
        for i in 0..5000 {
            assert!(
                seen.contains(format!("key:{i}").as_bytes()),
                "missed key:{i}"
            );
        }
    }

    #[test]
    fn empty_db_finishes_in_one_call() {
        let ks = Keyspace::new(KeyspaceConfig::default());
        let (c, keys) = ks.lazy().scan(0, 0, 10, &ScanFilter::default());
        assert_eq!((c, keys.len()), (0, 0));
    }
}
