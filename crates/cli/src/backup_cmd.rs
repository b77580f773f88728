//! `snapkv backup list|describe|create|restore|copy|delete|verify`: backups in a target
//! (a directory or `s3://bucket/prefix`) through the same `snapkv-backup` code the server
//! uses. Transfers show progress bars (indicatif, on a terminal); `--json` prints JSON.
//! `create --server` asks a running server (BACKUP CREATE, then BACKUP STATUS);
//! `create --file` uploads an existing RDB file (from snapkv or Redis) as a backup.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use snapkv_backup::manifest::{compact_time, validate_name};
use snapkv_backup::s3::S3Options;
use snapkv_backup::{open_store, Catalog, CreateOutcome, Kind, Manifest, Source};

#[derive(Args)]
pub struct BackupArgs {
    /// Where backups live: a directory or s3://bucket/prefix.
    #[arg(
        long,
        env = "SNAPKV_BACKUP_TARGET",
        global = true,
        default_value = "backups"
    )]
    target: String,
    /// S3 endpoint URL (MinIO, moto, …); implies path-style addressing.
    #[arg(long, global = true)]
    s3_endpoint: Option<String>,
    /// S3 region (else the AWS default chain, else us-east-1).
    #[arg(long, global = true)]
    s3_region: Option<String>,
    /// Server-side encryption for uploads (AES256, aws:kms).
    #[arg(long, global = true)]
    s3_sse: Option<String>,
    /// Multipart part size in MiB.
    #[arg(long, global = true, default_value_t = 8)]
    part_size_mb: usize,
    /// Parts uploaded at once.
    #[arg(long, global = true, default_value_t = 4)]
    concurrency: usize,
    /// JSON output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: BackupCommand,
}

#[derive(Subcommand)]
enum BackupCommand {
    /// List the available backups (--all: every manifest, whatever its status).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Print a backup's manifest.
    Describe { name: String },
    /// Take a backup: through a running server (--server), or by uploading an RDB file.
    Create {
        /// Backup name (default manual-<time>).
        name: Option<String>,
        /// host:port of a snapkv server to run BACKUP CREATE on (it uses its own target).
        #[arg(long, conflicts_with = "file")]
        server: Option<String>,
        /// An RDB file to upload as the backup.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Download a backup (name, s3://bucket/key.rdb or path) to a file, verified.
    Restore {
        source: String,
        /// Where to write the RDB file.
        #[arg(long, default_value = "dump.rdb")]
        to: PathBuf,
    },
    /// Copy a backup under a new name, into this target or --to-target.
    Copy {
        src: String,
        dst: String,
        #[arg(long)]
        to_target: Option<String>,
    },
    /// Delete a backup.
    Delete { name: String },
    /// Read a backup whole and check it against its manifest.
    Verify { name: String },
}

pub fn run(args: BackupArgs) -> ExitCode {
    match run_inner(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if args.json {
                println!("{}", serde_json::json!({ "error": e }));
            }
            eprintln!("snapkv: {e}");
            ExitCode::FAILURE
        }
    }
}

fn s3_options(a: &BackupArgs) -> S3Options {
    S3Options {
        endpoint: a.s3_endpoint.clone(),
        region: a.s3_region.clone(),
        sse: a.s3_sse.clone(),
        part_size: a.part_size_mb << 20,
        concurrency: a.concurrency,
        ..Default::default()
    }
}

fn catalog(a: &BackupArgs, target: &str) -> Result<Catalog, String> {
    Ok(Catalog::new(
        open_store(target, &s3_options(a)).map_err(|e| e.to_string())?,
    ))
}

/// A byte progress bar on stderr (hidden when stderr is not a terminal, or with --json).
fn bar(a: &BackupArgs, total: u64, what: &str) -> ProgressBar {
    let b = if a.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    let template = if total > 0 {
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else {
        "{msg} {spinner} {bytes} {bytes_per_sec}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        b.set_style(style.progress_chars("=> "));
    }
    b.set_message(what.to_string());
    b
}

fn print_manifest(a: &BackupArgs, m: &Manifest) {
    if a.json {
        println!("{}", String::from_utf8_lossy(&m.to_json()).trim_end());
        return;
    }
    let per_db: Vec<String> = m
        .keys_per_db
        .iter()
        .map(|(db, n)| format!("db{db}={n}"))
        .collect();
    println!("name:      {}", m.name);
    println!("status:    {}", m.status.as_str());
    println!("kind:      {}", m.kind.as_str());
    println!("created:   {}", m.created);
    println!("engine:    {}", m.engine);
    println!("keys:      {} ({})", m.keys, per_db.join(", "));
    println!("bytes:     {}", m.bytes);
    println!("crc64:     {}", m.crc64);
    println!("sha256:    {}", m.sha256);
    println!(
        "source:    {} {} {}",
        m.source.host, m.source.version, m.source.run_id
    );
    if let Some(e) = &m.error {
        println!("error:     {e}");
    }
}

fn run_inner(a: &BackupArgs) -> Result<(), String> {
    match &a.command {
        BackupCommand::List { all } => {
            let c = catalog(a, &a.target)?;
            let list: Vec<Manifest> = c
                .manifests()
                .map_err(|e| e.to_string())?
                .into_iter()
                .filter(|m| *all || m.status == snapkv_backup::Status::Available)
                .collect();
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?
                );
            } else {
                println!(
                    "{:<32} {:<10} {:<9} {:<20} {:>14} {:>10}",
                    "NAME", "STATUS", "KIND", "CREATED", "BYTES", "KEYS"
                );
                for m in &list {
                    println!(
                        "{:<32} {:<10} {:<9} {:<20} {:>14} {:>10}",
                        m.name,
                        m.status.as_str(),
                        m.kind.as_str(),
                        m.created,
                        m.bytes,
                        m.keys
                    );
                }
            }
            Ok(())
        }
        BackupCommand::Describe { name } => {
            let m = catalog(a, &a.target)?
                .describe(name)
                .map_err(|e| e.to_string())?;
            print_manifest(a, &m);
            Ok(())
        }
        BackupCommand::Verify { name } => {
            let c = catalog(a, &a.target)?;
            let m = c.describe(name).map_err(|e| e.to_string())?;
            let b = bar(a, m.bytes, &format!("verifying {name}"));
            let m = c
                .verify(name, &mut |n, _| b.set_position(n))
                .map_err(|e| e.to_string())?;
            b.finish_and_clear();
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({"name": name, "verified": true, "bytes": m.bytes, "sha256": m.sha256})
                );
            } else {
                println!("{name}: OK ({} bytes, sha256 {})", m.bytes, m.sha256);
            }
            Ok(())
        }
        BackupCommand::Delete { name } => {
            catalog(a, &a.target)?
                .delete(name)
                .map_err(|e| e.to_string())?;
            if a.json {
                println!("{}", serde_json::json!({"deleted": name}));
            } else {
                println!("deleted {name}");
            }
            Ok(())
        }
        BackupCommand::Copy {
            src,
            dst,
            to_target,
        } => {
            let from = catalog(a, &a.target)?;
            let other = match to_target {
                Some(t) => Some(catalog(a, t)?),
                None => None,
            };
            let to = other.as_ref().unwrap_or(&from);
            let m = from.describe(src).map_err(|e| e.to_string())?;
            let b = bar(a, m.bytes, &format!("copying {src}"));
            let m = from
                .copy_to(src, to, dst, &mut |n, _| b.set_position(n))
                .map_err(|e| e.to_string())?;
            b.finish_and_clear();
            print_manifest(a, &m);
            Ok(())
        }
        BackupCommand::Restore { source, to } => {
            let b = bar(a, 0, &format!("downloading {source}"));
            let started = Instant::now();
            let f = snapkv_backup::restore::fetch(
                source,
                &a.target,
                &s3_options(a),
                to,
                &mut |n, total| {
                    if total > 0 && b.length() != Some(total) {
                        b.set_length(total);
                    }
                    b.set_position(n)
                },
            )?;
            b.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({"source": f.source, "file": to.display().to_string(), "bytes": f.bytes, "seconds": secs, "manifest_verified": f.manifest.is_some()})
                );
            } else {
                println!(
                    "restored {} ({} bytes, {:.1} MB/s) to {}; verified: {}",
                    f.source,
                    f.bytes,
                    f.bytes as f64 / secs.max(1e-9) / 1e6,
                    to.display(),
                    if f.manifest.is_some() {
                        "manifest checksums and RDB checksum"
                    } else {
                        "RDB checksum"
                    }
                );
            }
            Ok(())
        }
        BackupCommand::Create { name, server, file } => {
            let name = name
                .clone()
                .unwrap_or_else(|| format!("manual-{}", compact_time(now_unix())));
            validate_name(&name)?;
            match (server, file) {
                (Some(addr), _) => create_on_server(a, addr, &name),
                (None, Some(file)) => upload_file(a, file, &name),
                (None, None) => Err("create needs --server host:port or --file dump.rdb".into()),
            }
        }
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Keys per database of an RDB file, read whole (every value decoded, checksum checked).
fn count_keys(file: &std::path::Path) -> Result<(u64, BTreeMap<String, u64>), String> {
    let f = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut r = snapkv_rdb::Reader::new(BufReader::with_capacity(1 << 20, f))
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let mut per_db = BTreeMap::new();
    let mut keys = 0;
    while let Some(ev) = r
        .next_event()
        .map_err(|e| format!("{}: {e}", file.display()))?
    {
        if let snapkv_rdb::Event::Entry(e) = ev {
            *per_db.entry(e.db.to_string()).or_insert(0) += 1;
            keys += 1;
        }
    }
    Ok((keys, per_db))
}

/// Uploads an RDB file as backup `name` (read whole first: framing, values, checksums).
fn upload_file(a: &BackupArgs, file: &std::path::Path, name: &str) -> Result<(), String> {
    snapkv_backup::catalog::verify_rdb_file(file)?;
    let counts = count_keys(file)?;
    let c = catalog(a, &a.target)?;
    if c.describe(name).is_ok() {
        return Err(format!("backup '{name}' already exists in {}", a.target));
    }
    let mut f = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let total = f.metadata().map(|m| m.len()).unwrap_or(0);
    let source = Source {
        run_id: String::new(),
        version: format!("snapkv-cli {}", env!("CARGO_PKG_VERSION")),
        host: std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default(),
    };
    let m = Manifest::new(name, Kind::Manual, source, "import", now_unix());
    let b = bar(a, total, &format!("uploading {name}"));
    let started = Instant::now();
    let outcome = c.create(m, |w| {
        let mut buf = vec![0u8; 1 << 20];
        let mut sent = 0u64;
        loop {
            let n = f.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            w.write_all(&buf[..n]).map_err(|e| e.to_string())?;
            sent += n as u64;
            b.set_position(sent);
        }
        Ok(counts)
    });
    b.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    match outcome {
        CreateOutcome::Available(m) => {
            if a.json {
                print_manifest(a, &m);
            } else {
                println!(
                    "created {name} ({} bytes in {secs:.2} s, {:.1} MB/s)",
                    m.bytes,
                    m.bytes as f64 / secs.max(1e-9) / 1e6
                );
            }
            Ok(())
        }
        CreateOutcome::Failed(m) => Err(m.error.unwrap_or_default()),
    }
}

/// Sends one command to a RESP server and returns the reply as text (errors as Err).
fn resp(conn: &mut BufReader<TcpStream>, args: &[&str]) -> Result<String, String> {
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    conn.get_mut()
        .write_all(req.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    conn.read_line(&mut line).map_err(|e| e.to_string())?;
    let line = line.trim_end().to_string();
    match line.as_bytes().first() {
        Some(b'+') | Some(b':') => Ok(line[1..].to_string()),
        Some(b'-') => Err(line[1..].to_string()),
        Some(b'$') => {
            let n: i64 = line[1..].parse().map_err(|_| "bad reply".to_string())?;
            if n < 0 {
                return Ok(String::new());
            }
            let mut buf = vec![0u8; n as usize + 2];
            conn.read_exact(&mut buf).map_err(|e| e.to_string())?;
            buf.truncate(n as usize);
            Ok(String::from_utf8_lossy(&buf).into_owned())
        }
        _ => Err(format!("unexpected reply: {line}")),
    }
}

fn field(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// BACKUP CREATE on a server, then its progress from BACKUP STATUS until it ends.
fn create_on_server(a: &BackupArgs, addr: &str, name: &str) -> Result<(), String> {
    let stream = TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut conn = BufReader::new(stream);
    if let Ok(pass) = std::env::var("REDISCLI_AUTH") {
        resp(&mut conn, &["AUTH", &pass])?;
    }
    resp(&mut conn, &["BACKUP", "CREATE", name])?;
    let b = bar(a, 0, &format!("backing up {name}"));
    let status = loop {
        let s = resp(&mut conn, &["BACKUP", "STATUS"])?;
        if field(&s, "backup_current_name") == name {
            b.set_position(field(&s, "backup_current_bytes").parse().unwrap_or(0));
        } else if field(&s, "backup_in_progress") == "0"
            && field(&s, "backup_queued") == "0"
            && field(&s, "backup_last_name") == name
        {
            break s;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    b.finish_and_clear();
    let ok = field(&status, "backup_last_status") == "ok";
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "name": name,
                "status": if ok { "available" } else { "failed" },
                "bytes": field(&status, "backup_last_bytes").parse::<u64>().unwrap_or(0),
                "duration_ms": field(&status, "backup_last_duration_ms").parse::<u64>().unwrap_or(0),
                "error": field(&status, "backup_last_error"),
            })
        );
    } else if ok {
        println!(
            "created {name} ({} bytes in {} ms)",
            field(&status, "backup_last_bytes"),
            field(&status, "backup_last_duration_ms")
        );
    }
    if ok {
        Ok(())
    } else {
        Err(format!(
            "backup {name} failed: {}",
            field(&status, "backup_last_error")
        ))
    }
}
