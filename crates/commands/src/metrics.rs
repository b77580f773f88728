//! [`Metrics`]: INFO's instantaneous rates (ops/sec, input/output kbps) and the memory
//! peak, sampled by the server's cron thread like Redis's `trackInstantaneousMetric`
//! (16 samples, at least 100 ms apart), so INFO itself only reads atomics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use crate::shared::ServerStats;

const SAMPLES: usize = 16;

#[derive(Default)]
struct Window {
    last: Option<(Instant, [u64; 3])>,
    /// Per-second rates of (ops, input bytes, output bytes), a ring of SAMPLES.
    rates: Vec<[f64; 3]>,
    next: usize,
}

#[derive(Default)]
pub struct Metrics {
    window: Mutex<Window>,
    /// f64 bits of the averaged rates.
    ops_per_sec: AtomicU64,
    input_bps: AtomicU64,
    output_bps: AtomicU64,
    /// Highest `used_memory` seen (INFO used_memory_peak).
    pub used_memory_peak: AtomicU64,
}

impl Metrics {
    /// Takes one sample of the counters; call every ~100 ms.
    pub fn sample(&self, stats: &ServerStats) {
        let now = Instant::now();
        let cur = [
            stats.commands_processed.load(Ordering::Relaxed),
            stats.net_input_bytes.load(Ordering::Relaxed),
            stats.net_output_bytes.load(Ordering::Relaxed),
        ];
        self.note_memory(snapkv_keyspace::memory::used_memory());
        let mut w = self.window.lock();
        if let Some((at, prev)) = w.last {
            let secs = now.duration_since(at).as_secs_f64();
            if secs < 0.05 {
                return;
            }
            let mut rate = [0f64; 3];
            for i in 0..3 {
                rate[i] = cur[i].saturating_sub(prev[i]) as f64 / secs;
            }
            if w.rates.len() < SAMPLES {
                w.rates.push(rate);
            } else {
                let i = w.next;
                w.rates[i] = rate;
            }
            w.next = (w.next + 1) % SAMPLES;
            let n = w.rates.len() as f64;
            let avg = |i: usize| w.rates.iter().map(|r| r[i]).sum::<f64>() / n;
            self.ops_per_sec.store(avg(0).to_bits(), Ordering::Relaxed);
            self.input_bps.store(avg(1).to_bits(), Ordering::Relaxed);
            self.output_bps.store(avg(2).to_bits(), Ordering::Relaxed);
        }
        w.last = Some((now, cur));
    }

    pub fn note_memory(&self, used: u64) {
        self.used_memory_peak.fetch_max(used, Ordering::Relaxed);
    }

    pub fn ops_per_sec(&self) -> u64 {
        f64::from_bits(self.ops_per_sec.load(Ordering::Relaxed)).round() as u64
    }

    /// (input, output) in kilobytes per second.
    pub fn kbps(&self) -> (f64, f64) {
        (
            f64::from_bits(self.input_bps.load(Ordering::Relaxed)) / 1024.0,
            f64::from_bits(self.output_bps.load(Ordering::Relaxed)) / 1024.0,
        )
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        *self.window.lock() = Window::default();
        for a in [&self.ops_per_sec, &self.input_bps, &self.output_bps] {
            a.store(0, Ordering::Relaxed);
        }
        self.used_memory_peak
            .store(snapkv_keyspace::memory::used_memory(), Ordering::Relaxed);
    }
}
