//! BACKUP CREATE|LIST|INFO|DELETE|COPY|STATUS|HELP and INFO's `# Backup` section.
//!
//! Commands never touch the store: they read [`BackupState`] (the catalog cached by the
//! backup thread) and queue [`Job`]s for the backup thread (`backup_job.rs`), which does
//! all network and disk I/O. A slow or dead store therefore never stalls serving.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use snapkv_backup::manifest::{compact_time, validate_name};
use snapkv_backup::retention;
use snapkv_backup::{Kind, Manifest, Status};
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::object::help_reply;
use crate::shared::Shared;
use crate::spec::{flags::*, CommandSpec, LockPlan};

/// Work for the backup thread.
#[derive(Debug, Clone)]
pub enum Job {
    /// `limit`: the manual limit applies (not to the final backup at shutdown).
    Create {
        name: String,
        kind: Kind,
        limit: bool,
    },
    Delete {
        name: String,
    },
    Copy {
        src: String,
        dst: String,
        target: Option<String>,
    },
    Refresh,
}

impl Job {
    pub fn op(&self) -> &'static str {
        match self {
            Job::Create { .. } => "create",
            Job::Delete { .. } => "delete",
            Job::Copy { .. } => "copy",
            Job::Refresh => "refresh",
        }
    }
}

/// The operation the backup thread is running.
#[derive(Debug, Clone)]
pub struct Running {
    pub op: &'static str,
    pub name: String,
    pub kind: Option<Kind>,
    pub engine: &'static str,
    pub started_ms: u64,
    /// Bytes uploaded / copied so far.
    pub bytes: Arc<AtomicU64>,
    /// Expected bytes when known (copies), else 0.
    pub total: u64,
}

/// How the last operation ended.
#[derive(Debug, Clone)]
pub struct Finished {
    pub op: &'static str,
    pub name: String,
    pub ok: bool,
    pub error: Option<String>,
    pub bytes: u64,
    pub duration_ms: u64,
    pub ended_unix: u64,
}

#[derive(Default)]
pub struct Progress {
    pub running: Option<Running>,
    /// Jobs waiting (op, name).
    pub queued: Vec<(&'static str, String)>,
    pub last: Option<Finished>,
    pub created: u64,
    pub failed: u64,
    pub deleted: u64,
    pub copied: u64,
    pub pruned: u64,
    /// Unix seconds of the last automatic backup attempt.
    pub last_auto_attempt: u64,
}

/// The catalog of the current target as last read by the backup thread.
#[derive(Default, Clone)]
pub struct CatalogCache {
    pub loaded: bool,
    pub target: String,
    pub manifests: Vec<Manifest>,
    pub error: Option<String>,
    pub refreshed_unix: u64,
}

/// Backup state in [`Shared`].
#[derive(Default)]
pub struct BackupState {
    pub(crate) queue: Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    pub progress: Mutex<Progress>,
    pub catalog: Mutex<CatalogCache>,
}

impl BackupState {
    /// Queues `job`, starting the backup thread on first use.
    pub fn submit(&self, shared: &Shared, job: Job) -> Result<(), String> {
        let mut q = self.queue.lock();
        if q.is_none() {
            let me = shared
                .me
                .get()
                .and_then(std::sync::Weak::upgrade)
                .ok_or("the server is shutting down")?;
            *q = Some(crate::backup_job::spawn(me).map_err(|e| e.to_string())?);
        }
        if let Job::Create { name, .. } | Job::Delete { name } | Job::Copy { dst: name, .. } = &job
        {
            self.progress.lock().queued.push((job.op(), name.clone()));
        }
        q.as_ref()
            .expect("started")
            .send(job)
            .map_err(|_| "the backup thread is gone".to_string())
    }

    fn busy_with(&self, name: &str) -> bool {
        let p = self.progress.lock();
        p.running.as_ref().is_some_and(|r| r.name == name)
            || p.queued.iter().any(|(_, n)| n == name)
    }
}

pub static COMMANDS: &[CommandSpec] = &[CommandSpec::new("backup", -2, 0, "server", help)
    .lock(LockPlan::None)
    .subs(SUBCOMMANDS)
    .doc("A container for backup commands.", "snapkv")];

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("backup|create", -2, ADMIN | NOSCRIPT, "server", create)
        .lock(LockPlan::None)
        .doc(
            "Starts a backup of the dataset to the backup target.",
            "snapkv",
        ),
    CommandSpec::new("backup|list", 2, ADMIN | LOADING | STALE, "server", list)
        .lock(LockPlan::None)
        .doc("Lists the available backups, oldest first.", "snapkv"),
    CommandSpec::new("backup|info", 3, ADMIN | LOADING | STALE, "server", info)
        .lock(LockPlan::None)
        .doc("Returns a backup's manifest.", "snapkv"),
    CommandSpec::new("backup|delete", 3, ADMIN | NOSCRIPT, "server", delete)
        .lock(LockPlan::None)
        .doc("Deletes a backup.", "snapkv"),
    CommandSpec::new("backup|copy", -4, ADMIN | NOSCRIPT, "server", copy)
        .lock(LockPlan::None)
        .doc(
            "Copies a backup under a new name, to the target or another one.",
            "snapkv",
        ),
    CommandSpec::new(
        "backup|status",
        2,
        ADMIN | LOADING | STALE,
        "server",
        status,
    )
    .lock(LockPlan::None)
    .doc("Returns the running backup operation's progress.", "snapkv"),
    CommandSpec::new("backup|help", 2, LOADING | STALE, "server", help)
        .lock(LockPlan::None)
        .doc(
            "Returns helpful text about the different subcommands.",
            "snapkv",
        ),
];

const HELP: &[&str] = &[
    "BACKUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE [<name>]",
    "    Start a backup of the dataset to backup-target (default name manual-<time>).",
    "LIST",
    "    List the available backups: name, kind, created, bytes, keys.",
    "INFO <name>",
    "    Return the manifest of a backup (any status).",
    "DELETE <name>",
    "    Delete a backup.",
    "COPY <src> <dst> [<target>]",
    "    Copy backup <src> as <dst>, into <target> (a directory or s3://bucket/prefix).",
    "STATUS",
    "    Return the progress of the running backup operation and how the last ended.",
    "HELP",
    "    Print this help.",
];

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(help_reply(HELP))
}

fn now_unix() -> u64 {
    snapkv_keyspace::clock::now_ms() / 1000
}

fn arg(a: &Bytes) -> String {
    String::from_utf8_lossy(a).into_owned()
}

/// The checks BACKUP CREATE makes before queueing (the backup thread repeats the limit
/// check against a fresh catalog).
pub fn check_create(shared: &Shared, name: &str, kind: Kind) -> Result<(), String> {
    validate_name(name)?;
    let state = &shared.backup;
    let catalog = state.catalog.lock().clone();
    if catalog
        .manifests
        .iter()
        .any(|m| m.name == name && m.status != Status::Failed)
        || state.busy_with(name)
    {
        return Err(format!("backup '{name}' already exists"));
    }
    let p = state.progress.lock();
    let creating = p.running.as_ref().is_some_and(|r| r.op == "create")
        || p.queued.iter().any(|(op, _)| *op == "create");
    if creating {
        return Err("Background backup already in progress".into());
    }
    if kind == Kind::Manual {
        let limit = shared.config.settings().backup_manual_limit;
        retention::check_manual_limit(&catalog.manifests, 0, limit, now_unix())?;
    }
    Ok(())
}

/// The backup thread's check against the catalog it just re-read.
pub(crate) fn check_create_fresh(shared: &Shared, name: &str, limit: bool) -> Result<(), String> {
    validate_name(name)?;
    let c = shared.backup.catalog.lock().clone();
    if let Some(e) = c.error.filter(|_| !c.loaded) {
        return Err(format!("cannot read the backup catalog: {e}"));
    }
    if c.manifests
        .iter()
        .any(|m| m.name == name && m.status != snapkv_backup::Status::Failed)
    {
        return Err(format!("backup '{name}' already exists"));
    }
    if limit {
        let limit = shared.config.settings().backup_manual_limit;
        retention::check_manual_limit(&c.manifests, 0, limit, now_unix())?;
    }
    Ok(())
}

/// `backup-on-shutdown`: takes `final-<time>` (a manual backup outside the limit) and
/// waits for it; returns its name.
pub fn final_backup(shared: &Shared) -> Result<String, String> {
    let name = format!("final-{}", compact_time(now_unix()));
    let job = Job::Create {
        name: name.clone(),
        kind: Kind::Manual,
        limit: false,
    };
    shared.backup.submit(shared, job)?;
    loop {
        {
            let p = shared.backup.progress.lock();
            let pending = p.running.as_ref().is_some_and(|r| r.name == name)
                || p.queued.iter().any(|(_, n)| *n == name);
            if let Some(l) = p.last.as_ref().filter(|l| l.name == name && !pending) {
                return match &l.error {
                    None => Ok(name),
                    Some(e) => Err(e.clone()),
                };
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn create(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let name = args
        .get(2)
        .map(arg)
        .unwrap_or_else(|| format!("manual-{}", compact_time(now_unix())));
    let shared = ctx.shared;
    check_create(shared, &name, Kind::Manual).map_err(CommandError::err)?;
    let job = Job::Create {
        name: name.clone(),
        kind: Kind::Manual,
        limit: true,
    };
    shared
        .backup
        .submit(shared, job)
        .map_err(CommandError::err)?;
    Ok(Reply::Simple(Bytes::from(format!("Backup {name} started"))))
}

fn manifest_summary(m: &Manifest) -> Reply {
    Reply::Map(vec![
        (Reply::bulk("name"), Reply::bulk(m.name.clone())),
        (Reply::bulk("kind"), Reply::bulk(m.kind.as_str())),
        (Reply::bulk("created"), Reply::bulk(m.created.clone())),
        (Reply::bulk("bytes"), Reply::Int(m.bytes as i64)),
        (Reply::bulk("keys"), Reply::Int(m.keys as i64)),
    ])
}

fn list(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let c = ctx.shared.backup.catalog.lock().clone();
    if !c.loaded {
        return Err(CommandError::err(match &c.error {
            Some(e) => format!("cannot list backups: {e}"),
            None => "the backup catalog is still loading, try again".into(),
        }));
    }
    Ok(Reply::Array(
        c.manifests
            .iter()
            .filter(|m| m.status == Status::Available)
            .map(manifest_summary)
            .collect(),
    ))
}

fn manifest_reply(m: &Manifest, location: &str) -> Reply {
    let s = |v: &str| Reply::bulk(v.to_string());
    let per_db = m
        .keys_per_db
        .iter()
        .map(|(db, n)| format!("db{db}={n}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut fields = vec![
        ("name", s(&m.name)),
        ("status", s(m.status.as_str())),
        ("kind", s(m.kind.as_str())),
        ("created", s(&m.created)),
        ("created_unix", Reply::Int(m.created_unix as i64)),
        ("engine", s(&m.engine)),
        ("keys", Reply::Int(m.keys as i64)),
        ("keys_per_db", s(&per_db)),
        ("bytes", Reply::Int(m.bytes as i64)),
        ("crc64", s(&m.crc64)),
        ("sha256", s(&m.sha256)),
        ("source_run_id", s(&m.source.run_id)),
        ("source_version", s(&m.source.version)),
        ("source_host", s(&m.source.host)),
        ("location", s(location)),
        ("object", s(&m.object)),
    ];
    if let Some(e) = &m.error {
        fields.push(("error", s(e)));
    }
    Reply::Map(
        fields
            .into_iter()
            .map(|(k, v)| (Reply::bulk(k), v))
            .collect(),
    )
}

fn info(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let name = arg(&args[2]);
    let c = ctx.shared.backup.catalog.lock().clone();
    match c.manifests.iter().find(|m| m.name == name) {
        Some(m) => Ok(manifest_reply(m, &c.target)),
        None => Err(CommandError::err(format!("no such backup '{name}'"))),
    }
}

fn delete(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let name = arg(&args[2]);
    let shared = ctx.shared;
    {
        let mut c = shared.backup.catalog.lock();
        let Some(m) = c.manifests.iter_mut().find(|m| m.name == name) else {
            return Err(CommandError::err(format!("no such backup '{name}'")));
        };
        if m.status == Status::Creating {
            return Err(CommandError::err(format!(
                "backup '{name}' is being created"
            )));
        }
        m.status = Status::Deleting;
    }
    shared
        .backup
        .submit(shared, Job::Delete { name })
        .map_err(CommandError::err)?;
    Ok(Reply::simple("Backup deletion started"))
}

fn copy(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 5 {
        return Err(CommandError::Syntax);
    }
    let (src, dst) = (arg(&args[2]), arg(&args[3]));
    let target = args.get(4).map(arg);
    validate_name(&dst).map_err(CommandError::err)?;
    if let Some(t) = &target {
        snapkv_backup::Target::parse(t).map_err(CommandError::err)?;
    }
    let shared = ctx.shared;
    let available = shared
        .backup
        .catalog
        .lock()
        .manifests
        .iter()
        .any(|m| m.name == src && m.status == Status::Available);
    if !available {
        return Err(CommandError::err(format!(
            "no such available backup '{src}'"
        )));
    }
    shared
        .backup
        .submit(shared, Job::Copy { src, dst, target })
        .map_err(CommandError::err)?;
    Ok(Reply::simple("Backup copy started"))
}

/// `field:value` lines of the running and last operation (BACKUP STATUS, INFO).
fn status_lines(shared: &Shared, o: &mut String) {
    use std::fmt::Write;
    let p = shared.backup.progress.lock();
    let now_ms = snapkv_keyspace::clock::now_ms();
    let _ = write!(
        o,
        "backup_in_progress:{}\r\n",
        u8::from(p.running.is_some())
    );
    if let Some(r) = &p.running {
        let bytes = r.bytes.load(Relaxed);
        let secs = now_ms.saturating_sub(r.started_ms) as f64 / 1000.0;
        let _ = write!(
            o,
            "backup_current_op:{}\r\nbackup_current_name:{}\r\nbackup_current_kind:{}\r\nbackup_current_engine:{}\r\nbackup_current_bytes:{bytes}\r\nbackup_current_total_bytes:{}\r\nbackup_current_secs:{secs:.3}\r\nbackup_current_mb_per_sec:{:.2}\r\n",
            r.op,
            r.name,
            r.kind.map_or("", Kind::as_str),
            r.engine,
            r.total,
            if secs > 0.0 { bytes as f64 / secs / 1e6 } else { 0.0 }
        );
    }
    let _ = write!(o, "backup_queued:{}\r\n", p.queued.len());
    match &p.last {
        Some(l) => {
            let _ = write!(
                o,
                "backup_last_op:{}\r\nbackup_last_name:{}\r\nbackup_last_status:{}\r\nbackup_last_error:{}\r\nbackup_last_bytes:{}\r\nbackup_last_duration_ms:{}\r\nbackup_last_ended:{}\r\n",
                l.op,
                l.name,
                if l.ok { "ok" } else { "failed" },
                l.error.as_deref().unwrap_or("").replace(['\r', '\n'], " "),
                l.bytes,
                l.duration_ms,
                l.ended_unix
            );
        }
        None => o.push_str("backup_last_status:none\r\n"),
    }
    let _ = write!(
        o,
        "backups_created:{}\r\nbackups_failed:{}\r\nbackups_deleted:{}\r\nbackups_copied:{}\r\nbackups_pruned:{}\r\n",
        p.created, p.failed, p.deleted, p.copied, p.pruned
    );
}

fn status(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let mut o = String::new();
    status_lines(ctx.shared, &mut o);
    Ok(Reply::bulk(o))
}

/// INFO's `# Backup` section.
pub(crate) fn info_section(ctx: &mut Ctx, o: &mut String) {
    use std::fmt::Write;
    let s = ctx.shared.config.settings();
    let c = ctx.shared.backup.catalog.lock().clone();
    let available = c
        .manifests
        .iter()
        .filter(|m| m.status == Status::Available)
        .count();
    let _ = write!(
        o,
        "backup_target:{}\r\nbackup_window:{}\r\nbackup_retention_days:{}\r\nbackup_manual_limit:{}\r\nbackups_available:{available}\r\nbackup_catalog_error:{}\r\n",
        c.target,
        s.backup_window,
        s.backup_retention_days,
        s.backup_manual_limit,
        c.error.as_deref().unwrap_or("")
    );
    status_lines(ctx.shared, o);
}

/// Called by the server's cron every tick: starts the backup thread (which loads the
/// catalog) and queues the day's automatic backup inside the window. Cheap: no I/O.
pub fn tick(shared: &Shared) {
    let state = &shared.backup;
    if state.queue.lock().is_none() {
        if let Err(e) = state.submit(shared, Job::Refresh) {
            tracing::warn!("cannot start the backup thread: {e}");
        }
        return;
    }
    let settings = shared.config.settings();
    if settings.backup_retention_days == 0 {
        return;
    }
    let Ok(Some(window)) = retention::Window::parse(&settings.backup_window) else {
        return;
    };
    let now = now_unix();
    let last_auto = {
        let c = state.catalog.lock();
        if !c.loaded {
            return;
        }
        c.manifests
            .iter()
            .filter(|m| m.kind == Kind::Automatic && m.status != Status::Failed)
            .map(|m| m.created_unix)
            .max()
    };
    if !retention::automatic_due(&window, last_auto, now) {
        return;
    }
    {
        let mut p = state.progress.lock();
        // A failed attempt is retried after ten minutes, not every tick.
        if now.saturating_sub(p.last_auto_attempt) < 600 {
            return;
        }
        p.last_auto_attempt = now;
    }
    let name = format!("auto-{}", compact_time(now));
    match check_create(shared, &name, Kind::Automatic) {
        Ok(()) => {
            tracing::info!("Starting the automatic backup {name}");
            let job = Job::Create {
                name,
                kind: Kind::Automatic,
                limit: false,
            };
            if let Err(e) = state.submit(shared, job) {
                tracing::warn!("cannot queue the automatic backup: {e}");
            }
        }
        Err(e) => tracing::warn!("automatic backup not started: {e}"),
    }
}
