//! `snapkv rdb check FILE` (like `redis-check-rdb`: keys per db and type, checksum status,
//! first error with its offset) and `snapkv rdb dump FILE [--json]` (one line per key).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{json, Value as Json};
use snapkv_rdb::{Checksum, Entry, Event, Reader, Value};

#[derive(Args)]
pub struct RdbArgs {
    #[command(subcommand)]
    command: RdbCommand,
}

#[derive(Subcommand)]
enum RdbCommand {
    /// Verify an RDB file: structure, every value, checksum; print a summary.
    Check { file: PathBuf },
    /// Print every key with its type, TTL and value.
    Dump {
        file: PathBuf,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: RdbArgs) -> ExitCode {
    let result = match args.command {
        RdbCommand::Check { file } => check(&file),
        RdbCommand::Dump { file, json } => dump(&file, json),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("snapkv: {e}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Default)]
struct DbStats {
    keys: u64,
    expires: u64,
    by_type: BTreeMap<&'static str, u64>,
}

fn open(file: &Path) -> io::Result<File> {
    File::open(file).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", file.display())))
}

fn check(file: &Path) -> io::Result<ExitCode> {
    let f = open(file)?;
    println!("[offset 0] Checking RDB file {}", file.display());
    let mut reader = match Reader::new(f) {
        Ok(r) => r,
        Err(e) => {
            println!("--- RDB ERROR DETECTED ---");
            println!("[offset {}] {}", e.offset, e.kind);
            return Ok(ExitCode::FAILURE);
        }
    };
    println!("[offset 9] RDB version {}", reader.version());
    let mut dbs: BTreeMap<u64, DbStats> = BTreeMap::new();
    let (mut functions, mut modules_aux) = (0u64, 0u64);
    loop {
        match reader.next_event() {
            Ok(Some(Event::Aux { key, value })) => {
                println!(
                    "[info] {} = '{}'",
                    String::from_utf8_lossy(&key),
                    String::from_utf8_lossy(&value)
                );
            }
            Ok(Some(Event::Entry(e))) => {
                let s = dbs.entry(e.db).or_default();
                s.keys += 1;
                s.expires += u64::from(e.expire_ms.is_some());
                *s.by_type.entry(e.value.type_name()).or_default() += 1;
            }
            Ok(Some(Event::Function(_))) => functions += 1,
            Ok(Some(Event::ModuleAux { .. })) => modules_aux += 1,
            Ok(Some(Event::Eof { checksum })) => {
                print_summary(&dbs, functions, modules_aux);
                match checksum {
                    Checksum::Verified(c) => {
                        println!("[offset {}] Checksum OK ({c:#018x})", reader.offset())
                    }
                    Checksum::NotChecked => {
                        println!("[offset {}] Checksum is 0: not checked", reader.offset())
                    }
                    Checksum::Absent => {
                        println!("[offset {}] No checksum (RDB version < 5)", reader.offset())
                    }
                }
                println!("\\o/ RDB looks OK! \\o/");
                return Ok(ExitCode::SUCCESS);
            }
            Ok(Some(_)) => {}
            Ok(None) => unreachable_eof(),
            Err(e) => {
                print_summary(&dbs, functions, modules_aux);
                println!("--- RDB ERROR DETECTED ---");
                println!("[offset {}] {}", e.offset, e.kind);
                return Ok(ExitCode::FAILURE);
            }
        }
    }
}

/// The reader returns `Eof` before `None`, so `None` first means a reader bug; report it
/// as a failure rather than pretending the file is fine.
fn unreachable_eof() -> ! {
    eprintln!("snapkv: reader ended without EOF");
    std::process::exit(2)
}

fn print_summary(dbs: &BTreeMap<u64, DbStats>, functions: u64, modules_aux: u64) {
    let total: u64 = dbs.values().map(|s| s.keys).sum();
    println!("[info] {total} keys read in {} databases", dbs.len());
    for (db, s) in dbs {
        let types: Vec<String> = s.by_type.iter().map(|(t, n)| format!("{t}={n}")).collect();
        println!(
            "[info] db{db}: keys={} expires={} {}",
            s.keys,
            s.expires,
            types.join(" ")
        );
    }
    if functions > 0 {
        println!("[info] {functions} function libraries");
    }
    if modules_aux > 0 {
        println!("[info] {modules_aux} module aux records skipped");
    }
}

fn dump(file: &Path, as_json: bool) -> io::Result<ExitCode> {
    let f = open(file)?;
    let out = io::stdout();
    let mut out = BufWriter::new(out.lock());
    let mut reader = match Reader::new(f) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("snapkv: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    loop {
        match reader.next_event() {
            Ok(Some(Event::Entry(e))) => {
                if as_json {
                    writeln!(out, "{}", entry_json(&e))?;
                } else {
                    writeln!(out, "{}", entry_text(&e))?;
                }
            }
            Ok(Some(Event::Eof { .. })) | Ok(None) => break,
            Ok(Some(_)) => {}
            Err(e) => {
                out.flush()?;
                eprintln!("snapkv: {e}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Bytes as a JSON string when valid UTF-8, else as `{"hex": "..."}` so nothing is lost.
fn bytes_json(b: &[u8]) -> Json {
    match std::str::from_utf8(b) {
        Ok(s) => Json::String(s.to_owned()),
        Err(_) => json!({ "hex": b.iter().map(|x| format!("{x:02x}")).collect::<String>() }),
    }
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Str(s) => bytes_json(s),
        Value::List(l) | Value::Set(l) => Json::Array(l.iter().map(|x| bytes_json(x)).collect()),
        Value::Hash(h) => Json::Array(
            h.iter()
                .map(|(f, v)| json!([bytes_json(f), bytes_json(v)]))
                .collect(),
        ),
        Value::ZSet(z) => Json::Array(z.iter().map(|(m, s)| json!([bytes_json(m), s])).collect()),
        Value::HashWithTtl(h) => Json::Array(
            h.iter()
                .map(|(f, v, ttl)| json!([bytes_json(f), bytes_json(v), ttl]))
                .collect(),
        ),
        Value::Stream(s) => json!({
            "length": s.length,
            "last_id": s.last_id.to_string(),
            "entries": s.entries.iter().map(|e| json!({
                "id": e.id.to_string(),
                "fields": e.fields.iter().map(|(f, v)| json!([bytes_json(f), bytes_json(v)])).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "groups": s.groups.iter().map(|g| json!({
                "name": bytes_json(&g.name),
                "last_id": g.last_id.to_string(),
                "pending": g.pel.len(),
                "consumers": g.consumers.iter().map(|c| bytes_json(&c.name)).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }),
    }
}

fn entry_json(e: &Entry) -> Json {
    json!({
        "db": e.db,
        "key": bytes_json(&e.key),
        "type": e.value.type_name(),
        "expire_ms": e.expire_ms,
        "value": value_json(&e.value),
    })
}

fn entry_text(e: &Entry) -> String {
    let ttl = match e.expire_ms {
        Some(ms) => format!(" expire_ms={ms}"),
        None => String::new(),
    };
    format!(
        "db={} key={} type={}{ttl} value={}",
        e.db,
        bytes_json(&e.key),
        e.value.type_name(),
        value_json(&e.value)
    )
}
