//! The `hz` background thread: active expiry, client timeouts, save points and the
//! backup schedule (which only queues work for the backup thread). A plain thread, not a
//! tokio task, so a sweep never occupies a worker that should be serving commands.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use snapkv_commands::Shared;

pub struct Cron {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Cron {
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

pub fn start(shared: Arc<Shared>) -> Cron {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::Builder::new()
        .name("snapkv-cron".into())
        .spawn(move || run(shared, flag))
        .ok();
    Cron { stop, handle }
}

fn run(shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    let mut expire_cursor = 0usize;
    while !stop.load(Ordering::Acquire) {
        let settings = shared.config.settings();
        let period = Duration::from_millis(1000 / settings.hz.max(1));
        let tick = Instant::now();
        shared.stats.sample();
        // Redis's slow cycle budget: 25% of one period.
        let expired = if shared.active_expire.load(Ordering::Relaxed) {
            shared
                .keyspace
                .active_expire_cycle(&mut expire_cursor, period / 4)
        } else {
            0
        };
        let spent_ms = tick.elapsed().as_millis() as u64;
        shared
            .stats
            .expire_cycle_cpu_ms
            .fetch_add(spent_ms, Ordering::Relaxed);
        // LATENCY's expire-cycle event, as Redis records it.
        let threshold = settings.latency_monitor_threshold;
        if threshold > 0 && spent_ms >= threshold {
            shared.latency.record("expire-cycle", spent_ms);
        }
        if expired > 0 {
            tracing::debug!("active expiry removed {expired} keys");
        }
        save_points(&shared, &settings);
        snapkv_commands::backup::tick(&shared);
        if settings.timeout_secs > 0 {
            let now = snapkv_keyspace::clock::now_ms();
            let limit = settings.timeout_secs * 1000;
            shared.clients.kill(|c| {
                !c.monitor.load(Ordering::Relaxed)
                    && !c.blocked.load(Ordering::Relaxed)
                    && now.saturating_sub(c.last_interaction_ms.load(Ordering::Relaxed)) > limit
            });
        }
        let spent = tick.elapsed();
        if spent < period {
            std::thread::sleep(period - spent);
        }
    }
}

/// Starts a background save when a `save <seconds> <changes>` point is due, or when
/// BGSAVE SCHEDULE asked for one while another was running. After a failed save Redis
/// retries only every 5 seconds (CONFIG_BGSAVE_RETRY_DELAY); so do we.
fn save_points(shared: &snapkv_commands::Shared, settings: &snapkv_config::Settings) {
    let p = &shared.persistence;
    if p.bgsave_in_progress.load(Ordering::Relaxed) {
        return;
    }
    let now_s = snapkv_keyspace::clock::now_ms() / 1000;
    let scheduled = p.scheduled.swap(false, Ordering::Relaxed);
    let due = !settings.save.is_empty() && {
        let since = now_s.saturating_sub(p.lastsave_secs.load(Ordering::Relaxed));
        let last_try = p.bgsave_started_ms.load(Ordering::Relaxed) / 1000;
        let retry_ok =
            p.last_bgsave_ok.load(Ordering::Relaxed) || now_s.saturating_sub(last_try) >= 5;
        let dirty = shared.keyspace.stats(None).counters.dirty;
        retry_ok
            && settings
                .save
                .iter()
                .any(|sp| dirty >= sp.changes && since >= sp.seconds && dirty > 0)
    };
    if scheduled || due {
        if let Err(e) = snapkv_commands::persistence::start_bgsave(shared) {
            tracing::warn!("Can't start a background save: {e}");
        }
    }
}
