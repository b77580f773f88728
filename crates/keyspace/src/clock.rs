//! Clocks: wall-clock milliseconds for expiry, and Redis's LRU/LFU clocks.

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Redis's `LRU_CLOCK_MAX`: the LRU clock is 24 bits of seconds.
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// Redis's LRU clock: seconds, wrapping at 24 bits.
pub fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / 1000) as u32) & LRU_CLOCK_MAX
}

/// Seconds an entry with stamp `lru` has been idle (Redis's `estimateObjectIdleTime`).
pub fn idle_secs(lru: u32, now_ms: u64) -> u64 {
    let clock = lru_clock(now_ms);
    if clock >= lru {
        (clock - lru) as u64
    } else {
        (clock + (LRU_CLOCK_MAX - lru)) as u64
    }
}

/// LFU time in minutes, 16 bits (Redis's `LFUGetTimeInMinutes`).
pub fn lfu_minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xffff) as u32
}

/// Redis's `LFU_INIT_VAL`.
pub const LFU_INIT: u32 = 5;

/// Redis's `LFULogIncr` with `lfu-log-factor` 10.
pub fn lfu_log_incr(counter: u32, rnd: f64) -> u32 {
    if counter == 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT) as f64;
    let p = 1.0 / (base * 10.0 + 1.0);
    if rnd < p {
        counter + 1
    } else {
        counter
    }
}

/// Redis's `LFUDecrAndReturn` with `lfu-decay-time` 1.
pub fn lfu_decayed(lru: u32, now_ms: u64) -> u32 {
    let ldt = lru >> 8;
    let counter = lru & 0xff;
    let now = lfu_minutes(now_ms);
    let elapsed = if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    };
    counter.saturating_sub(elapsed)
}
