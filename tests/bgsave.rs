//! BGSAVE with both engines: replies and INFO as Redis, and point-in-time consistency
//! under concurrent writers — every snapshot loaded back satisfies the invariants the
//! writers maintain (paired keys written atomically by MSET are equal; a FLUSHDB
//! mid-save does not tear the snapshot) and equals, key for key, a model of the state
//! after the last transaction it contains (sets, deletes, TTLs, expiring keys, counters,
//! hashes, lists) — in snapkv and in a real redis-server, after redis-check-rdb accepts
//! the file.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use snapkv_e2e::{temp_dir, temp_files, Conn, Kind, Server, Value};

const PAIRS: usize = 50_000;

fn pipeline_mset(c: &mut Conn, start: usize, n: usize, tag: &str) {
    let replies = c.pipeline((start..start + n).map(|i| {
        let v = format!("{tag}-{i}");
        vec![
            "MSET".to_string(),
            format!("a:{i}"),
            v.clone(),
            format!("b:{i}"),
            v,
        ]
    }));
    assert!(replies.iter().all(|r| *r == Value::Simple("OK".into())));
}

/// `n` threads writing batches of `batch` pairs over the pair space until `stop`.
fn mset_writers(
    port: u16,
    n: usize,
    batch: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..n)
        .map(|w| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = Conn::connect(port).unwrap();
                let mut round = 0;
                while !stop.load(Ordering::Relaxed) {
                    let start = (round * 7919) % (PAIRS - batch);
                    pipeline_mset(&mut c, start, batch, &format!("{w}.{round}"));
                    round += 1;
                }
            })
        })
        .collect()
}

/// A snapkv in `dir` that snapshots forkless with this buffer limit and maximum delay.
fn forkless_server(dir: &std::path::Path, buffer_limit: &str, max_delay_ms: &str) -> Server {
    Server::start_in(
        Kind::Snapkv,
        dir,
        &[
            "--snapshot-method",
            "forkless",
            "--snapshot-buffer-limit",
            buffer_limit,
            "--snapshot-throttle-max-delay",
            max_delay_ms,
        ],
    )
}

/// A BGSAVE `lead` after `n` MSET writers start, which must succeed; the writers stop
/// once it has. Returns INFO persistence.
fn bgsave_under_writers(c: &mut Conn, port: u16, n: usize, batch: usize, lead: Duration) -> String {
    let stop = Arc::new(AtomicBool::new(false));
    let writers = mset_writers(port, n, batch, &stop);
    std::thread::sleep(lead);
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
    wait_bgsave(c);
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    c.cmd(&["INFO", "persistence"]).as_str()
}

/// Waits for the running background save, which must succeed.
fn wait_bgsave(c: &mut Conn) {
    let info = c.bgsave_finished();
    assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
}

/// Every a:i equals b:i in the server at `port` (which loaded the snapshot).
fn check_pairs(c: &mut Conn) -> usize {
    let mut present = 0;
    for chunk in (0..PAIRS).collect::<Vec<_>>().chunks(500) {
        let mut args = vec!["MGET".to_string()];
        for i in chunk {
            args.push(format!("a:{i}"));
            args.push(format!("b:{i}"));
        }
        let Value::Array(vals) = c.cmd(&args) else {
            panic!("MGET")
        };
        for (k, pair) in vals.chunks(2).enumerate() {
            assert_eq!(pair[0], pair[1], "torn pair a:{0}/b:{0}", chunk[k]);
            if pair[0] != Value::Nil {
                present += 1;
            }
        }
    }
    present
}

#[test]
fn forkless_bgsave_is_point_in_time_under_concurrent_writes() {
    point_in_time_under_concurrent_writes("forkless");
}

#[test]
fn fork_bgsave_is_point_in_time_under_concurrent_writes() {
    point_in_time_under_concurrent_writes("fork");
}

fn point_in_time_under_concurrent_writes(method: &str) {
    let dir = temp_dir("bgsave");
    let s = Server::start_in(Kind::Snapkv, &dir, &["--snapshot-method", method]);
    let mut c = s.conn();
    pipeline_mset(&mut c, 0, PAIRS, "init");
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let stop = stop.clone();
            let port = s.port;
            std::thread::spawn(move || {
                let mut c = Conn::connect(port).unwrap();
                let mut round = 0;
                while !stop.load(Ordering::Relaxed) {
                    let start = (round * 997 + w * 7919) % (PAIRS - 200);
                    pipeline_mset(&mut c, start, 200, &format!("w{w}r{round}"));
                    c.cmd(&["INCR", "counter"]);
                    round += 1;
                }
                round
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
    let second = c.cmd(&["BGSAVE"]);
    assert!(
        second == Value::Error("ERR Background save already in progress".into())
            || second == Value::Simple("Background saving started".into()),
        "{second}"
    );
    wait_bgsave(&mut c);
    stop.store(true, Ordering::Relaxed);
    let rounds: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(rounds > 0);
    let info = c.cmd(&["INFO", "all"]).as_str();
    assert!(
        info.contains(&format!("rdb_last_bgsave_method:{method}")),
        "{info}"
    );
    if method == "fork" {
        assert!(info.contains("total_forks:1"), "{info}");
        assert!(!info.contains("latest_fork_usec:0\r"), "{info}");
    }
    drop(c);
    drop(s);
    // Load the snapshot in a fresh server and check the invariant on every pair.
    let copy = temp_dir("bgsave-load");
    std::fs::copy(dir.join("dump.rdb"), copy.join("dump.rdb")).unwrap();
    let loaded = Server::start_in(Kind::Snapkv, &copy, &[]);
    assert_eq!(check_pairs(&mut loaded.conn()), PAIRS);
    drop(loaded);
    // Real Redis loads the same file with the same content.
    let r = Server::start_in(Kind::Redis, &copy, &[]);
    assert_eq!(check_pairs(&mut r.conn()), PAIRS);
    drop(r);
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&copy).ok();
}

#[test]
fn flushdb_during_bgsave_keeps_the_snapshot_whole() {
    let dir = temp_dir("bgsave-flush");
    let s = Server::start_in(Kind::Snapkv, &dir, &[]);
    let mut c = s.conn();
    pipeline_mset(&mut c, 0, PAIRS, "init");
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
    assert_eq!(c.cmd(&["FLUSHDB"]), Value::Simple("OK".into()));
    c.cmd(&["SET", "after", "cut"]);
    wait_bgsave(&mut c);
    drop(c);
    drop(s);
    let loaded = Server::start_in(Kind::Snapkv, &dir, &[]);
    let mut l = loaded.conn();
    // Either the whole pre-flush dataset (flush after the cut) — never a torn mix.
    assert_eq!(check_pairs(&mut l), PAIRS);
    assert_eq!(l.cmd(&["GET", "after"]), Value::Nil);
    drop(loaded);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn failed_bgsave_refuses_writes_until_a_save_succeeds() {
    let dir = temp_dir("misconf");
    let s = Server::start_in(
        Kind::Snapkv,
        &dir,
        &[
            "--save",
            "3600 1000000",
            "--enable-protected-configs",
            "yes",
        ],
    );
    let mut c = s.conn();
    c.cmd(&["SET", "k", "v"]);
    // A target that cannot be replaced: dbfilename names a non-empty directory.
    std::fs::create_dir_all(dir.join("blocked").join("x")).unwrap();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "dbfilename", "blocked"]),
        Value::Simple("OK".into())
    );
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
    let info = c.bgsave_finished();
    assert!(info.contains("rdb_last_bgsave_status:err"), "{info}");
    let err = c.cmd(&["SET", "k", "w"]);
    assert!(
        matches!(&err, Value::Error(e) if e.starts_with("MISCONF ")),
        "{err}"
    );
    assert_eq!(c.cmd(&["GET", "k"]), Value::Bulk(b"v".to_vec()));
    // No temp file left behind.
    assert!(temp_files(&dir).is_empty());
    // Fixed: the next save succeeds and writes are accepted again.
    c.cmd(&["CONFIG", "SET", "dbfilename", "dump.rdb"]);
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
    wait_bgsave(&mut c);
    assert_eq!(c.cmd(&["SET", "k", "w"]), Value::Simple("OK".into()));
    drop(s);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn save_points_trigger_background_saves() {
    let dir = temp_dir("savepoints");
    let s = Server::start_in(Kind::Snapkv, &dir, &["--save", "1 3"]);
    let mut c = s.conn();
    for i in 0..5 {
        c.cmd(&["SET", &format!("k{i}"), "v"]);
    }
    let start = Instant::now();
    while !dir.join("dump.rdb").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no automatic save"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_bgsave(&mut c);
    let info = c.cmd(&["INFO", "persistence"]).as_str();
    assert!(info.contains("rdb_changes_since_last_save:0"), "{info}");
    drop(s);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn killing_the_fork_child_keeps_the_old_dump_and_removes_its_temp_file() {
    let dir = temp_dir("killchild");
    let s = Server::start_in(
        Kind::Snapkv,
        &dir,
        &["--snapshot-method", "fork", "--rdbcompression", "no"],
    );
    let mut c = s.conn();
    c.cmd(&["SET", "first", "version"]);
    assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()));
    let old = std::fs::read(dir.join("dump.rdb")).unwrap();
    // Enough data that the child is still writing when it is killed.
    for round in 0..8 {
        pipeline_mset(&mut c, 0, PAIRS, &format!("{round}{}", "x".repeat(200)));
    }
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
    let child = (0..200)
        .find_map(|_| {
            let out = std::process::Command::new("pgrep")
                .args(["-P", &s.pid().to_string()])
                .output()
                .ok()?;
            let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if pid.is_empty() {
                std::thread::sleep(Duration::from_millis(1));
                None
            } else {
                Some(pid)
            }
        })
        .expect("fork child seen");
    std::process::Command::new("kill")
        .args(["-9", &child])
        .status()
        .unwrap();
    let info = c.bgsave_finished();
    assert!(info.contains("rdb_last_bgsave_status:err"), "{info}");
    assert_eq!(std::fs::read(dir.join("dump.rdb")).unwrap(), old);
    let temps = temp_files(&dir);
    assert!(temps.is_empty(), "temp files left: {temps:?}");
    drop(s);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn forkless_throttles_writers_when_its_queue_is_full_and_still_finishes() {
    let dir = temp_dir("throttle");
    let s = forkless_server(&dir, "64kb", "2");
    let mut c = s.conn();
    for round in 0..4 {
        pipeline_mset(&mut c, 0, PAIRS, &format!("{round}{}", "y".repeat(100)));
    }
    let info = bgsave_under_writers(&mut c, s.port, 1, 100, Duration::from_millis(50));
    let delayed: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("snapshot_writes_delayed:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(delayed > 0, "no write was throttled:\n{info}");
    drop(c);
    drop(s);
    let loaded = Server::start_in(Kind::Snapkv, &dir, &[]);
    assert_eq!(check_pairs(&mut loaded.conn()), PAIRS);
    drop(loaded);
    std::fs::remove_dir_all(&dir).ok();
}

/// One writer's transaction `n`: deterministic changes to its own keys (sets, deletes,
/// TTLs set and removed, keys that expire at once, a counter, a hash field, a list push), ending
/// with `clock:{w} = n`. Replaying 1..=n on a model gives the writer's state after `n`.
fn transaction(w: usize, n: usize) -> Vec<Vec<String>> {
    let k = |s: String| format!("w{w}:{s}");
    let mut t = vec![vec!["MULTI".to_string()]];
    t.push(vec![
        "SET".into(),
        k(format!("k{}", n % 300)),
        format!("v{n}"),
    ]);
    t.push(vec!["DEL".into(), k(format!("k{}", (n * 7) % 300))]);
    if n.is_multiple_of(3) {
        t.push(vec![
            "SET".into(),
            k(format!("t{}", n % 40)),
            format!("t{n}"),
            "EX".into(),
            "1000".into(),
        ]);
    }
    if n.is_multiple_of(5) {
        t.push(vec!["PERSIST".into(), k(format!("t{}", (n / 5) % 40))]);
    }
    if n.is_multiple_of(4) {
        // Gone by the time anyone looks: expiry (lazy or active) deletes it.
        t.push(vec![
            "SET".into(),
            k(format!("x{}", n % 20)),
            "soon".into(),
            "PX".into(),
            "1".into(),
        ]);
    }
    t.push(vec!["INCR".into(), k("c".into())]);
    t.push(vec![
        "HINCRBY".into(),
        k("h".into()),
        format!("f{}", n % 10),
        "1".into(),
    ]);
    if n.is_multiple_of(2) {
        t.push(vec!["RPUSH".into(), k("l".into()), n.to_string()]);
        if n.is_multiple_of(6) {
            t.push(vec!["LPOP".into(), k("l".into())]);
        }
    }
    t.push(vec!["SET".into(), format!("clock:{w}"), n.to_string()]);
    t.push(vec!["EXEC".into()]);
    t
}

/// The model: key → (rendered value, has a TTL) after transactions 1..=upto of writer w.
fn model(w: usize, upto: usize) -> std::collections::BTreeMap<String, (String, bool)> {
    let mut m = std::collections::BTreeMap::new();
    let mut hash = std::collections::BTreeMap::<String, i64>::new();
    let mut list = std::collections::VecDeque::<String>::new();
    for n in 1..=upto {
        for cmd in transaction(w, n) {
            match cmd[0].as_str() {
                "SET" if cmd.len() == 3 => {
                    m.insert(cmd[1].clone(), (cmd[2].clone(), false));
                }
                "SET" if cmd[3] == "EX" => {
                    m.insert(cmd[1].clone(), (cmd[2].clone(), true));
                }
                "SET" => {
                    m.remove(&cmd[1]);
                }
                "DEL" => {
                    m.remove(&cmd[1]);
                }
                "PERSIST" => {
                    if let Some(e) = m.get_mut(&cmd[1]) {
                        e.1 = false;
                    }
                }
                "INCR" => {
                    let e = m.entry(cmd[1].clone()).or_insert(("0".into(), false));
                    e.0 = (e.0.parse::<i64>().unwrap() + 1).to_string();
                }
                "HINCRBY" => *hash.entry(cmd[2].clone()).or_default() += 1,
                "RPUSH" => list.push_back(cmd[2].clone()),
                "LPOP" => {
                    list.pop_front();
                }
                _ => {}
            }
        }
    }
    m.retain(|k, _| !k.starts_with("clock:"));
    let hash: Vec<String> = hash.iter().map(|(f, v)| format!("{f}={v}")).collect();
    if !hash.is_empty() {
        m.insert(format!("w{w}:h"), (hash.join(","), false));
    }
    if !list.is_empty() {
        m.insert(
            format!("w{w}:l"),
            (list.into_iter().collect::<Vec<_>>().join(","), false),
        );
    }
    m
}

/// What a server holds for writer w, rendered like the model.
fn observed(c: &mut Conn, w: usize) -> std::collections::BTreeMap<String, (String, bool)> {
    let Value::Array(keys) = c.cmd(&["KEYS", &format!("w{w}:*")]) else {
        panic!("KEYS")
    };
    let mut m = std::collections::BTreeMap::new();
    for k in keys {
        let k = k.as_str();
        let value = match c.cmd(&["TYPE", &k]).as_str().as_str() {
            "hash" => {
                let Value::Array(kv) = c.cmd(&["HGETALL", &k]) else {
                    panic!("HGETALL")
                };
                let mut pairs: Vec<String> = kv
                    .chunks(2)
                    .map(|p| format!("{}={}", p[0].as_str(), p[1].as_str()))
                    .collect();
                pairs.sort();
                pairs.join(",")
            }
            "list" => {
                let Value::Array(items) = c.cmd(&["LRANGE", &k, "0", "-1"]) else {
                    panic!("LRANGE")
                };
                items
                    .iter()
                    .map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            }
            _ => c.cmd(&["GET", &k]).as_str(),
        };
        let ttl = c.cmd(&["PTTL", &k]).as_int().unwrap() >= 0;
        m.insert(k, (value, ttl));
    }
    m
}

fn equals_state_at_cut(method: &str) {
    const WRITERS: usize = 2;
    let dir = temp_dir("cut");
    let s = Server::start_in(Kind::Snapkv, &dir, &["--snapshot-method", method]);
    let mut c = s.conn();
    // Bulk so the snapshot takes a while; the writers' keys live among these.
    pipeline_mset(&mut c, 0, 20_000, "bulk");
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let stop = stop.clone();
            let port = s.port;
            std::thread::spawn(move || {
                let mut c = Conn::connect(port).unwrap();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let r = c.pipeline(transaction(w, n));
                    assert!(
                        matches!(r.last(), Some(Value::Array(_))),
                        "EXEC of {n}: {r:?}"
                    );
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
    wait_bgsave(&mut c);
    if method == "forkless" {
        // Writers really raced the walk: they captured segments before changing them.
        let info = c.cmd(&["INFO", "persistence"]).as_str();
        let cow: u64 = info
            .lines()
            .find_map(|l| l.strip_prefix("rdb_last_bgsave_cow_entries:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("rdb_last_bgsave_cow_entries");
        assert!(cow > 0, "{info}");
    }
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let done: Vec<usize> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    drop(c);
    drop(s);
    let copy = temp_dir("cut-load");
    std::fs::copy(dir.join("dump.rdb"), copy.join("dump.rdb")).unwrap();
    let l = Server::start_in(Kind::Snapkv, &copy, &[]);
    let mut c = l.conn();
    for (w, total) in done.iter().enumerate() {
        let cut: usize = c
            .cmd(&["GET", &format!("clock:{w}")])
            .as_str()
            .parse()
            .unwrap_or(0);
        assert!(
            cut > 0 && cut < *total,
            "writer {w}: cut at {cut} of {total}"
        );
        let want = model(w, cut);
        let got = observed(&mut c, w);
        assert_eq!(
            got, want,
            "writer {w}: snapshot ≠ the state after transaction {cut}"
        );
    }
    assert_eq!(check_pairs(&mut c), 20_000);
    drop(c);
    drop(l);
    // The engine's file as written: redis-check-rdb accepts it, and a real redis-server
    // loads the same state at the cut.
    snapkv_e2e::assert_redis_check_rdb_ok(&dir.join("dump.rdb"), method);
    let in_redis = temp_dir("cut-redis");
    std::fs::copy(dir.join("dump.rdb"), in_redis.join("dump.rdb")).unwrap();
    let r = Server::start_in(Kind::Redis, &in_redis, &[]);
    let mut c = r.conn();
    for w in 0..WRITERS {
        let cut: usize = c
            .cmd(&["GET", &format!("clock:{w}")])
            .as_str()
            .parse()
            .unwrap();
        assert_eq!(observed(&mut c, w), model(w, cut), "redis, writer {w}");
    }
    assert_eq!(check_pairs(&mut c), 20_000);
    drop(c);
    drop(r);
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&copy).ok();
    std::fs::remove_dir_all(&in_redis).ok();
}

#[test]
fn forkless_snapshot_equals_the_state_at_the_cut() {
    equals_state_at_cut("forkless");
}

#[test]
fn fork_snapshot_equals_the_state_at_the_cut() {
    equals_state_at_cut("fork");
}

/// Whether this kernel reports run-queue waits (the pace throttle's signal).
fn run_queue_waits_reported() -> bool {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|t| t.split_whitespace().nth(1).map(str::to_string))
        .is_some()
}

#[test]
fn forkless_paces_writers_when_starved_of_cpu_and_still_finishes() {
    if !run_queue_waits_reported() {
        eprintln!("skipped: no /proc/thread-self/schedstat here, so no pace throttle");
        return;
    }
    const KEYS: usize = 1_000_000;
    let dir = temp_dir("pace");
    // The memory bound is far away: only the pace throttle can fire.
    let s = forkless_server(&dir, "4gb", "5");
    let mut c = s.conn();
    let value = "v".repeat(100);
    for start in (0..KEYS).step_by(10_000) {
        let replies = c.pipeline(
            (start..start + 10_000)
                .map(|i| vec!["SET".to_string(), format!("k:{i}"), value.clone()]),
        );
        assert!(replies.iter().all(|r| *r == Value::Simple("OK".into())));
    }
    pipeline_mset(&mut c, 0, PAIRS, "init");
    // One CPU for every server thread: saturating writers leave the snapshot thread
    // about half of it, a projected 2x slowdown, unless writers are paced.
    let pinned = std::process::Command::new("taskset")
        .args(["-a", "-c", "-p", "0", &s.pid().to_string()])
        .output()
        .expect("taskset (util-linux)");
    assert!(pinned.status.success(), "{pinned:?}");
    let info = bgsave_under_writers(&mut c, s.port, 2, 200, Duration::from_millis(200));
    let field = |name: &str| -> u64 {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap()
    };
    let delayed = field("snapshot_writes_delayed:");
    eprintln!(
        "paced writes: {delayed}, {} us in all",
        field("snapshot_write_delay_usec:")
    );
    assert!(delayed > 0, "no write was paced:\n{info}");
    drop(c);
    drop(s);
    let loaded = Server::start_in(Kind::Snapkv, &dir, &[]);
    let mut c = loaded.conn();
    assert_eq!(check_pairs(&mut c), PAIRS);
    assert_eq!(
        c.cmd(&["DBSIZE"]).as_int(),
        Some(KEYS as i64 + 2 * PAIRS as i64)
    );
    drop(loaded);
    std::fs::remove_dir_all(&dir).ok();
}

/// Writes to big collections during a forkless snapshot go through the snapshot first
/// (it writes the collection out of turn, so the write need not copy its table under
/// the shard lock): the file still holds each at the cut, and no writer copied one.
#[test]
fn forkless_writes_big_collections_first_and_keeps_them_at_the_cut() {
    const FIELDS: usize = 20_000;
    let dir = temp_dir("bgsave-big");
    {
        let s = forkless_server(&dir, "64mb", "10");
        let mut c = s.conn();
        for name in ["h1", "h2", "gone"] {
            let fields = (0..FIELDS).flat_map(|i| [format!("f{i}"), format!("v{i}")]);
            let mut hset = vec!["HSET".to_string(), name.to_string()];
            hset.extend(fields);
            assert_eq!(c.cmd(&hset), Value::Int(FIELDS as i64));
        }
        pipeline_mset(&mut c, 0, PAIRS, "init");
        // Sent together, so the writes arrive while the snapshot runs (most likely
        // before the walk reaches the hashes; either way the file must hold them whole).
        let replies = c.pipeline([
            vec!["BGSAVE".to_string()],
            vec!["HSET".into(), "h1".into(), "new".into(), "x".into()],
            vec!["HDEL".into(), "h2".into(), "f0".into()],
            vec!["DEL".into(), "gone".into()],
            vec!["HSET".into(), "h1".into(), "f1".into(), "changed".into()],
        ]);
        assert_eq!(
            replies,
            vec![
                Value::Simple("Background saving started".into()),
                Value::Int(1),
                Value::Int(1),
                Value::Int(1),
                Value::Int(0)
            ]
        );
        wait_bgsave(&mut c);
        let info = c.cmd(&["INFO", "persistence"]).as_str();
        assert!(
            info.contains("rdb_last_bgsave_cow_entries:0\r\n"),
            "a writer copied a big collection: {info}"
        );
        assert_eq!(c.cmd(&["HLEN", "h1"]), Value::Int(FIELDS as i64 + 1));
        assert_eq!(
            c.cmd(&["HGET", "h1", "f1"]),
            Value::Bulk(b"changed".to_vec())
        );
    }
    snapkv_e2e::assert_redis_check_rdb_ok(&dir.join("dump.rdb"), "forkless");
    for kind in [Kind::Snapkv, Kind::Redis] {
        let s = Server::start_in(kind, &dir, &[]);
        let mut c = s.conn();
        for name in ["h1", "h2", "gone"] {
            assert_eq!(
                c.cmd(&["HLEN", name]),
                Value::Int(FIELDS as i64),
                "{kind:?} {name}"
            );
        }
        assert_eq!(c.cmd(&["HEXISTS", "h1", "new"]), Value::Int(0), "{kind:?}");
        assert_eq!(
            c.cmd(&["HGET", "h1", "f1"]),
            Value::Bulk(b"v1".to_vec()),
            "{kind:?}"
        );
        assert_eq!(
            c.cmd(&["HGET", "h2", "f0"]),
            Value::Bulk(b"v0".to_vec()),
            "{kind:?}"
        );
        assert_eq!(check_pairs(&mut c), PAIRS, "{kind:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A write command that only reads a big collection (SUNIONSTORE's sources, COPY's
/// source, SORT's key) is not held for the snapshot to write it first, as a command that
/// changes one in place is: reading copies nothing.
#[test]
fn forkless_does_not_hold_commands_that_only_read_big_collections() {
    const MEMBERS: usize = 5_000; // over the 4096 elements that make a collection big
    let dir = temp_dir("bgsave-big-read");
    {
        let s = forkless_server(&dir, "64mb", "10");
        let mut c = s.conn();
        for name in ["s1", "s2", "s3"] {
            let mut sadd = vec!["SADD".to_string(), name.to_string()];
            sadd.extend((0..MEMBERS).map(|i| format!("m{i}")));
            assert_eq!(c.cmd(&sadd), Value::Int(MEMBERS as i64));
        }
        let mut mset = vec!["MSET".to_string()];
        mset.extend((0..2000).flat_map(|i| [format!("k{i}"), "v".to_string()]));
        assert_eq!(c.cmd(&mset), Value::Simple("OK".into()));
        // About 0.4 s of walk: the commands below arrive while every big set is owed.
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "200"]);
        let cmd = |words: &str| words.split(' ').map(str::to_string).collect::<Vec<_>>();
        let replies = c.pipeline([
            cmd("BGSAVE"),
            cmd("SUNIONSTORE u s1 s2"),
            cmd("SINTERSTORE i s1 s2"),
            cmd("ZUNIONSTORE z 2 s1 s2"),
            cmd("COPY s1 c1"),
            cmd("SORT s2 LIMIT 0 1 ALPHA"),
            cmd("SADD s3 new"),
        ]);
        assert_eq!(
            replies,
            vec![
                Value::Simple("Background saving started".into()),
                Value::Int(MEMBERS as i64),
                Value::Int(MEMBERS as i64),
                Value::Int(MEMBERS as i64),
                Value::Int(1),
                Value::Array(vec![Value::Bulk(b"m0".to_vec())]),
                Value::Int(1),
            ]
        );
        wait_bgsave(&mut c);
        let info = c.cmd(&["INFO", "persistence"]).as_str();
        // Only SADD, which changes s3 in place, waited for the snapshot.
        assert_eq!(info_field(&info, "snapshot_writes_delayed"), "1", "{info}");
        assert_eq!(
            info_field(&info, "rdb_last_bgsave_cow_entries"),
            "0",
            "{info}"
        );
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    }
    // The file holds the sets at the cut and none of the keys written after it.
    let s = Server::start_in(Kind::Snapkv, &dir, &[]);
    let mut c = s.conn();
    for name in ["s1", "s2", "s3"] {
        assert_eq!(
            c.cmd(&["SCARD", name]),
            Value::Int(MEMBERS as i64),
            "{name}"
        );
    }
    assert_eq!(c.cmd(&["EXISTS", "u", "i", "z", "c1"]), Value::Int(0));
    assert_eq!(c.cmd(&["DBSIZE"]), Value::Int(2003));
    drop(s);
    std::fs::remove_dir_all(&dir).ok();
}

fn info_field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// A server of `kind` (snapkv with `method`) in `dir`, DEBUG allowed, with these extra
/// arguments.
fn start_for_save_tests(kind: Kind, method: &str, dir: &std::path::Path, extra: &[&str]) -> Server {
    let mut args = vec!["--enable-debug-command", "yes"];
    if kind == Kind::Snapkv {
        args.extend(["--snapshot-method", method]);
    }
    args.extend_from_slice(extra);
    Server::start_in(kind, dir, &args)
}

const SAVERS: [(Kind, &str); 3] = [
    (Kind::Redis, "redis"),
    (Kind::Snapkv, "fork"),
    (Kind::Snapkv, "forkless"),
];

#[test]
fn a_running_save_refuses_save_and_flushall_stops_it_as_in_redis() {
    let mut outcomes = Vec::new();
    for (kind, method) in SAVERS {
        let dir = temp_dir("stop-save");
        let s = start_for_save_tests(kind, method, &dir, &["--save", "3600 1"]);
        let mut c = s.conn();
        c.cmd(&["DEBUG", "POPULATE", "20000"]);
        assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()), "{method}");
        // rdb-key-save-delay: the background save takes about 2 s.
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100"]);
        let mut replies = vec![c.cmd(&["BGSAVE"])];
        let running = c.cmd(&["INFO", "persistence"]).as_str().to_string();
        let total = info_field(&running, "current_save_keys_total");
        replies.extend(
            [
                &["BGSAVE"][..],
                &["BGSAVE", "SCHEDULE"],
                &["SAVE"],
                &["FLUSHALL"],
            ]
            .iter()
            .map(|cmd| c.cmd(cmd)),
        );
        let info = c.bgsave_finished();
        let mut fields = vec![format!("current_save_keys_total:{total}")];
        fields.extend(
            [
                "rdb_last_bgsave_status",
                "rdb_changes_since_last_save",
                "rdb_saves",
            ]
            .iter()
            .map(|f| format!("{f}:{}", info_field(&info, f))),
        );
        assert!(
            temp_files(&dir).is_empty(),
            "{method}: {:?}",
            temp_files(&dir)
        );
        drop(s);
        // The stopped save never replaced the dump FLUSHALL wrote: it loads empty.
        let s = start_for_save_tests(kind, method, &dir, &[]);
        let keys = s.conn().cmd(&["DBSIZE"]);
        outcomes.push((method, replies, fields, keys));
        drop(s);
        std::fs::remove_dir_all(&dir).ok();
    }
    let redis = &outcomes[0];
    assert_eq!(redis.3, Value::Int(0));
    for o in &outcomes[1..] {
        assert_eq!(
            (&o.1, &o.2, &o.3),
            (&redis.1, &redis.2, &redis.3),
            "{} vs redis",
            o.0
        );
    }
}

#[test]
fn shutdown_during_a_background_save_keeps_the_final_state() {
    for (kind, method) in SAVERS {
        let dir = temp_dir("shutdown-save");
        let mut s = start_for_save_tests(kind, method, &dir, &[]);
        let mut c = s.conn();
        c.cmd(&["DEBUG", "POPULATE", "5000"]);
        c.cmd(&["SET", "a", "old"]);
        // A save that takes about 1 s, started before the last write.
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "200"]);
        assert_eq!(
            c.cmd(&["BGSAVE"]),
            Value::Simple("Background saving started".into())
        );
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
        c.cmd(&["SET", "a", "new"]);
        c.send(&["SHUTDOWN", "SAVE"]);
        assert!(s.wait_exit(Duration::from_secs(10)).is_some(), "{method}");
        // Longer than the stopped save would have run: nothing renames over the dump.
        std::thread::sleep(Duration::from_millis(1500));
        let s = start_for_save_tests(kind, method, &dir, &[]);
        let mut c = s.conn();
        assert_eq!(
            c.cmd(&["GET", "a"]),
            Value::Bulk(b"new".to_vec()),
            "{method}"
        );
        assert_eq!(c.cmd(&["DBSIZE"]), Value::Int(5001), "{method}");
        // The stopped save's temp file (the forkless temp-bg-<pid>.rdb of a process now
        // gone, or the killed child's) is gone after the restart.
        let temps = temp_files(&dir);
        assert!(temps.is_empty(), "{method}: {temps:?}");
        drop(s);
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn bgsave_inside_exec_is_scheduled_as_in_redis() {
    let mut outcomes = Vec::new();
    for (kind, method) in SAVERS {
        let dir = temp_dir("exec-bgsave");
        let s = start_for_save_tests(kind, method, &dir, &[]);
        let mut c = s.conn();
        c.cmd(&["MULTI"]);
        c.cmd(&["SET", "k", "v"]);
        c.cmd(&["BGSAVE"]);
        // Used to hang the fork engine: EXEC held k's shard, the fork wanted them all.
        let exec = c.cmd(&["EXEC"]);
        // The cron starts the scheduled save.
        let t = Instant::now();
        let info = loop {
            let info = c.cmd(&["INFO", "persistence"]).as_str().to_string();
            if info_field(&info, "rdb_saves") == "1"
                && info_field(&info, "rdb_bgsave_in_progress") == "0"
            {
                break info;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "{method}: {info}");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(
            c.cmd(&["BGSAVE"]),
            Value::Simple("Background saving started".into())
        );
        let after = c.bgsave_finished();
        drop(s);
        let s = start_for_save_tests(kind, method, &dir, &[]);
        let k = s.conn().cmd(&["GET", "k"]);
        outcomes.push((
            method,
            exec,
            info_field(&info, "rdb_last_bgsave_status"),
            info_field(&after, "rdb_saves"),
            k,
        ));
        drop(s);
        std::fs::remove_dir_all(&dir).ok();
    }
    let redis = &outcomes[0];
    assert_eq!(redis.4, Value::Bulk(b"v".to_vec()));
    for o in &outcomes[1..] {
        assert_eq!(
            (&o.1, &o.2, &o.3, &o.4),
            (&redis.1, &redis.2, &redis.3, &redis.4),
            "{} vs redis",
            o.0
        );
    }
}
