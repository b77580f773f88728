//! INFO: the server's state in Redis 7.0's sections and field names, so monitoring tools
//! and client libraries read snapkv like Redis. snapkv-only fields (snapshot reserve)
//! carry their own names next to Redis's.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use snapkv_keyspace::memory;
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::CommandResult;
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] =
    &[
        CommandSpec::new("info", -1, LOADING | STALE, "server", info)
            .tips(&[
                "nondeterministic_output",
                "request_policy:all_shards",
                "response_policy:special",
            ])
            .acl(&["@dangerous"])
            .lock(LockPlan::Lazy)
            .doc(
                "Returns information and statistics about the server.",
                "1.0.0",
            ),
    ];

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

fn info(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut wanted: Vec<String> = args[1..].iter().map(|a| crate::args::lower(a)).collect();
    let mut all = false;
    if wanted.is_empty() || wanted.iter().any(|w| w == "default") {
        wanted.extend(DEFAULT.iter().map(|s| s.to_string()));
    }
    if wanted.iter().any(|w| w == "all" || w == "everything") {
        all = true;
    }
    let mut out = String::new();
    type Section = fn(&mut Ctx, &mut String);
    let sections: [(&str, Section); 14] = [
        ("server", server),
        ("clients", clients),
        ("memory", memory_section),
        ("persistence", persistence),
        ("stats", stats),
        ("replication", replication),
        ("cpu", cpu),
        ("modules", |_, _| {}),
        ("commandstats", commandstats),
        ("errorstats", errorstats),
        ("latencystats", latencystats),
        ("cluster", |_, o| o.push_str("cluster_enabled:0\r\n")),
        ("keyspace", keyspace),
        ("backup", crate::backup::info_section),
    ];
    for (name, f) in sections {
        let default_section =
            DEFAULT.contains(&name) || ["commandstats", "latencystats", "backup"].contains(&name);
        if !(wanted.iter().any(|w| w == name) || (all && default_section)) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let mut title = name.to_string();
        title[..1].make_ascii_uppercase();
        let title = match name {
            "cpu" => "CPU".to_string(),
            "commandstats" => "Commandstats".into(),
            "errorstats" => "Errorstats".into(),
            "latencystats" => "Latencystats".into(),
            _ => title,
        };
        let _ = write!(out, "# {title}\r\n");
        f(ctx, &mut out);
    }
    Ok(Reply::Verbatim(Bytes::from(out)))
}

/// `used_memory_human`-style formatting (Redis's `bytesToHuman`).
pub fn human(n: u64) -> String {
    let n = n as f64;
    let units = [
        (1u64 << 50, "P"),
        (1 << 40, "T"),
        (1 << 30, "G"),
        (1 << 20, "M"),
        (1 << 10, "K"),
    ];
    for (size, unit) in units {
        if n >= size as f64 {
            return format!("{:.2}{unit}", n / size as f64);
        }
    }
    format!("{}B", n as u64)
}

fn server(ctx: &mut Ctx, o: &mut String) {
    let s = ctx.shared;
    let uptime = s.started.elapsed().as_secs();
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    let uname = nix_uname();
    let settings = ctx.settings();
    let _ = write!(
        o,
        "redis_version:{}\r\nsnapkv_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{uname}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{now_us}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\n",
        crate::REDIS_VERSION,
        crate::SNAPKV_VERSION,
        std::process::id(),
        s.run_id,
        s.tcp_port.load(Relaxed),
        uptime / 86400,
        settings.hz,
        settings.hz,
        snapkv_keyspace::clock::lru_clock(ctx.now_ms()),
        s.executable,
        s.config.file().map(|p| p.display().to_string()).unwrap_or_default(),
    );
}

fn nix_uname() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "{} {} {}",
        read("/proc/sys/kernel/ostype"),
        read("/proc/sys/kernel/osrelease"),
        std::env::consts::ARCH
    )
}

fn clients(ctx: &mut Ctx, o: &mut String) {
    let s = ctx.shared;
    let all = s.clients.all();
    let max_in = all.iter().map(|c| c.qbuf.load(Relaxed)).max().unwrap_or(0);
    let max_out = all.iter().map(|c| c.omem.load(Relaxed)).max().unwrap_or(0);
    let _ = write!(
        o,
        "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:{max_in}\r\nclient_recent_max_output_buffer:{max_out}\r\nblocked_clients:{}\r\ntracking_clients:0\r\nclients_in_timeout_table:{}\r\n",
        all.len(),
        ctx.settings().maxclients,
        s.blocking.blocked_clients(),
        s.blocking.timed_clients()
    );
}

/// The machine's memory, from /proc/meminfo (the budget when maxmemory is 0).
pub fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Resident set size from /proc/self/statm.
pub fn rss() -> u64 {
    let page = 4096;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|t| {
            t.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map(|p| p * page)
        .unwrap_or(0)
}

/// What INFO memory and MEMORY STATS both report, read once (the peak is raised to the
/// current figure on the way).
pub(crate) struct MemoryFigures {
    pub allocated: u64,
    pub active: u64,
    pub resident: u64,
    pub peak: u64,
    pub startup: u64,
    pub rss: u64,
}

pub(crate) fn memory_figures(s: &crate::shared::Shared) -> MemoryFigures {
    let (allocated, active, resident) = memory::allocator_stats();
    MemoryFigures {
        allocated,
        active,
        resident,
        peak: s
            .stats
            .used_memory_peak
            .fetch_max(allocated, Relaxed)
            .max(allocated),
        startup: s.stats.used_memory_startup.load(Relaxed),
        rss: rss(),
    }
}

impl MemoryFigures {
    /// Redis's four overheads, each as (ratio, bytes): allocator fragmentation (active
    /// over allocated), allocator RSS (resident over active), RSS overhead (RSS over
    /// resident) and fragmentation (RSS over allocated).
    pub fn overheads(&self) -> [(f64, u64); 4] {
        let over = |a: u64, b: u64| (ratio(a, b), a.saturating_sub(b));
        [
            over(self.active, self.allocated),
            over(self.resident, self.active),
            over(self.rss, self.resident),
            over(self.rss, self.allocated),
        ]
    }
}

/// `a / b`, 0 when `b` is 0 (the memory ratios).
pub(crate) fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn memory_section(ctx: &mut Ctx, o: &mut String) {
    let s = ctx.shared;
    let m = memory_figures(s);
    let [alloc_frag, alloc_rss, rss_over, frag] = m.overheads();
    let MemoryFigures {
        allocated,
        active,
        resident,
        peak,
        startup,
        rss,
    } = m;
    let used = allocated;
    let sys = total_system_memory();
    let settings = ctx.settings();
    let budget = if settings.maxmemory > 0 {
        settings.maxmemory
    } else {
        sys
    };
    let reserve = settings.reserve(budget);
    let dataset = used.saturating_sub(startup);
    let _ = write!(
        o,
        "used_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\nused_memory_peak_perc:{:.2}%\r\nused_memory_overhead:{startup}\r\nused_memory_startup:{startup}\r\nused_memory_dataset:{dataset}\r\nused_memory_dataset_perc:{:.2}%\r\nallocator_allocated:{allocated}\r\nallocator_active:{active}\r\nallocator_resident:{resident}\r\ntotal_system_memory:{sys}\r\ntotal_system_memory_human:{}\r\nused_memory_lua:31744\r\nused_memory_vm_eval:31744\r\nused_memory_lua_human:31.00K\r\nused_memory_scripts_eval:0\r\nnumber_of_cached_scripts:0\r\nnumber_of_functions:0\r\nnumber_of_libraries:0\r\nused_memory_vm_functions:32768\r\nused_memory_vm_total:64512\r\nused_memory_vm_total_human:63.00K\r\nused_memory_functions:184\r\nused_memory_scripts:184\r\nused_memory_scripts_human:184B\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nallocator_frag_ratio:{:.2}\r\nallocator_frag_bytes:{}\r\nallocator_rss_ratio:{:.2}\r\nallocator_rss_bytes:{}\r\nrss_overhead_ratio:{:.2}\r\nrss_overhead_bytes:{}\r\nmem_fragmentation_ratio:{:.2}\r\nmem_fragmentation_bytes:{}\r\nmem_not_counted_for_evict:0\r\nmem_replication_backlog:0\r\nmem_total_replication_buffers:0\r\nmem_clients_slaves:0\r\nmem_clients_normal:0\r\nmem_cluster_links:0\r\nmem_aof_buffer:0\r\nmem_allocator:jemalloc-5.3.0\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\nreserved_memory_percent:{}\r\nreserved_memory:{}\r\nsnapshot_reserve:{reserve}\r\nsnapshot_reserve_human:{}\r\nmaxmemory_data_limit:{}\r\n",
        human(used),
        human(rss),
        human(peak),
        ratio(used, peak) * 100.0,
        ratio(dataset, used) * 100.0,
        human(sys),
        settings.maxmemory,
        human(settings.maxmemory),
        settings.maxmemory_policy.name(),
        alloc_frag.0,
        alloc_frag.1,
        alloc_rss.0,
        alloc_rss.1,
        rss_over.0,
        rss_over.1,
        frag.0,
        frag.1,
        settings.reserved_memory_percent,
        settings.reserved_memory,
        human(reserve),
        if settings.maxmemory > 0 { settings.data_limit(sys) } else { 0 },
    );
}

/// Sums of every shard's counters and sizes per database, through `ctx.ks`.
fn shard_totals(ctx: &mut Ctx) -> (snapkv_keyspace::ShardStats, Vec<(usize, usize, u64)>) {
    let mut totals = snapkv_keyspace::ShardStats::default();
    let mut per_db = Vec::new();
    let now = ctx.now_ms();
    for db in 0..ctx.shared.keyspace.databases() {
        let (mut keys, mut volatile, mut ttl_sum, mut ttl_n) = (0usize, 0usize, 0u128, 0u128);
        ctx.ks.for_each_shard(db, |v| {
            let st = &v.shard.stats;
            totals.hits += st.hits;
            totals.misses += st.misses;
            totals.expired += st.expired;
            totals.evicted += st.evicted;
            totals.dirty += st.dirty;
            keys += v.shard.len();
            volatile += v.shard.volatile();
            if v.shard.volatile() > 0 {
                for e in v.entries() {
                    if let Some(at) = e.expire_at() {
                        ttl_sum += at.saturating_sub(now) as u128;
                        ttl_n += 1;
                    }
                }
            }
        });
        let avg = ttl_sum.checked_div(ttl_n).unwrap_or(0) as u64;
        per_db.push((keys, volatile, avg));
    }
    (totals, per_db)
}

fn persistence(ctx: &mut Ctx, o: &mut String) {
    let (totals, _) = shard_totals(ctx);
    let p = &ctx.shared.persistence;
    let loading_fields = p.loading.lock().as_ref().map(|(pr, total, start)| {
        let loaded = pr.as_ref().map_or(0, |pr| pr.bytes_read());
        let keys = pr.as_ref().map_or(0, |pr| pr.keys_loaded());
        let now = snapkv_keyspace::clock::now_ms() / 1000;
        let elapsed = now.saturating_sub(*start).max(1);
        let perc = if *total > 0 { loaded as f64 * 100.0 / *total as f64 } else { 0.0 };
        let eta = (total.saturating_sub(loaded) * elapsed).checked_div(loaded).unwrap_or(1);
        format!(
            "loading_start_time:{start}\r\nloading_total_bytes:{total}\r\nloading_rdb_used_mem:0\r\nloading_loaded_bytes:{loaded}\r\nloading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{eta}\r\nloading_loaded_keys:{}\r\n",
            keys
        )
    });
    let running = p.bgsave_in_progress.load(Relaxed);
    let (processed, total) = p
        .progress
        .lock()
        .as_ref()
        .filter(|_| running)
        .map(|pr| (pr.keys_processed.load(Relaxed), pr.keys_total.load(Relaxed)))
        .unwrap_or((0, 0));
    let method = p.last_method.lock().clone();
    let method = (
        if method.0.is_empty() {
            "none"
        } else {
            method.0
        },
        method.1,
    );
    // Whole seconds on the clock between start and now (Redis subtracts two time(NULL)s).
    let current_secs = if running {
        (snapkv_keyspace::clock::now_ms() / 1000)
            .saturating_sub(p.bgsave_started_ms.load(Relaxed) / 1000) as i64
    } else {
        -1
    };
    let _ = write!(
        o,
        "loading:{}\r\n{}async_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:{processed}\r\ncurrent_save_keys_total:{total}\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{current_secs}\r\nrdb_saves:{}\r\nrdb_last_cow_size:{}\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\nrdb_last_bgsave_method:{}\r\nrdb_last_bgsave_method_reason:{}\r\nrdb_last_bgsave_cow_entries:{}\r\nsnapshot_writes_delayed:{}\r\nsnapshot_write_delay_usec:{}\r\n",
        ctx.shared.loading.load(Relaxed) as u8,
        loading_fields.unwrap_or_default(),
        totals.dirty,
        p.bgsave_in_progress.load(Relaxed) as u8,
        p.lastsave_secs.load(Relaxed),
        if p.last_bgsave_ok.load(Relaxed) { "ok" } else { "err" },
        p.last_bgsave_secs.load(Relaxed),
        p.saves.load(Relaxed),
        p.last_cow_bytes.load(Relaxed),
        p.last_load_expired.load(Relaxed),
        p.last_load_keys.load(Relaxed),
        method.0,
        method.1,
        p.last_cow_entries.load(Relaxed),
        p.writes_delayed.load(Relaxed),
        p.write_delay_us.load(Relaxed),
    );
}

fn stats(ctx: &mut Ctx, o: &mut String) {
    let (totals, _) = shard_totals(ctx);
    let s = ctx.shared;
    let st = &s.stats;
    let (ops, in_kbps, out_kbps) = st.instantaneous();
    let _ = write!(
        o,
        "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{ops}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:{in_kbps:.2}\r\ninstantaneous_output_kbps:{out_kbps:.2}\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\nexpired_keys:{}\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nexpire_cycle_cpu_milliseconds:{}\r\nevicted_keys:{}\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:0\r\npubsub_patterns:0\r\npubsubshard_channels:0\r\nlatest_fork_usec:{}\r\ntotal_forks:{}\r\nmigrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:0\r\ntracking_total_items:0\r\ntracking_total_prefixes:0\r\nunexpected_error_replies:0\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\n",
        s.clients.total_connections.load(Relaxed),
        st.commands_processed.load(Relaxed),
        st.net_input_bytes.load(Relaxed),
        st.net_output_bytes.load(Relaxed),
        s.clients.rejected_connections.load(Relaxed),
        totals.expired,
        st.expire_cycle_cpu_ms.load(Relaxed),
        totals.evicted,
        totals.hits,
        totals.misses,
        s.persistence.latest_fork_usec.load(Relaxed),
        s.persistence.total_forks.load(Relaxed),
        st.total_error_replies.load(Relaxed),
        st.reads_processed.load(Relaxed),
        st.writes_processed.load(Relaxed),
    );
}

fn replication(ctx: &mut Ctx, o: &mut String) {
    let _ = write!(
        o,
        "role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
        ctx.shared.run_id
    );
}

fn cpu(_ctx: &mut Ctx, o: &mut String) {
    let usage = |who| {
        // SAFETY: getrusage writes into the zeroed struct we own.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut ru) };
        let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        (t(ru.ru_stime), t(ru.ru_utime))
    };
    let (sys, user) = usage(libc::RUSAGE_SELF);
    let (csys, cuser) = usage(libc::RUSAGE_CHILDREN);
    let (tsys, tuser) = usage(libc::RUSAGE_THREAD);
    let _ = write!(
        o,
        "used_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:{csys:.6}\r\nused_cpu_user_children:{cuser:.6}\r\nused_cpu_sys_main_thread:{tsys:.6}\r\nused_cpu_user_main_thread:{tuser:.6}\r\n"
    );
}

fn commandstats(ctx: &mut Ctx, o: &mut String) {
    for (spec, st) in ctx.shared.commands.all_with_stats() {
        let calls = st.calls();
        let rejected = st.rejected();
        let failed = st.failed();
        if calls == 0 && rejected == 0 && failed == 0 {
            continue;
        }
        let usec = st.usec();
        let per = if calls > 0 {
            usec as f64 / calls as f64
        } else {
            0.0
        };
        let _ = write!(
            o,
            "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rejected},failed_calls={failed}\r\n",
            spec.name
        );
    }
}

/// `latency_percentiles_usec_<command>:p50=…,p99=…` for every command called since the
/// last reset, at the `latency-tracking-info-percentiles`.
fn latencystats(ctx: &mut Ctx, o: &mut String) {
    let percentiles = &ctx.client.settings.latency_tracking_info_percentiles;
    for (spec, st) in ctx.shared.commands.all_with_stats() {
        let Some(counts) = st.latency.counts() else {
            continue;
        };
        let values: Vec<String> = percentiles
            .iter()
            .map(|&p| format!("p{p}={:.3}", counts.at_percentile(p) as f64 / 1000.0))
            .collect();
        let _ = write!(
            o,
            "latency_percentiles_usec_{}:{}\r\n",
            spec.name,
            values.join(",")
        );
    }
}

fn errorstats(ctx: &mut Ctx, o: &mut String) {
    for (prefix, n) in ctx.shared.stats.errors.lock().iter() {
        let _ = write!(o, "errorstat_{prefix}:count={n}\r\n");
    }
}

fn keyspace(ctx: &mut Ctx, o: &mut String) {
    let (_, per_db) = shard_totals(ctx);
    for (db, (keys, expires, avg)) in per_db.into_iter().enumerate() {
        if keys > 0 {
            let _ = write!(o, "db{db}:keys={keys},expires={expires},avg_ttl={avg}\r\n");
        }
    }
}
