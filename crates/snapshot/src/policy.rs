//! Choosing the engine for one snapshot (`snapshot-method auto`): fork when the memory
//! headroom covers the copy-on-write growth the fork is expected to cause, else forkless.
//! A pure function of its inputs, so the choice is testable and explainable in INFO.

/// Serialisation rate assumed for the expected dump time (measured: ~160 MiB/s encode
/// with LZF on this class of machine; see the rdb crate's codec benchmark).
const SERIALISE_BYTES_PER_SEC: f64 = 150.0 * 1024.0 * 1024.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Fork,
    Forkless,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Fork => "fork",
            Engine::Forkless => "forkless",
        }
    }
}

/// What the choice is made from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs {
    /// `maxmemory`, or the machine's memory when that is 0.
    pub budget: u64,
    /// `used_memory` now.
    pub used: u64,
    /// Recent write volume in bytes/s (the rate pages get dirtied at, roughly).
    pub write_bytes_per_sec: f64,
}

/// The engine and the reason, for INFO's `rdb_last_bgsave_method` / `_reason`.
pub fn choose(i: Inputs) -> (Engine, String) {
    let headroom = i.budget.saturating_sub(i.used);
    let dump_secs = i.used as f64 / SERIALISE_BYTES_PER_SEC;
    // Each written byte dirties (at least) its page; a page is copied once.
    let est_cow = (i.write_bytes_per_sec * dump_secs * 8.0).min(i.used as f64) as u64;
    if headroom >= est_cow {
        (
            Engine::Fork,
            format!("headroom {headroom} bytes covers estimated copy-on-write {est_cow} bytes"),
        )
    } else {
        (
            Engine::Forkless,
            format!("headroom {headroom} bytes below estimated copy-on-write {est_cow} bytes"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_server_with_room_forks() {
        let (e, why) = choose(Inputs {
            budget: 8 << 30,
            used: 1 << 30,
            write_bytes_per_sec: 0.0,
        });
        assert_eq!(e, Engine::Fork, "{why}");
    }

    #[test]
    fn busy_server_near_its_budget_goes_forkless() {
        let (e, why) = choose(Inputs {
            budget: 4 << 30,
            used: 3 << 30,
            write_bytes_per_sec: 50.0 * 1024.0 * 1024.0,
        });
        assert_eq!(e, Engine::Forkless, "{why}");
    }

    #[test]
    fn estimate_never_exceeds_the_dataset() {
        // Even an absurd write rate cannot need more than a full copy.
        let (e, _) = choose(Inputs {
            budget: 3 << 30,
            used: 1 << 30,
            write_bytes_per_sec: 1e12,
        });
        assert_eq!(e, Engine::Fork);
    }
}
