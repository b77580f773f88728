//! End-to-end tests of the `snapkv rdb` subcommands on files made with snapkv-rdb.

use std::path::Path;
use std::process::Command;

use snapkv_rdb::{Value, WriteOptions, Writer};

fn write_sample(path: &Path) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = Writer::new(f, WriteOptions::default()).unwrap();
    w.write_default_aux(1_700_000_000, 1000).unwrap();
    w.select_db(0).unwrap();
    w.write_string_entry(b"greeting", Some(4_000_000_000_000), b"hello")
        .unwrap();
    w.write_int_string(b"counter", None, 42).unwrap();
    w.write_list(b"l", None, [&b"a"[..], b"b"].iter()).unwrap();
    w.select_db(2).unwrap();
    w.write_entry(
        b"h",
        None,
        &Value::Hash(vec![(b"f".to_vec(), vec![0xff, 0xfe])]),
    )
    .unwrap();
    w.finish().unwrap();
}

fn snapkv(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_snapkv"))
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn check_reports_keys_per_db_and_type() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.rdb");
    write_sample(&p);
    let (code, out) = snapkv(&["rdb", "check", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("4 keys read in 2 databases"), "{out}");
    assert!(
        out.contains("db0: keys=3 expires=1 list=1 string=2"),
        "{out}"
    );
    assert!(out.contains("db2: keys=1 expires=0 hash=1"), "{out}");
    assert!(out.contains("Checksum OK"), "{out}");
    assert!(out.contains("redis-ver = '7.0.15'"), "{out}");
}

#[test]
fn check_fails_with_offset_on_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.rdb");
    write_sample(&p);
    let mut bytes = std::fs::read(&p).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0x55; // inside the checksum
    std::fs::write(&p, &bytes).unwrap();
    let (code, out) = snapkv(&["rdb", "check", p.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!("[offset {}] checksum mismatch", n - 8)),
        "{out}"
    );
    std::fs::write(&p, &bytes[..n / 2]).unwrap();
    let (code, out) = snapkv(&["rdb", "check", p.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("RDB ERROR DETECTED"), "{out}");
    let (code, _) = snapkv(&["rdb", "check", "/nonexistent/file.rdb"]);
    assert_ne!(code, 0);
}

#[test]
fn dump_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.rdb");
    write_sample(&p);
    let (code, out) = snapkv(&["rdb", "dump", p.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{out}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["key"], "greeting");
    assert_eq!(lines[0]["expire_ms"], 4_000_000_000_000i64);
    assert_eq!(lines[1]["value"], "42");
    assert_eq!(lines[2]["value"], serde_json::json!(["a", "b"]));
    assert_eq!(lines[3]["db"], 2);
    assert_eq!(lines[3]["value"][0][1]["hex"], "fffe");
    let (code, out) = snapkv(&["rdb", "dump", p.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("db=0 key=\"greeting\" type=string expire_ms=4000000000000 value=\"hello\""),
        "{out}"
    );
}
