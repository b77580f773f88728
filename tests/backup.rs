//! Backups end to end, against a real S3-compatible server (moto's, on loopback):
//! multipart upload, list, restore into a fresh server with identical content, copy to
//! another bucket, delete; retention pruning, automatic backups in the window, the
//! manual limit; faults — uploads cut mid-flight or a dead store fail the backup, abort
//! the multipart upload and never slow serving; restore from a missing or corrupted
//! object stops start-up with a clear error; an RDB made by real Redis restores.

use std::time::{Duration, Instant};

use snapkv_e2e::s3::{set_aws_env, FaultProxy, S3Server};
use snapkv_e2e::{temp_dir, Conn, Kind, Server, Value};

const KEYS: usize = 12_000;
const VALUE: usize = 1000;

/// A value LZF cannot shrink (pseudo-random letters), so the RDB keeps its size.
fn value(i: usize) -> String {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = format!("value-{i}-");
    while v.len() < VALUE {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.push((b'A' + (x % 58) as u8) as char);
    }
    v.replace(['\\', '`', '^'], "x")
}

/// ~12 MB in db 0 (every 10th key with a TTL) and a few keys in db 3.
fn fill(c: &mut Conn) {
    let replies = c.pipeline((0..KEYS).map(|i| {
        let mut cmd = vec!["SET".to_string(), format!("k:{i}"), value(i)];
        if i % 10 == 0 {
            cmd.extend(["EX".to_string(), format!("{}", 1000 + i)]);
        }
        cmd
    }));
    assert!(replies.iter().all(|r| *r == Value::Simple("OK".into())));
    c.cmd(&["SELECT", "3"]);
    for i in 0..50 {
        c.cmd(&["SET", &format!("db3:{i}"), &i.to_string()]);
    }
    c.cmd(&["SELECT", "0"]);
}

/// Every key of [`fill`] is in the server behind `c`, with its value and (about) its TTL.
fn check_filled(c: &mut Conn) {
    assert_eq!(c.cmd(&["DBSIZE"]), Value::Int(KEYS as i64));
    let keys: Vec<usize> = (0..KEYS).collect();
    for chunk in keys.chunks(1000) {
        let replies = c.pipeline(chunk.iter().flat_map(|i| {
            [
                vec!["GET".to_string(), format!("k:{i}")],
                vec!["TTL".to_string(), format!("k:{i}")],
            ]
        }));
        for (i, pair) in chunk.iter().zip(replies.chunks(2)) {
            assert_eq!(pair[0].as_str(), value(*i), "k:{i}");
            let ttl = pair[1].as_int().expect("TTL");
            if i % 10 == 0 {
                let want = (1000 + i) as i64;
                assert!(
                    ttl <= want && ttl > want - 120,
                    "k:{i} TTL {ttl}, want ~{want}"
                );
            } else {
                assert_eq!(ttl, -1, "k:{i}");
            }
        }
    }
    c.cmd(&["SELECT", "3"]);
    assert_eq!(c.cmd(&["DBSIZE"]), Value::Int(50));
    assert_eq!(c.cmd(&["GET", "db3:7"]).as_str(), "7");
    c.cmd(&["SELECT", "0"]);
}

fn field(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Waits until the backup thread is idle after an operation on `name`; BACKUP STATUS then.
fn wait_backup(c: &mut Conn, name: &str) -> String {
    let t = Instant::now();
    loop {
        let s = c.cmd(&["BACKUP", "STATUS"]).as_str();
        if field(&s, "backup_in_progress") == "0"
            && field(&s, "backup_queued") == "0"
            && field(&s, "backup_last_name") == name
        {
            return s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "backup {name} did not end: {s}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_ok(c: &mut Conn, name: &str) {
    let s = wait_backup(c, name);
    assert_eq!(field(&s, "backup_last_status"), "ok", "{s}");
}

/// Names in BACKUP LIST.
fn listed(c: &mut Conn) -> Vec<String> {
    let Value::Array(items) = c.cmd(&["BACKUP", "LIST"]) else {
        panic!("BACKUP LIST")
    };
    items
        .iter()
        .map(|m| match m {
            Value::Array(kv) => kv[1].as_str(),
            Value::Map(kv) => kv[0].1.as_str(),
            other => panic!("{other:?}"),
        })
        .collect()
}

fn info_field(c: &mut Conn, name: &str, f: &str) -> String {
    let Value::Array(kv) = c.cmd(&["BACKUP", "INFO", name]) else {
        panic!("BACKUP INFO {name}")
    };
    kv.chunks(2)
        .find(|p| p[0].as_str() == f)
        .map(|p| {
            p[1].as_int()
                .map_or_else(|| p[1].as_str(), |n| n.to_string())
        })
        .unwrap_or_default()
}

fn s3_args<'a>(target: &'a str, endpoint: &'a str) -> Vec<&'a str> {
    vec![
        "--backup-target",
        target,
        "--backup-s3-endpoint",
        endpoint,
        "--backup-part-size",
        "5mb",
        "--backup-upload-concurrency",
        "2",
    ]
}

#[test]
fn s3_multipart_backup_list_restore_copy_delete() {
    set_aws_env();
    let s3 = S3Server::start();
    s3.create_bucket("snaps");
    s3.create_bucket("exports");
    let endpoint = s3.endpoint();
    let mut args = s3_args("s3://snaps/prod", &endpoint);
    // Server-side encryption requested on every upload (moto accepts and records it);
    // the fork engine, whose child streams the RDB to the uploader over a pipe.
    args.extend(["--backup-s3-sse", "AES256", "--snapshot-method", "fork"]);
    let server = Server::snapkv(&args);
    let mut c = server.conn();
    fill(&mut c);
    assert_eq!(
        c.cmd(&["BACKUP", "CREATE", "b1"]),
        Value::Simple("Backup b1 started".into())
    );
    wait_ok(&mut c, "b1");
    assert_eq!(listed(&mut c), vec!["b1"]);
    let bytes: u64 = info_field(&mut c, "b1", "bytes").parse().unwrap();
    assert!(bytes > 10 << 20, "{bytes}");
    assert_eq!(info_field(&mut c, "b1", "status"), "available");
    assert_eq!(info_field(&mut c, "b1", "engine"), "fork");
    assert_eq!(info_field(&mut c, "b1", "keys"), (KEYS + 50).to_string());
    assert_eq!(
        info_field(&mut c, "b1", "keys_per_db"),
        format!("db0={KEYS},db3=50")
    );
    // Three 5 MiB parts: the ETag of a multipart object ends in -<parts>.
    let etag = s3.etag("snaps/prod/b1.rdb");
    assert!(etag.trim_matches('"').ends_with("-3"), "{etag}");
    assert!(s3.open_uploads("snaps").is_empty());
    let head = s3.head("snaps/prod/b1.rdb").to_ascii_lowercase();
    assert!(
        head.contains("x-amz-server-side-encryption: aes256"),
        "{head}"
    );
    let info = c.cmd(&["INFO", "backup"]).as_str();
    assert!(info.contains("backup_target:s3://snaps/prod"), "{info}");
    assert!(info.contains("backups_available:1"), "{info}");

    // Restore by name, and by object URL, into fresh servers: identical content.
    let mut restore = args.clone();
    restore.extend(["--restore-from", "b1"]);
    let fresh = Server::snapkv(&restore);
    check_filled(&mut fresh.conn());
    drop(fresh);
    let fresh = Server::snapkv(&[
        "--restore-from",
        "s3://snaps/prod/b1.rdb",
        "--backup-s3-endpoint",
        &endpoint,
    ]);
    check_filled(&mut fresh.conn());
    drop(fresh);

    // Export to another bucket, restore from there.
    assert_eq!(
        c.cmd(&["BACKUP", "COPY", "b1", "b1-export", "s3://exports/team"]),
        Value::Simple("Backup copy started".into())
    );
    wait_ok(&mut c, "b1-export");
    let fresh = Server::snapkv(&[
        "--restore-from",
        "s3://exports/team/b1-export.rdb",
        "--backup-s3-endpoint",
        &endpoint,
    ]);
    check_filled(&mut fresh.conn());
    drop(fresh);

    // Delete: gone from the list and the bucket.
    assert_eq!(
        c.cmd(&["BACKUP", "DELETE", "b1"]),
        Value::Simple("Backup deletion started".into())
    );
    wait_ok(&mut c, "b1");
    assert!(listed(&mut c).is_empty());
    let (_, body) = s3.get("/snaps?list-type=2&prefix=prod/");
    assert!(!body.contains("<Key>"), "{body}");
    assert!(c.cmd(&["BACKUP", "INFO", "b1"]).is_error());
}

#[test]
fn manual_limit_retention_and_automatic_window() {
    let server = Server::snapkv(&[
        "--backup-manual-limit",
        "2",
        "--backup-retention-days",
        "1",
        "--snapshot-method",
        "forkless",
    ]);
    let mut c = server.conn();
    c.cmd(&["SET", "a", "1"]);
    for name in ["m1", "m2"] {
        c.cmd(&["BACKUP", "CREATE", name]);
        wait_ok(&mut c, name);
    }
    assert_eq!(info_field(&mut c, "m1", "engine"), "forkless");
    let e = c.cmd(&["BACKUP", "CREATE", "m3"]).as_str();
    assert!(
        e.contains("ERR manual backup limit reached: 2 manual backups in the last 24 hours"),
        "{e}"
    );
    let e = c.cmd(&["BACKUP", "CREATE", "bad/name"]).as_str();
    assert!(e.contains("invalid backup name"), "{e}");

    // An automatic backup three days old (older than the 1-day retention) and a manual
    // one as old: the next backup prunes the first only.
    let dir = server.dir.join("backups");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let manifest = std::fs::read_to_string(dir.join("m1.manifest.json")).unwrap();
    for (name, kind) in [("auto-old", "automatic"), ("manual-old", "manual")] {
        std::fs::copy(dir.join("m1.rdb"), dir.join(format!("{name}.rdb"))).unwrap();
        let m = manifest
            .replace("\"m1\"", &format!("\"{name}\""))
            .replace("\"m1.rdb\"", &format!("\"{name}.rdb\""))
            .replace("\"manual\"", &format!("\"{kind}\""))
            .replace(
                &format!(
                    "\"created_unix\": {}",
                    field_json(&manifest, "created_unix")
                ),
                &format!("\"created_unix\": {}", now - 3 * 86400),
            );
        std::fs::write(dir.join(format!("{name}.manifest.json")), m).unwrap();
    }
    c.cmd(&["CONFIG", "SET", "backup-manual-limit", "10"]);
    c.cmd(&["BACKUP", "CREATE", "m3"]);
    wait_ok(&mut c, "m3");
    let names = listed(&mut c);
    assert!(!names.contains(&"auto-old".to_string()), "{names:?}");
    assert!(names.contains(&"manual-old".to_string()), "{names:?}");
    assert!(!dir.join("auto-old.rdb").exists());
    assert!(field(&c.cmd(&["BACKUP", "STATUS"]).as_str(), "backups_pruned") == "1");

    // A window around now: the cron starts today's automatic backup.
    let e = c.cmd(&["CONFIG", "SET", "backup-window", "10:00-10:30"]);
    assert!(e.is_error(), "{e:?}");
    let minute = (now % 86400) / 60;
    let window = format!(
        "{:02}:{:02}-{:02}:{:02}",
        minute / 60,
        minute % 60,
        (minute + 90) / 60 % 24,
        (minute + 90) % 60
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "backup-window", &window]),
        Value::Simple("OK".into())
    );
    let t = Instant::now();
    while !listed(&mut c).iter().any(|n| n.starts_with("auto-")) {
        assert!(t.elapsed() < Duration::from_secs(20), "no automatic backup");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn field_json(json: &str, name: &str) -> String {
    json.split(&format!("\"{name}\": "))
        .nth(1)
        .and_then(|r| r.split([',', '\n']).next())
        .unwrap_or("")
        .to_string()
}

/// PING round trips from another thread while `f` runs; returns the slowest.
fn max_ping_during(port: u16, f: impl FnOnce()) -> Duration {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let pinger = std::thread::spawn(move || {
        let mut c = Conn::connect(port).unwrap();
        let mut worst = Duration::ZERO;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            let t = Instant::now();
            assert_eq!(c.cmd(&["PING"]), Value::Simple("PONG".into()));
            c.cmd(&["SET", "during", "x"]);
            worst = worst.max(t.elapsed());
            std::thread::sleep(Duration::from_millis(2));
        }
        worst
    });
    f();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    pinger.join().unwrap()
}

#[test]
fn s3_faults_fail_the_backup_abort_the_upload_and_never_stall_serving() {
    set_aws_env();
    let mut s3 = S3Server::start();
    s3.create_bucket("snaps");
    let proxy = FaultProxy::start(s3.port);
    let endpoint = proxy.endpoint();
    // The forkless engine fails first (cut uploads), then the fork engine (killed store).
    let mut args = s3_args("s3://snaps/p", &endpoint);
    // A request to a store that died mid-answer gives up in seconds, not a minute.
    args.extend(["--snapshot-method", "forkless", "--backup-s3-timeout", "5"]);
    let server = Server::snapkv(&args);
    let mut c = server.conn();
    fill(&mut c);

    // Requests carrying more than 1 MiB are cut: every 5 MiB part fails (with retries),
    // the small ones (create/abort upload, manifests) pass.
    proxy
        .cut_after
        .store(1 << 20, std::sync::atomic::Ordering::Relaxed);
    let worst = max_ping_during(server.port, || {
        c.cmd(&["BACKUP", "CREATE", "cut"]);
        let s = wait_backup(&mut c, "cut");
        assert_eq!(field(&s, "backup_last_status"), "failed", "{s}");
        assert!(
            field(&s, "backup_last_error").contains("upload part"),
            "{s}"
        );
    });
    eprintln!("slowest PING+SET during the cut upload: {worst:?}");
    assert!(worst < Duration::from_millis(250), "{worst:?}");
    assert!(proxy.cuts.load(std::sync::atomic::Ordering::Relaxed) > 0);
    assert!(
        s3.open_uploads("snaps").is_empty(),
        "multipart upload not aborted"
    );
    assert!(listed(&mut c).is_empty());
    assert_eq!(info_field(&mut c, "cut", "status"), "failed");
    let (_, body) = s3.get("/snaps?list-type=2&prefix=p/");
    assert!(!body.contains("cut.rdb"), "{body}");

    // The S3 server is killed mid-upload (uploads slowed to 4 MB/s so it is caught
    // with parts in flight): the backup fails, serving goes on.
    proxy
        .cut_after
        .store(0, std::sync::atomic::Ordering::Relaxed);
    proxy
        .rate
        .store(4 << 20, std::sync::atomic::Ordering::Relaxed);
    c.cmd(&["CONFIG", "SET", "snapshot-method", "fork"]);
    let worst = max_ping_during(server.port, || {
        c.cmd(&["BACKUP", "CREATE", "killed"]);
        let t = Instant::now();
        loop {
            let s = c.cmd(&["BACKUP", "STATUS"]).as_str();
            let sent: u64 = field(&s, "backup_current_bytes").parse().unwrap_or(0);
            if sent > 6 << 20 {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "{s}");
            std::thread::sleep(Duration::from_millis(10));
        }
        s3.kill();
        let s = wait_backup(&mut c, "killed");
        assert_eq!(field(&s, "backup_last_status"), "failed", "{s}");
    });
    eprintln!("slowest PING+SET while the S3 server was killed mid-upload: {worst:?}");
    assert!(worst < Duration::from_millis(250), "{worst:?}");

    // The store stays dead: the next backup fails too, serving goes on.
    let worst = max_ping_during(server.port, || {
        assert_eq!(
            c.cmd(&["BACKUP", "CREATE", "dead"]),
            Value::Simple("Backup dead started".into())
        );
        let s = wait_backup(&mut c, "dead");
        assert_eq!(field(&s, "backup_last_status"), "failed", "{s}");
    });
    eprintln!("slowest PING+SET with the store dead: {worst:?}");
    assert!(worst < Duration::from_millis(250), "{worst:?}");
    assert_eq!(c.cmd(&["GET", "k:1"]).as_str(), value(1));
    // The failed backups gave the snapshot slot back.
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
}

#[test]
fn restore_failures_are_fatal_and_a_redis_rdb_restores() {
    set_aws_env();
    let s3 = S3Server::start();
    s3.create_bucket("snaps");
    let endpoint = s3.endpoint();
    let dir = temp_dir("restore-fail");

    let out = Server::start_failure(
        Kind::Snapkv,
        &dir,
        &[
            "--backup-s3-endpoint",
            &endpoint,
            "--restore-from",
            "s3://snaps/missing.rdb",
        ],
    );
    assert!(
        out.contains("Can't restore from 's3://snaps/missing.rdb': not found"),
        "{out}"
    );
    s3.put("snaps/garbage.rdb", b"this is not an RDB file at all");
    let out = Server::start_failure(
        Kind::Snapkv,
        &dir,
        &[
            "--backup-s3-endpoint",
            &endpoint,
            "--restore-from",
            "s3://snaps/garbage.rdb",
        ],
    );
    assert!(out.contains("not an RDB file"), "{out}");
    let out = Server::start_failure(Kind::Snapkv, &dir, &["--restore-from", "no-such-backup"]);
    assert!(
        out.contains("Can't restore from 'no-such-backup': not found"),
        "{out}"
    );

    // A real backup, then one bit flipped in its object: refused by its checksums.
    let server = Server::snapkv(&s3_args("s3://snaps/x", &endpoint));
    let mut c = server.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["BACKUP", "CREATE", "good"]);
    wait_ok(&mut c, "good");
    let mut bad = s3.get_bytes("/snaps/x/good.rdb");
    let i = bad.len() / 2;
    bad[i] ^= 0x01;
    s3.put("snaps/x/good.rdb", &bad);
    let out = Server::start_failure(
        Kind::Snapkv,
        &dir,
        &[
            "--backup-s3-endpoint",
            &endpoint,
            "--backup-target",
            "s3://snaps/x",
            "--restore-from",
            "good",
        ],
    );
    assert!(out.contains("failed verification"), "{out}");
    assert!(!dir.join("dump.rdb").exists());

    // An RDB written by real Redis seeds a snapkv server.
    let redis = Server::redis(&[]);
    let mut r = redis.conn();
    r.cmd(&["SET", "from-redis", "yes"]);
    r.cmd(&["SET", "ttl", "x", "EX", "500"]);
    r.cmd(&["SAVE"]);
    let rdb = redis.dir.join("dump.rdb");
    s3.put("snaps/redis/dump.rdb", &std::fs::read(&rdb).unwrap());
    for source in [
        rdb.display().to_string(),
        "s3://snaps/redis/dump.rdb".to_string(),
    ] {
        let seeded =
            Server::snapkv(&["--backup-s3-endpoint", &endpoint, "--restore-from", &source]);
        let mut s = seeded.conn();
        assert_eq!(s.cmd(&["GET", "from-redis"]).as_str(), "yes");
        let ttl = s.cmd(&["TTL", "ttl"]).as_int().unwrap();
        assert!(ttl > 400 && ttl <= 500, "{ttl}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `snapkv` next to `snapkv-server`.
fn cli() -> std::process::Command {
    let bin = snapkv_e2e::snapkv_binary().with_file_name("snapkv");
    assert!(bin.exists(), "{} not built", bin.display());
    std::process::Command::new(bin)
}

fn run_cli(args: &[&str]) -> (bool, String) {
    let out = cli().args(args).output().expect("run snapkv");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn cli_backup_commands() {
    set_aws_env();
    let s3 = S3Server::start();
    s3.create_bucket("snaps");
    s3.create_bucket("other");
    let endpoint = s3.endpoint();
    let server = Server::snapkv(&s3_args("s3://snaps/cli", &endpoint));
    let mut c = server.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "2", "EX", "900"]);
    let common = [
        "--target",
        "s3://snaps/cli",
        "--s3-endpoint",
        &endpoint,
        "--json",
    ];
    let with = |extra: &[&str]| {
        let mut v: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        v.extend(common.iter().map(|s| s.to_string()));
        v
    };
    let call = |extra: &[&str]| {
        let args = with(extra);
        run_cli(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let addr = format!("127.0.0.1:{}", server.port);
    let (ok, out) = call(&["backup", "create", "viaserver", "--server", &addr]);
    assert!(ok && out.contains("\"status\":\"available\""), "{out}");
    let (ok, out) = call(&["backup", "list"]);
    assert!(ok && out.contains("\"name\": \"viaserver\""), "{out}");
    let (ok, out) = call(&["backup", "verify", "viaserver"]);
    assert!(ok && out.contains("\"verified\":true"), "{out}");
    let (ok, out) = call(&["backup", "describe", "viaserver"]);
    assert!(ok && out.contains("\"keys\": 2"), "{out}");

    // Upload a file as a backup, copy it to another bucket, restore it from there.
    let dir = temp_dir("cli");
    let rdb = dir.join("down.rdb");
    let (ok, out) = call(&[
        "backup",
        "restore",
        "viaserver",
        "--to",
        rdb.to_str().unwrap(),
    ]);
    assert!(ok && out.contains("\"manifest_verified\":true"), "{out}");
    let (ok, out) = call(&[
        "backup",
        "create",
        "imported",
        "--file",
        rdb.to_str().unwrap(),
    ]);
    assert!(ok && out.contains("\"engine\": \"import\""), "{out}");
    let (ok, out) = call(&[
        "backup",
        "copy",
        "imported",
        "moved",
        "--to-target",
        "s3://other/x",
    ]);
    assert!(ok, "{out}");
    let seeded = Server::snapkv(&[
        "--backup-s3-endpoint",
        &endpoint,
        "--restore-from",
        "s3://other/x/moved.rdb",
    ]);
    assert_eq!(seeded.conn().cmd(&["GET", "a"]).as_str(), "1");
    drop(seeded);

    let (ok, out) = call(&["backup", "delete", "imported"]);
    assert!(ok, "{out}");
    let (ok, out) = call(&["backup", "describe", "imported"]);
    assert!(!ok && out.contains("not found: backup 'imported'"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn final_backup_on_shutdown() {
    let mut server = Server::snapkv(&["--backup-on-shutdown", "yes"]);
    let mut c = server.conn();
    c.cmd(&["SET", "last", "words"]);
    c.send(&["SHUTDOWN", "NOSAVE"]);
    let status = server.wait_exit(Duration::from_secs(30)).expect("exited");
    assert!(status.success(), "{status:?}");
    let dir = server.dir.join("backups");
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let manifest = names
        .iter()
        .find(|n| n.starts_with("final-") && n.ends_with(".manifest.json"))
        .unwrap_or_else(|| panic!("no final backup in {names:?}"));
    let text = std::fs::read_to_string(dir.join(manifest)).unwrap();
    assert!(text.contains("\"status\": \"available\""), "{text}");
    assert!(text.contains("\"keys\": 1"), "{text}");
}

#[test]
fn save_and_flushall_leave_a_running_backup_alone() {
    for method in ["fork", "forkless"] {
        let server =
            Server::snapkv(&["--snapshot-method", method, "--enable-debug-command", "yes"]);
        let mut c = server.conn();
        c.cmd(&["DEBUG", "POPULATE", "5000"]);
        // About 1 s of snapshot for the backup.
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "200"]);
        c.cmd(&["BACKUP", "CREATE", "slow"]);
        // Its engine shows once its point in time is taken (before that, the backup
        // thread may still be reading the catalog).
        let t = Instant::now();
        while field(
            &c.cmd(&["BACKUP", "STATUS"]).as_str(),
            "backup_current_engine",
        ) != method
        {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "{method}: backup never started"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
        // A backup is not a BGSAVE: SAVE goes ahead, FLUSHALL does not stop it.
        assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()), "{method}");
        assert_eq!(c.cmd(&["FLUSHALL"]), Value::Simple("OK".into()), "{method}");
        // BGSAVE SCHEDULE waits for the backup (as Redis's waits for an AOF rewrite).
        assert_eq!(
            c.cmd(&["BGSAVE", "SCHEDULE"]),
            Value::Simple("Background saving scheduled".into()),
            "{method}"
        );
        wait_ok(&mut c, "slow");
        assert_eq!(info_field(&mut c, "slow", "keys"), "5000", "{method}");
        // SAVE and the scheduled BGSAVE.
        let t = Instant::now();
        loop {
            let info = c.cmd(&["INFO", "persistence"]).as_str();
            if field(&info, "rdb_saves") == "2" && field(&info, "rdb_bgsave_in_progress") == "0" {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "{method}: {info}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
