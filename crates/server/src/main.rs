//! `snapkv-server [config-file] [--directive value ...]`, like `redis-server`.
//!
//! # Layout
//! - `main.rs`: arguments, logging, the runtime, start-up and exit.
//! - `listener.rs`: binding (`bind`, `port`), accepting, maxclients, protected mode.
//! - `connection.rs`: one task per client — read, frame, execute, reply per batch.
//! - `blocked.rs`: a client waiting in a blocking command (BLPOP …): wake-up, timeout,
//!   CLIENT UNBLOCK, disconnection.
//! - `cron.rs`: the background thread for `hz` work (active expiry, client timeouts).
//! - `shutdown.rs`: SIGTERM/SIGINT and SHUTDOWN: stop accepting, close clients, exit.
//! - `workers.rs`: the io-threads, one single-threaded runtime each.
//!
//! This is the only crate that knows tokio sockets.

mod blocked;
mod connection;
mod cron;
mod listener;
mod shutdown;
mod workers;

use std::path::PathBuf;
use std::sync::Arc;

use snapkv_commands::Shared;
use snapkv_config::Config;
use snapkv_keyspace::{Keyspace, KeyspaceConfig};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its start-up. `background_thread`, as Redis's
/// `jemalloc-bg-thread yes` default: dirty pages are purged by jemalloc's own thread,
/// not inline in whichever thread frees (a snapshot thread at `SCHED_IDLE` must never
/// hold an arena's purge lock while preempted).
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: &[u8] = b"background_thread:true\0";

const USAGE: &str = "Usage: ./snapkv-server [/path/to/redis.conf] [options] [-]
       ./snapkv-server - (read config from stdin)
       ./snapkv-server -v or --version
       ./snapkv-server -h or --help

Examples:
       ./snapkv-server (run the server with default conf)
       ./snapkv-server /etc/redis/6379.conf
       ./snapkv-server --port 7777
       ./snapkv-server --port 7777 --save \"\" --maxmemory 1gb
       ./snapkv-server /etc/myredis.conf --loglevel verbose
       ./snapkv-server --restore-from <backup-name|s3://bucket/key.rdb|path.rdb>
           (seed the dataset from a verified backup before serving; fatal on failure)
";

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match argv.first().map(String::as_str) {
        Some("-v" | "--version") => {
            println!(
                "snapkv-server v={} redis-compat={} malloc=jemalloc bits=64",
                snapkv_commands::SNAPKV_VERSION,
                snapkv_commands::REDIS_VERSION
            );
            return;
        }
        Some("-h" | "--help") => {
            print!("{USAGE}");
            return;
        }
        _ => {}
    }
    let (restore_from, argv) = take_restore_from(argv);
    let (file, rest) = match argv.first() {
        Some(first) if !first.starts_with("--") => (Some(PathBuf::from(first)), &argv[1..]),
        _ => (None, &argv[..]),
    };
    let config = match Config::load(file.as_deref(), rest) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let settings = config.settings();
    init_logging(&settings.loglevel, &settings.logfile);
    for (name, value) in config.inert_in_use() {
        tracing::warn!(
            "'{name} {value}' is accepted for redis.conf compatibility, but snapkv has no such feature: it is ignored"
        );
    }
    // Like redis-server: the data directory becomes the working directory.
    if let Err(e) = std::env::set_current_dir(&settings.dir) {
        eprintln!("Can't chdir to '{}': {e}", settings.dir);
        std::process::exit(1);
    }
    if let Some(source) = restore_from {
        if let Err(e) = restore(&settings, &source) {
            tracing::error!("{e}");
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
    // io-threads 0 (the default) = one per core but one: measured on 2 cores with
    // benches/compare-redis.sh, one worker beat two at -P 1 (the spare core serves the
    // kernel's network work, the cron and snapshot threads); see the README.
    let threads = if settings.io_threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get().saturating_sub(1).max(1))
            .unwrap_or(1)
    } else {
        settings.io_threads
    };
    let keyspace = Keyspace::new(KeyspaceConfig {
        databases: settings.databases,
        shards_per_db: 64,
    });
    let shared = Arc::new(Shared::new(keyspace, config));
    let _ = shared.me.set(Arc::downgrade(&shared));
    shared.stats.used_memory_startup.store(
        snapkv_keyspace::memory::used_memory_now(),
        std::sync::atomic::Ordering::Relaxed,
    );
    // The main runtime only accepts connections and waits for signals; commands run on
    // the worker runtimes.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let workers = match workers::Workers::start(threads) {
        Ok(w) => Arc::new(w),
        Err(e) => {
            eprintln!("cannot start worker threads: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(run(shared, workers.clone()));
    // Dropping the accept loops releases their handles on the workers.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    if let Ok(w) = Arc::try_unwrap(workers) {
        w.stop();
    }
    std::process::exit(code);
}

async fn run(shared: Arc<Shared>, workers: workers::SharedWorkers) -> i32 {
    let settings = shared.config.settings();
    let mut signals = shutdown::Signals::install();
    let listeners = match listener::bind(&settings).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("{e}");
            return 1;
        }
    };
    if let Some(port) = listeners
        .first()
        .and_then(|l| l.local_addr().ok())
        .map(|a| a.port())
    {
        shared
            .tcp_port
            .store(port as u64, std::sync::atomic::Ordering::Relaxed);
    }
    if !settings.pidfile.is_empty() {
        if let Err(e) = std::fs::write(&settings.pidfile, format!("{}\n", std::process::id())) {
            tracing::warn!("Failed to write PID file: {e}");
        }
    }
    let cron = cron::start(shared.clone());
    tracing::info!(
        "snapkv-server {} (Redis {} compatible) pid={} port={} io-threads={}",
        snapkv_commands::SNAPKV_VERSION,
        snapkv_commands::REDIS_VERSION,
        std::process::id(),
        shared.tcp_port.load(std::sync::atomic::Ordering::Relaxed),
        workers.len()
    );
    tracing::info!("Ready to accept connections tcp");
    // Clients may connect before the load below starts: they must see "loading" already.
    if let Ok(meta) = std::fs::metadata(&settings.dbfilename) {
        let now = snapkv_keyspace::clock::now_ms() / 1000;
        *shared.persistence.loading.lock() = Some((None, meta.len(), now));
        shared
            .loading
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    for l in listeners {
        tokio::spawn(listener::accept_loop(shared.clone(), l, workers.clone()));
    }
    // Load while already listening: clients get -LOADING (and INFO the progress) until
    // the dataset is in; a file that cannot be loaded stops the server.
    let s = shared.clone();
    let loading = tokio::task::spawn_blocking(move || load_dump(&s));
    // A signal while loading stops the server at once, as in Redis (nothing to save yet).
    let loaded = tokio::select! {
        loaded = loading => loaded,
        reason = signals.recv() => {
            tracing::warn!("{reason}");
            cron.stop();
            return 0;
        }
    };
    if let Err(e) = loaded.map_err(|e| e.to_string()).and_then(|r| r) {
        tracing::error!("{e}");
        eprintln!("{e}");
        return 1;
    }
    let code = shutdown::wait(&shared, &mut signals).await;
    cron.stop();
    if !settings.pidfile.is_empty() {
        let _ = std::fs::remove_file(&settings.pidfile);
    }
    tracing::info!("snapkv is now ready to exit, bye bye...");
    code
}

/// Removes `--restore-from <source>` from the arguments (it is not a config directive).
fn take_restore_from(mut argv: Vec<String>) -> (Option<String>, Vec<String>) {
    match argv.iter().position(|a| a == "--restore-from") {
        Some(i) if i + 1 < argv.len() => {
            let source = argv.remove(i + 1);
            argv.remove(i);
            (Some(source), argv)
        }
        Some(_) => {
            eprintln!("--restore-from needs a backup name, s3://bucket/key.rdb or a path");
            std::process::exit(1);
        }
        None => (None, argv),
    }
}

/// Seeds the data directory from a backup before anything is served: the source is
/// fetched and verified (manifest checksums when there is one, the RDB footer always),
/// then it replaces `dbfilename` (a previous file is kept as `<dbfilename>.before-restore`)
/// and start-up loads it as usual. Any failure is fatal: never start empty.
fn restore(settings: &snapkv_config::Settings, source: &str) -> Result<(), String> {
    let target = if settings.backup_target.is_empty() {
        "backups".to_string()
    } else {
        settings.backup_target.clone()
    };
    let dest = std::path::Path::new(&settings.dbfilename);
    tracing::info!("Restoring from {source}");
    let started = std::time::Instant::now();
    let staged = PathBuf::from(format!("{}.restored", settings.dbfilename));
    let fetched = snapkv_backup::restore::fetch(
        source,
        &target,
        &snapkv_commands::s3_options(settings),
        &staged,
        &mut |_, _| {},
    )
    .map_err(|e| format!("Can't restore from '{source}': {e}; not starting"))?;
    if dest.exists() {
        let aside = format!("{}.before-restore", settings.dbfilename);
        std::fs::rename(dest, &aside).map_err(|e| format!("Can't restore: {e}"))?;
        tracing::warn!("The existing {} was moved to {aside}", settings.dbfilename);
    }
    std::fs::rename(&staged, dest).map_err(|e| format!("Can't restore: {e}"))?;
    tracing::info!(
        "Restored {} bytes from {} in {:.3} seconds (verified: {})",
        fetched.bytes,
        fetched.source,
        started.elapsed().as_secs_f64(),
        if fetched.manifest.is_some() {
            "manifest size, CRC-64, SHA-256 and RDB checksum"
        } else {
            "RDB checksum"
        }
    );
    Ok(())
}

/// Loads `dbfilename` from the data directory when it exists. A file that cannot be
/// loaded stops start-up: starting empty would lose the data.
fn load_dump(shared: &Shared) -> Result<(), String> {
    use std::sync::atomic::Ordering::Relaxed;
    let settings = shared.config.settings();
    for stale in snapkv_snapshot::remove_stale_temp_files(std::path::Path::new(".")) {
        tracing::warn!(
            "Removed the temp file of an interrupted save: {}",
            stale.display()
        );
    }
    let path = std::path::Path::new(&settings.dbfilename);
    if !path.exists() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    // `run` flagged the load (and its size) before accepting clients.
    let limits = snapkv_commands::ctx::limits(&settings);
    let result = snapkv_snapshot::load_file(&shared.keyspace, path, &limits, |progress| {
        if let Some(l) = shared.persistence.loading.lock().as_mut() {
            l.0 = Some(progress);
        }
    });
    *shared.persistence.loading.lock() = None;
    shared.loading.store(false, Relaxed);
    let stats = result.map_err(|e| e.to_string())?;
    shared.persistence.record_load(&stats);
    tracing::info!(
        "DB loaded from disk: {:.3} seconds ({} keys, {} expired keys dropped)",
        started.elapsed().as_secs_f64(),
        stats.keys_loaded,
        stats.keys_expired
    );
    Ok(())
}

fn init_logging(level: &str, logfile: &str) {
    let filter = match level {
        "debug" => "debug",
        "verbose" => "info",
        "warning" => "warn",
        _ => "info",
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SNAPKV_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_target(false);
    if logfile.is_empty() {
        builder.with_writer(std::io::stdout).init();
    } else {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)
        {
            Ok(f) => builder.with_ansi(false).with_writer(Mutex(f)).init(),
            Err(e) => {
                eprintln!("Can't open the log file: {e}");
                std::process::exit(1);
            }
        }
    }
}

/// A log file shared by all threads.
struct Mutex(std::fs::File);

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Mutex {
    type Writer = &'a std::fs::File;
    fn make_writer(&'a self) -> Self::Writer {
        &self.0
    }
}
