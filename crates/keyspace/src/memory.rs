//! `used_memory` as jemalloc counts it (the allocator snapkv runs on), cached so the
//! maxmemory check on every write costs an atomic load, not a jemalloc stats refresh.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

static CACHED: AtomicU64 = AtomicU64::new(0);
/// Microseconds since `BASE` of the last refresh.
static LAST_REFRESH_US: AtomicU64 = AtomicU64::new(0);
static BASE: OnceLock<Instant> = OnceLock::new();

/// Bytes currently allocated through jemalloc, refreshed now.
pub fn used_memory_now() -> u64 {
    let _ = tikv_jemalloc_ctl::epoch::advance();
    let v = tikv_jemalloc_ctl::stats::allocated::read().unwrap_or(0) as u64;
    CACHED.store(v, Ordering::Relaxed);
    v
}

/// `used_memory`, at most about one millisecond old.
pub fn used_memory() -> u64 {
    let now = BASE.get_or_init(Instant::now).elapsed().as_micros() as u64 + 1;
    let last = LAST_REFRESH_US.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= 1000
        && LAST_REFRESH_US
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        return used_memory_now();
    }
    CACHED.load(Ordering::Relaxed)
}

/// jemalloc's (allocated, active, resident) bytes.
pub fn allocator_stats() -> (u64, u64, u64) {
    let _ = tikv_jemalloc_ctl::epoch::advance();
    let allocated = tikv_jemalloc_ctl::stats::allocated::read().unwrap_or(0) as u64;
    let active = tikv_jemalloc_ctl::stats::active::read().unwrap_or(0) as u64;
    let resident = tikv_jemalloc_ctl::stats::resident::read().unwrap_or(0) as u64;
    (allocated, active, resident)
}
