//! The backup thread: runs BACKUP's [`Job`]s one at a time, off the serving threads —
//! snapshots streamed into the store (the engine chosen as for BGSAVE: the fork child's
//! output comes over a pipe, the forkless engine writes from this thread), deletes,
//! copies, retention pruning and catalog refreshes. Only one snapshot runs at a time: a
//! backup holds `bgsave_in_progress` like a BGSAVE does.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use snapkv_backup::s3::S3Options;
use snapkv_backup::{open_store, BackupStore, Catalog, CreateOutcome, Kind, Manifest, Source};
use snapkv_snapshot::policy::Engine;

use crate::backup::{Finished, Job, Running};
use crate::shared::Shared;

/// How often the catalog is re-read when idle (backups made or removed elsewhere).
const REFRESH_EVERY: Duration = Duration::from_secs(60);

pub(crate) fn spawn(shared: Arc<Shared>) -> std::io::Result<Sender<Job>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("snapkv-backup".into())
        .spawn(move || Worker::new(shared).run(rx))?;
    Ok(tx)
}

/// The store settings a store was opened with (reopened when they change).
#[derive(PartialEq, Eq, Clone)]
struct StoreKey {
    target: String,
    endpoint: String,
    region: String,
    sse: String,
    part_size: u64,
    concurrency: u64,
    timeout: u64,
}

fn store_key(settings: &snapkv_config::Settings, target: Option<&str>) -> StoreKey {
    let target = match target.or(Some(settings.backup_target.as_str())) {
        Some(t) if !t.is_empty() => t.to_string(),
        // The default: `backups` in the data directory (the working directory).
        _ => std::env::current_dir()
            .map(|d| d.join("backups"))
            .unwrap_or_else(|_| "backups".into())
            .display()
            .to_string(),
    };
    StoreKey {
        target,
        endpoint: settings.backup_s3_endpoint.clone(),
        region: settings.backup_s3_region.clone(),
        sse: settings.backup_s3_sse.clone(),
        part_size: settings.backup_part_size,
        concurrency: settings.backup_upload_concurrency,
        timeout: settings.backup_s3_timeout,
    }
}

/// S3 options from the configuration.
pub fn s3_options(settings: &snapkv_config::Settings) -> S3Options {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    S3Options {
        endpoint: some(&settings.backup_s3_endpoint),
        region: some(&settings.backup_s3_region),
        sse: some(&settings.backup_s3_sse),
        part_size: settings.backup_part_size as usize,
        concurrency: settings.backup_upload_concurrency as usize,
        timeout: std::time::Duration::from_secs(settings.backup_s3_timeout),
    }
}

fn open(key: &StoreKey, settings: &snapkv_config::Settings) -> Result<Catalog, String> {
    let store: Arc<dyn BackupStore> =
        open_store(&key.target, &s3_options(settings)).map_err(|e| e.to_string())?;
    Ok(Catalog::new(store))
}

struct Worker {
    shared: Arc<Shared>,
    current: Option<(StoreKey, Catalog)>,
}

/// Counts bytes into the progress counter as they pass.
struct Counting<'a> {
    inner: &'a mut dyn Write,
    bytes: &'a AtomicU64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes.fetch_add(n as u64, Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl Worker {
    fn new(shared: Arc<Shared>) -> Worker {
        Worker {
            shared,
            current: None,
        }
    }

    fn run(mut self, rx: Receiver<Job>) {
        loop {
            let job = match rx.recv_timeout(REFRESH_EVERY) {
                Ok(j) => j,
                Err(RecvTimeoutError::Timeout) => Job::Refresh,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            self.run_job(job);
        }
    }

    /// The catalog of the configured target, opened (or reopened after CONFIG SET).
    fn catalog(&mut self) -> Result<&Catalog, String> {
        let settings = self.shared.config.settings();
        let key = store_key(&settings, None);
        if self.current.as_ref().is_none_or(|(k, _)| *k != key) {
            self.current = None;
            let c = open(&key, &settings)?;
            self.current = Some((key, c));
        }
        Ok(&self.current.as_ref().expect("opened").1)
    }

    /// Re-reads the catalog into the cache commands read.
    fn refresh(&mut self) {
        let result = self.catalog().and_then(|c| {
            c.manifests()
                .map(|m| (c.store().location(), m))
                .map_err(|e| e.to_string())
        });
        let mut cache = self.shared.backup.catalog.lock();
        cache.refreshed_unix = snapkv_keyspace::clock::now_ms() / 1000;
        match result {
            Ok((target, manifests)) => {
                cache.target = target;
                cache.manifests = manifests;
                cache.loaded = true;
                cache.error = None;
            }
            Err(e) => {
                if cache.error.as_deref() != Some(e.as_str()) {
                    tracing::warn!("Cannot read the backup catalog: {e}");
                }
                cache.error = Some(e);
            }
        }
    }

    fn run_job(&mut self, job: Job) {
        let op = job.op();
        let name = match &job {
            Job::Create { name, .. } | Job::Delete { name } => name.clone(),
            Job::Copy { dst, .. } => dst.clone(),
            Job::Refresh => {
                self.refresh();
                return;
            }
        };
        let bytes = Arc::new(AtomicU64::new(0));
        let started_ms = snapkv_keyspace::clock::now_ms();
        {
            let mut p = self.shared.backup.progress.lock();
            if let Some(i) = p.queued.iter().position(|(o, n)| *o == op && *n == name) {
                p.queued.remove(i);
            }
            p.running = Some(Running {
                op,
                name: name.clone(),
                kind: match &job {
                    Job::Create { kind, .. } => Some(*kind),
                    _ => None,
                },
                engine: "",
                started_ms,
                bytes: bytes.clone(),
                total: 0,
            });
        }
        let result = match job {
            Job::Create { name, kind, limit } => self.create(&name, kind, limit, &bytes),
            Job::Delete { name } => self.catalog().and_then(|c| {
                c.delete(&name)
                    .map(|_| 0)
                    .map_err(|e| format!("deleting {name}: {e}"))
            }),
            Job::Copy { src, dst, target } => self.copy(&src, &dst, target.as_deref(), &bytes),
            Job::Refresh => unreachable!(),
        };
        let ended_ms = snapkv_keyspace::clock::now_ms();
        let ok = result.is_ok();
        match &result {
            Ok(n) => tracing::info!("Backup {op} of {name} done ({n} bytes)"),
            Err(e) => tracing::warn!("Backup {op} of {name} failed: {e}"),
        }
        // The catalog first: whoever sees the operation ended also sees its effect.
        if ok && op == "create" {
            self.prune();
        }
        self.refresh();
        {
            let mut p = self.shared.backup.progress.lock();
            p.running = None;
            match (op, ok) {
                ("create", true) => p.created += 1,
                ("create", false) => p.failed += 1,
                ("delete", true) => p.deleted += 1,
                ("copy", true) => p.copied += 1,
                _ => {}
            }
            p.last = Some(Finished {
                op,
                name,
                ok,
                bytes: bytes.load(Relaxed),
                error: result.err(),
                duration_ms: ended_ms - started_ms,
                ended_unix: ended_ms / 1000,
            });
        }
    }

    /// Deletes automatic backups older than `backup-retention-days`.
    fn prune(&mut self) {
        let days = self.shared.config.settings().backup_retention_days;
        let Ok(c) = self.catalog() else { return };
        let manifests = match c.manifests() {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("Backup retention: cannot list backups: {e}");
                return;
            }
        };
        let now = snapkv_keyspace::clock::now_ms() / 1000;
        let mut pruned = 0;
        for name in snapkv_backup::retention::to_prune(&manifests, days, now) {
            match c.delete(&name) {
                Ok(()) => {
                    tracing::info!("Backup retention: deleted {name} (older than {days} days)");
                    pruned += 1;
                }
                Err(e) => tracing::warn!("Backup retention: cannot delete {name}: {e}"),
            }
        }
        self.shared.backup.progress.lock().pruned += pruned;
    }

    fn copy(
        &mut self,
        src: &str,
        dst: &str,
        target: Option<&str>,
        bytes: &AtomicU64,
    ) -> Result<u64, String> {
        let settings = self.shared.config.settings();
        let dst_catalog = match target {
            Some(t) => Some(open(&store_key(&settings, Some(t)), &settings)?),
            None => None,
        };
        let c = self.catalog()?;
        let to = dst_catalog.as_ref().unwrap_or(c);
        let m = c
            .copy_to(src, to, dst, &mut |n, total| {
                bytes.store(n, Relaxed);
                let _ = total;
            })
            .map_err(|e| e.to_string())?;
        Ok(m.bytes)
    }

    fn create(
        &mut self,
        name: &str,
        kind: Kind,
        limit: bool,
        bytes: &AtomicU64,
    ) -> Result<u64, String> {
        let shared = self.shared.clone();
        // Fresh catalog for the authoritative checks.
        self.refresh();
        crate::backup::check_create_fresh(&shared, name, limit)?;
        let _slot = SnapshotSlot::acquire(&shared);
        let settings = shared.config.settings();
        let (engine, reason) = crate::persistence::choose_engine(&shared, &settings);
        let engine_name = match engine {
            Engine::Fork => "fork",
            Engine::Forkless => "forkless",
        };
        tracing::info!("Backup {name} started ({engine_name}: {reason})");
        let source = Source {
            run_id: shared.run_id.clone(),
            version: crate::SNAPKV_VERSION.to_string(),
            host: hostname(),
        };
        let now = snapkv_keyspace::clock::now_ms() / 1000;
        let manifest = Manifest::new(name, kind, source, engine_name, now);
        let opts = crate::persistence::write_options(&settings);
        let catalog = self.catalog()?;
        let outcome = catalog.create(manifest, |w| {
            let mut w = Counting { inner: w, bytes };
            match engine {
                Engine::Fork => fork_into(&shared, &mut w, opts),
                Engine::Forkless => forkless_into(&shared, &mut w, opts),
            }
        });
        match outcome {
            CreateOutcome::Available(m) => Ok(m.bytes),
            CreateOutcome::Failed(m) => Err(m.error.unwrap_or_default()),
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Keys per database, counted under held shards.
fn per_db(locked: &mut snapkv_keyspace::Locked<'_>, databases: usize) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for db in 0..databases {
        let mut n = 0u64;
        locked.for_each_shard(db, |v| n += v.len() as u64);
        if n > 0 {
            out.insert(db.to_string(), n);
        }
    }
    out
}

/// The fork engine: the child writes the RDB into a pipe; this thread uploads it.
fn fork_into(
    shared: &Shared,
    w: &mut dyn Write,
    opts: snapkv_rdb::WriteOptions,
) -> snapkv_backup::catalog::WriteResult {
    let used = snapkv_keyspace::memory::used_memory_now();
    let (forked, counts) = {
        let mut locked = shared.keyspace.lock_all();
        let counts = per_db(&mut locked, shared.keyspace.databases());
        (
            snapkv_snapshot::fork::start_stream(&mut locked, opts, used),
            counts,
        )
    };
    let (child, mut pipe) = forked.map_err(|e| format!("fork: {e}"))?;
    cut_taken(shared, "fork");
    let p = &shared.persistence;
    p.latest_fork_usec.store(child.fork_usec, Relaxed);
    p.total_forks.fetch_add(1, Relaxed);
    let copied = std::io::copy(&mut pipe, w);
    // An upload error drops the pipe: the child's next write fails and it exits.
    drop(pipe);
    let report = child.wait();
    p.last_cow_bytes.store(report.cow_bytes, Relaxed);
    copied.map_err(|e| e.to_string())?;
    if !report.ok {
        return Err(report.error.unwrap_or_else(|| "fork child failed".into()));
    }
    Ok((report.keys, counts))
}

/// Shows the running backup's engine (BACKUP STATUS `backup_current_engine`) once its
/// point in time is fixed: writes from now on are not in it.
fn cut_taken(shared: &Shared, engine: &'static str) {
    if let Some(r) = shared.backup.progress.lock().running.as_mut() {
        r.engine = engine;
    }
}

/// The forkless engine, run on this thread, writing straight into the upload.
fn forkless_into(
    shared: &Shared,
    w: &mut dyn Write,
    opts: snapkv_rdb::WriteOptions,
) -> snapkv_backup::catalog::WriteResult {
    // The cut under the locks the counts were taken under: every command is wholly
    // before both or after both (a writer reads the epoch once it holds its shards).
    let (counts, (capture, _epoch)) = {
        let mut locked = shared.keyspace.lock_all();
        let counts = per_db(&mut locked, shared.keyspace.databases());
        (counts, snapkv_snapshot::forkless::start(&shared.keyspace))
    };
    cut_taken(shared, "forkless");
    let p = &shared.persistence;
    *p.capture.write() = Some(capture.clone());
    let progress = Arc::new(snapkv_snapshot::forkless::Progress::default());
    *p.progress.lock() = Some(progress.clone());
    let result = snapkv_snapshot::forkless::run(
        &shared.keyspace,
        &capture,
        _epoch,
        std::io::BufWriter::with_capacity(1 << 20, w),
        opts,
        &progress,
    );
    *p.capture.write() = None;
    let (out, stats) = result.map_err(|e| e.to_string())?;
    out.into_inner().map_err(|e| e.error().to_string())?;
    Ok((stats.keys, counts))
}

/// Holds the server's one snapshot slot (`bgsave_in_progress`) while a backup's snapshot
/// runs, waiting for a running BGSAVE to end first.
struct SnapshotSlot<'a>(&'a Shared);

impl<'a> SnapshotSlot<'a> {
    fn acquire(shared: &'a Shared) -> SnapshotSlot<'a> {
        let p = &shared.persistence;
        while p.bgsave_in_progress.swap(true, Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
        }
        SnapshotSlot(shared)
    }
}

impl Drop for SnapshotSlot<'_> {
    fn drop(&mut self) {
        self.0.persistence.bgsave_in_progress.store(false, Relaxed);
    }
}
