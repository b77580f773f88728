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
use crate::sharded::ShardedCounter;
use crate::slowlog::SlowLog;
use crate::table::CommandTable;

/// Counters for INFO stats. Relaxed atomics: they are statistics, not synchronisation.
#[derive(Default)]
pub struct ServerStats {
    pub commands_processed: ShardedCounter,
    pub net_input_bytes: ShardedCounter,
    pub net_output_bytes: ShardedCounter,
    pub rejected_calls: AtomicU64,
    pub failed_calls: AtomicU64,
    pub total_error_replies: AtomicU64,
    pub unexpected_error_replies: AtomicU64,
    pub client_qbuf_limit_disconnections: AtomicU64,
    pub client_outbuf_limit_disconnections: AtomicU64,
    pub evicted_clients: AtomicU64,
    pub expire_cycle_cpu_ms: AtomicU64,
    pub reads_processed: ShardedCounter,
    pub writes_processed: ShardedCounter,
    pub used_memory_peak: AtomicU64,
    /// `used_memory` right after start-up (INFO's used_memory_startup).
    pub used_memory_startup: AtomicU64,
    /// Error replies by their first word (INFO errorstats).
    pub errors: Mutex<std::collections::BTreeMap<String, u64>>,
    /// (time ms, commands, net in, net out) samples taken by the cron thread.
    samples: Mutex<std::collections::VecDeque<(u64, u64, u64, u64)>>,
}

impl ServerStats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts an error reply under its prefix (`ERR`, `WRONGTYPE`, …).
    pub fn record_error(&self, text: &str) {
        let prefix = text.split(' ').next().unwrap_or("ERR");
        let mut errors = self.errors.lock();
        // Redis stops adding new codes at 128 so hostile input cannot grow the table.
        if errors.len() >= 128 && !errors.contains_key(prefix) {
            return;
        }
        *errors.entry(prefix.to_string()).or_default() += 1;
    }

    /// Takes one sample for the instantaneous_* rates (Redis samples 16 times, 100 ms apart).
    pub fn sample(&self) {
        let now = snapkv_keyspace::clock::now_ms();
        let mut s = self.samples.lock();
        s.push_back((
            now,
            self.commands_processed.load(Ordering::Relaxed),
            self.net_input_bytes.load(Ordering::Relaxed),
            self.net_output_bytes.load(Ordering::Relaxed),
        ));
        while s.len() > 16 {
            s.pop_front();
        }
    }

    /// (ops/sec, input kbps, output kbps) over the sample window.
    pub fn instantaneous(&self) -> (u64, f64, f64) {
        let s = self.samples.lock();
        let (Some(first), Some(last)) = (s.front(), s.back()) else {
            return (0, 0.0, 0.0);
        };
        let secs = (last.0.saturating_sub(first.0)) as f64 / 1000.0;
        if secs <= 0.0 {
            return (0, 0.0, 0.0);
        }
        (
            ((last.1 - first.1) as f64 / secs) as u64,
            (last.2 - first.2) as f64 / secs / 1024.0,
            (last.3 - first.3) as f64 / secs / 1024.0,
        )
    }

    pub fn reset(&self) {
        for c in [
            &self.commands_processed,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.reads_processed,
            &self.writes_processed,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        for c in [
            &self.rejected_calls,
            &self.failed_calls,
            &self.total_error_replies,
            &self.expire_cycle_cpu_ms,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.errors.lock().clear();
    }
}

/// The shutdown request, watched by the server's main task. SHUTDOWN has saved (or
/// chosen not to) before it asks.
#[derive(Default)]
pub struct Shutdown {
    pub notify: tokio::sync::Notify,
}

impl Shutdown {
    pub fn request(&self) {
        self.notify.notify_one();
    }
}

/// MONITOR subscribers: each gets every executed command as a formatted line.
#[derive(Default)]
pub struct Monitors {
    pub count: AtomicUsize,
    pub senders: Mutex<Vec<tokio::sync::mpsc::Sender<Bytes>>>,
}

/// Lines a MONITOR client may fall behind before it is disconnected (its output limit).
pub const MONITOR_BACKLOG: usize = 65536;

impl Monitors {
    /// Sends `line` to every monitor; one that cannot keep up is dropped (closing its
    /// channel closes the connection), so a slow monitor never grows memory unbounded.
    pub fn feed(&self, line: Bytes) {
        let mut s = self.senders.lock();
        s.retain(|tx| tx.try_send(line.clone()).is_ok());
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

/// (progress, file size, start time in Unix seconds) of a start-up load.
pub type LoadingState = (Option<std::sync::Arc<snapkv_rdb::Progress>>, u64, u64);

/// Persistence status shared with the snapshot engines (INFO persistence, LASTSAVE,
/// MISCONF).
#[derive(Default)]
pub struct PersistenceState {
    pub lastsave_secs: AtomicU64,
    pub last_bgsave_ok: AtomicBool,
    pub bgsave_in_progress: AtomicBool,
    /// `rdb_saves`: SAVE commands and background saves started (as Redis counts them).
    pub saves: AtomicU64,
    /// A BGSAVE (or save-point save) holds the slot, rather than a backup's snapshot:
    /// what SAVE waits on and what FLUSHALL/SHUTDOWN stop; a backup keeps its snapshot.
    pub bgsave_running: AtomicBool,
    /// The running fork engine's child, 0 when none.
    pub child_pid: std::sync::atomic::AtomicI32,
    /// The running background save is being stopped on purpose (FLUSHALL, SHUTDOWN):
    /// its end is not a failure, as Redis's SIGUSR1 to its child is not.
    pub aborting: AtomicBool,
    /// Held while a forkless save decides to rename its file into place, and while one
    /// is cancelled: a cancelled save never renames after the cancel returns.
    pub commit_gate: Mutex<()>,
    /// `rdb_last_load_keys_loaded` / `_expired`: the last RDB load (start-up, DEBUG
    /// RELOAD).
    pub last_load_keys: AtomicU64,
    pub last_load_expired: AtomicU64,
    /// Unix ms when the running background save started.
    pub bgsave_started_ms: AtomicU64,
    /// Seconds the last background save took (-1 before the first).
    pub last_bgsave_secs: std::sync::atomic::AtomicI64,
    /// The running (or last) background save's progress.
    pub progress: Mutex<Option<std::sync::Arc<snapkv_snapshot::forkless::Progress>>>,
    /// Entries writers copied for the last forkless snapshot (copy-on-write work).
    pub last_cow_entries: AtomicU64,
    /// A BGSAVE inside EXEC asked for a save: the cron starts it (Redis's
    /// `rdb_bgsave_scheduled`).
    pub scheduled: AtomicBool,
    /// Engine of the last background save and why it was chosen.
    pub last_method: Mutex<(&'static str, String)>,
    pub latest_fork_usec: AtomicU64,
    pub total_forks: AtomicU64,
    /// Copy-on-write bytes the last fork child caused (`rdb_last_cow_size`).
    pub last_cow_bytes: AtomicU64,
    /// The running forkless snapshot's capture queue (for writer throttling).
    pub capture: parking_lot::RwLock<Option<std::sync::Arc<snapkv_snapshot::forkless::Capture>>>,
    /// Writes delayed, and their total delay in µs, during the current/last snapshot.
    pub writes_delayed: AtomicU64,
    pub write_delay_us: AtomicU64,
    /// While loading at start-up: (progress once the file is open, file size, start
    /// time in Unix seconds).
    pub loading: Mutex<Option<LoadingState>>,
}

impl PersistenceState {
    /// `rdb_last_load_keys_loaded` / `_expired` after an RDB load.
    pub fn record_load(&self, stats: &snapkv_snapshot::LoadStats) {
        self.last_load_keys
            .store(stats.keys_loaded, Ordering::Relaxed);
        self.last_load_expired
            .store(stats.keys_expired, Ordering::Relaxed);
    }
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
    /// BACKUP: the catalog cache, progress and the backup thread's queue.
    pub backup: crate::backup::BackupState,
    pub commands: CommandTable,
    pub latency: crate::latency::LatencyMonitor,
    /// Clients waiting in blocking commands, by key.
    pub blocking: crate::blocking::Blocking,
    /// DEBUG SET-ACTIVE-EXPIRE: the cron thread sweeps expired keys only while true.
    pub active_expire: AtomicBool,
    pub started: Instant,
    pub started_ms: u64,
    pub run_id: String,
    /// The TCP port actually bound (port 0 picks one).
    pub tcp_port: AtomicU64,
    pub executable: String,
    /// Non-zero while the server is loading a dataset at start-up.
    pub loading: AtomicBool,
    /// The `Arc` this lives in, for work that outlives a command (background saves).
    pub me: std::sync::OnceLock<std::sync::Weak<Shared>>,
}

impl Shared {
    pub fn new(keyspace: Keyspace, config: Config) -> Shared {
        let run_id: String = (0..40)
            .map(|_| char::from_digit(rand::random_range(0..16), 16).unwrap_or('0'))
            .collect();
        let settings = config.settings();
        keyspace.set_policy(settings.maxmemory_policy);
        keyspace.set_samples(settings.maxmemory_samples);
        let persistence = PersistenceState {
            last_bgsave_secs: std::sync::atomic::AtomicI64::new(-1),
            ..Default::default()
        };
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
            backup: Default::default(),
            commands: CommandTable::build(),
            latency: Default::default(),
            blocking: Default::default(),
            active_expire: AtomicBool::new(true),
            started: Instant::now(),
            started_ms: snapkv_keyspace::clock::now_ms(),
            run_id,
            tcp_port: AtomicU64::new(0),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            loading: AtomicBool::new(false),
            me: std::sync::OnceLock::new(),
        }
    }

    /// Applies side effects of changed settings (CONFIG SET) to the running parts.
    pub fn apply_config(&self) {
        let s = self.config.settings();
        self.keyspace.set_policy(s.maxmemory_policy);
        self.keyspace.set_samples(s.maxmemory_samples);
    }
}
