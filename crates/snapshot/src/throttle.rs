//! Writer throttling for the forkless snapshot: how long the next write command should
//! wait (asynchronously, in its connection task — never blocking a worker thread). Two
//! reasons, and a write waits for the larger:
//!
//! - **memory**: the capture queue holds more than half of `snapshot-buffer-limit`
//!   ([`delay`]);
//! - **pace**: the snapshot thread is falling behind the rate it needs to finish within
//!   twice its unloaded time ([`Pacer`]). "Behind" is measured, not estimated: the
//!   kernel counts how long the thread sat runnable but without a CPU
//!   (`/proc/thread-self/schedstat`). Unloaded, that wait is about zero, so a snapshot
//!   that spent `wall` seconds with `wait` of them waiting would have taken about
//!   `wall - wait` unloaded. Slow disks or S3 (the thread blocked, not waiting for a CPU)
//!   never count as "behind", so they never throttle writers.

use std::time::{Duration, Instant};

/// Writers are slowed once the snapshot projects to take this many times its unloaded
/// duration: a margin under the 2× promise.
pub const PACE_TARGET_RATIO: f64 = 1.5;
/// How often the pacer re-decides, and by how much (of `snapshot-throttle-max-delay`,
/// in thousandths) the pace delay rises or falls each time: full delay after 1 s behind.
const PACE_PERIOD: Duration = Duration::from_millis(50);
const PACE_RISE: u32 = 50;
const PACE_FALL: u32 = 100;
/// No decision before this much of the snapshot has run: too little to measure.
const PACE_GRACE: Duration = Duration::from_millis(200);

/// The memory delay for one write given the queue's size. Below half the limit: none;
/// then rising linearly to `max_delay` at the limit and beyond.
pub fn delay(queued_bytes: u64, limit: u64, max_delay: Duration) -> Option<Duration> {
    if limit == 0 || max_delay.is_zero() || queued_bytes <= limit / 2 {
        return None;
    }
    let over = (queued_bytes - limit / 2) as f64 / (limit - limit / 2).max(1) as f64;
    Some(max_delay.mul_f64(over.min(1.0)))
}

/// The pace delay for one write: `permille` thousandths of `max_delay`.
pub fn pace_delay(permille: u32, max_delay: Duration) -> Option<Duration> {
    (permille > 0 && !max_delay.is_zero()).then(|| max_delay * permille.min(1000) / 1000)
}

/// Run-queue wait of the calling thread so far, if the kernel reports it.
pub fn run_queue_wait() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let wait_ns: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(Duration::from_nanos(wait_ns))
}

/// The snapshot thread's pace controller: call [`Pacer::tick`] between units of work;
/// it returns the pace level (thousandths of the maximum delay) for writers.
pub struct Pacer {
    start: Instant,
    wait0: Duration,
    last: Instant,
    level: u32,
}

impl Pacer {
    /// None when the kernel does not report run-queue waits: then only the memory bound
    /// throttles.
    pub fn new() -> Option<Pacer> {
        let now = Instant::now();
        Some(Pacer {
            start: now,
            wait0: run_queue_wait()?,
            last: now,
            level: 0,
        })
    }

    pub fn tick(&mut self) -> u32 {
        let now = Instant::now();
        if now - self.last < PACE_PERIOD || now - self.start < PACE_GRACE {
            return self.level;
        }
        self.last = now;
        if let Some(wait) = run_queue_wait() {
            self.level = next_level(
                self.level,
                now - self.start,
                wait.saturating_sub(self.wait0),
            );
        }
        self.level
    }
}

/// One controller step: rise while the projected slowdown `wall / (wall - wait)` is over
/// [`PACE_TARGET_RATIO`], fall (twice as fast) once it is back under.
pub fn next_level(level: u32, wall: Duration, wait: Duration) -> u32 {
    let busy = wall.saturating_sub(wait).as_secs_f64().max(1e-6);
    if wall.as_secs_f64() / busy > PACE_TARGET_RATIO {
        (level + PACE_RISE).min(1000)
    } else {
        level.saturating_sub(PACE_FALL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportional_then_capped() {
        let max = Duration::from_millis(10);
        assert_eq!(delay(100, 1000, max), None);
        assert_eq!(delay(500, 1000, max), None);
        assert_eq!(delay(750, 1000, max), Some(Duration::from_millis(5)));
        assert_eq!(delay(5000, 1000, max), Some(max));
        assert_eq!(delay(5000, 0, max), None);
    }

    #[test]
    fn pace_rises_while_starved_and_falls_once_caught_up() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        // Half the time waiting for a CPU: 2x projected, so the level climbs to the cap.
        let mut level = 0;
        for _ in 0..30 {
            level = next_level(level, s(2), s(1));
        }
        assert_eq!(level, 1000);
        assert_eq!(pace_delay(level, ms(10)), Some(ms(10)));
        // 10% waiting: 1.11x projected, so it falls back to zero.
        for _ in 0..10 {
            level = next_level(level, s(2), ms(200));
        }
        assert_eq!(level, 0);
        assert_eq!(pace_delay(0, ms(10)), None);
        assert_eq!(pace_delay(500, ms(10)), Some(ms(5)));
    }

    #[test]
    fn this_kernel_reports_run_queue_waits_of_a_busy_thread() {
        // Informational where /proc lacks schedstat: the pacer then stays off.
        if let Some(before) = run_queue_wait() {
            let t = Instant::now();
            while t.elapsed() < Duration::from_millis(20) {}
            assert!(run_queue_wait().unwrap() >= before);
        }
    }
}
