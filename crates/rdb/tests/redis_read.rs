//! Cross-checks (b) and (c): dumps SAVEd by a real Redis 7.0 holding every type in every
//! encoding (LZF on and off, TTLs, several dbs, streams with groups, LRU/LFU metadata,
//! functions) read back identically; DUMP payloads go both ways.

mod common;

use std::collections::HashMap;

use common::dataset::{build_commands, dataset, now_ms};
use common::{normalize, Redis, Reply};
use snapkv_rdb::{dump_payload, parse_dump_payload, Checksum, Event, Reader, Stream, Value};

fn fill(r: &mut Redis, items: &[common::dataset::Item]) {
    for it in items {
        r.ok(&["SELECT", &it.db.to_string()]);
        r.pipeline(&build_commands(it));
    }
    r.ok(&["SELECT", "0"]);
}

/// A stream with deleted entries, field changes, two groups, PELs and consumers.
fn fill_stream(r: &mut Redis, key: &str) {
    for i in 0..300 {
        let id = format!("{}-{}", 1_000 + i / 2, i % 2);
        if i % 7 == 0 {
            r.ok(&["XADD", key, &id, "other", &i.to_string(), "x", "y"]);
        } else {
            r.ok(&[
                "XADD",
                key,
                &id,
                "name",
                &format!("n{i}"),
                "v",
                &(i * 3).to_string(),
            ]);
        }
    }
    for i in [3, 50, 51, 299] {
        r.ok(&["XDEL", key, &format!("{}-{}", 1_000 + i / 2, i % 2)]);
    }
    r.ok(&["XGROUP", "CREATE", key, "g1", "0"]);
    r.ok(&["XGROUP", "CREATE", key, "g2", "$"]);
    r.ok(&[
        "XREADGROUP",
        "GROUP",
        "g1",
        "alice",
        "COUNT",
        "5",
        "STREAMS",
        key,
        ">",
    ]);
    r.ok(&[
        "XREADGROUP",
        "GROUP",
        "g1",
        "bob",
        "COUNT",
        "3",
        "STREAMS",
        key,
        ">",
    ]);
    r.ok(&["XACK", key, "g1", "1000-0"]);
}

fn check_stream(r: &mut Redis, key: &str, s: &Stream) {
    let range = r.ok(&["XRANGE", key, "-", "+"]).array();
    assert_eq!(range.len(), s.entries.len());
    assert_eq!(s.length as usize, s.entries.len());
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
    let info = info_map(&r.ok(&["XINFO", "STREAM", key]));
    assert_eq!(
        info["last-generated-id"].bulk(),
        s.last_id.to_string().into_bytes()
    );
    assert_eq!(
        info["max-deleted-entry-id"].bulk(),
        s.max_deleted_id.to_string().into_bytes()
    );
    assert_eq!(info["entries-added"].int() as u64, s.entries_added);
    let groups = r.ok(&["XINFO", "GROUPS", key]).array();
    assert_eq!(groups.len(), s.groups.len());
    for (g, want) in groups.iter().zip(&s.groups) {
        let g = info_map(g);
        assert_eq!(g["name"].bulk(), want.name);
        assert_eq!(g["pending"].int() as usize, want.pel.len());
        assert_eq!(
            g["last-delivered-id"].bulk(),
            want.last_id.to_string().into_bytes()
        );
        assert_eq!(g["consumers"].int() as usize, want.consumers.len());
        let cons = r
            .ok(&[&b"XINFO"[..], b"CONSUMERS", key.as_bytes(), &want.name])
            .array();
        for (c, wc) in cons.iter().zip(&want.consumers) {
            let c = info_map(c);
            assert_eq!(c["name"].bulk(), wc.name);
            assert_eq!(c["pending"].int() as usize, wc.pel.len());
        }
    }
}

fn info_map(r: &Reply) -> HashMap<String, Reply> {
    r.array()
        .chunks(2)
        .map(|p| (String::from_utf8(p[0].bulk()).unwrap(), p[1].clone()))
        .collect()
}

#[test]
fn we_read_what_redis_saves() {
    let items = dataset();
    let mut r = Redis::start();
    fill(&mut r, &items);
    fill_stream(&mut r, "stream:1");
    r.ok(&["SELECT", "3"]);
    fill_stream(&mut r, "stream:db3");
    r.ok(&["SELECT", "0"]);
    r.ok(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=mylib\nredis.register_function('f1', function() return 1 end)",
    ]);
    // Redis SAVE still writes an already-expired key; the reader drops it on request.
    r.ok(&["SET", "gone", "x", "PX", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    for (compression, policy) in [("yes", "allkeys-lru"), ("no", "allkeys-lfu")] {
        r.ok(&["CONFIG", "SET", "rdbcompression", compression]);
        r.ok(&["CONFIG", "SET", "maxmemory-policy", policy]);
        r.ok(&["SAVE"]);
        let f = std::fs::File::open(r.rdb_path()).unwrap();
        let mut rd = Reader::new(f).unwrap();
        assert_eq!(rd.version(), 10);
        rd.drop_expired_before(now_ms());
        let progress = rd.progress();
        let mut got: HashMap<(u64, Vec<u8>), snapkv_rdb::Entry> = HashMap::new();
        let mut aux = HashMap::new();
        let mut functions = 0;
        let mut checksum = None;
        while let Some(ev) = rd.next_event().unwrap() {
            match ev {
                Event::Entry(e) => {
                    if policy == "allkeys-lru" {
                        assert!(e.idle.is_some() && e.freq.is_none());
                    } else {
                        assert!(e.freq.is_some() && e.idle.is_none());
                    }
                    got.insert((e.db, e.key.clone()), e);
                }
                Event::Aux { key, value } => {
                    aux.insert(key, value);
                }
                Event::Function(code) => {
                    assert!(code.starts_with(b"#!lua name=mylib"));
                    functions += 1;
                }
                Event::Eof { checksum: c } => checksum = Some(c),
                _ => {}
            }
        }
        assert!(matches!(checksum, Some(Checksum::Verified(_))));
        assert_eq!(rd.expired_dropped(), 1);
        assert_eq!(functions, 1);
        assert_eq!(aux[&b"redis-ver"[..].to_vec()], b"7.0.15");
        assert_eq!(progress.keys_loaded() as usize, got.len());
        assert_eq!(
            progress.bytes_read(),
            std::fs::metadata(r.rdb_path()).unwrap().len()
        );
        assert_eq!(
            got.len(),
            items.len() + 2,
            "keys: {:?}",
            got.keys().collect::<Vec<_>>()
        );
        for it in &items {
            let e = &got[&(it.db, it.key.clone())];
            assert_eq!(
                normalize(&e.value),
                normalize(&it.value),
                "{}",
                String::from_utf8_lossy(&it.key)
            );
            assert_eq!(e.expire_ms, it.expire_ms);
        }
        for (db, key) in [(0, "stream:1"), (3, "stream:db3")] {
            let Value::Stream(s) = &got[&(db, key.as_bytes().to_vec())].value else {
                panic!("not a stream")
            };
            r.ok(&["SELECT", &db.to_string()]);
            check_stream(&mut r, key, s);
            r.ok(&["SELECT", "0"]);
        }
    }
}

#[test]
fn dump_payloads_go_both_ways() {
    let items = dataset();
    let mut r = Redis::start();
    fill(&mut r, &items);
    fill_stream(&mut r, "st");
    // Payloads that carry no LZF or float text must match Redis byte for byte.
    let exact = [
        &b"s:small"[..],
        b"s:int",
        b"set:intset",
        b"h:small",
        b"l:small",
        b"set:strs",
    ];
    for it in &items {
        r.ok(&["SELECT", &it.db.to_string()]);
        let theirs = r.ok(&[&b"DUMP"[..], &it.key]).bulk();
        let parsed = parse_dump_payload(&theirs).unwrap();
        assert_eq!(
            normalize(&parsed),
            normalize(&it.value),
            "{}",
            String::from_utf8_lossy(&it.key)
        );
        let ours = dump_payload(&it.value);
        if exact.contains(&&it.key[..])
            && !matches!(it.value, Value::Set(_) if it.encoding == "hashtable")
        {
            assert_eq!(
                ours,
                theirs,
                "DUMP bytes of {}",
                String::from_utf8_lossy(&it.key)
            );
        }
        let copy = [&b"copy:"[..], &it.key].concat();
        r.ok(&[&b"RESTORE"[..], &copy, b"0", &ours]);
        assert_eq!(
            normalize(&r.value(&copy).unwrap()),
            normalize(&it.value),
            "RESTORE of {}",
            String::from_utf8_lossy(&it.key)
        );
        let enc = r.ok(&[&b"OBJECT"[..], b"ENCODING", &copy]).bulk();
        let orig = r.ok(&[&b"OBJECT"[..], b"ENCODING", &it.key]).bulk();
        assert_eq!(
            enc,
            orig,
            "encoding after RESTORE of {}",
            String::from_utf8_lossy(&it.key)
        );
    }
    r.ok(&["SELECT", "0"]);
    let theirs = r.ok(&["DUMP", "st"]).bulk();
    let Value::Stream(s) = parse_dump_payload(&theirs).unwrap() else {
        panic!("not a stream")
    };
    check_stream(&mut r, "st", &s);
    let ours = dump_payload(&Value::Stream(s.clone()));
    r.ok(&[&b"RESTORE"[..], b"st2", b"0", &ours]);
    check_stream(&mut r, "st2", &s);
    // A corrupted payload is refused by both sides.
    let mut bad = ours.clone();
    bad[3] ^= 0x40;
    assert!(parse_dump_payload(&bad).is_err());
    assert!(matches!(
        r.cmd(&[&b"RESTORE"[..], b"st3", b"0", &bad]),
        Reply::Error(_)
    ));
}
