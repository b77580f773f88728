//! SAVE, start-up loading and SHUTDOWN saves: files snapkv writes load in snapkv and in a
//! real redis-server (and pass redis-check-rdb); dumps real Redis writes load in snapkv;
//! failures leave the previous dump intact and never start a server empty.

use std::process::Command;
use std::time::Duration;

use snapkv_e2e::{temp_dir, temp_files, Kind, Server, Value};

fn fill(c: &mut snapkv_e2e::Conn) {
    for db in 0..3 {
        c.cmd(&["SELECT", &db.to_string()]);
        for i in 0..500 {
            c.cmd(&[
                "SET",
                &format!("k{db}:{i}"),
                &format!("value-{i}-{}", "x".repeat(i % 50)),
            ]);
        }
        c.cmd(&["SET", &format!("int{db}"), "12345"]);
        c.cmd(&["SET", &format!("ttl{db}"), "soon", "EX", "1000"]);
    }
    c.cmd(&["SELECT", "0"]);
}

fn check(c: &mut snapkv_e2e::Conn) {
    for db in 0..3 {
        c.cmd(&["SELECT", &db.to_string()]);
        assert_eq!(c.cmd(&["DBSIZE"]), Value::Int(502), "db{db}");
        assert_eq!(
            c.cmd(&["GET", &format!("k{db}:77")]),
            Value::Bulk(format!("value-77-{}", "x".repeat(27)).into_bytes())
        );
        assert_eq!(
            c.cmd(&["GET", &format!("int{db}")]),
            Value::Bulk(b"12345".to_vec())
        );
        let ttl = c.cmd(&["TTL", &format!("ttl{db}")]).as_int().unwrap();
        assert!((990..=1000).contains(&ttl), "ttl {ttl}");
    }
    c.cmd(&["SELECT", "0"]);
}

#[test]
fn save_then_restart_loads_everything() {
    let dir = temp_dir("persist");
    {
        let s = Server::start_in(Kind::Snapkv, &dir, &[]);
        let mut c = s.conn();
        fill(&mut c);
        let before = c.cmd(&["LASTSAVE"]).as_int().unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()));
        assert!(c.cmd(&["LASTSAVE"]).as_int().unwrap() > before);
        let info = c.cmd(&["INFO", "persistence"]).as_str();
        assert!(info.contains("rdb_changes_since_last_save:0"), "{info}");
        assert!(dir.join("dump.rdb").exists());
        assert!(temp_files(&dir).is_empty());
    }
    let s = Server::start_in(Kind::Snapkv, &dir, &[]);
    check(&mut s.conn());
    // redis-check-rdb and a real redis-server accept the file too.
    snapkv_e2e::assert_redis_check_rdb_ok(&dir.join("dump.rdb"), "dump.rdb");
    drop(s);
    let r = Server::start_in(Kind::Redis, &dir, &[]);
    check(&mut r.conn());
    drop(r);
    std::fs::remove_dir_all(&dir).ok();
}

/// Values of every compressibility: what LZF's shortcuts (skip after a run of
/// incompressible strings, give up on a high-entropy head) decide must still come back
/// byte for byte, in snapkv and in a real redis-server, through both background engines.
#[test]
fn strings_of_every_compressibility_survive_both_engines_and_real_redis() {
    let mut seed = 0x2545F4914F6CDD1Du64;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    };
    let json = br#"{"user":"someone","tags":["a","b","c"],"score":12.5}"#.repeat(40);
    let mut values: Vec<Vec<u8>> = Vec::new();
    for _ in 0..200 {
        values.push(noise(500)); // a long incompressible run
    }
    for i in 0..50 {
        let mut v = noise(100 + i); // a random head, then text that compresses
        v.extend_from_slice(&json);
        values.push(v);
        values.push(json[..200 + i].to_vec());
        values.push(noise(300));
    }
    values.push(vec![b'x'; 100_000]);
    values.push(noise(200_000));
    for method in ["fork", "forkless"] {
        let dir = temp_dir(&format!("lzf-{method}"));
        {
            let s = Server::start_in(Kind::Snapkv, &dir, &["--snapshot-method", method]);
            let mut c = s.conn();
            let sets = c.pipeline(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| vec![b"SET".to_vec(), format!("v{i}").into_bytes(), v.clone()]),
            );
            assert!(sets.iter().all(|r| *r == Value::Simple("OK".into())));
            assert_eq!(
                c.cmd(&["BGSAVE"]),
                Value::Simple("Background saving started".into())
            );
            let info = c.bgsave_finished();
            assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
        }
        snapkv_e2e::assert_redis_check_rdb_ok(&dir.join("dump.rdb"), method);
        for kind in [Kind::Snapkv, Kind::Redis] {
            let s = Server::start_in(kind, &dir, &[]);
            let mut c = s.conn();
            let gets =
                c.pipeline((0..values.len()).map(|i| vec!["GET".to_string(), format!("v{i}")]));
            for (i, (got, want)) in gets.iter().zip(&values).enumerate() {
                assert_eq!(got.as_bytes(), Some(&want[..]), "{method} {kind:?} v{i}");
            }
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn real_redis_dumps_load() {
    let dir = temp_dir("fromredis");
    {
        let r = Server::start_in(Kind::Redis, &dir, &[]);
        let mut c = r.conn();
        fill(&mut c);
        assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()));
    }
    let s = Server::start_in(Kind::Snapkv, &dir, &[]);
    check(&mut s.conn());
    drop(s);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn shutdown_save_and_nosave() {
    let dir = temp_dir("shutdown");
    let mut s = Server::start_in(Kind::Snapkv, &dir, &[]);
    let mut c = s.conn();
    c.cmd(&["SET", "a", "1"]);
    c.send(&["SHUTDOWN", "NOSAVE"]);
    assert!(s.wait_exit(Duration::from_secs(5)).is_some());
    assert!(!dir.join("dump.rdb").exists());
    let mut s = Server::start_in(Kind::Snapkv, &dir, &[]);
    let mut c = s.conn();
    c.cmd(&["SET", "b", "2"]);
    c.send(&["SHUTDOWN", "SAVE"]);
    assert!(s.wait_exit(Duration::from_secs(5)).is_some());
    let s = Server::start_in(Kind::Snapkv, &dir, &[]);
    assert_eq!(s.conn().cmd(&["GET", "b"]), Value::Bulk(b"2".to_vec()));
    drop(s);
    // SIGTERM saves when save points are configured.
    let mut s = Server::start_in(Kind::Snapkv, &dir, &["--save", "3600 1"]);
    s.conn().cmd(&["SET", "c", "3"]);
    s.signal(libc::SIGTERM);
    assert!(s.wait_exit(Duration::from_secs(5)).is_some());
    let s = Server::start_in(Kind::Snapkv, &dir, &[]);
    assert_eq!(s.conn().cmd(&["GET", "c"]), Value::Bulk(b"3".to_vec()));
    drop(s);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn failed_save_keeps_the_old_dump_and_no_temp_file() {
    let dir = temp_dir("failsave");
    // dbfilename is a protected config, as in Redis 7.0.
    let s = Server::start_in(Kind::Snapkv, &dir, &["--enable-protected-configs", "yes"]);
    let mut c = s.conn();
    c.cmd(&["SET", "v", "old"]);
    assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()));
    let old = std::fs::read(dir.join("dump.rdb")).unwrap();
    c.cmd(&["SET", "v", "new"]);
    // A target that cannot be replaced: dbfilename names a non-empty directory.
    std::fs::create_dir_all(dir.join("blocked").join("x")).unwrap();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dbfilename", "blocked"]),
        Value::Simple("OK".into())
    );
    assert_eq!(c.cmd(&["SAVE"]), Value::Error("ERR".into()));
    assert_eq!(std::fs::read(dir.join("dump.rdb")).unwrap(), old);
    let temps = temp_files(&dir).len();
    assert_eq!(temps, 0, "temp file left behind");
    c.cmd(&["CONFIG", "SET", "dbfilename", "dump.rdb"]);
    assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()));
    drop(s);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unloadable_dumps_stop_startup_with_a_clear_error() {
    let dir = temp_dir("corrupt");
    std::fs::write(
        dir.join("dump.rdb"),
        b"REDIS0010\xfa\x09redis-ver\x057.0.1garbage",
    )
    .unwrap();
    let err = Server::start_failure(Kind::Snapkv, &dir, &[]);
    assert!(err.contains("offset"), "{err}");
    // A valid dump holding a type snapkv cannot hold yet: refuse, don't start empty.
    std::fs::remove_file(dir.join("dump.rdb")).unwrap();
    {
        let r = Server::start_in(Kind::Redis, &dir, &[]);
        let mut c = r.conn();
        c.cmd(&["XADD", "mystream", "*", "a", "b"]);
        c.cmd(&["SAVE"]);
    }
    let err = Server::start_failure(Kind::Snapkv, &dir, &[]);
    assert!(err.contains("mystream") && err.contains("stream"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Writes a dump of `n` keys with redis-server (fast to produce, and a real Redis file).
fn big_dump(dir: &std::path::Path, n: usize) {
    let r = Server::start_in(Kind::Redis, dir, &[]);
    let mut c = r.conn();
    c.pipeline((0..n).map(|i| {
        vec![
            "SET".to_string(),
            format!("key:{i}"),
            format!("{i}-{}", "v".repeat(90)),
        ]
    }));
    assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()));
}

#[test]
fn loading_is_visible_and_commands_wait_for_it() {
    let dir = temp_dir("loading");
    big_dump(&dir, 400_000);
    let port = snapkv_e2e::free_port();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _child = Kill(
        Command::new(snapkv_e2e::snapkv_binary())
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
            ])
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut saw_loading = false;
    let start = std::time::Instant::now();
    loop {
        if let Ok(mut c) = snapkv_e2e::Conn::connect(port) {
            let info = c.cmd(&["INFO", "persistence"]).as_str();
            if info.contains("loading:1") {
                assert!(info.contains("loading_total_bytes:"), "{info}");
                let get = c.cmd(&["GET", "key:1"]);
                assert!(
                    get == Value::Error("LOADING Redis is loading the dataset in memory".into())
                        || get.as_bytes().is_some(),
                    "{get}"
                );
                saw_loading = saw_loading || get.is_error();
            } else if info.contains("loading:0") {
                assert_eq!(c.cmd(&["DBSIZE"]), Value::Int(400_000));
                break;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never finished loading"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        saw_loading,
        "the load finished before any client could see it"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn kill_9_mid_save_keeps_the_previous_dump_and_cleans_the_temp_file() {
    let dir = temp_dir("kill9");
    let mut s = Server::start_in(Kind::Snapkv, &dir, &["--snapshot-method", "forkless"]);
    let mut c = s.conn();
    c.cmd(&["SET", "marker", "old"]);
    assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()));
    let old = std::fs::read(dir.join("dump.rdb")).unwrap();
    c.pipeline((0..300_000).map(|i| vec!["SET".to_string(), format!("k{i}"), "z".repeat(200)]));
    c.send(&["BGSAVE"]);
    // Kill as soon as the temp file exists.
    let start = std::time::Instant::now();
    while temp_files(&dir).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no temp file appeared"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    s.signal(libc::SIGKILL);
    s.wait_exit(Duration::from_secs(5)).expect("killed");
    assert_eq!(
        std::fs::read(dir.join("dump.rdb")).unwrap(),
        old,
        "previous dump changed"
    );
    drop(s);
    let s = Server::start_in(Kind::Snapkv, &dir, &[]);
    assert_eq!(
        s.conn().cmd(&["GET", "marker"]),
        Value::Bulk(b"old".to_vec())
    );
    let temps = temp_files(&dir).len();
    assert_eq!(temps, 0, "stale temp file not removed at start-up");
    drop(s);
    std::fs::remove_dir_all(&dir).ok();
}
