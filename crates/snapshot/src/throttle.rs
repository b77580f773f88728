//! Writer throttling for the forkless snapshot: how long the next write command should
//! wait (asynchronously, in its connection task — never blocking a worker thread) so the
//! capture queue stays near `snapshot-buffer-limit` and the snapshot always finishes
//! under sustained maximum write load.

use std::time::Duration;

/// The delay for one write given the queue's size. Below half the limit: none; then
/// rising linearly to `max_delay` at the limit and beyond.
pub fn delay(queued_bytes: u64, limit: u64, max_delay: Duration) -> Option<Duration> {
    if limit == 0 || max_delay.is_zero() || queued_bytes <= limit / 2 {
        return None;
    }
    let over = (queued_bytes - limit / 2) as f64 / (limit - limit / 2).max(1) as f64;
    Some(max_delay.mul_f64(over.min(1.0)))
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
}
