//! Keyspace behaviour across modules: splits, expiry, watchers, snapshot capture.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::*;

fn ks() -> Keyspace {
    Keyspace::new(KeyspaceConfig {
        databases: 2,
        shards_per_db: 4,
    })
}

fn s(v: &str) -> Value {
    Value::Str(StrValue::from_bytes(v.as_bytes()))
}

fn put(ks: &Keyspace, db: usize, k: &str, v: &str, exp: SetExpiry) {
    ks.lock_keys(db, [k.as_bytes()])
        .insert(db, k.as_bytes(), s(v), exp);
}

fn get(ks: &Keyspace, db: usize, k: &str) -> Option<Vec<u8>> {
    let mut l = ks.lock_keys(db, [k.as_bytes()]);
    l.get(db, k.as_bytes())
        .map(|e| e.value.as_str().unwrap().to_vec())
}

#[test]
fn many_keys_split_segments_and_stay_reachable() {
    let ks = ks();
    for i in 0..20_000 {
        put(&ks, 0, &format!("k{i}"), &format!("v{i}"), SetExpiry::Clear);
    }
    assert_eq!(ks.dbsize(0), 20_000);
    for i in (0..20_000).step_by(7) {
        assert_eq!(
            get(&ks, 0, &format!("k{i}")),
            Some(format!("v{i}").into_bytes())
        );
    }
    let segs: usize = (0..4)
        .map(|s| ks.with_shard(ShardRef { db: 0, shard: s }, |sh| sh.segments().len()))
        .sum();
    assert!(
        segs >= 20_000 / crate::segment::SEGMENT_MAX,
        "segments split: {segs}"
    );
    for i in 0..20_000 {
        assert!(ks
            .lock_keys(0, [format!("k{i}").as_bytes()])
            .remove(0, format!("k{i}").as_bytes())
            .is_some());
    }
    assert_eq!(ks.dbsize(0), 0);
}

#[test]
fn conditions_and_ttl() {
    let ks = ks();
    let mut l = ks.lock_keys(0, [&b"a"[..]]);
    let (ok, _) = l.set(0, b"a", s("1"), SetCondition::IfExists, SetExpiry::Clear);
    assert!(!ok);
    let now = l.now_ms;
    let (ok, _) = l.set(
        0,
        b"a",
        s("1"),
        SetCondition::IfMissing,
        SetExpiry::At(now + 10_000),
    );
    assert!(ok);
    assert_eq!(l.peek(0, b"a").unwrap().expire_at(), Some(now + 10_000));
    let (ok, old) = l.set(0, b"a", s("2"), SetCondition::Always, SetExpiry::Keep);
    assert!(ok && old.is_some());
    assert_eq!(l.peek(0, b"a").unwrap().expire_at(), Some(now + 10_000));
    l.insert(0, b"a", s("3"), SetExpiry::Clear);
    assert_eq!(l.peek(0, b"a").unwrap().expire_at(), None);
    assert_eq!(ks_stats_volatile(l), 0);
}

fn ks_stats_volatile(l: Locked<'_>) -> usize {
    let ks = l.keyspace();
    drop(l);
    ks.stats(None).volatile
}

#[test]
fn expired_keys_vanish_lazily_and_actively() {
    let ks = ks();
    let past = clock::now_ms() - 1;
    put(&ks, 0, "gone", "x", SetExpiry::At(past));
    put(&ks, 1, "gone2", "x", SetExpiry::At(past));
    put(&ks, 0, "stays", "x", SetExpiry::At(past + 100_000));
    assert_eq!(get(&ks, 0, "gone"), None);
    let mut cursor = 0;
    let n = ks.active_expire_cycle(&mut cursor, std::time::Duration::from_secs(1));
    assert_eq!(n, 1);
    let st = ks.stats(None);
    assert_eq!((st.keys, st.volatile, st.counters.expired), (1, 1, 2));
}

#[test]
fn writes_invalidate_watchers() {
    let ks = ks();
    let flag = Arc::new(AtomicBool::new(false));
    let gid = ks.shard_id(0, b"w");
    let at = ShardRef {
        db: 0,
        shard: gid as usize,
    };
    ks.with_shard(at, |sh| sh.watch(b"w", flag.clone()));
    put(&ks, 0, "other", "1", SetExpiry::Clear);
    let other_same_shard = ks.shard_id(0, b"other") == gid;
    assert!(!flag.load(Ordering::Acquire) || other_same_shard);
    flag.store(false, Ordering::Release);
    put(&ks, 0, "w", "1", SetExpiry::Clear);
    assert!(flag.load(Ordering::Acquire));
}

#[test]
fn flush_and_swap() {
    let ks = ks();
    put(&ks, 0, "a", "0", SetExpiry::Clear);
    put(&ks, 1, "b", "1", SetExpiry::Clear);
    ks.lock_dbs(&[0, 1]).swap_dbs(0, 1);
    assert_eq!(get(&ks, 0, "b"), Some(b"1".to_vec()));
    assert_eq!(get(&ks, 1, "a"), Some(b"0".to_vec()));
    assert_eq!(ks.lock_dbs(&[0]).flush_db(0), 1);
    assert_eq!(ks.dbsize(0), 0);
    assert_eq!(ks.dbsize(1), 1);
}

/// (db, key, value) of each captured entry.
type Captured = Vec<(usize, Vec<u8>, Vec<u8>)>;

#[derive(Default)]
struct Recording(parking_lot::Mutex<Captured>);
impl SnapshotCapture for Recording {
    fn capture(&self, db: usize, e: &Entry) {
        let v = e.value.as_str().map(|s| s.to_vec()).unwrap_or_default();
        self.0.lock().push((db, e.key.to_vec(), v));
    }
}

#[test]
fn each_entry_is_captured_once_per_epoch_with_its_value_at_the_cut() {
    let ks = ks();
    for i in 0..100 {
        put(&ks, 0, &format!("k{i}"), "v", SetExpiry::Clear);
    }
    let hook = Arc::new(Recording::default());
    ks.set_capture(Some(hook.clone()));
    let epoch = ks.advance_epoch();
    for round in 0..3 {
        for i in 0..50 {
            put(
                &ks,
                0,
                &format!("k{i}"),
                &format!("w{round}"),
                SetExpiry::Clear,
            );
        }
    }
    // Born after the cut: never owed to this snapshot.
    put(&ks, 0, "new", "n", SetExpiry::Clear);
    ks.lock_keys(0, [&b"k60"[..]]).remove(0, b"k60");
    let mut captured = std::mem::take(&mut *hook.0.lock());
    assert_eq!(captured.len(), 51);
    assert!(captured.iter().all(|(db, _, v)| *db == 0 && v == b"v"));
    // The walk hands over the rest, and nothing twice.
    for at in ks.shard_refs().filter(|a| a.db == 0) {
        let mut si = 0;
        while ks.capture_segment(at, si, epoch, |e| {
            captured.push((0, e.key.to_vec(), e.value.as_str().unwrap().to_vec()))
        }) {
            si += 1;
        }
    }
    captured.sort();
    let mut want: Vec<_> = (0..100)
        .map(|i| (0, format!("k{i}").into_bytes(), b"v".to_vec()))
        .collect();
    want.sort();
    assert_eq!(captured, want);
    // Walked segments no longer capture.
    put(&ks, 0, "k70", "x", SetExpiry::Clear);
    assert!(hook.0.lock().is_empty());
}

#[test]
fn eviction_removes_keys() {
    let ks = ks();
    ks.set_policy(EvictionPolicy::AllKeysLru);
    for i in 0..50 {
        put(&ks, 0, &format!("k{i}"), "v", SetExpiry::Clear);
    }
    for _ in 0..10 {
        assert_eq!(ks.evict_one(), EvictOutcome::Evicted);
    }
    assert_eq!(ks.dbsize(0), 40);
    assert_eq!(ks.stats(None).counters.evicted, 10);
    ks.set_policy(EvictionPolicy::VolatileTtl);
    assert_eq!(ks.evict_one(), EvictOutcome::NothingToEvict);
}

#[test]
fn random_key_finds_the_only_key() {
    let ks = ks();
    assert!(ks.lazy().random_key(0).is_none());
    put(&ks, 0, "only", "v", SetExpiry::Clear);
    assert_eq!(&*ks.lazy().random_key(0).unwrap(), b"only");
}

#[test]
fn notouch_and_write_lookups_follow_redis_side_effects() {
    let ks = ks();
    put(&ks, 0, "k", "v", SetExpiry::Clear);
    let stamp = |ks: &Keyspace| ks.lock_keys(0, [&b"k"[..]]).peek(0, b"k").unwrap().lru;
    // Age the stamp so a touch is visible.
    ks.lock_keys(0, [&b"k"[..]]).get_mut(0, b"k").unwrap().lru = 1;
    let before = ks.stats(Some(0)).counters;
    {
        let mut l = ks.lock_keys(0, [&b"k"[..], &b"nope"[..]]);
        assert!(l.get_notouch(0, b"k").is_some());
        assert!(l.get_notouch(0, b"nope").is_none());
    }
    let after = ks.stats(Some(0)).counters;
    assert_eq!(
        (after.hits, after.misses),
        (before.hits + 1, before.misses + 1)
    );
    assert_eq!(stamp(&ks), 1, "NOTOUCH keeps the LRU stamp");
    {
        let mut l = ks.lock_keys(0, [&b"k"[..], &b"nope"[..]]);
        assert!(l.lookup_write(0, b"k").is_some());
        assert!(l.lookup_write(0, b"nope").is_none());
    }
    let last = ks.stats(Some(0)).counters;
    assert_eq!(
        (last.hits, last.misses, last.dirty),
        (after.hits, after.misses, after.dirty)
    );
    assert_ne!(stamp(&ks), 1, "a write lookup stamps LRU");
}

#[test]
fn move_entry_keeps_ttl_overwrites_and_counts_one_change() {
    let ks = ks();
    put(&ks, 0, "src", "v", SetExpiry::At(clock::now_ms() + 100_000));
    put(&ks, 1, "dst", "old", SetExpiry::Clear);
    let dirty = |ks: &Keyspace| ks.stats(None).counters.dirty;
    let before = dirty(&ks);
    let mut l = ks.lock_all();
    assert!(l.move_entry(0, b"src", 1, b"dst"));
    assert!(!l.move_entry(0, b"src", 1, b"dst"));
    assert!(l.peek(0, b"src").is_none());
    let e = l.peek(1, b"dst").unwrap();
    assert_eq!(e.value.as_str().unwrap().to_vec(), b"v");
    assert!(e.expire_at().is_some());
    drop(l);
    assert_eq!(dirty(&ks), before + 1);
}

#[test]
fn flush_db_into_hands_back_the_segments_and_empties_only_that_db() {
    let ks = ks();
    for i in 0..3000 {
        put(&ks, 0, &format!("k{i}"), "v", SetExpiry::Clear);
    }
    put(&ks, 1, "other", "v", SetExpiry::Clear);
    let mut garbage = Vec::new();
    let removed = ks.lock_all().flush_db_into(0, &mut garbage);
    assert_eq!(removed, 3000);
    assert_eq!(garbage.iter().map(|s| s.len()).sum::<usize>(), 3000);
    assert_eq!((ks.dbsize(0), ks.dbsize(1)), (0, 1));
    put(&ks, 0, "again", "v", SetExpiry::Clear);
    assert_eq!(get(&ks, 0, "again"), Some(b"v".to_vec()));
}

/// A big list, its table's address, and a small one.
fn lists(ks: &Keyspace) -> *const crate::types::list::List {
    let mut big = Value::new_list();
    let l = big.as_list_mut().unwrap();
    for i in 0..BIG_TABLE_ELEMENTS {
        l.push_back(SmallBytes::from(format!("e{i}").as_bytes()));
    }
    let mut small = Value::new_list();
    small
        .as_list_mut()
        .unwrap()
        .push_back(SmallBytes::from(&b"x"[..]));
    let mut locked = ks.lock_keys(0, [&b"big"[..], &b"small"[..]]);
    locked.insert(0, b"big", big, SetExpiry::Clear);
    locked.insert(0, b"small", small, SetExpiry::Clear);
    let table: *const crate::types::list::List =
        locked.peek(0, b"big").unwrap().value.as_list().unwrap();
    table
}

#[test]
fn a_big_collection_taken_out_of_turn_is_then_changed_in_place() {
    let ks = ks();
    let table = lists(&ks);
    assert!(!ks.owes_big_value(0, b"big"), "no snapshot yet");
    let hook = Arc::new(Recording::default());
    ks.set_capture(Some(hook.clone()));
    let epoch = ks.advance_epoch();
    assert!(ks.owes_big_value(0, b"big"));
    assert!(
        !ks.owes_big_value(0, b"small"),
        "too small to be worth a detour"
    );
    assert!(!ks.owes_big_value(0, b"missing"));
    // The snapshot takes it out of turn (and would serialise it, then drop it) ...
    let taken = ks.capture_key(0, b"big", epoch).expect("owed");
    assert_eq!(taken.value.len(), BIG_TABLE_ELEMENTS);
    drop(taken);
    assert!(!ks.owes_big_value(0, b"big"));
    assert!(ks.capture_key(0, b"big", epoch).is_none(), "taken once");
    // ... so a write neither hands it over again nor copies its table.
    {
        let mut l = ks.lock_keys(0, [&b"big"[..]]);
        let e = l.get_mut(0, b"big").unwrap();
        e.value
            .as_list_mut()
            .unwrap()
            .push_back(SmallBytes::from(&b"new"[..]));
    }
    assert!(hook.0.lock().is_empty());
    let after: *const crate::types::list::List = ks
        .lock_keys(0, [&b"big"[..]])
        .peek(0, b"big")
        .unwrap()
        .value
        .as_list()
        .unwrap();
    assert_eq!(after, table, "changed in place");
    // The walk skips it too; the small list is still owed to it.
    let mut walked = Vec::new();
    for at in ks.shard_refs().filter(|a| a.db == 0) {
        let mut si = 0;
        while ks.capture_segment(at, si, epoch, |e| walked.push(e.key.to_vec())) {
            si += 1;
        }
    }
    assert_eq!(walked, vec![b"small".to_vec()]);
}

#[test]
fn big_collections_are_sized_from_samples_close_to_exact() {
    let mut list = Value::new_list();
    let mut table = crate::types::HashTable::default();
    for i in 0..100_000 {
        let e = format!("an-element-long-enough-for-the-heap-{i:08}");
        list.as_list_mut()
            .unwrap()
            .push_back(SmallBytes::from(e.as_bytes()));
        table.insert(SmallBytes::from(e.as_bytes()), SmallBytes::from(&b"v"[..]));
    }
    let hash = Value::HashTable(Arc::new(table));
    for v in [&list, &hash] {
        let (exact, sampled) = (v.heap_size(0), v.heap_size(64));
        assert!(exact > 100_000 * 40, "elements counted: {exact}");
        let err = exact.abs_diff(sampled) as f64 / exact as f64;
        assert!(err < 0.01, "sampled {sampled} vs exact {exact}");
    }
}
