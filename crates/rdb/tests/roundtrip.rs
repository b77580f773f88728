//! Property tests: generated datasets of every type, under encoding options that force
//! every encoding (tiny thresholds, tiny list nodes, compression on/off), written then read
//! back equal; DUMP payloads likewise; chunks from raw writers splice into one valid file.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::normalize;
use proptest::prelude::*;
use snapkv_rdb::{
    dump_payload_with, parse_dump_payload, read_entries, Checksum, Consumer, ConsumerGroup,
    Encoder, PendingEntry, Stream, StreamEntry, StreamId, Value, WriteOptions, Writer,
};

fn elem() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..24),
        2 => any::<i64>().prop_map(|i| i.to_string().into_bytes()),
        2 => (-300i64..300).prop_map(|i| i.to_string().into_bytes()),
        1 => (1usize..3000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
        1 => proptest::collection::vec(any::<u8>(), 60..200),
    ]
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>().prop_filter("no NaN", |f| !f.is_nan()),
        2 => (-1000i64..1000).prop_map(|i| i as f64),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
    ]
}

fn stream() -> impl Strategy<Value = Stream> {
    (
        proptest::collection::vec(
            (
                0u64..3,
                0u64..3,
                proptest::collection::vec((elem(), elem()), 0..4),
            ),
            0..40,
        ),
        proptest::collection::vec(elem(), 0..3),
    )
        .prop_map(|(steps, group_names)| {
            let mut s = Stream::default();
            let mut id = StreamId::new(1_000, 0);
            for (dms, dseq, fields) in steps {
                id = if dms == 0 {
                    StreamId::new(id.ms, id.seq + 1 + dseq)
                } else {
                    StreamId::new(id.ms + dms, dseq)
                };
                s.entries.push(StreamEntry { id, fields });
            }
            s.length = s.entries.len() as u64;
            s.last_id = id;
            s.first_id = s.entries.first().map(|e| e.id).unwrap_or_default();
            s.max_deleted_id = StreamId::new(7, 1);
            s.entries_added = s.length + 3;
            let names: BTreeSet<Vec<u8>> = group_names.into_iter().collect();
            for name in names {
                let pel: Vec<PendingEntry> = s
                    .entries
                    .iter()
                    .take(2)
                    .map(|e| PendingEntry {
                        id: e.id,
                        delivery_time: 1_700_000_000_000,
                        delivery_count: 3,
                    })
                    .collect();
                s.groups.push(ConsumerGroup {
                    name: name.clone(),
                    last_id: id,
                    entries_read: if name.len() % 2 == 0 { -1 } else { 5 },
                    consumers: vec![Consumer {
                        name: b"c".to_vec(),
                        seen_time: 1_700_000_000_001,
                        active_time: 1_700_000_000_001,
                        pel: pel.iter().map(|p| p.id).collect(),
                    }],
                    pel,
                });
            }
            s
        })
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => elem().prop_map(Value::Str),
        2 => proptest::collection::vec(elem(), 0..60).prop_map(Value::List),
        2 => proptest::collection::btree_set(elem(), 0..40).prop_map(|s| Value::Set(s.into_iter().collect())),
        1 => proptest::collection::btree_set(-1000i64..1000, 1..40)
            .prop_map(|s| Value::Set(s.into_iter().map(|i| i.to_string().into_bytes()).collect())),
        2 => proptest::collection::btree_map(elem(), elem(), 0..30).prop_map(|m| Value::Hash(m.into_iter().collect())),
        2 => proptest::collection::btree_map(elem(), score(), 0..30).prop_map(|m| Value::ZSet(m.into_iter().collect())),
        1 => stream().prop_map(|s| Value::Stream(Box::new(s))),
    ]
}

fn options() -> impl Strategy<Value = WriteOptions> {
    (
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(0usize), Just(4), Just(128)],
        prop_oneof![Just(0usize), Just(8), Just(64)],
        prop_oneof![Just(0usize), Just(4), Just(512)],
        prop_oneof![Just(-2i64), Just(-1), Just(1), Just(3), Just(10)],
        prop_oneof![Just(1usize), Just(5), Just(100)],
    )
        .prop_map(
            |(compression, checksum, entries, value_len, intset, list, stream_n)| WriteOptions {
                compression,
                checksum,
                hash_max_listpack_entries: entries,
                hash_max_listpack_value: value_len,
                set_max_intset_entries: intset,
                zset_max_listpack_entries: entries,
                zset_max_listpack_value: value_len,
                list_max_listpack_size: list,
                stream_node_max_entries: stream_n,
                stream_node_max_bytes: if stream_n == 5 { 64 } else { 4096 },
                key_save_delay: 0,
            },
        )
}

type Dataset = BTreeMap<(u64, Vec<u8>), (Option<i64>, Value)>;

fn dataset() -> impl Strategy<Value = Dataset> {
    proptest::collection::btree_map(
        (0u64..4, proptest::collection::vec(any::<u8>(), 0..12)),
        (proptest::option::of(0i64..4_000_000_000_000), value()),
        0..12,
    )
}

fn write(data: &Dataset, opts: WriteOptions) -> Vec<u8> {
    let mut w = Writer::new(Vec::new(), opts).unwrap();
    w.write_default_aux(1_700_000_000, 12345).unwrap();
    let mut cur = None;
    for ((db, key), (exp, v)) in data {
        if cur != Some(*db) {
            w.select_db(*db).unwrap();
            cur = Some(*db);
        }
        w.write_entry(key, *exp, v).unwrap();
    }
    w.finish().unwrap()
}

fn check_read(bytes: &[u8], data: &Dataset, checksum: bool) {
    let (entries, ck) = read_entries(bytes).unwrap();
    if checksum {
        assert!(matches!(ck, Checksum::Verified(_)));
    } else {
        assert_eq!(ck, Checksum::NotChecked);
    }
    assert_eq!(entries.len(), data.len());
    for e in entries {
        let (exp, v) = &data[&(e.db, e.key.clone())];
        assert_eq!(e.expire_ms, *exp);
        assert_eq!(normalize(&e.value), normalize(v));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn write_then_read_is_identity(data in dataset(), opts in options()) {
        let checksum = opts.checksum;
        let bytes = write(&data, opts);
        check_read(&bytes, &data, checksum);
    }

    #[test]
    fn dump_then_parse_is_identity(v in value(), opts in options()) {
        let mut enc = Encoder::new(opts);
        let payload = dump_payload_with(&v, &mut enc);
        let back = parse_dump_payload(&payload).unwrap();
        prop_assert_eq!(normalize(&back), normalize(&v));
    }

    #[test]
    fn raw_chunks_splice_into_one_file(data in dataset()) {
        // Each db encoded by its own raw writer, then concatenated by the file writer.
        let mut chunks: BTreeMap<u64, Writer<Vec<u8>>> = BTreeMap::new();
        for ((db, key), (exp, v)) in &data {
            let w = chunks.entry(*db).or_insert_with(|| {
                let mut w = Writer::new_raw(Vec::new(), WriteOptions::default());
                w.select_db(*db).unwrap();
                w
            });
            w.write_entry(key, *exp, v).unwrap();
        }
        let mut file = Writer::new(Vec::new(), WriteOptions::default()).unwrap();
        for (_, w) in chunks {
            file.write_raw(&w.into_inner().unwrap()).unwrap();
        }
        let bytes = file.finish().unwrap();
        check_read(&bytes, &data, true);
    }
}
