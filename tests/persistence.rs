//! SAVE, start-up loading and SHUTDOWN saves: files snapkv writes load in snapkv and in a
//! real redis-server (and pass redis-check-rdb); dumps real Redis writes load in snapkv;
//! failures leave the previous dump intact and never start a server empty.

use std::process::Command;
use std::time::Duration;

use snapkv_e2e::{temp_dir, Kind, Server, Value};

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
        assert!(!std::fs::read_dir(&dir).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("temp-")));
    }
    let s = Server::start_in(Kind::Snapkv, &dir, &[]);
    check(&mut s.conn());
    // redis-check-rdb and a real redis-server accept the file too.
    let out = Command::new("redis-check-rdb")
        .arg(dir.join("dump.rdb"))
        .output()
        .expect("redis-check-rdb");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("RDB looks OK"),
        "{out:?}"
    );
    drop(s);
    let r = Server::start_in(Kind::Redis, &dir, &[]);
    check(&mut r.conn());
    drop(r);
    std::fs::remove_dir_all(&dir).ok();
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
    let s = Server::start_in(Kind::Snapkv, &dir, &[]);
    let mut c = s.conn();
    c.cmd(&["SET", "v", "old"]);
    assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()));
    let old = std::fs::read(dir.join("dump.rdb")).unwrap();
    c.cmd(&["SET", "v", "new"]);
    // A target that cannot be replaced: dbfilename names a non-empty directory.
    std::fs::create_dir_all(dir.join("blocked").join("x")).unwrap();
    c.cmd(&["CONFIG", "SET", "dbfilename", "blocked"]);
    assert_eq!(c.cmd(&["SAVE"]), Value::Error("ERR".into()));
    assert_eq!(std::fs::read(dir.join("dump.rdb")).unwrap(), old);
    let temps = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("temp-")
        })
        .count();
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
        c.cmd(&["RPUSH", "mylist", "a", "b"]);
        c.cmd(&["SAVE"]);
    }
    let err = Server::start_failure(Kind::Snapkv, &dir, &[]);
    assert!(err.contains("mylist") && err.contains("list"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
