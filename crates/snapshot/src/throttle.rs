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
//!
//! The same measurement lets the snapshot be polite: while it is well ahead of its 2×
//! schedule its thread runs at `SCHED_IDLE`, so commands keep the CPU; falling behind, it
//! competes normally; only behind that do writers wait ([`Pacer::step`]).

use std::time::{Duration, Instant};

/// Writers are slowed once the snapshot projects to take this many times its unloaded
/// duration: the last resort, a margin under the 2× promise.
pub const PACE_TARGET_RATIO: f64 = 1.9;
/// The snapshot thread runs at `SCHED_IDLE` — only on CPU time nothing else wants — while
/// it projects under [`POLITE_BELOW_RATIO`], and competes normally once it projects over
/// [`NORMAL_ABOVE_RATIO`] (the gap is hysteresis). Measured on 2 cores under a SET load:
/// a normal-priority CPU burner costs the load a third of its throughput, a `SCHED_IDLE`
/// one an eighth; `nice 19` barely helps (the load's threads sleep and wake constantly,
/// and only `SCHED_IDLE` loses every wake-up race).
pub const POLITE_BELOW_RATIO: f64 = 1.7;
pub const NORMAL_ABOVE_RATIO: f64 = 1.8;
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

/// The snapshot thread's pace controller: create it on the snapshot thread, call
/// [`Pacer::step`] after each unit of work, and drop it on the same thread when done.
///
/// The projection: the snapshot has run `wall`, of which it spent `wait` runnable but
/// without a CPU; unloaded it would have needed only the rest, so it is running
/// `wall / (wall - wait)` times slower than unloaded.
pub struct Pacer {
    start: Instant,
    wait0: Duration,
    last: Instant,
    /// Run-queue wait at `last`, for the share of the CPU the thread got since.
    last_wait: Duration,
    level: u32,
    polite: bool,
    /// Times the thread switched between polite and normal priority.
    pub switches: u64,
}

impl Pacer {
    /// None when the kernel does not report run-queue waits: then only the memory bound
    /// throttles, and the thread keeps its normal priority.
    pub fn new() -> Option<Pacer> {
        let now = Instant::now();
        let wait0 = run_queue_wait()?;
        let mut p = Pacer {
            start: now,
            wait0,
            last: now,
            last_wait: wait0,
            level: 0,
            polite: false,
            switches: 0,
        };
        p.set_polite(true);
        Some(p)
    }

    /// Updates the thread's priority and the writers' pace level (returned, in
    /// thousandths of the maximum delay). `done` is the fraction of the work done.
    ///
    /// Priority follows the ratio so far. Writers are paced on the *projected final*
    /// ratio instead: the work left, at the CPU share the thread got over the last
    /// period — so a polite start that fell behind, now caught up at normal priority, does
    /// not make writers pay for it.
    pub fn step(&mut self, done: f64) -> u32 {
        let now = Instant::now();
        let wall = now - self.start;
        if wall < PACE_GRACE {
            return self.level;
        }
        let Some(wait) = run_queue_wait() else {
            return self.level;
        };
        let busy = wall
            .saturating_sub(wait.saturating_sub(self.wait0))
            .as_secs_f64()
            .max(1e-6);
        let ratio = wall.as_secs_f64() / busy;
        if self.polite && ratio > NORMAL_ABOVE_RATIO {
            self.set_polite(false);
        } else if !self.polite && ratio < POLITE_BELOW_RATIO {
            self.set_polite(true);
        }
        let period = now - self.last;
        if period >= PACE_PERIOD {
            let waited = wait.saturating_sub(self.last_wait);
            let share = 1.0 - waited.as_secs_f64() / period.as_secs_f64();
            self.last = now;
            self.last_wait = wait;
            let projected = projected_ratio(wall.as_secs_f64(), busy, done, share);
            // Writers wait only once the thread already competes at normal priority.
            self.level = next_level(self.level, if self.polite { 0.0 } else { projected });
        }
        self.level
    }

    /// Runs `f` at normal priority. For work under locks that commands take (a shard,
    /// the capture queue): a `SCHED_IDLE` thread preempted while holding one would wait
    /// for every other thread on the machine, and the command waiting for the lock with
    /// it (priority inversion; seen as 100+ ms stalls before this).
    pub fn holding_locks<R>(&mut self, f: impl FnOnce() -> R) -> R {
        if !self.polite {
            return f();
        }
        set_policy(libc::SCHED_OTHER);
        let r = f();
        set_policy(libc::SCHED_IDLE);
        r
    }

    fn set_polite(&mut self, polite: bool) {
        let policy = if polite {
            libc::SCHED_IDLE
        } else {
            libc::SCHED_OTHER
        };
        if set_policy(policy) {
            self.polite = polite;
            self.switches += 1;
            tracing::debug!(
                "snapshot thread {} after {:?}",
                if polite {
                    "polite (SCHED_IDLE)"
                } else {
                    "at normal priority"
                },
                self.start.elapsed()
            );
        }
    }
}

/// Sets the calling thread's scheduling policy; false if the kernel refused.
fn set_policy(policy: libc::c_int) -> bool {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: changes only the calling thread's (pid 0) scheduling policy.
    unsafe { libc::sched_setscheduler(0, policy, &param) == 0 }
}

/// [`Pacer::holding_locks`] when there is a pacer; just `f` otherwise.
pub fn holding_locks<R>(pacer: &mut Option<Pacer>, f: impl FnOnce() -> R) -> R {
    match pacer {
        Some(p) => p.holding_locks(f),
        None => f(),
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        if self.polite {
            self.set_polite(false);
        }
    }
}

/// The whole snapshot's slowdown against unloaded if the rest runs at `share` of a CPU:
/// `busy` seconds did fraction `done` of the work, so it needs `busy / done` in all.
/// Before 5% of the work there is too little to extrapolate from, and writers are not
/// paced (at normal priority the thread gets its fair share, so it gets there).
pub fn projected_ratio(wall: f64, busy: f64, done: f64, share: f64) -> f64 {
    if done < 0.05 {
        return 0.0;
    }
    let total_busy = busy / done.min(1.0);
    let left = (total_busy - busy).max(0.0);
    (wall + left / share.max(0.05)) / total_busy
}

/// One controller step: rise while the projected slowdown is over
/// [`PACE_TARGET_RATIO`], fall (twice as fast) once it is back under.
pub fn next_level(level: u32, ratio: f64) -> u32 {
    if ratio > PACE_TARGET_RATIO {
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
        let ms = Duration::from_millis;
        // Half the time waiting for a CPU: 2x projected, so the level climbs to the cap.
        let mut level = 0;
        for _ in 0..30 {
            level = next_level(level, 2.0);
        }
        assert_eq!(level, 1000);
        assert_eq!(pace_delay(level, ms(10)), Some(ms(10)));
        // 10% waiting: 1.11x projected, so it falls back to zero.
        for _ in 0..10 {
            level = next_level(level, 1.11);
        }
        assert_eq!(level, 0);
        assert_eq!(pace_delay(0, ms(10)), None);
        assert_eq!(pace_delay(500, ms(10)), Some(ms(5)));
    }

    #[test]
    fn projection_forgives_a_slow_start_that_is_caught_up() {
        // 2 s so far, 1 s of it busy, half the work done: 2x so far. At a full CPU from
        // now the rest takes 1 s: 3 s for 2 s of work, 1.5x. At a tenth of a CPU, 6x.
        assert!((projected_ratio(2.0, 1.0, 0.5, 1.0) - 1.5).abs() < 1e-9);
        assert!((projected_ratio(2.0, 1.0, 0.5, 0.1) - 6.0).abs() < 1e-9);
        // Too early to extrapolate: no pacing.
        assert_eq!(projected_ratio(2.0, 1.0, 0.01, 1.0), 0.0);
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
