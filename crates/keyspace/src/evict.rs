//! Eviction under `maxmemory`: Redis's policies, approximated by sampling as Redis does.
//! Each round samples `maxmemory-samples` entries from random shards and evicts the best
//! candidate for the policy (longest idle, least frequently used, soonest to expire, or
//! any), through the normal write path so snapshots and watchers see the delete.

use crate::bytes::SmallBytes;
use crate::clock;
use crate::keyspace::Keyspace;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum EvictionPolicy {
    NoEviction = 0,
    AllKeysLru,
    AllKeysLfu,
    AllKeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

/// What one eviction attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictOutcome {
    Evicted,
    /// The policy allows no eviction, or there is no key it may evict.
    NothingToEvict,
}

const NAMES: [(&str, EvictionPolicy); 8] = [
    ("noeviction", EvictionPolicy::NoEviction),
    ("allkeys-lru", EvictionPolicy::AllKeysLru),
    ("allkeys-lfu", EvictionPolicy::AllKeysLfu),
    ("allkeys-random", EvictionPolicy::AllKeysRandom),
    ("volatile-lru", EvictionPolicy::VolatileLru),
    ("volatile-lfu", EvictionPolicy::VolatileLfu),
    ("volatile-random", EvictionPolicy::VolatileRandom),
    ("volatile-ttl", EvictionPolicy::VolatileTtl),
];

impl EvictionPolicy {
    pub fn from_u8(v: u8) -> EvictionPolicy {
        NAMES
            .get(v as usize)
            .map(|(_, p)| *p)
            .unwrap_or(EvictionPolicy::NoEviction)
    }

    pub fn parse(name: &str) -> Option<EvictionPolicy> {
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, p)| *p)
    }

    pub fn name(self) -> &'static str {
        NAMES[self as usize].0
    }

    pub fn is_lfu(self) -> bool {
        matches!(
            self,
            EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu
        )
    }

    fn volatile_only(self) -> bool {
        matches!(
            self,
            EvictionPolicy::VolatileLru
                | EvictionPolicy::VolatileLfu
                | EvictionPolicy::VolatileRandom
                | EvictionPolicy::VolatileTtl
        )
    }
}

impl Keyspace {
    /// Evicts one key according to the current policy.
    pub fn evict_one(&self) -> EvictOutcome {
        let policy = self.policy();
        if policy == EvictionPolicy::NoEviction {
            return EvictOutcome::NothingToEvict;
        }
        let volatile_only = policy.volatile_only();
        let samples = self.samples.load(std::sync::atomic::Ordering::Relaxed) as usize;
        let now = clock::now_ms();
        let total_shards = self.databases() * self.shards_per_db();
        // (score: higher = better to evict, db, key)
        let mut best: Option<(u64, usize, SmallBytes)> = None;
        let mut found = 0;
        for _ in 0..samples * 64 {
            if found >= samples {
                break;
            }
            let gid = rand::random_range(0..total_shards) as u32;
            let (db, _) = self.split_id(gid);
            let shard = self.mutex(gid).lock();
            if shard.len == 0 || (volatile_only && shard.volatile == 0) {
                continue;
            }
            let si = rand::random_range(0..shard.segs.len());
            let seg = &shard.segs[si];
            if seg.is_empty() || (volatile_only && seg.volatile == 0) {
                continue;
            }
            let n = seg.len();
            let start = rand::random_range(0..n);
            let pick = (0..n).find_map(|i| {
                seg.at((start + i) % n)
                    .filter(|e| !volatile_only || e.expire_at != 0)
            });
            let Some(e) = pick else { continue };
            found += 1;
            let score = match policy {
                EvictionPolicy::AllKeysLru | EvictionPolicy::VolatileLru => {
                    clock::idle_secs(e.lru, now)
                }
                EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu => {
                    255 - clock::lfu_decayed(e.lru, now) as u64
                }
                EvictionPolicy::VolatileTtl => u64::MAX - e.expire_at,
                _ => rand::random::<u32>() as u64,
            };
            if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                best = Some((score, db, e.key.clone()));
            }
        }
        let Some((_, db, key)) = best else {
            return EvictOutcome::NothingToEvict;
        };
        let mut locked = self.lock_keys(db, [&key[..]]);
        if locked.remove(db, &key).is_some() {
            let gid = self.shard_id(db, &key);
            drop(locked);
            self.mutex(gid).lock().stats.evicted += 1;
            EvictOutcome::Evicted
        } else {
            // Raced with a delete; the caller loops and tries again.
            EvictOutcome::Evicted
        }
    }
}
