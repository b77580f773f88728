//! Collection values and their encodings. Each type has a compact encoding for small
//! values and a general one, converted at Redis's thresholds ([`Limits`], from the
//! `*-max-listpack-*` / `set-max-intset-entries` config), never back — as Redis 7.0:
//!
//! | type | small | large | OBJECT ENCODING |
//! |---|---|---|---|
//! | hash | [`Pack`] of field, value | [`HashTable`] | listpack / hashtable |
//! | set | [`IntSet`] (all integers) | [`SetTable`] | intset / hashtable |
//! | zset | [`Pack`] of member, score in order | [`ZSetTable`] | listpack / skiplist |
//! | list | — | [`List`] (a deque) | quicklist (7.0 has no small lists) |
//!
//! The large encodings sit behind an `Arc`, so cloning an entry (the forkless snapshot
//! captures whole segments) is a reference-count bump; a write to a captured value copies
//! it then (`Arc::make_mut`). Commands see a type through a view ([`HashRef`] /
//! [`HashMut`] etc. in each module) that hides the encoding.
//!
//! Large tables are `IndexMap`s: O(1) random member for SPOP/SRANDMEMBER/HRANDFIELD,
//! and a scan cursor that is a position. Removal is `swap_remove` (the last element
//! moves into the hole), so scans run from the end down: a moved element was either
//! already visited or lands where the scan has yet to go — every element present for a
//! whole scan is returned, as SCAN promises.

pub mod hash;
pub mod intset;
pub mod list;
pub mod pack;
pub mod set;
pub mod zset;

pub use hash::{HashMut, HashRef, HashTable};
pub use intset::IntSet;
pub use list::List;
pub use pack::{Item, ItemBuf, Pack};
pub use set::{SetMut, SetRef, SetTable};
pub use zset::{Score, ZSetMut, ZSetRef, ZSetTable};

/// Heap bytes of a collection's elements, estimated as Redis's `objectComputeSize`
/// does for MEMORY USAGE: the mean of the first `samples` elements times their count;
/// `samples` 0 sums them all. O(`samples`), so sizing a million-element collection
/// under a shard lock costs no more than sizing a small one.
pub(crate) fn sampled_sum(len: usize, samples: usize, sizes: impl Iterator<Item = usize>) -> usize {
    if samples == 0 || samples >= len {
        return sizes.sum();
    }
    let (n, sum) = sizes
        .take(samples)
        .fold((0usize, 0usize), |(n, sum), s| (n + 1, sum + s));
    if n == 0 {
        return 0;
    }
    (sum as f64 / n as f64 * len as f64) as usize
}

/// Conversion thresholds, from the config (Redis's names in the field docs).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `hash-max-listpack-entries`
    pub hash_entries: usize,
    /// `hash-max-listpack-value`
    pub hash_value: usize,
    /// `set-max-intset-entries`
    pub set_intset_entries: usize,
    /// `zset-max-listpack-entries`
    pub zset_entries: usize,
    /// `zset-max-listpack-value`
    pub zset_value: usize,
}

impl Default for Limits {
    /// Redis 7.0's built-in defaults.
    fn default() -> Self {
        Limits {
            hash_entries: 512,
            hash_value: 64,
            set_intset_entries: 512,
            zset_entries: 128,
            zset_value: 64,
        }
    }
}

pub type Hasher = foldhash::fast::RandomState;

/// One page of a collection scan: positions run from `len` down to 0 (see the module
/// docs). `cursor` 0 starts; the returned cursor is 0 when done.
pub(crate) fn scan_range(len: usize, cursor: u64, count: usize) -> (std::ops::Range<usize>, u64) {
    let start = if cursor == 0 || cursor as usize > len {
        len
    } else {
        cursor as usize
    };
    let end = start.saturating_sub(count.max(1));
    (end..start, end as u64)
}

#[cfg(test)]
mod tests {
    use super::sampled_sum;

    #[test]
    fn sampling_reads_only_the_samples_and_scales_their_mean() {
        let mut pulled = 0;
        let sizes = (0..1_000_000).map(|i| {
            pulled += 1;
            if i % 2 == 0 {
                10
            } else {
                30
            }
        });
        assert_eq!(sampled_sum(1_000_000, 64, sizes), 20_000_000);
        assert_eq!(pulled, 64, "a million elements, 64 looked at");
        // No sampling asked for, or fewer elements than samples: the exact sum.
        assert_eq!(sampled_sum(3, 0, [1, 2, 3].into_iter()), 6);
        assert_eq!(sampled_sum(3, 5, [1, 2, 3].into_iter()), 6);
        assert_eq!(sampled_sum(5, 2, std::iter::empty()), 0);
    }
}
