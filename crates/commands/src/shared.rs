//! [`Shared`]: the server-wide state commands work on, composed of parts that each own
//! one concern (keyspace, config, clients, stats, slowlog, monitors, shutdown) rather
//! than one giant server struct.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;
use snapkv_config::Config;
use snapkv_keyspace::Keyspace;

use crate::client::ClientRegistry;
use crate::slowlog::SlowLog;
use crate::table::CommandTable;

/// Counters for INFO stats. Relaxed atomics: they are statistics, not synchronisation.
#[derive(Default)]
pub struct ServerStats {
    pub commands_processed: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub rejected_calls: AtomicU64,
    pub failed_calls: AtomicU64,
    pub total_error_replies: AtomicU64,
    pub unexpected_error_replies: AtomicU64,
    pub client_qbuf_limit_disconnections: AtomicU64,
    pub client_outbuf_limit_disconnections: AtomicU64,
    pub evicted_clients: AtomicU64,
    pub expire_cycle_cpu_ms: AtomicU64,
}

impl ServerStats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// How SHUTDOWN asked the server to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownMode {
    Default,
    Save,
    NoSave,
}

/// The shutdown request, watched by the server's main task.
#[derive(Default)]
pub struct Shutdown {
    pub requested: Mutex<Option<ShutdownMode>>,
    pub notify: tokio::sync::Notify,
}

impl Shutdown {
    pub fn request(&self, mode: ShutdownMode) {
        *self.requested.lock() = Some(mode);
        self.notify.notify_one();
    }
}

/// MONITOR subscribers: each gets every executed command as a formatted line.
#[derive(Default)]
pub struct Monitors {
    pub count: AtomicUsize,
    pub senders: Mutex<Vec<tokio::sync::mpsc::UnboundedSender<Bytes>>>,
}

impl Monitors {
    pub fn feed(&self, line: Bytes) {
        let mut s = self.senders.lock();
        s.retain(|tx| tx.send(line.clone()).is_ok());
        self.count.store(s.len(), Ordering::Relaxed);
    }
}

/// CLIENT PAUSE state.
#[derive(Default)]
pub struct Pause {
    /// Unix ms until which clients are paused; 0 = not paused.
    pub until_ms: AtomicU64,
    /// Pause only writes (CLIENT PAUSE … WRITE).
    pub writes_only: AtomicBool,
    pub notify: tokio::sync::Notify,
}

/// Persistence status shared with the snapshot engines (INFO persistence, LASTSAVE,
/// MISCONF).
#[derive(Default)]
pub struct PersistenceState {
    pub lastsave_secs: AtomicU64,
    pub last_bgsave_ok: AtomicBool,
    pub bgsave_in_progress: AtomicBool,
    pub saves: AtomicU64,
}

pub struct Shared {
    pub keyspace: Keyspace,
    pub config: Config,
    pub clients: ClientRegistry,
    pub stats: ServerStats,
    pub slowlog: SlowLog,
    pub monitors: Monitors,
    pub pause: Pause,
    pub shutdown: Shutdown,
    pub persistence: PersistenceState,
    pub commands: CommandTable,
    pub started: Instant,
    pub started_ms: u64,
    pub run_id: String,
    /// The TCP port actually bound (port 0 picks one).
    pub tcp_port: AtomicU64,
    pub executable: String,
    /// Non-zero while the server is loading a dataset at start-up.
    pub loading: AtomicBool,
    /// DEBUG SET-ACTIVE-EXPIRE: the cron thread skips active expiry while false.
    pub active_expire: AtomicBool,
    /// INFO errorstats: replies per error prefix (`ERR`, `WRONGTYPE`, …). A lock is fine:
    /// only error replies take it.
    pub error_counts: Mutex<std::collections::BTreeMap<String, u64>>,
    /// LATENCY: events slower than `latency-monitor-threshold`.
    pub latency: crate::latency::LatencyMonitor,
    /// INFO's instantaneous_* rates, sampled by the cron thread.
    pub metrics: crate::metrics::Metrics,
}

impl Shared {
    pub fn new(keyspace: Keyspace, config: Config) -> Shared {
        let run_id: String = (0..40)
            .map(|_| char::from_digit(rand::random_range(0..16), 16).unwrap_or('0'))
            .collect();
        let settings = config.settings();
        keyspace.set_policy(settings.maxmemory_policy);
        keyspace.set_samples(settings.maxmemory_samples);
        let persistence = PersistenceState::default();
        persistence.last_bgsave_ok.store(true, Ordering::Relaxed);
        persistence
            .lastsave_secs
            .store(snapkv_keyspace::clock::now_ms() / 1000, Ordering::Relaxed);
        Shared {
            keyspace,
            config,
            clients: ClientRegistry::default(),
            stats: ServerStats::default(),
            slowlog: SlowLog::default(),
            monitors: Monitors::default(),
            pause: Pause::default(),
            shutdown: Shutdown::default(),
            persistence,
            commands: CommandTable::build(),
            started: Instant::now(),
            started_ms: snapkv_keyspace::clock::now_ms(),
            run_id,
            tcp_port: AtomicU64::new(0),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            loading: AtomicBool::new(false),
            active_expire: AtomicBool::new(true),
            error_counts: Mutex::new(Default::default()),
            latency: Default::default(),
            metrics: Default::default(),
        }
    }

    /// Applies side effects of changed settings (CONFIG SET) to the running parts.
    pub fn apply_config(&self) {
        let s = self.config.settings();
        self.keyspace.set_policy(s.maxmemory_policy);
        self.keyspace.set_samples(s.maxmemory_samples);
    }

    /// Counts one error reply under its prefix (the first word of its text).
    pub fn count_error(&self, text: &str) {
        let prefix = text.split(' ').next().unwrap_or("ERR");
        let mut m = self.error_counts.lock();
        // Redis caps distinct error codes at 128 so bad input can't grow the table.
        if m.len() >= 128 && !m.contains_key(prefix) {
            return;
        }
        *m.entry(prefix.to_string()).or_insert(0) += 1;
    }
}
