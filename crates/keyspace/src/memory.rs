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

/// MEMORY PURGE: asks jemalloc to return every arena's dirty pages to the system now
/// (Redis's `jemalloc_purge`). False if jemalloc refused.
pub fn purge() -> bool {
    // "arena.<MALLCTL_ARENAS_ALL>.purge": a write-only control that takes no value.
    let name = b"arena.4096.purge\0";
    // SAFETY: a NUL-terminated control name; no old or new value is passed, as this
    // control requires.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr().cast(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        ) == 0
    }
}

/// MEMORY MALLOC-STATS: jemalloc's own statistics report, as text.
pub fn allocator_report() -> String {
    unsafe extern "C" fn append(out: *mut std::ffi::c_void, text: *const std::ffi::c_char) {
        // SAFETY: `out` is the String passed below, alive for the whole call, and jemalloc
        // hands over NUL-terminated text.
        let (out, text) = unsafe { (&mut *out.cast::<String>(), std::ffi::CStr::from_ptr(text)) };
        out.push_str(&text.to_string_lossy());
    }
    let mut out = String::new();
    // SAFETY: the callback only appends to `out`, which outlives the call; null options
    // ask for the default report.
    unsafe {
        tikv_jemalloc_sys::malloc_stats_print(
            Some(append),
            (&mut out as *mut String).cast(),
            std::ptr::null(),
        );
    }
    out
}
