//! Collections across RDB files and DUMP payloads, checked against a real redis-server:
//! snapkv's dumps load in Redis (and pass redis-check-rdb) with the same content and
//! encodings, Redis's dumps load in snapkv, DUMP payloads cross both ways, and both
//! snapshot engines cut big collections at one point in time under concurrent writes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use snapkv_e2e::{temp_dir, Conn, Kind, Server, Value};

/// Every type in both encodings, with TTLs, in two databases. Lists are made with SORT …
/// STORE so this file needs no list commands.
fn fill(c: &mut Conn) {
    for db in ["0", "3"] {
        c.cmd(&["SELECT", db]);
        let mut cmds: Vec<Vec<String>> = Vec::new();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        cmds.push(s(&["HSET", "h:small", "a", "1", "b", "two", "c", "-3"]));
        let mut big = s(&["HSET", "h:big"]);
        for i in 0..700 {
            big.push(format!("field{i}"));
            big.push(format!("value{}", i * 7));
        }
        cmds.push(big);
        cmds.push(s(&["HSET", "h:long", "f", &"x".repeat(100)]));
        cmds.push(s(&[
            "SADD",
            "s:ints",
            "5",
            "-2",
            "70000",
            "9223372036854775807",
        ]));
        cmds.push(s(&["SADD", "s:strs", "a", "b", "c"]));
        let mut bigset = s(&["SADD", "s:bigints"]);
        bigset.extend((0..600).map(|i| (i * 3).to_string()));
        cmds.push(bigset);
        cmds.push(s(&[
            "ZADD", "z:small", "1", "a", "2.5", "b", "-inf", "c", "1e20", "d",
        ]));
        let mut bigz = s(&["ZADD", "z:big"]);
        for i in 0..300 {
            bigz.push(format!("{}", i as f64 / 3.0));
            bigz.push(format!("member{i}"));
        }
        cmds.push(bigz);
        cmds.push(s(&["SADD", "tmp", "3", "1", "2", "10"]));
        cmds.push(s(&["SORT", "tmp", "STORE", "l:list"]));
        cmds.push(s(&["DEL", "tmp"]));
        cmds.push(s(&["EXPIRE", "h:small", "1000"]));
        cmds.push(s(&["EXPIRE", "z:big", "2000"]));
        for r in c.pipeline(cmds) {
            assert!(!matches!(r, Value::Error(_)), "{r}");
        }
    }
    c.cmd(&["SELECT", "0"]);
}

/// A canonical text of the dataset: per key type, encoding, TTL bucket and sorted content.
fn snapshot(c: &mut Conn) -> Vec<String> {
    let mut out = Vec::new();
    for db in ["0", "3"] {
        c.cmd(&["SELECT", db]);
        let Value::Array(keys) = c.cmd(&["KEYS", "*"]) else {
            panic!("KEYS")
        };
        let mut keys: Vec<String> = keys.iter().map(|k| k.as_str()).collect();
        keys.sort();
        for k in keys {
            let ty = c.cmd(&["TYPE", &k]).as_str();
            let enc = c.cmd(&["OBJECT", "ENCODING", &k]).as_str();
            let ttl = c.cmd(&["TTL", &k]).as_int().unwrap();
            let ttl = if ttl < 0 { ttl } else { (ttl + 50) / 100 };
            let content = match ty.as_str() {
                "hash" => c.cmd(&["HGETALL", &k]),
                "set" => c.cmd(&["SMEMBERS", &k]),
                "zset" => c.cmd(&["ZRANGE", &k, "0", "-1", "WITHSCORES"]),
                "list" => c.cmd(&["SORT", &k, "BY", "nosort"]),
                _ => c.cmd(&["GET", &k]),
            };
            let mut items: Vec<String> = match content {
                Value::Array(v) => v.iter().map(|x| x.as_str()).collect(),
                other => vec![other.as_str()],
            };
            if ty == "hash" {
                let mut pairs: Vec<String> = items
                    .chunks(2)
                    .map(|p| format!("{}={}", p[0], p[1]))
                    .collect();
                pairs.sort();
                items = pairs;
            } else if ty == "set" {
                items.sort();
            }
            out.push(format!(
                "db{db} {k} {ty} {enc} ttl~{ttl} {}",
                items.join(",")
            ));
        }
    }
    c.cmd(&["SELECT", "0"]);
    out
}

/// Asserts two snapshots are equal, naming the first differing key (lines are long).
fn same(got: &[String], want: &[String], what: &str) {
    let cut = |s: &str| s.chars().take(300).collect::<String>();
    for (g, w) in got.iter().zip(want) {
        assert!(
            g == w,
            "{what}: first difference\n got: {}\nwant: {}",
            cut(g),
            cut(w)
        );
    }
    assert_eq!(got.len(), want.len(), "{what}: number of keys");
}

#[test]
fn rdb_files_cross_between_snapkv_and_redis() {
    // snapkv writes; snapkv, redis-check-rdb and redis-server read.
    let dir = temp_dir("coll-rdb");
    let expected = {
        let s = Server::start_in(Kind::Snapkv, &dir, &[]);
        let mut c = s.conn();
        fill(&mut c);
        assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()));
        snapshot(&mut c)
    };
    assert_eq!(expected.len(), 18, "9 keys in each of 2 dbs");
    let reloaded = {
        let s = Server::start_in(Kind::Snapkv, &dir, &[]);
        snapshot(&mut s.conn())
    };
    same(&reloaded, &expected, "snapkv → snapkv");
    snapkv_e2e::assert_redis_check_rdb_ok(&dir.join("dump.rdb"), "dump.rdb");
    let in_redis = {
        let r = Server::start_in(Kind::Redis, &dir, &[]);
        snapshot(&mut r.conn())
    };
    same(&in_redis, &expected, "snapkv → redis");

    // Redis writes the same dataset; snapkv reads it with the same content and encodings.
    let rdir = temp_dir("coll-rdb-redis");
    let from_redis = {
        let r = Server::start_in(Kind::Redis, &rdir, &[]);
        let mut c = r.conn();
        fill(&mut c);
        assert_eq!(c.cmd(&["SAVE"]), Value::Simple("OK".into()));
        snapshot(&mut c)
    };
    same(
        &from_redis,
        &expected,
        "the same commands build the same data",
    );
    let loaded = {
        let s = Server::start_in(Kind::Snapkv, &rdir, &[]);
        snapshot(&mut s.conn())
    };
    same(&loaded, &expected, "redis → snapkv");
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&rdir).ok();
}

#[test]
fn dump_payloads_of_collections_cross_both_ways() {
    let snapkv = Server::snapkv(&[]);
    let redis = Server::redis(&[]);
    fill(&mut snapkv.conn());
    fill(&mut redis.conn());
    let want = snapshot(&mut snapkv.conn());
    for (name, from, to) in [
        ("snapkv→redis", &snapkv, &redis),
        ("redis→snapkv", &redis, &snapkv),
    ] {
        let mut a = from.conn();
        let mut b = to.conn();
        b.cmd(&["FLUSHALL"]);
        for db in ["0", "3"] {
            a.cmd(&["SELECT", db]);
            b.cmd(&["SELECT", db]);
            let Value::Array(keys) = a.cmd(&["KEYS", "*"]) else {
                panic!("KEYS")
            };
            for k in keys {
                let k = k.as_str();
                let Value::Bulk(payload) = a.cmd(&["DUMP", &k]) else {
                    panic!("{name}: DUMP {k}")
                };
                let pttl = a.cmd(&["PTTL", &k]).as_int().unwrap().max(0).to_string();
                let r = b.cmd(&[
                    b"RESTORE".to_vec(),
                    k.clone().into_bytes(),
                    pttl.into_bytes(),
                    payload,
                ]);
                assert_eq!(r, Value::Simple("OK".into()), "{name}: RESTORE {k}");
            }
        }
        b.cmd(&["SELECT", "0"]);
        same(&snapshot(&mut b), &want, name);
    }
}

fn point_in_time(method: &str) {
    let dir = temp_dir("coll-bgsave");
    let s = Server::start_in(Kind::Snapkv, &dir, &["--snapshot-method", method]);
    let mut c = s.conn();
    // A big hash (table encoding, shared with the snapshot until written) and a counter
    // that every transaction bumps together with one new field.
    let mut init: Vec<Vec<String>> = vec![vec!["SET".into(), "count".into(), "0".into()]];
    for i in 0..2000 {
        init.push(vec![
            "HSET".into(),
            "big".into(),
            format!("base{i}"),
            "v".into(),
        ]);
        init.push(vec![
            "SADD".into(),
            format!("set{}", i % 50),
            format!("m{i}"),
        ]);
    }
    c.pipeline(init);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let stop = stop.clone();
            let port = s.port;
            std::thread::spawn(move || {
                let mut c = Conn::connect(port).unwrap();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let f = format!("w{w}-{n}");
                    let r = c.pipeline(vec![
                        vec!["MULTI".to_string()],
                        vec!["HSET".into(), "big".into(), f.clone(), "x".into()],
                        vec!["ZADD".into(), "z".into(), n.to_string(), f.clone()],
                        vec!["INCR".into(), "count".into()],
                        vec!["EXEC".into()],
                    ]);
                    assert!(matches!(r.last(), Some(Value::Array(_))), "{r:?}");
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Value::Simple("Background saving started".into())
    );
    let info = c.bgsave_finished();
    assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
    assert!(
        info.contains(&format!("rdb_last_bgsave_method:{method}")),
        "{info}"
    );
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let writes: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(writes > 0);
    drop(c);
    drop(s);
    let copy = temp_dir("coll-bgsave-load");
    std::fs::copy(dir.join("dump.rdb"), copy.join("dump.rdb")).unwrap();
    for kind in [Kind::Snapkv, Kind::Redis] {
        let l = Server::start_in(kind, &copy, &[]);
        let mut c = l.conn();
        let count: i64 = c.cmd(&["GET", "count"]).as_str().parse().unwrap();
        let hlen = c.cmd(&["HLEN", "big"]).as_int().unwrap();
        let zcard = c.cmd(&["ZCARD", "z"]).as_int().unwrap();
        assert_eq!(
            hlen,
            2000 + count,
            "{kind:?}: one field per committed transaction"
        );
        assert_eq!(zcard, count, "{kind:?}");
        let sets: i64 = (0..50)
            .map(|i| c.cmd(&["SCARD", &format!("set{i}")]).as_int().unwrap())
            .sum();
        assert_eq!(sets, 2000, "{kind:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&copy).ok();
}

#[test]
fn forkless_snapshot_of_collections_is_point_in_time() {
    point_in_time("forkless");
}

#[test]
fn fork_snapshot_of_collections_is_point_in_time() {
    point_in_time("fork");
}

#[test]
fn debug_reload_saves_flushes_and_loads_back() {
    for kind in [Kind::Snapkv, Kind::Redis] {
        let dir = temp_dir("reload");
        let s = Server::start_in(kind, &dir, &["--enable-debug-command", "yes"]);
        let mut c = s.conn();
        fill(&mut c);
        let before = snapshot(&mut c);
        assert_eq!(
            c.cmd(&["DEBUG", "RELOAD"]),
            Value::Simple("OK".into()),
            "{kind:?}"
        );
        same(&snapshot(&mut c), &before, "same data after a reload");
        // NOSAVE reloads the file as it is: later changes go away.
        c.cmd(&["HSET", "h:small", "new", "x"]);
        c.cmd(&["SET", "extra", "1"]);
        assert_eq!(
            c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]),
            Value::Simple("OK".into())
        );
        same(&snapshot(&mut c), &before, "NOSAVE restores the file");
        // NOFLUSH MERGE keeps keys the file does not have.
        c.cmd(&["SET", "extra", "1"]);
        assert_eq!(
            c.cmd(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]),
            Value::Simple("OK".into())
        );
        assert_eq!(
            c.cmd(&["GET", "extra"]),
            Value::Bulk(b"1".to_vec()),
            "{kind:?}"
        );
        assert!(matches!(
            c.cmd(&["DEBUG", "RELOAD", "BOGUS"]),
            Value::Error(_)
        ));
        drop(c);
        drop(s);
        std::fs::remove_dir_all(&dir).ok();
    }
}
