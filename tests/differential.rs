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
