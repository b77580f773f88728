//! Cross-check (a): files written by our writer load in a real Redis 7.0 with every key's
//! type, value, TTL and encoding intact, and `redis-check-rdb` accepts them.

mod common;

use common::dataset::{dataset, now_ms, Item};
use common::{normalize, redis_check_rdb, Redis};
use snapkv_rdb::{StreamEntry, StreamId, Value, WriteOptions, Writer};

fn write_file(
    path: &std::path::Path,
    items: &[Item],
    opts: WriteOptions,
    extra: impl FnOnce(&mut Writer<std::fs::File>),
) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = Writer::new(f, opts).unwrap();
    w.write_default_aux(now_ms() / 1000, 1 << 20).unwrap();
    let mut dbs: Vec<u64> = items.iter().map(|i| i.db).collect();
    dbs.sort();
    dbs.dedup();
    for db in dbs {
        let here: Vec<&Item> = items.iter().filter(|i| i.db == db).collect();
        w.select_db(db).unwrap();
        w.resize_db(
            here.len() as u64,
            here.iter().filter(|i| i.expire_ms.is_some()).count() as u64,
        )
        .unwrap();
        for it in here {
            w.write_entry(&it.key, it.expire_ms, &it.value).unwrap();
        }
    }
    extra(&mut w);
    w.finish().unwrap();
}

fn check_loaded(r: &mut Redis, items: &[Item]) {
    for it in items {
        r.ok(&["SELECT", &it.db.to_string()]);
        let got = r
            .value(&it.key)
            .unwrap_or_else(|| panic!("{:?} missing", String::from_utf8_lossy(&it.key)));
        assert_eq!(
            normalize(&got),
            normalize(&it.value),
            "key {}",
            String::from_utf8_lossy(&it.key)
        );
        let pttl = r.ok(&[&b"PTTL"[..], &it.key]).int();
        match it.expire_ms {
            None => assert_eq!(pttl, -1),
            Some(ms) => {
                let want = ms - now_ms();
                assert!((want - pttl).abs() < 60_000, "ttl {pttl} vs {want}");
            }
        }
        if !matches!(it.value, Value::Str(_)) {
            let enc = r.ok(&[&b"OBJECT"[..], b"ENCODING", &it.key]).bulk();
            assert_eq!(
                String::from_utf8_lossy(&enc),
                it.encoding,
                "encoding of {}",
                String::from_utf8_lossy(&it.key)
            );
        }
    }
    let total: i64 = [0, 1, 5]
        .iter()
        .map(|db| {
            r.ok(&["SELECT", &db.to_string()]);
            r.ok(&["DBSIZE"]).int()
        })
        .sum();
    assert_eq!(total as usize, items.len());
}

#[test]
fn redis_loads_our_files_with_and_without_compression() {
    let items = dataset();
    for compression in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ours.rdb");
        let opts = WriteOptions {
            compression,
            ..Default::default()
        };
        write_file(&path, &items, opts, |_| {});
        redis_check_rdb(&path);
        let mut r = Redis::start_with(Some(&path));
        check_loaded(&mut r, &items);
    }
}

#[test]
fn redis_loads_our_file_without_checksum() {
    let items = dataset();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nocrc.rdb");
    let opts = WriteOptions {
        checksum: false,
        ..Default::default()
    };
    write_file(&path, &items, opts, |_| {});
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[bytes.len() - 8..], &[0u8; 8]);
    let mut r = Redis::start_with(Some(&path));
    check_loaded(&mut r, &items);
}

fn sample_stream() -> snapkv_rdb::Stream {
    let mut s = snapkv_rdb::Stream::default();
    for i in 0..250u64 {
        let fields = if i % 10 == 3 {
            vec![(b"other".to_vec(), format!("{i}").into_bytes())]
        } else {
            vec![
                (b"name".to_vec(), format!("n{i}").into_bytes()),
                (b"v".to_vec(), format!("{}", i * 2).into_bytes()),
            ]
        };
        s.entries.push(StreamEntry {
            id: StreamId::new(1_700_000_000_000 + i / 3, i % 3),
            fields,
        });
    }
    s.length = s.entries.len() as u64;
    s.first_id = s.entries[0].id;
    s.last_id = s.entries.last().unwrap().id;
    s.entries_added = s.length;
    let pel_id = s.entries[5].id;
    s.groups.push(snapkv_rdb::ConsumerGroup {
        name: b"g1".to_vec(),
        last_id: s.entries[10].id,
        entries_read: 11,
        pel: vec![snapkv_rdb::PendingEntry {
            id: pel_id,
            delivery_time: now_ms() - 1000,
            delivery_count: 2,
        }],
        consumers: vec![snapkv_rdb::Consumer {
            name: b"alice".to_vec(),
            seen_time: now_ms() - 500,
            active_time: now_ms() - 500,
            pel: vec![pel_id],
        }],
    });
    s
}

#[test]
fn redis_loads_our_streams() {
    let s = sample_stream();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stream.rdb");
    write_file(&path, &[], WriteOptions::default(), |w| {
        w.select_db(0).unwrap();
        w.write_stream(b"st", None, &s).unwrap();
    });
    redis_check_rdb(&path);
    let mut r = Redis::start_with(Some(&path));
    assert_eq!(r.ok(&["TYPE", "st"]).status(), "stream");
    assert_eq!(r.ok(&["XLEN", "st"]).int(), 250);
    let range = r.ok(&["XRANGE", "st", "-", "+"]).array();
    assert_eq!(range.len(), s.entries.len());
    for (got, want) in range.iter().zip(&s.entries) {
        let parts = got.array();
        assert_eq!(parts[0].bulk(), want.id.to_string().into_bytes());
        let flat: Vec<Vec<u8>> = want
            .fields
            .iter()
            .flat_map(|(f, v)| [f.clone(), v.clone()])
            .collect();
        assert_eq!(parts[1].bulks(), flat);
    }
    let pending = r.ok(&["XPENDING", "st", "g1"]).array();
    assert_eq!(pending[0].int(), 1);
    let consumers = r.ok(&["XINFO", "CONSUMERS", "st", "g1"]).array();
    assert_eq!(consumers.len(), 1);
}

#[test]
fn redis_loads_entries_written_from_borrowed_data() {
    use std::collections::{HashMap, VecDeque};
    let list: VecDeque<Vec<u8>> = (0..500).map(|i| format!("e{i}").into_bytes()).collect();
    let hash: HashMap<Vec<u8>, Vec<u8>> = (0..10)
        .map(|i| (format!("f{i}").into_bytes(), vec![b'v'; i]))
        .collect();
    let zset: Vec<(&[u8], f64)> = vec![(b"b", 2.0), (b"a", 1.0), (b"c", -0.5)];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("borrowed.rdb");
    write_file(&path, &[], WriteOptions::default(), |w| {
        w.select_db(0).unwrap();
        w.write_int_string(b"i:small", None, -5).unwrap();
        w.write_int_string(b"i:big", None, i64::MAX).unwrap();
        w.write_int_string(b"i:min", None, i64::MIN).unwrap();
        w.write_string_entry(b"s", Some(now_ms() + 100_000), b"borrowed")
            .unwrap();
        w.write_list(b"l", None, list.iter()).unwrap();
        w.write_hash(b"h", None, hash.iter()).unwrap();
        w.write_zset(b"z", None, zset.iter().copied()).unwrap();
        w.write_set(b"set", None, ["10", "3", "-1"].iter()).unwrap();
    });
    redis_check_rdb(&path);
    let mut r = Redis::start_with(Some(&path));
    assert_eq!(r.ok(&["GET", "i:small"]).bulk(), b"-5");
    assert_eq!(
        r.ok(&["GET", "i:big"]).bulk(),
        i64::MAX.to_string().into_bytes()
    );
    assert_eq!(
        r.ok(&["GET", "i:min"]).bulk(),
        i64::MIN.to_string().into_bytes()
    );
    assert_eq!(r.ok(&["INCR", "i:small"]).int(), -4);
    let pttl = r.ok(&["PTTL", "s"]).int();
    assert!(pttl > 0 && pttl <= 100_000);
    assert_eq!(
        r.ok(&["LRANGE", "l", "0", "-1"]).bulks(),
        list.iter().cloned().collect::<Vec<_>>()
    );
    assert_eq!(r.ok(&["HLEN", "h"]).int(), 10);
    assert_eq!(r.ok(&["HGET", "h", "f7"]).bulk(), vec![b'v'; 7]);
    assert_eq!(
        r.ok(&["ZRANGE", "z", "0", "-1"]).bulks(),
        vec![b"c".to_vec(), b"a".to_vec(), b"b".to_vec()]
    );
    assert_eq!(r.ok(&["OBJECT", "ENCODING", "set"]).bulk(), b"intset");
    assert_eq!(r.ok(&["SISMEMBER", "set", "-1"]).int(), 1);
}
