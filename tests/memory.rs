//! maxmemory: the OOM error under `noeviction`, eviction under the LRU/random policies,
//! and the snapshot reserve (`reserved-memory-percent`) holding data below maxmemory.

use snapkv_e2e::{Server, Value};

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Writes 1 KiB values until the first error (or `limit` keys); returns (written, error).
fn fill(c: &mut snapkv_e2e::Conn, limit: usize) -> (usize, Option<String>) {
    let value = vec![b'v'; 1024];
    for i in 0..limit {
        match c.cmd(&[
            b"SET".to_vec(),
            format!("key:{i}").into_bytes(),
            value.clone(),
        ]) {
            Value::Simple(_) => {}
            Value::Error(e) => return (i, Some(e)),
            other => panic!("unexpected reply {other}"),
        }
    }
    (limit, None)
}

#[test]
fn noeviction_answers_oom_and_reads_still_work() {
    let s = Server::snapkv(&["--maxmemory", "32mb", "--maxmemory-policy", "noeviction"]);
    let mut c = s.conn();
    let (written, err) = fill(&mut c, 200_000);
    assert_eq!(err.as_deref(), Some(OOM), "after {written} keys");
    // The reserve (25% by default) keeps data well under maxmemory: ~24 MiB of data.
    assert!(
        (8_000..30_000).contains(&written),
        "wrote {written} KiB before OOM"
    );
    assert_eq!(
        c.cmd(&["GET", "key:0"]).as_bytes().map(|b| b.len()),
        Some(1024)
    );
    // Deleting frees room again.
    for i in 0..2000 {
        c.cmd(&["DEL", &format!("key:{i}")]);
    }
    assert_eq!(c.cmd(&["SET", "again", "x"]), Value::Simple("OK".into()));
}

#[test]
fn lru_and_random_policies_evict_instead_of_failing() {
    for policy in ["allkeys-lru", "allkeys-random", "allkeys-lfu"] {
        let s = Server::snapkv(&["--maxmemory", "16mb", "--maxmemory-policy", policy]);
        let mut c = s.conn();
        let (written, err) = fill(&mut c, 60_000);
        assert_eq!(err, None, "{policy}: error after {written} keys");
        let present = (0..60_000)
            .step_by(97)
            .filter(|i| c.cmd(&["EXISTS", &format!("key:{i}")]) == Value::Int(1))
            .count();
        let sampled = 60_000usize.div_ceil(97);
        assert!(present < sampled, "{policy}: nothing was evicted");
        assert!(present > 0, "{policy}: everything was evicted");
    }
}

#[test]
fn volatile_policy_without_volatile_keys_answers_oom() {
    let s = Server::snapkv(&["--maxmemory", "16mb", "--maxmemory-policy", "volatile-lru"]);
    let mut c = s.conn();
    let (_, err) = fill(&mut c, 100_000);
    assert_eq!(err.as_deref(), Some(OOM));
}
