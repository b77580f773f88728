//! Differential tests: every corpus file in `tests/corpus/` runs against snapkv and a real
//! redis-server 7.0 started here; every reply must be identical (modulo the corpus's
//! normalisation prefixes).

use snapkv_e2e::{corpus, Server};

#[test]
fn corpus_matches_real_redis() {
    let snapkv = Server::snapkv(&[]);
    let redis = Server::redis(&[]);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    let mut mismatches = Vec::new();
    let mut total = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read corpus");
        total += corpus::count_commands(&text);
        // Fresh connections and an empty keyspace for every file.
        let mut a = vec![snapkv.conn(), snapkv.conn()];
        let mut b = vec![redis.conn(), redis.conn()];
        a[0].cmd(&["FLUSHALL"]);
        b[0].cmd(&["FLUSHALL"]);
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        mismatches.extend(corpus::run(&name, &text, &mut a, &mut b));
    }
    let report: Vec<String> = mismatches.iter().map(|m| m.to_string()).collect();
    assert!(
        report.is_empty(),
        "{} of {total} commands differ from redis-server:\n{}",
        report.len(),
        report.join("\n")
    );
    eprintln!("{total} corpus commands matched redis-server");
}

/// OBJECT FREQ / IDLETIME / REFCOUNT and the LFU counter depend on the eviction policy
/// (and shared integers on `maxmemory`), so these run on servers started per policy.
/// Only the first LFU increment of a fresh key is deterministic (probability 1), so each
/// check uses fresh keys.
#[test]
fn object_under_eviction_policies_matches_real_redis() {
    let lfu = "\
SET k v
OBJECT FREQ k
GET k
OBJECT FREQ k
OBJECT IDLETIME k
OBJECT IDLETIME missing
OBJECT FREQ missing
SET i 5
OBJECT REFCOUNT i
SET r v
EXISTS r
TYPE r
TTL r
OBJECT ENCODING r
OBJECT FREQ r
RENAME r r2
OBJECT FREQ r2
SET m v
MOVE m 1
SELECT 1
OBJECT FREQ m
SELECT 0
SET c v
COPY c c2
OBJECT FREQ c
OBJECT FREQ c2
SET e v
EXPIRE e 100
OBJECT FREQ e
SET t v
TOUCH t
OBJECT FREQ t
SET p v EX 100
PERSIST p
OBJECT FREQ p
SET n1 v
SET n2 v
RENAMENX n1 n2
OBJECT FREQ n1
OBJECT FREQ n2
";
    let lru = "\
SET k v
OBJECT FREQ k
approx> OBJECT IDLETIME k
SET i 5
OBJECT REFCOUNT i
SET j 10000
OBJECT REFCOUNT j
";
    let shared = "\
SET i 5
OBJECT REFCOUNT i
OBJECT FREQ i
approx> OBJECT IDLETIME i
";
    let cases: &[(&[&str], &str)] = &[
        (
            &["--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lfu"],
            lfu,
        ),
        (
            &["--maxmemory", "100mb", "--maxmemory-policy", "volatile-lfu"],
            lfu,
        ),
        (
            &["--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"],
            lru,
        ),
        (
            &["--maxmemory", "100mb", "--maxmemory-policy", "volatile-lru"],
            lru,
        ),
        (
            &[
                "--maxmemory",
                "100mb",
                "--maxmemory-policy",
                "allkeys-random",
            ],
            shared,
        ),
        (
            &["--maxmemory", "100mb", "--maxmemory-policy", "volatile-ttl"],
            shared,
        ),
        // Without maxmemory even an LRU policy shares the small integers.
        (&["--maxmemory-policy", "allkeys-lru"], shared),
    ];
    let mut report = Vec::new();
    for (args, text) in cases {
        let snapkv = Server::snapkv(args);
        let redis = Server::redis(args);
        let mut a = vec![snapkv.conn()];
        let mut b = vec![redis.conn()];
        let name = format!("policy {}", args.join(" "));
        report.extend(
            corpus::run(&name, text, &mut a, &mut b)
                .iter()
                .map(|m| m.to_string()),
        );
    }
    assert!(
        report.is_empty(),
        "differ from redis-server:\n{}",
        report.join("\n")
    );
}

/// A full SCAN iteration over a database big enough to split segments (64 shards of
/// 896-entry segments) returns exactly
/// the keys KEYS returns on real Redis (for several COUNT / MATCH / TYPE options), and
/// keys present for the whole iteration are returned even while others are added and
/// deleted between calls.
#[test]
fn scan_iteration_covers_what_redis_keys_returns() {
    use snapkv_e2e::Value;
    use std::collections::BTreeSet;

    let snapkv = Server::snapkv(&[]);
    let redis = Server::redis(&[]);
    let mut a = snapkv.conn();
    let mut b = redis.conn();
    for chunk in (0..150_000).collect::<Vec<u32>>().chunks(1000) {
        let mut args = vec!["MSET".to_string()];
        for i in chunk {
            args.push(format!("key:{i}"));
            args.push(i.to_string());
        }
        assert_eq!(a.cmd(&args), b.cmd(&args));
    }
    let keys = |c: &mut snapkv_e2e::Conn, pattern: &str| -> BTreeSet<Vec<u8>> {
        match c.cmd(&["KEYS", pattern]) {
            Value::Array(v) => v
                .iter()
                .filter_map(|k| k.as_bytes().map(<[u8]>::to_vec))
                .collect(),
            other => panic!("KEYS answered {other}"),
        }
    };
    // Iterates SCAN to the end; `between` runs after every call (mutations).
    let scan_all = |c: &mut snapkv_e2e::Conn,
                    opts: &[&str],
                    between: &mut dyn FnMut(&mut snapkv_e2e::Conn)| {
        let mut seen = BTreeSet::new();
        let mut cursor = "0".to_string();
        for _ in 0..200_000 {
            let mut args = vec!["SCAN".to_string(), cursor.clone()];
            args.extend(opts.iter().map(|s| s.to_string()));
            let Value::Array(reply) = c.cmd(&args) else {
                panic!("SCAN reply")
            };
            cursor = reply[0].as_str();
            let Value::Array(batch) = &reply[1] else {
                panic!("SCAN keys")
            };
            seen.extend(
                batch
                    .iter()
                    .filter_map(|k| k.as_bytes().map(<[u8]>::to_vec)),
            );
            if cursor == "0" {
                return seen;
            }
            between(c);
        }
        panic!("SCAN {opts:?} did not finish");
    };
    for (opts, pattern) in [
        (&["COUNT", "25"][..], "*"),
        (&["COUNT", "1000"][..], "*"),
        (&["COUNT", "3", "MATCH", "key:1*"][..], "key:1*"),
        (&["MATCH", "key:?7", "TYPE", "string"][..], "key:?7"),
        (&["COUNT", "100", "MATCH", "nomatch*"][..], "nomatch*"),
    ] {
        let got = scan_all(&mut a, opts, &mut |_| {});
        assert_eq!(
            got,
            keys(&mut b, pattern),
            "SCAN {opts:?} vs Redis KEYS {pattern}"
        );
    }
    let none = scan_all(&mut a, &["COUNT", "1000", "TYPE", "list"], &mut |_| {});
    assert!(none.is_empty());

    // Keys that stay for the whole scan must all be seen despite churn (splits, deletes).
    let mut n = 0u32;
    let got = scan_all(&mut a, &["COUNT", "50"], &mut |c| {
        let (add, del) = (format!("new:{n}"), format!("key:{}", 140_000 + n % 10_000));
        c.cmd(&["SET", add.as_str(), "x"]);
        c.cmd(&["DEL", del.as_str()]);
        n += 1;
    });
    for i in 0..140_000 {
        assert!(
            got.contains(format!("key:{i}").as_bytes()),
            "key:{i} missed during churn"
        );
    }
    // A big asynchronous flush: empty at once, usable at once.
    assert_eq!(a.cmd(&["FLUSHALL", "ASYNC"]), Value::Simple("OK".into()));
    assert_eq!(a.cmd(&["DBSIZE"]), Value::Int(0));
    assert_eq!(
        a.cmd(&["SET", "after", "flush"]),
        Value::Simple("OK".into())
    );
    assert_eq!(a.cmd(&["GET", "after"]), Value::Bulk(b"flush".to_vec()));
}

/// Which key commands count as keyspace hits/misses (Redis: read lookups, including the
/// LOOKUP_NOTOUCH ones of EXISTS/TYPE/TTL/OBJECT; not write lookups or DEL) and how many
/// changes they count for save points (`rdb_changes_since_last_save`), read back from
/// INFO on both servers after every command.
#[test]
fn key_commands_count_hits_misses_and_changes_like_redis() {
    let script = "\
SET a 1
SET b 2 EX 100
GET a
GET missing
EXISTS a missing b
TYPE a
TYPE missing
TTL b
PTTL missing
EXPIRETIME b
PEXPIRETIME missing
OBJECT ENCODING a
OBJECT ENCODING missing
OBJECT REFCOUNT a
TOUCH a missing
EXPIRE a 100
EXPIRE missing 100
PERSIST a
PERSIST missing
RENAME a c
RENAMENX c b
SET x 9 EX 100
RENAME x c
TTL c
RENAME c c
COPY c d
COPY missing d
MOVE d 1
MOVE missing 1
DEL c missing
UNLINK d
SCAN 0 TYPE string
KEYS *
DBSIZE
RANDOMKEY
SWAPDB 0 1
FLUSHDB
FLUSHALL
SET e v
PEXPIREAT e 1
EXPIRE missing -1
SET f v
EXPIREAT f 1 NX
GET f
";
    let field = |c: &mut snapkv_e2e::Conn, name: &str| -> String {
        let info = c.cmd(&["INFO", "all"]).as_str();
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
            .unwrap_or_else(|| panic!("INFO has no {name}"))
    };
    let snapkv = Server::snapkv(&[]);
    let redis = Server::redis(&[]);
    let mut a = snapkv.conn();
    let mut b = redis.conn();
    let mut report = Vec::new();
    for line in script.lines() {
        let args: Vec<&str> = line.split(' ').collect();
        a.cmd(&args);
        b.cmd(&args);
        for name in [
            "keyspace_hits",
            "keyspace_misses",
            "rdb_changes_since_last_save",
        ] {
            let (x, y) = (field(&mut a, name), field(&mut b, name));
            if x != y {
                report.push(format!("after {line}: {name} snapkv {x} redis {y}"));
            }
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}
