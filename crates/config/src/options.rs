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
    /// Hidden from `CONFIG GET *` like Redis's `DEBUG_CONFIG`/sensitive ones? No: shown.
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

/// Accepted, not acted upon (see [`OptionSpec::inert`]).
const fn inert(name: &'static str, kind: OptionKind, default: &'static str) -> OptionSpec {
    OptionSpec {
        inert: true,
        ..opt(name, kind, default)
    }
}

const fn inert_fixed(name: &'static str, kind: OptionKind, default: &'static str) -> OptionSpec {
    OptionSpec {
        immutable: true,
        ..inert(name, kind, default)
    }
}

/// An option and its old name (`replica-*` / `slave-*`, …), accepted, not acted upon.
const fn inert_aliased(
    name: &'static str,
    alias: &'static str,
    kind: OptionKind,
    default: &'static str,
) -> OptionSpec {
    OptionSpec {
        alias: Some(alias),
        ..inert(name, kind, default)
    }
}

const fn hidden(name: &'static str, kind: OptionKind, default: &'static str) -> OptionSpec {
    OptionSpec {
        hidden: true,
        ..opt(name, kind, default)
    }
}

const fn protected(name: &'static str, kind: OptionKind, default: &'static str) -> OptionSpec {
    OptionSpec {
        protected: true,
        ..opt(name, kind, default)
    }
}

const fn fixed(name: &'static str, kind: OptionKind, default: &'static str) -> OptionSpec {
    OptionSpec {
        immutable: true,
        ..opt(name, kind, default)
    }
}

const fn aliased(
    name: &'static str,
    alias: &'static str,
    kind: OptionKind,
    default: &'static str,
) -> OptionSpec {
    OptionSpec {
        alias: Some(alias),
        ..opt(name, kind, default)
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
    fixed("bind", OptionKind::List, "127.0.0.1 -::1"),
    fixed("port", int(0, 65535), "6379"),
    opt("protected-mode", BOOL, "yes"),
    fixed("tcp-backlog", int(0, INT_MAX), "511"),
    opt("timeout", int(0, INT_MAX), "0"),
    opt("tcp-keepalive", int(0, INT_MAX), "300"),
    fixed("unixsocket", OptionKind::Str, ""),
    // General
    fixed("daemonize", BOOL, "no"),
    fixed(
        "supervised",
        OptionKind::Enum(&["upstart", "systemd", "auto", "no"]),
        "no",
    ),
    fixed("pidfile", OptionKind::Str, ""),
    opt(
        "loglevel",
        OptionKind::Enum(&["debug", "verbose", "notice", "warning"]),
        "notice",
    ),
    fixed("logfile", OptionKind::Str, ""),
    fixed("databases", int(1, INT_MAX), "16"),
    fixed("io-threads", int(0, 128), "0"),
    opt("hz", int(0, INT_MAX), "10"),
    opt("dynamic-hz", BOOL, "yes"),
    // Snapshotting
    opt("save", OptionKind::Save, "3600 1 300 100 60 10000"),
    opt("stop-writes-on-bgsave-error", BOOL, "yes"),
    opt("rdbcompression", BOOL, "yes"),
    opt("rdbchecksum", BOOL, "yes"),
    protected("dbfilename", OptionKind::Str, "dump.rdb"),
    opt("rdb-del-sync-files", BOOL, "no"),
    opt("rdb-save-incremental-fsync", BOOL, "yes"),
    protected("dir", OptionKind::Str, "./"),
    opt(
        "snapshot-method",
        OptionKind::Enum(&["auto", "fork", "forkless"]),
        "auto",
    ),
    opt("snapshot-buffer-limit", MEM, "67108864"),
    // Sleep this many microseconds after each key a save writes (negative -N: one
    // microsecond every N keys) — Redis's testing aid for slow saves.
    hidden("rdb-key-save-delay", int(i32::MIN as i64, INT_MAX), "0"),
    opt("snapshot-throttle-max-delay", int(0, 10_000), "10"),
    // Security
    fixed(
        "enable-protected-configs",
        OptionKind::Enum(&["no", "yes", "local"]),
        "no",
    ),
    fixed(
        "enable-debug-command",
        OptionKind::Enum(&["no", "yes", "local"]),
        "no",
    ),
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
    aliased(
        "hash-max-listpack-entries",
        "hash-max-ziplist-entries",
        int(0, i64::MAX),
        "512",
    ),
    aliased(
        "hash-max-listpack-value",
        "hash-max-ziplist-value",
        int(0, i64::MAX),
        "64",
    ),
    aliased(
        "list-max-listpack-size",
        "list-max-ziplist-size",
        int(i32::MIN as i64, INT_MAX),
        "-2",
    ),
    opt("list-compress-depth", int(0, INT_MAX), "0"),
    opt("set-max-intset-entries", int(0, i64::MAX), "512"),
    aliased(
        "zset-max-listpack-entries",
        "zset-max-ziplist-entries",
        int(0, i64::MAX),
        "128",
    ),
    aliased(
        "zset-max-listpack-value",
        "zset-max-ziplist-value",
        int(0, i64::MAX),
        "64",
    ),
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
    inert(
        "acl-pubsub-default",
        OptionKind::Enum(&["allchannels", "resetchannels"]),
        "resetchannels",
    ),
    inert_fixed("aclfile", OptionKind::Str, ""),
    inert("acllog-max-len", int(0, i64::MAX), "128"),
    inert("activedefrag", BOOL, "no"),
    inert("active-defrag-cycle-max", int(1, 99), "25"),
    inert("active-defrag-cycle-min", int(1, 99), "1"),
    inert("active-defrag-ignore-bytes", MEM, "104857600"),
    inert("active-defrag-max-scan-fields", int(1, i64::MAX), "1000"),
    inert("active-defrag-threshold-lower", int(0, 1000), "10"),
    inert("active-defrag-threshold-upper", int(0, 1000), "100"),
    inert("activerehashing", BOOL, "yes"),
    inert_fixed("always-show-logo", BOOL, "no"),
    inert("aof-disable-auto-gc", BOOL, "no"),
    inert("aof-load-truncated", BOOL, "yes"),
    inert("aof-rewrite-incremental-fsync", BOOL, "yes"),
    inert("aof-timestamp-enabled", BOOL, "no"),
    inert("aof-use-rdb-preamble", BOOL, "yes"),
    inert_fixed("aof_rewrite_cpulist", OptionKind::Str, ""),
    inert_fixed("appenddirname", OptionKind::Str, "appendonlydir"),
    inert_fixed("appendfilename", OptionKind::Str, "appendonly.aof"),
    inert("auto-aof-rewrite-min-size", MEM, "67108864"),
    inert("auto-aof-rewrite-percentage", int(0, INT_MAX), "100"),
    inert_fixed("bgsave_cpulist", OptionKind::Str, ""),
    inert("bind-source-addr", OptionKind::Str, ""),
    inert_fixed("bio_cpulist", OptionKind::Str, ""),
    inert_aliased(
        "busy-reply-threshold",
        "lua-time-limit",
        int(0, i64::MAX),
        "5000",
    ),
    inert("cluster-allow-pubsubshard-when-down", BOOL, "yes"),
    inert("cluster-allow-reads-when-down", BOOL, "no"),
    inert("cluster-allow-replica-migration", BOOL, "yes"),
    inert("cluster-announce-bus-port", int(0, 65535), "0"),
    inert("cluster-announce-hostname", OptionKind::Str, ""),
    inert("cluster-announce-ip", OptionKind::Str, ""),
    inert("cluster-announce-port", int(0, 65535), "0"),
    inert("cluster-announce-tls-port", int(0, 65535), "0"),
    inert_fixed("cluster-config-file", OptionKind::Str, "nodes.conf"),
    inert_fixed("cluster-enabled", BOOL, "no"),
    inert("cluster-link-sendbuf-limit", MEM, "0"),
    inert("cluster-migration-barrier", int(0, INT_MAX), "1"),
    inert("cluster-node-timeout", int(0, i64::MAX), "15000"),
    inert_fixed("cluster-port", int(0, 65535), "0"),
    inert(
        "cluster-preferred-endpoint-type",
        OptionKind::Enum(&["ip", "hostname", "unknown-endpoint"]),
        "ip",
    ),
    inert_aliased(
        "cluster-replica-no-failover",
        "cluster-slave-no-failover",
        BOOL,
        "no",
    ),
    inert_aliased(
        "cluster-replica-validity-factor",
        "cluster-slave-validity-factor",
        int(0, INT_MAX),
        "10",
    ),
    inert("cluster-require-full-coverage", BOOL, "yes"),
    inert("crash-log-enabled", BOOL, "yes"),
    inert("crash-memcheck-enabled", BOOL, "yes"),
    inert("disable-thp", BOOL, "yes"),
    inert_fixed(
        "enable-module-command",
        OptionKind::Enum(&["no", "yes", "local"]),
        "no",
    ),
    inert("hll-sparse-max-bytes", MEM, "3000"),
    inert("ignore-warnings", OptionKind::Str, ""),
    inert_fixed("io-threads-do-reads", BOOL, "no"),
    inert("jemalloc-bg-thread", BOOL, "yes"),
    inert(
        "latency-tracking-info-percentiles",
        OptionKind::Str,
        "50 99 99.9",
    ),
    inert("masterauth", OptionKind::Str, ""),
    inert("masteruser", OptionKind::Str, ""),
    inert_aliased(
        "min-replicas-max-lag",
        "min-slaves-max-lag",
        int(0, INT_MAX),
        "10",
    ),
    inert_aliased(
        "min-replicas-to-write",
        "min-slaves-to-write",
        int(0, INT_MAX),
        "0",
    ),
    inert("no-appendfsync-on-rewrite", BOOL, "no"),
    inert(
        "oom-score-adj",
        OptionKind::Enum(&["no", "yes", "relative", "absolute"]),
        "no",
    ),
    inert("oom-score-adj-values", OptionKind::Str, "0 200 800"),
    inert(
        "proc-title-template",
        OptionKind::Str,
        "{title} {listen-addr} {server-mode}",
    ),
    inert(
        "propagation-error-behavior",
        OptionKind::Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore",
    ),
    inert("repl-backlog-size", MEM, "1048576"),
    inert("repl-backlog-ttl", int(0, INT_MAX), "3600"),
    inert("repl-disable-tcp-nodelay", BOOL, "no"),
    inert(
        "repl-diskless-load",
        OptionKind::Enum(&["disabled", "on-empty-db", "swapdb"]),
        "disabled",
    ),
    inert("repl-diskless-sync", BOOL, "yes"),
    inert("repl-diskless-sync-delay", int(0, INT_MAX), "5"),
    inert("repl-diskless-sync-max-replicas", int(0, INT_MAX), "0"),
    inert_aliased(
        "repl-ping-replica-period",
        "repl-ping-slave-period",
        int(1, INT_MAX),
        "10",
    ),
    inert("repl-timeout", int(1, INT_MAX), "60"),
    inert_aliased(
        "replica-announce-ip",
        "slave-announce-ip",
        OptionKind::Str,
        "",
    ),
    inert_aliased(
        "replica-announce-port",
        "slave-announce-port",
        int(0, 65535),
        "0",
    ),
    inert("replica-announced", BOOL, "yes"),
    inert("replica-ignore-disk-write-errors", BOOL, "no"),
    inert_aliased(
        "replica-ignore-maxmemory",
        "slave-ignore-maxmemory",
        BOOL,
        "yes",
    ),
    inert_aliased("replica-lazy-flush", "slave-lazy-flush", BOOL, "no"),
    inert_aliased("replica-priority", "slave-priority", int(0, INT_MAX), "100"),
    inert_aliased("replica-read-only", "slave-read-only", BOOL, "yes"),
    inert_aliased(
        "replica-serve-stale-data",
        "slave-serve-stale-data",
        BOOL,
        "yes",
    ),
    inert_aliased("replicaof", "slaveof", OptionKind::Str, ""),
    inert(
        "sanitize-dump-payload",
        OptionKind::Enum(&["no", "yes", "clients"]),
        "no",
    ),
    inert_fixed("server_cpulist", OptionKind::Str, ""),
    inert_fixed("set-proc-title", BOOL, "yes"),
    inert("shutdown-on-sigint", OptionKind::Str, "default"),
    inert("shutdown-on-sigterm", OptionKind::Str, "default"),
    inert("shutdown-timeout", int(0, INT_MAX), "10"),
    inert("socket-mark-id", int(0, u32::MAX as i64), "0"),
    opt("stream-node-max-bytes", MEM, "4096"),
    opt("stream-node-max-entries", int(0, i64::MAX), "100"),
    inert_fixed("syslog-enabled", BOOL, "no"),
    inert_fixed(
        "syslog-facility",
        OptionKind::Enum(&[
            "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
        ]),
        "local0",
    ),
    inert_fixed("syslog-ident", OptionKind::Str, "redis"),
    inert(
        "tls-auth-clients",
        OptionKind::Enum(&["no", "yes", "optional"]),
        "yes",
    ),
    inert("tls-ca-cert-dir", OptionKind::Str, ""),
    inert("tls-ca-cert-file", OptionKind::Str, ""),
    inert("tls-cert-file", OptionKind::Str, ""),
    inert("tls-ciphers", OptionKind::Str, ""),
    inert("tls-ciphersuites", OptionKind::Str, ""),
    inert("tls-client-cert-file", OptionKind::Str, ""),
    inert("tls-client-key-file", OptionKind::Str, ""),
    inert("tls-client-key-file-pass", OptionKind::Str, ""),
    inert("tls-cluster", BOOL, "no"),
    inert("tls-dh-params-file", OptionKind::Str, ""),
    inert("tls-key-file", OptionKind::Str, ""),
    inert("tls-key-file-pass", OptionKind::Str, ""),
    inert("tls-port", int(0, 65535), "0"),
    inert("tls-prefer-server-ciphers", BOOL, "no"),
    inert("tls-protocols", OptionKind::Str, ""),
    inert("tls-replication", BOOL, "no"),
    inert("tls-session-cache-size", int(0, INT_MAX), "20480"),
    inert("tls-session-cache-timeout", int(0, INT_MAX), "300"),
    inert("tls-session-caching", BOOL, "yes"),
    inert("tracking-table-max-keys", int(0, i64::MAX), "1000000"),
    // Octal in Redis ("700"): kept as written.
    inert_fixed("unixsocketperm", OptionKind::Str, "0"),
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
