//! The option table: one row per redis.conf option snapkv understands, like Redis's
//! `standardConfig configs[]`. Validation and canonical formatting live here; the typed
//! view is built from the canonical strings in `settings.rs`.

use crate::memory::{format_memory, parse_memory};

#[derive(Debug, Clone, Copy)]
pub enum OptionKind {
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    Memory {
        max: u64,
    },
    Enum(&'static [&'static str]),
    Str,
    /// `save <seconds> <changes> …` or `""`.
    Save,
    /// `client-output-buffer-limit <class> <hard> <soft> <seconds> …`.
    OutputBufferLimit,
    /// `bind addr …`.
    List,
    /// Percentiles between 0 and 100 (`latency-tracking-info-percentiles`).
    Percentiles,
}

#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: OptionKind,
    pub default: &'static str,
    /// Only settable at start-up (config file or command line).
    pub immutable: bool,
    /// Left out of glob matches: CONFIG GET returns it only when asked by its exact name
    /// (Redis's `HIDDEN_CONFIG`, for testing aids such as `rdb-key-save-delay`).
    pub hidden: bool,
    /// Accepted for redis.conf compatibility (replication, cluster, TLS, AOF, ACL files,
    /// defrag, …) but not acted upon: shown by CONFIG GET, settable, and a value other
    /// than the default is reported at start-up ([`crate::Config::inert_in_use`]).
    pub inert: bool,
    /// CONFIG SET needs `enable-protected-configs` (Redis's `PROTECTED_CONFIG`: where
    /// the server writes files, so a client cannot point them anywhere).
    pub protected: bool,
    /// A secret (`requirepass`): shown by CONFIG GET, as in Redis.
    pub sensitive: bool,
}

const fn opt(name: &'static str, kind: OptionKind, default: &'static str) -> OptionSpec {
    OptionSpec {
        name,
        alias: None,
        kind,
        default,
        immutable: false,
        hidden: false,
        inert: false,
        protected: false,
        sensitive: false,
    }
}

/// Builders for the table's rows: `opt(…)` then what sets it apart.
impl OptionSpec {
    /// Only settable at start-up.
    const fn fixed(self) -> Self {
        Self {
            immutable: true,
            ..self
        }
    }

    /// Also answers to an older name (`hash-max-ziplist-entries`, `slave-*`, …).
    const fn alias(self, alias: &'static str) -> Self {
        Self {
            alias: Some(alias),
            ..self
        }
    }

    /// Accepted, not acted upon (see [`OptionSpec::inert`]).
    const fn inert(self) -> Self {
        Self {
            inert: true,
            ..self
        }
    }

    const fn hidden(self) -> Self {
        Self {
            hidden: true,
            ..self
        }
    }

    const fn protected(self) -> Self {
        Self {
            protected: true,
            ..self
        }
    }
}

const fn int(min: i64, max: i64) -> OptionKind {
    OptionKind::Int { min, max }
}

const MEM: OptionKind = OptionKind::Memory {
    max: i64::MAX as u64,
};
const BOOL: OptionKind = OptionKind::Bool;
const INT_MAX: i64 = i32::MAX as i64;

pub const POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

pub static OPTIONS: &[OptionSpec] = &[
    // Network
    opt("bind", OptionKind::List, "127.0.0.1 -::1").fixed(),
    opt("port", int(0, 65535), "6379").fixed(),
    opt("protected-mode", BOOL, "yes"),
    opt("tcp-backlog", int(0, INT_MAX), "511").fixed(),
    opt("timeout", int(0, INT_MAX), "0"),
    opt("tcp-keepalive", int(0, INT_MAX), "300"),
    opt("unixsocket", OptionKind::Str, "").fixed(),
    // General
    opt("daemonize", BOOL, "no").fixed(),
    opt(
        "supervised",
        OptionKind::Enum(&["upstart", "systemd", "auto", "no"]),
        "no",
    )
    .fixed(),
    opt("pidfile", OptionKind::Str, "").fixed(),
    opt(
        "loglevel",
        OptionKind::Enum(&["debug", "verbose", "notice", "warning"]),
        "notice",
    ),
    opt("logfile", OptionKind::Str, "").fixed(),
    opt("databases", int(1, INT_MAX), "16").fixed(),
    opt("io-threads", int(0, 128), "0").fixed(),
    opt("hz", int(0, INT_MAX), "10"),
    opt("dynamic-hz", BOOL, "yes"),
    // Snapshotting
    opt("save", OptionKind::Save, "3600 1 300 100 60 10000"),
    opt("stop-writes-on-bgsave-error", BOOL, "yes"),
    opt("rdbcompression", BOOL, "yes"),
    opt("rdbchecksum", BOOL, "yes"),
    opt("dbfilename", OptionKind::Str, "dump.rdb").protected(),
    opt("rdb-del-sync-files", BOOL, "no"),
    opt("rdb-save-incremental-fsync", BOOL, "yes"),
    opt("dir", OptionKind::Str, "./").protected(),
    opt(
        "snapshot-method",
        OptionKind::Enum(&["auto", "fork", "forkless"]),
        "auto",
    ),
    opt("snapshot-buffer-limit", MEM, "67108864"),
    // Sleep this many microseconds after each key a save writes (negative -N: one
    // microsecond every N keys) — Redis's testing aid for slow saves.
    opt("rdb-key-save-delay", int(i32::MIN as i64, INT_MAX), "0").hidden(),
    opt("snapshot-throttle-max-delay", int(0, 10_000), "10"),
    // Security
    opt(
        "enable-protected-configs",
        OptionKind::Enum(&["no", "yes", "local"]),
        "no",
    )
    .fixed(),
    opt(
        "enable-debug-command",
        OptionKind::Enum(&["no", "yes", "local"]),
        "no",
    )
    .fixed(),
    OptionSpec {
        sensitive: true,
        ..opt("requirepass", OptionKind::Str, "")
    },
    // Clients and limits
    opt("maxclients", int(1, u32::MAX as i64), "10000"),
    opt(
        "proto-max-bulk-len",
        OptionKind::Memory {
            max: i64::MAX as u64,
        },
        "536870912",
    ),
    opt("client-query-buffer-limit", MEM, "1073741824"),
    opt(
        "client-output-buffer-limit",
        OptionKind::OutputBufferLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    ),
    // Memory management
    opt("maxmemory", MEM, "0"),
    opt("maxmemory-policy", OptionKind::Enum(POLICIES), "noeviction"),
    opt("maxmemory-samples", int(1, INT_MAX), "5"),
    opt("maxmemory-clients", MEM, "0"),
    opt("maxmemory-eviction-tenacity", int(0, 100), "10"),
    opt("reserved-memory-percent", int(0, 100), "25"),
    opt("reserved-memory", MEM, "0"),
    opt("lfu-log-factor", int(0, INT_MAX), "10"),
    opt("lfu-decay-time", int(0, INT_MAX), "1"),
    opt("active-expire-effort", int(1, 10), "1"),
    // Lazy freeing (accepted; snapkv frees large values off the hot path regardless)
    opt("lazyfree-lazy-eviction", BOOL, "no"),
    opt("lazyfree-lazy-expire", BOOL, "no"),
    opt("lazyfree-lazy-server-del", BOOL, "no"),
    opt("lazyfree-lazy-user-del", BOOL, "no"),
    opt("lazyfree-lazy-user-flush", BOOL, "no"),
    // Append only file: not supported, only "no" is accepted.
    opt("appendonly", OptionKind::Enum(&["no"]), "no"),
    opt(
        "appendfsync",
        OptionKind::Enum(&["always", "everysec", "no"]),
        "everysec",
    ),
    // Logs and monitoring
    opt("slowlog-log-slower-than", int(-1, i64::MAX), "10000"),
    opt("slowlog-max-len", int(0, i64::MAX), "128"),
    opt("latency-monitor-threshold", int(0, i64::MAX), "0"),
    opt("latency-tracking", BOOL, "yes"),
    opt("notify-keyspace-events", OptionKind::Str, ""),
    // Data structures (used by the collection types)
    opt("hash-max-listpack-entries", int(0, i64::MAX), "512").alias("hash-max-ziplist-entries"),
    opt("hash-max-listpack-value", int(0, i64::MAX), "64").alias("hash-max-ziplist-value"),
    opt(
        "list-max-listpack-size",
        int(i32::MIN as i64, INT_MAX),
        "-2",
    )
    .alias("list-max-ziplist-size"),
    opt("list-compress-depth", int(0, INT_MAX), "0"),
    opt("set-max-intset-entries", int(0, i64::MAX), "512"),
    opt("zset-max-listpack-entries", int(0, i64::MAX), "128").alias("zset-max-ziplist-entries"),
    opt("zset-max-listpack-value", int(0, i64::MAX), "64").alias("zset-max-ziplist-value"),
    // Backups (the backup issue)
    opt("backup-target", OptionKind::Str, ""),
    // Automatic backups: a daily UTC window `HH:MM-HH:MM` (>= 60 minutes), "" = none.
    opt("backup-window", OptionKind::Str, ""),
    opt("backup-retention-days", int(0, 35), "7"),
    opt("backup-manual-limit", int(0, INT_MAX), "20"),
    opt("backup-s3-endpoint", OptionKind::Str, ""),
    opt("backup-s3-region", OptionKind::Str, ""),
    opt("backup-s3-sse", OptionKind::Str, ""),
    opt("backup-part-size", MEM, "8388608"),
    opt("backup-upload-concurrency", int(1, 64), "4"),
    opt("backup-s3-timeout", int(1, 3600), "60"),
    opt("backup-on-shutdown", BOOL, "no"),
    // Redis 7.0 directives snapkv has no use for (no replication, cluster, TLS, AOF,
    // ACL files, modules or defragmentation): accepted with Redis's defaults so an
    // existing redis.conf loads, shown by CONFIG GET, not acted upon; a non-default
    // value is reported at start-up.
    opt(
        "acl-pubsub-default",
        OptionKind::Enum(&["allchannels", "resetchannels"]),
        "resetchannels",
    )
    .inert(),
    opt("aclfile", OptionKind::Str, "").inert().fixed(),
    opt("acllog-max-len", int(0, i64::MAX), "128").inert(),
    opt("activedefrag", BOOL, "no").inert(),
    opt("active-defrag-cycle-max", int(1, 99), "25").inert(),
    opt("active-defrag-cycle-min", int(1, 99), "1").inert(),
    opt("active-defrag-ignore-bytes", MEM, "104857600").inert(),
    opt("active-defrag-max-scan-fields", int(1, i64::MAX), "1000").inert(),
    opt("active-defrag-threshold-lower", int(0, 1000), "10").inert(),
    opt("active-defrag-threshold-upper", int(0, 1000), "100").inert(),
    opt("activerehashing", BOOL, "yes").inert(),
    opt("always-show-logo", BOOL, "no").inert().fixed(),
    opt("aof-disable-auto-gc", BOOL, "no").inert(),
    opt("aof-load-truncated", BOOL, "yes").inert(),
    opt("aof-rewrite-incremental-fsync", BOOL, "yes").inert(),
    opt("aof-timestamp-enabled", BOOL, "no").inert(),
    opt("aof-use-rdb-preamble", BOOL, "yes").inert(),
    opt("aof_rewrite_cpulist", OptionKind::Str, "")
        .inert()
        .fixed(),
    opt("appenddirname", OptionKind::Str, "appendonlydir")
        .inert()
        .fixed(),
    opt("appendfilename", OptionKind::Str, "appendonly.aof")
        .inert()
        .fixed(),
    opt("auto-aof-rewrite-min-size", MEM, "67108864").inert(),
    opt("auto-aof-rewrite-percentage", int(0, INT_MAX), "100").inert(),
    opt("bgsave_cpulist", OptionKind::Str, "").inert().fixed(),
    opt("bind-source-addr", OptionKind::Str, "").inert(),
    opt("bio_cpulist", OptionKind::Str, "").inert().fixed(),
    opt("busy-reply-threshold", int(0, i64::MAX), "5000")
        .alias("lua-time-limit")
        .inert(),
    opt("cluster-allow-pubsubshard-when-down", BOOL, "yes").inert(),
    opt("cluster-allow-reads-when-down", BOOL, "no").inert(),
    opt("cluster-allow-replica-migration", BOOL, "yes").inert(),
    opt("cluster-announce-bus-port", int(0, 65535), "0").inert(),
    opt("cluster-announce-hostname", OptionKind::Str, "").inert(),
    opt("cluster-announce-ip", OptionKind::Str, "").inert(),
    opt("cluster-announce-port", int(0, 65535), "0").inert(),
    opt("cluster-announce-tls-port", int(0, 65535), "0").inert(),
    opt("cluster-config-file", OptionKind::Str, "nodes.conf")
        .inert()
        .fixed(),
    opt("cluster-enabled", BOOL, "no").inert().fixed(),
    opt("cluster-link-sendbuf-limit", MEM, "0").inert(),
    opt("cluster-migration-barrier", int(0, INT_MAX), "1").inert(),
    opt("cluster-node-timeout", int(0, i64::MAX), "15000").inert(),
    opt("cluster-port", int(0, 65535), "0").inert().fixed(),
    opt(
        "cluster-preferred-endpoint-type",
        OptionKind::Enum(&["ip", "hostname", "unknown-endpoint"]),
        "ip",
    )
    .inert(),
    opt("cluster-replica-no-failover", BOOL, "no")
        .alias("cluster-slave-no-failover")
        .inert(),
    opt("cluster-replica-validity-factor", int(0, INT_MAX), "10")
        .alias("cluster-slave-validity-factor")
        .inert(),
    opt("cluster-require-full-coverage", BOOL, "yes").inert(),
    opt("crash-log-enabled", BOOL, "yes").inert(),
    opt("crash-memcheck-enabled", BOOL, "yes").inert(),
    opt("disable-thp", BOOL, "yes").inert(),
    opt(
        "enable-module-command",
        OptionKind::Enum(&["no", "yes", "local"]),
        "no",
    )
    .inert()
    .fixed(),
    opt("hll-sparse-max-bytes", MEM, "3000").inert(),
    opt("ignore-warnings", OptionKind::Str, "").inert(),
    opt("io-threads-do-reads", BOOL, "no").inert().fixed(),
    opt("jemalloc-bg-thread", BOOL, "yes").inert(),
    opt(
        "latency-tracking-info-percentiles",
        OptionKind::Percentiles,
        "50 99 99.9",
    ),
    opt("masterauth", OptionKind::Str, "").inert(),
    opt("masteruser", OptionKind::Str, "").inert(),
    opt("min-replicas-max-lag", int(0, INT_MAX), "10")
        .alias("min-slaves-max-lag")
        .inert(),
    opt("min-replicas-to-write", int(0, INT_MAX), "0")
        .alias("min-slaves-to-write")
        .inert(),
    opt("no-appendfsync-on-rewrite", BOOL, "no").inert(),
    opt(
        "oom-score-adj",
        OptionKind::Enum(&["no", "yes", "relative", "absolute"]),
        "no",
    )
    .inert(),
    opt("oom-score-adj-values", OptionKind::Str, "0 200 800").inert(),
    opt(
        "proc-title-template",
        OptionKind::Str,
        "{title} {listen-addr} {server-mode}",
    )
    .inert(),
    opt(
        "propagation-error-behavior",
        OptionKind::Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore",
    )
    .inert(),
    opt("repl-backlog-size", MEM, "1048576").inert(),
    opt("repl-backlog-ttl", int(0, INT_MAX), "3600").inert(),
    opt("repl-disable-tcp-nodelay", BOOL, "no").inert(),
    opt(
        "repl-diskless-load",
        OptionKind::Enum(&["disabled", "on-empty-db", "swapdb"]),
        "disabled",
    )
    .inert(),
    opt("repl-diskless-sync", BOOL, "yes").inert(),
    opt("repl-diskless-sync-delay", int(0, INT_MAX), "5").inert(),
    opt("repl-diskless-sync-max-replicas", int(0, INT_MAX), "0").inert(),
    opt("repl-ping-replica-period", int(1, INT_MAX), "10")
        .alias("repl-ping-slave-period")
        .inert(),
    opt("repl-timeout", int(1, INT_MAX), "60").inert(),
    opt("replica-announce-ip", OptionKind::Str, "")
        .alias("slave-announce-ip")
        .inert(),
    opt("replica-announce-port", int(0, 65535), "0")
        .alias("slave-announce-port")
        .inert(),
    opt("replica-announced", BOOL, "yes").inert(),
    opt("replica-ignore-disk-write-errors", BOOL, "no").inert(),
    opt("replica-ignore-maxmemory", BOOL, "yes")
        .alias("slave-ignore-maxmemory")
        .inert(),
    opt("replica-lazy-flush", BOOL, "no")
        .alias("slave-lazy-flush")
        .inert(),
    opt("replica-priority", int(0, INT_MAX), "100")
        .alias("slave-priority")
        .inert(),
    opt("replica-read-only", BOOL, "yes")
        .alias("slave-read-only")
        .inert(),
    opt("replica-serve-stale-data", BOOL, "yes")
        .alias("slave-serve-stale-data")
        .inert(),
    opt("replicaof", OptionKind::Str, "")
        .alias("slaveof")
        .inert(),
    opt(
        "sanitize-dump-payload",
        OptionKind::Enum(&["no", "yes", "clients"]),
        "no",
    )
    .inert(),
    opt("server_cpulist", OptionKind::Str, "").inert().fixed(),
    opt("set-proc-title", BOOL, "yes").inert().fixed(),
    opt("shutdown-on-sigint", OptionKind::Str, "default").inert(),
    opt("shutdown-on-sigterm", OptionKind::Str, "default").inert(),
    opt("shutdown-timeout", int(0, INT_MAX), "10").inert(),
    opt("socket-mark-id", int(0, u32::MAX as i64), "0").inert(),
    opt("stream-node-max-bytes", MEM, "4096"),
    opt("stream-node-max-entries", int(0, i64::MAX), "100"),
    opt("syslog-enabled", BOOL, "no").inert().fixed(),
    opt(
        "syslog-facility",
        OptionKind::Enum(&[
            "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
        ]),
        "local0",
    )
    .inert()
    .fixed(),
    opt("syslog-ident", OptionKind::Str, "redis")
        .inert()
        .fixed(),
    opt(
        "tls-auth-clients",
        OptionKind::Enum(&["no", "yes", "optional"]),
        "yes",
    )
    .inert(),
    opt("tls-ca-cert-dir", OptionKind::Str, "").inert(),
    opt("tls-ca-cert-file", OptionKind::Str, "").inert(),
    opt("tls-cert-file", OptionKind::Str, "").inert(),
    opt("tls-ciphers", OptionKind::Str, "").inert(),
    opt("tls-ciphersuites", OptionKind::Str, "").inert(),
    opt("tls-client-cert-file", OptionKind::Str, "").inert(),
    opt("tls-client-key-file", OptionKind::Str, "").inert(),
    opt("tls-client-key-file-pass", OptionKind::Str, "").inert(),
    opt("tls-cluster", BOOL, "no").inert(),
    opt("tls-dh-params-file", OptionKind::Str, "").inert(),
    opt("tls-key-file", OptionKind::Str, "").inert(),
    opt("tls-key-file-pass", OptionKind::Str, "").inert(),
    opt("tls-port", int(0, 65535), "0").inert(),
    opt("tls-prefer-server-ciphers", BOOL, "no").inert(),
    opt("tls-protocols", OptionKind::Str, "").inert(),
    opt("tls-replication", BOOL, "no").inert(),
    opt("tls-session-cache-size", int(0, INT_MAX), "20480").inert(),
    opt("tls-session-cache-timeout", int(0, INT_MAX), "300").inert(),
    opt("tls-session-caching", BOOL, "yes").inert(),
    opt("tracking-table-max-keys", int(0, i64::MAX), "1000000").inert(),
    // Octal in Redis ("700"): kept as written.
    opt("unixsocketperm", OptionKind::Str, "0").inert().fixed(),
];

impl OptionSpec {
    pub fn find(name: &str) -> Option<&'static OptionSpec> {
        OPTIONS.iter().find(|o| {
            o.name.eq_ignore_ascii_case(name)
                || o.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
        })
    }

    /// Validates `args` (one value, or several for list-like options) and returns the
    /// canonical string CONFIG GET will show. Errors are Redis's texts.
    pub fn canonical(&self, args: &[&str]) -> Result<String, String> {
        let single = || args.join(" ");
        match self.name {
            "notify-keyspace-events" => return canonical_notify(&single()),
            // Redis clamps hz to CONFIG_MIN_HZ..CONFIG_MAX_HZ and shows the clamped value.
            "hz" => {
                let v = single();
                let n: i64 =
                    parse_int_or_memory(&v).ok_or("argument couldn't be parsed into an integer")?;
                if n < 0 {
                    return Err(format!(
                        "argument must be between 0 and {INT_MAX} inclusive"
                    ));
                }
                return Ok(n.clamp(1, 500).to_string());
            }
            "backup-window" => return canonical_window(&single()),
            _ => {}
        }
        match self.kind {
            OptionKind::Bool => match single().to_ascii_lowercase().as_str() {
                "yes" => Ok("yes".into()),
                "no" => Ok("no".into()),
                _ => Err("argument must be 'yes' or 'no'".into()),
            },
            OptionKind::Int { min, max } => {
                let v = single();
                let n: i64 =
                    parse_int_or_memory(&v).ok_or("argument couldn't be parsed into an integer")?;
                if n < min || n > max {
                    return Err(format!(
                        "argument must be between {min} and {max} inclusive"
                    ));
                }
                Ok(n.to_string())
            }
            OptionKind::Memory { max } => {
                let v = single();
                let n = parse_memory(&v).ok_or("argument must be a memory value")?;
                if n > max {
                    return Err(format!("argument must be between 0 and {max} inclusive"));
                }
                Ok(format_memory(n))
            }
            OptionKind::Enum(values) => {
                let v = single().to_ascii_lowercase();
                if values.contains(&v.as_str()) {
                    Ok(v)
                } else {
                    Err(format!(
                        "argument(s) must be one of the following: {}",
                        values.join(", ")
                    ))
                }
            }
            OptionKind::Str => Ok(single()),
            OptionKind::List => Ok(args
                .iter()
                .flat_map(|a| a.split_whitespace())
                .collect::<Vec<_>>()
                .join(" ")),
            OptionKind::Save => canonical_save(args),
            OptionKind::OutputBufferLimit => canonical_obl(args),
            OptionKind::Percentiles => canonical_percentiles(args),
        }
    }
}

/// Integers in config accept memory units too (Redis's `numericConfig` with MEMORY flag
/// is separate, but plain integers like `hz 10` must parse).
fn parse_int_or_memory(v: &str) -> Option<i64> {
    v.parse::<i64>().ok()
}

/// `notify-keyspace-events` in Redis's canonical letter order
/// (`keyspaceEventsStringToFlags` then `keyspaceEventsFlagsToString`).
fn canonical_notify(v: &str) -> Result<String, String> {
    const CLASSES: &str = "g$lshzxetdn";
    let mut set = std::collections::BTreeSet::new();
    for c in v.chars() {
        match c {
            // `A` = every class but `n` (new keys).
            'A' => set.extend("g$lshzxetd".chars()),
            'K' | 'E' | 'm' => {
                set.insert(c);
            }
            c if CLASSES.contains(c) => {
                set.insert(c);
            }
            _ => return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
        }
    }
    let mut out = String::new();
    if "g$lshzxetd".chars().all(|c| set.contains(&c)) {
        out.push('A');
    } else {
        out.extend(CLASSES.chars().filter(|c| set.contains(c)));
    }
    out.extend("KEm".chars().filter(|c| set.contains(c)));
    Ok(out)
}

/// `HH:MM-HH:MM` (UTC, at least 60 minutes, may wrap past midnight) or "".
fn canonical_window(v: &str) -> Result<String, String> {
    if v.is_empty() {
        return Ok(String::new());
    }
    let minutes = |t: &str| -> Option<u32> {
        let (h, m) = t.split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60 && t.len() == 5).then_some(h * 60 + m)
    };
    let (a, b) = v
        .split_once('-')
        .and_then(|(a, b)| Some((minutes(a)?, minutes(b)?)))
        .ok_or("argument must be a window HH:MM-HH:MM (UTC)")?;
    if (b + 1440 - a) % 1440 < 60 {
        return Err("the backup window must be at least 60 minutes long".into());
    }
    Ok(v.to_string())
}

/// `latency-tracking-info-percentiles`, as Redis checks and prints it ("50 99 99.9").
fn canonical_percentiles(args: &[&str]) -> Result<String, String> {
    let mut out = Vec::new();
    for w in args.iter().flat_map(|a| a.split_whitespace()) {
        let p: f64 = w
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        out.push(p.to_string());
    }
    Ok(out.join(" "))
}

fn canonical_save(args: &[&str]) -> Result<String, String> {
    let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
    if words.is_empty() || (words.len() == 1 && words[0].is_empty()) {
        return Ok(String::new());
    }
    if !words.len().is_multiple_of(2) {
        return Err("Invalid save parameters".into());
    }
    let mut out = Vec::new();
    for pair in words.chunks(2) {
        let secs: i64 = pair[0].parse().map_err(|_| "Invalid save parameters")?;
        let changes: i64 = pair[1].parse().map_err(|_| "Invalid save parameters")?;
        if secs < 1 || changes < 0 {
            return Err("Invalid save parameters".into());
        }
        out.push(format!("{secs} {changes}"));
    }
    Ok(out.join(" "))
}

fn canonical_obl(args: &[&str]) -> Result<String, String> {
    let words: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
    if words.is_empty() || !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    // Start from the defaults so a partial setting keeps the other classes.
    let mut classes: Vec<(String, [u64; 3])> = vec![
        ("normal".into(), [0, 0, 0]),
        ("slave".into(), [268435456, 67108864, 60]),
        ("pubsub".into(), [33554432, 8388608, 60]),
    ];
    for chunk in words.chunks(4) {
        let class = match chunk[0].to_ascii_lowercase().as_str() {
            "replica" | "slave" => "slave".to_string(),
            "normal" => "normal".into(),
            "pubsub" => "pubsub".into(),
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let hard = parse_memory(chunk[1]);
        let soft = parse_memory(chunk[2]);
        let secs = chunk[3].parse::<u64>().ok();
        let (Some(hard), Some(soft), Some(secs)) = (hard, soft, secs) else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        };
        if let Some(c) = classes.iter_mut().find(|(n, _)| *n == class) {
            c.1 = [hard, soft, secs];
        }
    }
    Ok(classes
        .iter()
        .map(|(n, v)| format!("{n} {} {} {}", v[0], v[1], v[2]))
        .collect::<Vec<_>>()
        .join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms_and_errors() {
        let f = |n: &str, v: &[&str]| OptionSpec::find(n).unwrap().canonical(v);
        assert_eq!(f("maxmemory", &["1mb"]).unwrap(), "1048576");
        assert_eq!(f("protected-mode", &["YES"]).unwrap(), "yes");
        assert_eq!(
            f("hz", &["x"]).unwrap_err(),
            "argument couldn't be parsed into an integer"
        );
        assert_eq!(
            f("maxmemory-samples", &["0"]).unwrap_err(),
            "argument must be between 1 and 2147483647 inclusive"
        );
        assert!(f("maxmemory-policy", &["nope"])
            .unwrap_err()
            .starts_with("argument(s) must be one of the following: volatile-lru"));
        assert_eq!(f("save", &["900 1 300 10"]).unwrap(), "900 1 300 10");
        assert_eq!(f("save", &[""]).unwrap(), "");
        assert!(f("save", &["900"]).is_err());
        assert_eq!(
            f("client-output-buffer-limit", &["pubsub 1mb 2mb 3"]).unwrap(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 2097152 3"
        );
        assert_eq!(f("backup-window", &["23:30-00:30"]).unwrap(), "23:30-00:30");
        assert_eq!(f("backup-window", &[""]).unwrap(), "");
        assert!(f("backup-window", &["03:00-03:30"])
            .unwrap_err()
            .contains("at least 60 minutes"));
        assert!(f("backup-window", &["3:00-04:00"]).is_err());
        assert!(f("backup-retention-days", &["36"]).is_err());
    }
}
