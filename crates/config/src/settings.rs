//! [`Settings`]: the typed view of the configuration that the server and commands read.
//! Built from the canonical option strings, so it can never disagree with CONFIG GET.

use std::collections::BTreeMap;

use snapkv_keyspace::EvictionPolicy;

use crate::memory::parse_memory;

/// One `save <seconds> <changes>` point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveParam {
    pub seconds: u64,
    pub changes: u64,
}

/// `client-output-buffer-limit` for one class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputBufferLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMethod {
    Auto,
    Fork,
    Forkless,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: Vec<String>,
    pub port: u16,
    pub protected_mode: bool,
    pub tcp_backlog: u32,
    pub timeout_secs: u64,
    pub tcp_keepalive_secs: u64,
    pub pidfile: String,
    pub loglevel: String,
    pub logfile: String,
    pub databases: usize,
    pub io_threads: usize,
    pub hz: u64,
    pub save: Vec<SaveParam>,
    pub stop_writes_on_bgsave_error: bool,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    /// `rdb-key-save-delay` (µs after each key saved; negative -N: 1 µs every N keys).
    pub rdb_key_save_delay: i64,
    pub dbfilename: String,
    pub rdb_del_sync_files: bool,
    pub rdb_save_incremental_fsync: bool,
    pub dir: String,
    pub snapshot_method: SnapshotMethod,
    pub snapshot_buffer_limit: u64,
    pub snapshot_throttle_max_delay_ms: u64,
    pub requirepass: String,
    pub maxclients: usize,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub output_limit_normal: OutputBufferLimit,
    pub output_limit_pubsub: OutputBufferLimit,
    pub maxmemory: u64,
    pub maxmemory_policy: EvictionPolicy,
    pub maxmemory_samples: u64,
    pub reserved_memory_percent: u64,
    pub reserved_memory: u64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub latency_monitor_threshold: u64,
    /// `latency-tracking`: per-command latency histograms (INFO latencystats, LATENCY
    /// HISTOGRAM).
    pub latency_tracking: bool,
    pub latency_tracking_info_percentiles: Vec<f64>,
    pub hash_max_listpack_entries: u64,
    pub hash_max_listpack_value: u64,
    pub list_max_listpack_size: i64,
    /// `stream-node-max-entries` / `-bytes`: stream node sizes written to RDB files.
    pub stream_node_max_entries: u64,
    pub stream_node_max_bytes: u64,
    pub set_max_intset_entries: u64,
    pub zset_max_listpack_entries: u64,
    pub zset_max_listpack_value: u64,
    pub backup_target: String,
    pub backup_window: String,
    pub backup_retention_days: u64,
    pub backup_manual_limit: u64,
    pub backup_s3_endpoint: String,
    pub backup_s3_region: String,
    pub backup_s3_sse: String,
    pub backup_part_size: u64,
    pub backup_upload_concurrency: u64,
    /// Seconds one S3 request attempt may take (3 attempts per request).
    pub backup_s3_timeout: u64,
    pub backup_on_shutdown: bool,
    pub enable_debug_command: String,
    pub enable_protected_configs: String,
}

impl Settings {
    pub(crate) fn from_values(v: &BTreeMap<&'static str, String>) -> Settings {
        let s = |k: &str| v.get(k).cloned().unwrap_or_default();
        let n = |k: &str| s(k).parse::<i64>().unwrap_or(0);
        let u = |k: &str| n(k).max(0) as u64;
        let m = |k: &str| parse_memory(&s(k)).unwrap_or(0);
        let b = |k: &str| s(k) == "yes";
        let obl = |class: &str| {
            let words: Vec<String> = s("client-output-buffer-limit")
                .split_whitespace()
                .map(str::to_string)
                .collect();
            words
                .chunks(4)
                .find(|c| c[0] == class)
                .map(|c| OutputBufferLimit {
                    hard: c[1].parse().unwrap_or(0),
                    soft: c[2].parse().unwrap_or(0),
                    soft_seconds: c[3].parse().unwrap_or(0),
                })
                .unwrap_or_default()
        };
        let save = s("save")
            .split_whitespace()
            .collect::<Vec<_>>()
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| SaveParam {
                seconds: c[0].parse().unwrap_or(0),
                changes: c[1].parse().unwrap_or(0),
            })
            .collect();
        Settings {
            bind: s("bind").split_whitespace().map(str::to_string).collect(),
            port: u("port") as u16,
            protected_mode: b("protected-mode"),
            tcp_backlog: u("tcp-backlog") as u32,
            timeout_secs: u("timeout"),
            tcp_keepalive_secs: u("tcp-keepalive"),
            pidfile: s("pidfile"),
            loglevel: s("loglevel"),
            logfile: s("logfile"),
            databases: u("databases") as usize,
            io_threads: u("io-threads") as usize,
            hz: u("hz").clamp(1, 500),
            save,
            stop_writes_on_bgsave_error: b("stop-writes-on-bgsave-error"),
            rdbcompression: b("rdbcompression"),
            rdbchecksum: b("rdbchecksum"),
            rdb_key_save_delay: n("rdb-key-save-delay"),
            dbfilename: s("dbfilename"),
            rdb_del_sync_files: b("rdb-del-sync-files"),
            rdb_save_incremental_fsync: b("rdb-save-incremental-fsync"),
            dir: s("dir"),
            snapshot_method: match s("snapshot-method").as_str() {
                "fork" => SnapshotMethod::Fork,
                "forkless" => SnapshotMethod::Forkless,
                _ => SnapshotMethod::Auto,
            },
            snapshot_buffer_limit: m("snapshot-buffer-limit"),
            snapshot_throttle_max_delay_ms: u("snapshot-throttle-max-delay"),
            requirepass: s("requirepass"),
            maxclients: u("maxclients") as usize,
            proto_max_bulk_len: m("proto-max-bulk-len"),
            client_query_buffer_limit: m("client-query-buffer-limit"),
            output_limit_normal: obl("normal"),
            output_limit_pubsub: obl("pubsub"),
            maxmemory: m("maxmemory"),
            maxmemory_policy: EvictionPolicy::parse(&s("maxmemory-policy"))
                .unwrap_or(EvictionPolicy::NoEviction),
            maxmemory_samples: u("maxmemory-samples"),
            reserved_memory_percent: u("reserved-memory-percent"),
            reserved_memory: m("reserved-memory"),
            slowlog_log_slower_than: n("slowlog-log-slower-than"),
            slowlog_max_len: u("slowlog-max-len"),
            latency_monitor_threshold: u("latency-monitor-threshold"),
            latency_tracking: b("latency-tracking"),
            latency_tracking_info_percentiles: s("latency-tracking-info-percentiles")
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect(),
            hash_max_listpack_entries: u("hash-max-listpack-entries"),
            hash_max_listpack_value: u("hash-max-listpack-value"),
            list_max_listpack_size: n("list-max-listpack-size"),
            stream_node_max_entries: u("stream-node-max-entries"),
            stream_node_max_bytes: u("stream-node-max-bytes"),
            set_max_intset_entries: u("set-max-intset-entries"),
            zset_max_listpack_entries: u("zset-max-listpack-entries"),
            zset_max_listpack_value: u("zset-max-listpack-value"),
            backup_target: s("backup-target"),
            backup_window: s("backup-window"),
            backup_retention_days: u("backup-retention-days"),
            backup_manual_limit: u("backup-manual-limit"),
            backup_s3_endpoint: s("backup-s3-endpoint"),
            backup_s3_region: s("backup-s3-region"),
            backup_s3_sse: s("backup-s3-sse"),
            backup_part_size: m("backup-part-size"),
            backup_upload_concurrency: u("backup-upload-concurrency"),
            backup_s3_timeout: u("backup-s3-timeout"),
            backup_on_shutdown: b("backup-on-shutdown"),
            enable_debug_command: s("enable-debug-command"),
            enable_protected_configs: s("enable-protected-configs"),
        }
    }

    /// Bytes the data may use: the memory budget minus the snapshot reserve. `budget` is
    /// `maxmemory`, or the machine's memory when that is 0.
    pub fn data_limit(&self, machine_memory: u64) -> u64 {
        let budget = if self.maxmemory > 0 {
            self.maxmemory
        } else {
            machine_memory
        };
        budget.saturating_sub(self.reserve(budget))
    }

    /// The snapshot reserve out of `budget`: `reserved-memory` if set, else the percent.
    pub fn reserve(&self, budget: u64) -> u64 {
        if self.reserved_memory > 0 {
            self.reserved_memory.min(budget)
        } else {
            budget / 100 * self.reserved_memory_percent
        }
    }
}

/// Redis's `allowProtectedAction`: whether a `no|yes|local` setting
/// (`enable-debug-command`, `enable-protected-configs`) lets this client through;
/// `local_client`: it connected over loopback.
pub fn allows(setting: &str, local_client: bool) -> bool {
    match setting {
        "yes" => true,
        "local" => local_client,
        _ => false,
    }
}
