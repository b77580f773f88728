//! INFO: Redis 7.0's sections and field names (`genRedisInfoString`), so client
//! libraries and monitoring tools that parse INFO find what they look for. Fields for
//! features snapkv lacks (AOF, replication, modules, Lua) report Redis's idle values.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::CommandResult;
use crate::spec::{flags::*, CommandSpec};

pub static COMMANDS: &[CommandSpec] =
    &[
        CommandSpec::new("info", -1, LOADING | STALE, "server", info).doc(
            "Returns information and statistics about the server.",
            "1.0.0",
        ),
    ];

/// Every section, in output order, and whether plain `INFO` shows it.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("latencystats", false),
    ("cluster", true),
    ("keyspace", true),
];

fn info(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let wanted: Vec<String> = args[1..].iter().map(|a| crate::args::lower(a)).collect();
    let show = |name: &str, default: bool| {
        if wanted.is_empty() {
            return default;
        }
        wanted.iter().any(|w| {
            w == name
                || w == "everything"
                || (w == "all" && name != "modules")
                || (w == "default" && default)
        })
    };
    let mut out = String::with_capacity(4096);
    let mut first = true;
    for &(name, default) in SECTIONS {
        if !show(name, default) {
            continue;
        }
        if !first {
            out.push_str("\r\n");
        }
        first = false;
        let title = match name {
            "cpu" => "CPU".to_string(),
            "commandstats" => "Commandstats".into(),
            "errorstats" => "Errorstats".into(),
            "latencystats" => "Latencystats".into(),
            n => n[..1].to_ascii_uppercase() + &n[1..],
        };
        let _ = write!(out, "# {title}\r\n");
        let mut lines = Lines(&mut out);
        match name {
            "server" => server(ctx, &mut lines),
            "clients" => clients(ctx, &mut lines),
            "memory" => memory(ctx, &mut lines),
            "persistence" => persistence(ctx, &mut lines),
            "stats" => stats(ctx, &mut lines),
            "replication" => replication(ctx, &mut lines),
            "cpu" => cpu(&mut lines),
            "commandstats" => commandstats(ctx, &mut lines),
            "errorstats" => errorstats(ctx, &mut lines),
            "cluster" => lines.kv("cluster_enabled", 0),
            "keyspace" => keyspace(ctx, &mut lines),
            _ => {}
        }
    }
    Ok(Reply::Verbatim(Bytes::from(out)))
}

/// Appends `name:value\r\n` lines.
struct Lines<'a>(&'a mut String);

impl Lines<'_> {
    fn kv(&mut self, name: &str, value: impl std::fmt::Display) {
        let _ = write!(self.0, "{name}:{value}\r\n");
    }
}

/// Redis's `bytesToHuman`.
pub fn human(n: u64) -> String {
    let d = n as f64;
    const UNITS: &[(f64, &str)] = &[
        (1024.0, "K"),
        (1024.0 * 1024.0, "M"),
        (1024.0 * 1024.0 * 1024.0, "G"),
        (1024.0 * 1024.0 * 1024.0 * 1024.0, "T"),
        (1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0, "P"),
    ];
    if n < 1024 {
        return format!("{n}B");
    }
    for (i, &(unit, suffix)) in UNITS.iter().enumerate() {
        if i + 1 == UNITS.len() || d < unit * 1024.0 {
            return format!("{:.2}{suffix}", d / unit);
        }
    }
    format!("{n}B")
}

fn uname() -> (String, String, String) {
    // SAFETY: uname fills a zeroed struct we own.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return ("Linux".into(), String::new(), String::new());
    }
    let f = |s: &[libc::c_char]| {
        let b: Vec<u8> = s
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&b).into_owned()
    };
    (f(&u.sysname), f(&u.release), f(&u.machine))
}

fn server(ctx: &Ctx, l: &mut Lines) {
    let sh = ctx.shared;
    let s = ctx.settings();
    let now_ms = snapkv_keyspace::clock::now_ms();
    let uptime = sh.started.elapsed().as_secs();
    let (sys, release, machine) = uname();
    l.kv("redis_version", crate::REDIS_VERSION);
    l.kv("redis_git_sha1", "00000000");
    l.kv("redis_git_dirty", 0);
    l.kv("redis_build_id", "0");
    l.kv("snapkv_version", crate::SNAPKV_VERSION);
    l.kv("redis_mode", "standalone");
    l.kv("os", format!("{sys} {release} {machine}"));
    l.kv("arch_bits", usize::BITS);
    l.kv("monotonic_clock", "POSIX clock_gettime");
    l.kv("multiplexing_api", "epoll");
    l.kv("atomicvar_api", "c11-builtin");
    l.kv("gcc_version", "0.0.0");
    l.kv("process_id", std::process::id());
    l.kv("process_supervised", "no");
    l.kv("run_id", &sh.run_id);
    l.kv("tcp_port", sh.tcp_port.load(Ordering::Relaxed));
    l.kv("server_time_usec", now_ms * 1000);
    l.kv("uptime_in_seconds", uptime);
    l.kv("uptime_in_days", uptime / 86400);
    l.kv("hz", s.hz);
    l.kv("configured_hz", s.hz);
    l.kv("lru_clock", snapkv_keyspace::clock::lru_clock(now_ms));
    l.kv("executable", &sh.executable);
    l.kv(
        "config_file",
        sh.config
            .file()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    );
    l.kv("io_threads_active", 0);
}

fn clients(ctx: &Ctx, l: &mut Lines) {
    let all = ctx.shared.clients.all();
    let max_in = all
        .iter()
        .map(|c| c.qbuf.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    let max_out = all
        .iter()
        .map(|c| c.omem.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    l.kv("connected_clients", all.len());
    l.kv("cluster_connections", 0);
    l.kv("maxclients", ctx.settings().maxclients);
    l.kv("client_recent_max_input_buffer", max_in);
    l.kv("client_recent_max_output_buffer", max_out);
    l.kv("blocked_clients", 0);
    l.kv("tracking_clients", 0);
    l.kv("clients_in_timeout_table", 0);
}

/// Resident set size from /proc/self/statm (pages × page size).
pub fn rss_bytes() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    pages * page
}

pub fn total_system_memory() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages.max(0) as u64) * (page.max(0) as u64)
}

fn memory(ctx: &Ctx, l: &mut Lines) {
    let s = ctx.settings();
    let used = snapkv_keyspace::memory::used_memory_now();
    let metrics = &ctx.shared.metrics;
    metrics.note_memory(used);
    let peak = metrics.used_memory_peak.load(Ordering::Relaxed).max(used);
    let rss = rss_bytes();
    let (allocated, active, resident) = snapkv_keyspace::memory::allocator_stats();
    let total = total_system_memory();
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    l.kv("used_memory", used);
    l.kv("used_memory_human", human(used));
    l.kv("used_memory_rss", rss);
    l.kv("used_memory_rss_human", human(rss));
    l.kv("used_memory_peak", peak);
    l.kv("used_memory_peak_human", human(peak));
    l.kv(
        "used_memory_peak_perc",
        format!("{:.2}%", ratio(used, peak) * 100.0),
    );
    l.kv("used_memory_overhead", 0);
    l.kv("used_memory_startup", 0);
    l.kv("used_memory_dataset", used);
    l.kv("used_memory_dataset_perc", "100.00%");
    l.kv("allocator_allocated", allocated);
    l.kv("allocator_active", active);
    l.kv("allocator_resident", resident);
    l.kv("total_system_memory", total);
    l.kv("total_system_memory_human", human(total));
    for (k, v) in [
        ("used_memory_lua", "0"),
        ("used_memory_vm_eval", "0"),
        ("used_memory_lua_human", "0B"),
        ("used_memory_scripts_eval", "0"),
        ("number_of_cached_scripts", "0"),
        ("number_of_functions", "0"),
        ("number_of_libraries", "0"),
        ("used_memory_vm_functions", "0"),
        ("used_memory_vm_total", "0"),
        ("used_memory_vm_total_human", "0B"),
        ("used_memory_functions", "0"),
        ("used_memory_scripts", "0"),
        ("used_memory_scripts_human", "0B"),
    ] {
        l.kv(k, v);
    }
    l.kv("maxmemory", s.maxmemory);
    l.kv("maxmemory_human", human(s.maxmemory));
    l.kv("maxmemory_policy", s.maxmemory_policy.name());
    l.kv(
        "allocator_frag_ratio",
        format!("{:.2}", ratio(active, allocated)),
    );
    l.kv("allocator_frag_bytes", active.saturating_sub(allocated));
    l.kv(
        "allocator_rss_ratio",
        format!("{:.2}", ratio(resident, active)),
    );
    l.kv("allocator_rss_bytes", resident.saturating_sub(active));
    l.kv("rss_overhead_ratio", format!("{:.2}", ratio(rss, resident)));
    l.kv("rss_overhead_bytes", rss.saturating_sub(resident));
    l.kv(
        "mem_fragmentation_ratio",
        format!("{:.2}", ratio(rss, used)),
    );
    l.kv("mem_fragmentation_bytes", rss as i64 - used as i64);
    for k in [
        "mem_not_counted_for_evict",
        "mem_replication_backlog",
        "mem_total_replication_buffers",
        "mem_clients_slaves",
        "mem_clients_normal",
        "mem_cluster_links",
        "mem_aof_buffer",
    ] {
        l.kv(k, 0);
    }
    l.kv("mem_allocator", "jemalloc-5.3.0");
    l.kv("active_defrag_running", 0);
    l.kv("lazyfree_pending_objects", 0);
    l.kv("lazyfreed_objects", 0);
    // snapkv: the memory set aside for snapshots (reserved-memory[-percent]).
    let budget = if s.maxmemory > 0 { s.maxmemory } else { total };
    l.kv("reserved_memory_percent", s.reserved_memory_percent);
    l.kv("reserved_memory", s.reserved_memory);
    l.kv("snapshot_reserve", s.reserve(budget));
    l.kv("snapshot_reserve_human", human(s.reserve(budget)));
    l.kv("data_memory_limit", s.data_limit(total));
}

/// Sums a per-shard counter over every database (shards are taken one at a time).
fn shard_sum(ctx: &mut Ctx, f: impl Fn(&snapkv_keyspace::ShardStats) -> u64) -> u64 {
    let mut n = 0;
    for db in 0..ctx.shared.keyspace.databases() {
        ctx.ks.for_each_shard(db, |v| n += f(&v.shard.stats));
    }
    n
}

fn persistence(ctx: &mut Ctx, l: &mut Lines) {
    let p = &ctx.shared.persistence;
    let dirty = shard_sum(ctx, |s| s.dirty);
    l.kv("loading", ctx.shared.loading.load(Ordering::Relaxed) as u8);
    l.kv("async_loading", 0);
    l.kv("current_cow_peak", 0);
    l.kv("current_cow_size", 0);
    l.kv("current_cow_size_age", 0);
    l.kv("current_fork_perc", "0.00");
    l.kv("current_save_keys_processed", 0);
    l.kv("current_save_keys_total", 0);
    l.kv("rdb_changes_since_last_save", dirty);
    l.kv(
        "rdb_bgsave_in_progress",
        p.bgsave_in_progress.load(Ordering::Relaxed) as u8,
    );
    l.kv(
        "rdb_last_save_time",
        p.lastsave_secs.load(Ordering::Relaxed),
    );
    l.kv(
        "rdb_last_bgsave_status",
        if p.last_bgsave_ok.load(Ordering::Relaxed) {
            "ok"
        } else {
            "err"
        },
    );
    l.kv("rdb_last_bgsave_time_sec", -1);
    l.kv("rdb_current_bgsave_time_sec", -1);
    l.kv("rdb_saves", p.saves.load(Ordering::Relaxed));
    l.kv("rdb_last_cow_size", 0);
    l.kv("rdb_last_load_keys_expired", 0);
    l.kv("rdb_last_load_keys_loaded", 0);
    l.kv("aof_enabled", 0);
    l.kv("aof_rewrite_in_progress", 0);
    l.kv("aof_rewrite_scheduled", 0);
    l.kv("aof_last_rewrite_time_sec", -1);
    l.kv("aof_current_rewrite_time_sec", -1);
    l.kv("aof_last_bgrewrite_status", "ok");
    l.kv("aof_rewrites", 0);
    l.kv("aof_rewrites_consecutive_failures", 0);
    l.kv("aof_last_write_status", "ok");
    l.kv("aof_last_cow_size", 0);
    l.kv("module_fork_in_progress", 0);
    l.kv("module_fork_last_cow_size", 0);
}

fn stats(ctx: &mut Ctx, l: &mut Lines) {
    let (mut hits, mut misses, mut expired, mut evicted) = (0, 0, 0, 0);
    for db in 0..ctx.shared.keyspace.databases() {
        ctx.ks.for_each_shard(db, |v| {
            let s = &v.shard.stats;
            hits += s.hits;
            misses += s.misses;
            expired += s.expired;
            evicted += s.evicted;
        });
    }
    let sh = ctx.shared;
    let st = &sh.stats;
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let (kin, kout) = sh.metrics.kbps();
    l.kv(
        "total_connections_received",
        sh.clients.total_connections.load(Ordering::Relaxed),
    );
    l.kv("total_commands_processed", get(&st.commands_processed));
    l.kv("instantaneous_ops_per_sec", sh.metrics.ops_per_sec());
    l.kv("total_net_input_bytes", get(&st.net_input_bytes));
    l.kv("total_net_output_bytes", get(&st.net_output_bytes));
    l.kv("total_net_repl_input_bytes", 0);
    l.kv("total_net_repl_output_bytes", 0);
    l.kv("instantaneous_input_kbps", format!("{kin:.2}"));
    l.kv("instantaneous_output_kbps", format!("{kout:.2}"));
    l.kv("instantaneous_input_repl_kbps", "0.00");
    l.kv("instantaneous_output_repl_kbps", "0.00");
    l.kv(
        "rejected_connections",
        sh.clients.rejected_connections.load(Ordering::Relaxed),
    );
    l.kv("sync_full", 0);
    l.kv("sync_partial_ok", 0);
    l.kv("sync_partial_err", 0);
    l.kv("expired_keys", expired);
    l.kv("expired_stale_perc", "0.00");
    l.kv("expired_time_cap_reached_count", 0);
    l.kv(
        "expire_cycle_cpu_milliseconds",
        get(&st.expire_cycle_cpu_ms),
    );
    l.kv("evicted_keys", evicted);
    l.kv("evicted_clients", get(&st.evicted_clients));
    l.kv("total_eviction_exceeded_time", 0);
    l.kv("current_eviction_exceeded_time", 0);
    l.kv("keyspace_hits", hits);
    l.kv("keyspace_misses", misses);
    l.kv("pubsub_channels", 0);
    l.kv("pubsub_patterns", 0);
    l.kv("pubsubshard_channels", 0);
    l.kv("latest_fork_usec", 0);
    l.kv("total_forks", 0);
    for k in [
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
        "tracking_total_keys",
        "tracking_total_items",
        "tracking_total_prefixes",
    ] {
        l.kv(k, 0);
    }
    l.kv(
        "unexpected_error_replies",
        get(&st.unexpected_error_replies),
    );
    l.kv("total_error_replies", get(&st.total_error_replies));
    l.kv("dump_payload_sanitizations", 0);
    l.kv("total_reads_processed", get(&st.commands_processed));
    l.kv("total_writes_processed", get(&st.commands_processed));
    l.kv("io_threaded_reads_processed", 0);
    l.kv("io_threaded_writes_processed", 0);
    l.kv("reply_buffer_shrinks", 0);
    l.kv("reply_buffer_expands", 0);
    l.kv(
        "client_query_buffer_limit_disconnections",
        get(&st.client_qbuf_limit_disconnections),
    );
    l.kv(
        "client_output_buffer_limit_disconnections",
        get(&st.client_outbuf_limit_disconnections),
    );
}

fn replication(ctx: &Ctx, l: &mut Lines) {
    l.kv("role", "master");
    l.kv("connected_slaves", 0);
    l.kv("master_failover_state", "no-failover");
    l.kv("master_replid", &ctx.shared.run_id);
    l.kv("master_replid2", "0".repeat(40));
    l.kv("master_repl_offset", 0);
    l.kv("second_repl_offset", -1);
    l.kv("repl_backlog_active", 0);
    l.kv("repl_backlog_size", 1048576);
    l.kv("repl_backlog_first_byte_offset", 0);
    l.kv("repl_backlog_histlen", 0);
}

fn rusage(who: libc::c_int) -> (String, String) {
    // SAFETY: getrusage fills a zeroed struct we own.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut r) };
    let t = |tv: libc::timeval| format!("{}.{:06}", tv.tv_sec, tv.tv_usec);
    (t(r.ru_stime), t(r.ru_utime))
}

fn cpu(l: &mut Lines) {
    let (sys, user) = rusage(libc::RUSAGE_SELF);
    let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
    let (tsys, tuser) = rusage(libc::RUSAGE_THREAD);
    l.kv("used_cpu_sys", sys);
    l.kv("used_cpu_user", user);
    l.kv("used_cpu_sys_children", csys);
    l.kv("used_cpu_user_children", cuser);
    l.kv("used_cpu_sys_main_thread", tsys);
    l.kv("used_cpu_user_main_thread", tuser);
}

fn commandstats(ctx: &Ctx, l: &mut Lines) {
    let mut rows: Vec<_> = ctx
        .shared
        .commands
        .all_with_stats()
        .filter_map(|(spec, st)| {
            let calls = st.calls.load(Ordering::Relaxed);
            let rejected = st.rejected.load(Ordering::Relaxed);
            let failed = st.failed.load(Ordering::Relaxed);
            (calls + rejected + failed > 0).then(|| {
                let usec = st.usec.load(Ordering::Relaxed);
                let per = if calls == 0 {
                    0.0
                } else {
                    usec as f64 / calls as f64
                };
                (
                    spec.name,
                    format!(
                        "calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rejected},failed_calls={failed}"
                    ),
                )
            })
        })
        .collect();
    rows.sort();
    for (name, v) in rows {
        l.kv(&format!("cmdstat_{name}"), v);
    }
}

fn errorstats(ctx: &Ctx, l: &mut Lines) {
    for (code, n) in ctx.shared.error_counts.lock().iter() {
        l.kv(&format!("errorstat_{code}"), format!("count={n}"));
    }
}

fn keyspace(ctx: &mut Ctx, l: &mut Lines) {
    for db in 0..ctx.shared.keyspace.databases() {
        let (mut keys, mut expires, mut ttl_sum, mut ttl_n) = (0u64, 0u64, 0u64, 0u64);
        ctx.ks.for_each_shard(db, |v| {
            keys += v.shard.len() as u64;
            let vol = v.shard.volatile() as u64;
            expires += vol;
            if vol == 0 {
                return;
            }
            // avg_ttl is an estimate in Redis too: sample a few volatile keys per shard.
            let now = v.now_ms;
            for at in v.entries().take(256).filter_map(|e| e.expire_at()).take(16) {
                ttl_sum += at.saturating_sub(now);
                ttl_n += 1;
            }
        });
        if keys > 0 {
            let avg = ttl_sum.checked_div(ttl_n).unwrap_or(0);
            l.kv(
                &format!("db{db}"),
                format!("keys={keys},expires={expires},avg_ttl={avg}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn human_like_redis() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(1023), "1023B");
        assert_eq!(human(941192), "919.13K");
        assert_eq!(human(6688768), "6.38M");
        assert_eq!(human(25276502016), "23.54G");
    }
}
