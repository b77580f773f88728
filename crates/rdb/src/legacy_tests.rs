//! Reader tests on hand-built files in the pre-7.0 encodings Redis no longer writes
//! (zipmap, ziplists, quicklist v1, old ZSET scores, EXPIRETIME in seconds, RDB < 5 without
//! checksum), opcodes (IDLE, FREQ, MODULE_AUX, SLOT_INFO), and hostile lengths.

use crate::consts::*;
use crate::crc64::crc64;
use crate::encode::put_len;
use crate::error::ErrorKind;
use crate::listpack::{ListpackBuilder, LpValue};
use crate::reader::{read_entries, Checksum, Event, Reader};
use crate::value::Value;
use crate::ziplist::tests::build as ziplist;

fn raw(out: &mut Vec<u8>, s: &[u8]) {
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn v(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// A version-`ver` file holding one key of each legacy type; returns it and the values.
fn legacy_file(ver: u32) -> (Vec<u8>, Vec<(Vec<u8>, Value)>) {
    let mut f = format!("REDIS{ver:04}").into_bytes();
    let mut want = Vec::new();
    f.push(OPCODE_SELECTDB);
    put_len(&mut f, 0);
    f.push(OPCODE_EXPIRETIME);
    f.extend_from_slice(&2_000_000_000i32.to_le_bytes());
    f.push(TYPE_STRING);
    raw(&mut f, b"str");
    raw(&mut f, b"value");
    want.push((v("str"), Value::Str(v("value"))));

    f.push(TYPE_LIST);
    raw(&mut f, b"list");
    put_len(&mut f, 2);
    raw(&mut f, b"a");
    f.extend_from_slice(&[0xC0, 0xF6]); // INT8 -10
    want.push((v("list"), Value::List(vec![v("a"), v("-10")])));

    f.push(TYPE_SET);
    raw(&mut f, b"set");
    put_len(&mut f, 1);
    raw(&mut f, b"m");
    want.push((v("set"), Value::Set(vec![v("m")])));

    f.push(TYPE_ZSET);
    raw(&mut f, b"zset");
    put_len(&mut f, 3);
    raw(&mut f, b"a");
    f.push(3);
    f.extend_from_slice(b"1.5");
    raw(&mut f, b"b");
    f.push(254);
    raw(&mut f, b"c");
    f.push(255);
    want.push((
        v("zset"),
        Value::ZSet(vec![
            (v("a"), 1.5),
            (v("b"), f64::INFINITY),
            (v("c"), f64::NEG_INFINITY),
        ]),
    ));

    f.push(TYPE_HASH);
    raw(&mut f, b"hash");
    put_len(&mut f, 1);
    raw(&mut f, b"f");
    raw(&mut f, b"v");
    want.push((v("hash"), Value::Hash(vec![(v("f"), v("v"))])));

    f.push(TYPE_HASH_ZIPMAP);
    raw(&mut f, b"zipmap");
    raw(&mut f, &[1, 2, b'k', b'1', 1, 0, b'x', 255]);
    want.push((v("zipmap"), Value::Hash(vec![(v("k1"), v("x"))])));

    f.push(OPCODE_IDLE);
    put_len(&mut f, 77);
    f.push(TYPE_LIST_ZIPLIST);
    raw(&mut f, b"ziplist");
    raw(
        &mut f,
        &ziplist(&[LpValue::Str(b"x"), LpValue::Int(5000), LpValue::Int(-3)]),
    );
    want.push((v("ziplist"), Value::List(vec![v("x"), v("5000"), v("-3")])));

    f.push(TYPE_SET_INTSET);
    raw(&mut f, b"intset");
    let mut blob = Vec::new();
    crate::intset::encode(&mut vec![5, -1, 70000], &mut blob);
    raw(&mut f, &blob);
    want.push((v("intset"), Value::Set(vec![v("-1"), v("5"), v("70000")])));

    f.push(OPCODE_FREQ);
    f.push(9);
    f.push(TYPE_ZSET_ZIPLIST);
    raw(&mut f, b"zsetzl");
    raw(
        &mut f,
        &ziplist(&[
            LpValue::Str(b"m1"),
            LpValue::Int(1),
            LpValue::Str(b"m2"),
            LpValue::Str(b"2.5"),
        ]),
    );
    want.push((
        v("zsetzl"),
        Value::ZSet(vec![(v("m1"), 1.0), (v("m2"), 2.5)]),
    ));

    f.push(TYPE_HASH_ZIPLIST);
    raw(&mut f, b"hashzl");
    raw(&mut f, &ziplist(&[LpValue::Str(b"f"), LpValue::Int(12)]));
    want.push((v("hashzl"), Value::Hash(vec![(v("f"), v("12"))])));

    f.push(TYPE_LIST_QUICKLIST);
    raw(&mut f, b"quick1");
    put_len(&mut f, 2);
    raw(&mut f, &ziplist(&[LpValue::Str(b"a"), LpValue::Str(b"b")]));
    raw(&mut f, &ziplist(&[LpValue::Int(1)]));
    want.push((v("quick1"), Value::List(vec![v("a"), v("b"), v("1")])));

    // 7.x additions, also allowed anywhere by the reader.
    f.push(OPCODE_MODULE_AUX);
    put_len(&mut f, 12345 << 10);
    put_len(&mut f, MODULE_OPCODE_UINT);
    put_len(&mut f, 2);
    put_len(&mut f, MODULE_OPCODE_SINT);
    put_len(&mut f, 99);
    put_len(&mut f, MODULE_OPCODE_STRING);
    raw(&mut f, b"blob");
    put_len(&mut f, MODULE_OPCODE_DOUBLE);
    f.extend_from_slice(&1.5f64.to_le_bytes());
    put_len(&mut f, MODULE_OPCODE_FLOAT);
    f.extend_from_slice(&1.5f32.to_le_bytes());
    put_len(&mut f, MODULE_OPCODE_EOF);
    f.push(OPCODE_SLOT_INFO);
    for x in [1, 2, 3] {
        put_len(&mut f, x);
    }
    f.push(TYPE_SET_LISTPACK);
    raw(&mut f, b"setlp");
    let mut lp = ListpackBuilder::new();
    lp.push(b"a");
    lp.push(b"17");
    raw(&mut f, lp.finish());
    want.push((v("setlp"), Value::Set(vec![v("a"), v("17")])));

    f.push(TYPE_LIST_QUICKLIST_2);
    raw(&mut f, b"quick2");
    put_len(&mut f, 2);
    put_len(&mut f, QUICKLIST_NODE_PLAIN);
    raw(&mut f, b"plain element");
    put_len(&mut f, QUICKLIST_NODE_PACKED);
    raw(&mut f, lp.finish());
    want.push((
        v("quick2"),
        Value::List(vec![v("plain element"), v("a"), v("17")]),
    ));

    // A compressed string as the C library writes it (literal + overlapping back reference).
    f.push(TYPE_STRING);
    raw(&mut f, b"lzf");
    f.push(0xC3);
    put_len(&mut f, 5);
    put_len(&mut f, 53);
    f.extend_from_slice(&[0, b'a', 0xe0, 0x2b, 0]);
    want.push((v("lzf"), Value::Str(vec![b'a'; 53])));

    f.push(OPCODE_EOF);
    if ver >= 5 {
        let crc = crc64(&f);
        f.extend_from_slice(&crc.to_le_bytes());
    }
    (f, want)
}

#[test]
fn reads_legacy_encodings() {
    for ver in [4, 6, 9] {
        let (file, want) = legacy_file(ver);
        let (entries, ck) = read_entries(&file[..]).unwrap();
        assert_eq!(
            ck,
            if ver < 5 {
                Checksum::Absent
            } else {
                Checksum::Verified(crc64(&file[..file.len() - 8]))
            }
        );
        assert_eq!(entries.len(), want.len());
        for (e, (k, v)) in entries.iter().zip(&want) {
            assert_eq!(&e.key, k);
            assert_eq!(&e.value, v, "{}", String::from_utf8_lossy(k));
        }
        assert_eq!(entries[0].expire_ms, Some(2_000_000_000_000));
        assert_eq!(entries[1].expire_ms, None);
        let zl = entries.iter().find(|e| e.key == b"ziplist").unwrap();
        assert_eq!(zl.idle, Some(77));
        let zz = entries.iter().find(|e| e.key == b"zsetzl").unwrap();
        assert_eq!(zz.freq, Some(9));
    }
    let (file, _) = legacy_file(9);
    let events: Vec<Event> = Reader::new(&file[..])
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert!(events.iter().any(|e| matches!(e, Event::ModuleAux { .. })));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::SlotInfo {
            slot: 1,
            size: 2,
            expires_size: 3
        }
    )));
}

#[test]
fn module_values_are_a_typed_error() {
    let mut f = b"REDIS0009".to_vec();
    f.push(TYPE_MODULE_2);
    raw(&mut f, b"k");
    // "hellotype" packed as moduleTypeNameByID expects, encver 0.
    let cset = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id: u64 = 0;
    for c in b"hellotype" {
        id = (id << 6) | cset.iter().position(|x| x == c).unwrap() as u64;
    }
    put_len(&mut f, id << 10);
    let err = read_entries(&f[..]).unwrap_err();
    match err.kind {
        ErrorKind::ModuleType { name } => assert_eq!(name, "hellotype"),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.offset, 12); // where the module value starts
}

#[test]
fn hostile_lengths_fail_fast_without_allocating() {
    let cases: Vec<Vec<u8>> = vec![
        // string of 2^62 bytes
        [&b"REDIS0010\x00\x01k\x81"[..], &(1u64 << 62).to_be_bytes()].concat(),
        // list of 2^40 elements, then nothing
        [&b"REDIS0010\x01\x01k\x81"[..], &(1u64 << 40).to_be_bytes()].concat(),
        // LZF claiming a 4 GiB result from 5 bytes
        b"REDIS0010\x00\x01k\xC3\x05\x80\xff\xff\xff\xff\x00a\xe0\x2b\x00".to_vec(),
        // a listpack blob whose header claims 4 GiB
        b"REDIS0010\x10\x01k\x07\xff\xff\xff\xff\x00\x00\xff".to_vec(),
        // intset with a huge count
        b"REDIS0010\x0b\x01k\x08\x02\x00\x00\x00\xff\xff\xff\xff".to_vec(),
        // bad magic / version
        b"REDIX0010".to_vec(),
        b"REDIS0099".to_vec(),
        b"REDIS00".to_vec(),
    ];
    for c in cases {
        let err = read_entries(&c[..]).unwrap_err();
        assert!(err.offset <= c.len() as u64, "{err}");
    }
}

#[test]
fn checksum_mismatch_is_reported_with_offset() {
    let (mut file, _) = legacy_file(9);
    let n = file.len();
    file[n - 1] ^= 1;
    let err = read_entries(&file[..]).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::ChecksumMismatch { .. }));
    assert_eq!(err.offset, (n - 8) as u64);
}

#[test]
fn mutated_legacy_files_never_panic() {
    let (file, _) = legacy_file(9);
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..3000 {
        let mut f = file.clone();
        for _ in 0..1 + rnd() % 4 {
            if f.len() <= 10 {
                break;
            }
            let i = 9 + (rnd() as usize) % (f.len() - 9);
            match rnd() % 3 {
                0 => f[i] = rnd() as u8,
                1 => f[i] ^= 1 << (rnd() % 8),
                _ => f.truncate(i),
            }
        }
        let _ = read_entries(&f[..]);
    }
}

#[test]
fn reads_hash_field_ttls_of_redis_7_4() {
    let mut f = b"REDIS0012".to_vec();
    // HASH_METADATA: min expiry, then (ttl relative to min + 1 | 0, field, value).
    f.push(TYPE_HASH_METADATA);
    raw(&mut f, b"hm");
    f.extend_from_slice(&1_000i64.to_le_bytes());
    put_len(&mut f, 2);
    put_len(&mut f, 1);
    raw(&mut f, b"a");
    raw(&mut f, b"1");
    put_len(&mut f, 0);
    raw(&mut f, b"b");
    raw(&mut f, b"2");
    // Pre-GA: absolute times.
    f.push(TYPE_HASH_METADATA_PRE_GA);
    raw(&mut f, b"hp");
    put_len(&mut f, 1);
    put_len(&mut f, 5_000);
    raw(&mut f, b"c");
    raw(&mut f, b"3");
    // LISTPACK_EX: min expiry then (field, value, ttl|0) triples.
    let mut lp = ListpackBuilder::new();
    for x in [&b"d"[..], b"4", b"7000", b"e", b"5", b"0"] {
        lp.push(x);
    }
    f.push(TYPE_HASH_LISTPACK_EX);
    raw(&mut f, b"hl");
    f.extend_from_slice(&7_000i64.to_le_bytes());
    raw(&mut f, lp.finish());
    f.push(TYPE_HASH_LISTPACK_EX_PRE_GA);
    raw(&mut f, b"hq");
    raw(&mut f, lp.finish());
    f.push(OPCODE_EOF);
    f.extend_from_slice(&[0; 8]);
    let (entries, ck) = read_entries(&f[..]).unwrap();
    assert_eq!(ck, Checksum::NotChecked);
    let t = |f: &str, v: &str, e| (f.as_bytes().to_vec(), v.as_bytes().to_vec(), e);
    assert_eq!(
        entries[0].value,
        Value::HashWithTtl(vec![t("a", "1", Some(1_000)), t("b", "2", None)])
    );
    assert_eq!(
        entries[1].value,
        Value::HashWithTtl(vec![t("c", "3", Some(5_000))])
    );
    let lp_want = Value::HashWithTtl(vec![t("d", "4", Some(7_000)), t("e", "5", None)]);
    assert_eq!(entries[2].value, lp_want);
    assert_eq!(entries[3].value, lp_want);
    assert_eq!(entries[3].value.type_name(), "hash");
}

/// A stream value in the 5.0 (v1) and 7.2 (v3) layouts, built by hand around one node.
fn stream_value(ty: u8) -> Vec<u8> {
    let mut f = vec![ty];
    raw(&mut f, b"st");
    put_len(&mut f, 1);
    raw(&mut f, &crate::value::StreamId::new(100, 0).to_be_bytes());
    let mut lp = ListpackBuilder::new();
    // master: count deleted nfields "f" 0
    for x in [1i64, 1, 1] {
        lp.push_int(x);
    }
    lp.push(b"f");
    lp.push_int(0);
    // live entry 100-0, same fields as the master
    for x in [2i64, 0, 0] {
        lp.push_int(x);
    }
    lp.push(b"v0");
    lp.push_int(4);
    // deleted entry 101-5 with its own fields
    for x in [1i64, 1, 5, 1] {
        lp.push_int(x);
    }
    lp.push(b"g");
    lp.push(b"v1");
    lp.push_int(6);
    raw(&mut f, lp.finish());
    put_len(&mut f, 1); // length
    put_len(&mut f, 101); // last id
    put_len(&mut f, 5);
    if ty >= TYPE_STREAM_LISTPACKS_2 {
        for x in [100, 0, 101, 5, 2] {
            put_len(&mut f, x); // first id, max deleted id, entries added
        }
    }
    put_len(&mut f, 1); // groups
    raw(&mut f, b"grp");
    put_len(&mut f, 100);
    put_len(&mut f, 0);
    if ty >= TYPE_STREAM_LISTPACKS_2 {
        put_len(&mut f, 1); // entries read
    }
    put_len(&mut f, 1); // group PEL
    f.extend_from_slice(&crate::value::StreamId::new(100, 0).to_be_bytes());
    f.extend_from_slice(&1_700_000_000_000i64.to_le_bytes());
    put_len(&mut f, 3);
    put_len(&mut f, 1); // consumers
    raw(&mut f, b"alice");
    f.extend_from_slice(&1_700_000_000_500i64.to_le_bytes());
    if ty >= TYPE_STREAM_LISTPACKS_3 {
        f.extend_from_slice(&1_700_000_000_400i64.to_le_bytes());
    }
    put_len(&mut f, 1);
    f.extend_from_slice(&crate::value::StreamId::new(100, 0).to_be_bytes());
    f
}

#[test]
fn reads_streams_of_every_version() {
    for (ty, ver) in [
        (TYPE_STREAM_LISTPACKS, 9),
        (TYPE_STREAM_LISTPACKS_2, 10),
        (TYPE_STREAM_LISTPACKS_3, 11),
    ] {
        let mut f = format!("REDIS{ver:04}").into_bytes();
        f.extend_from_slice(&stream_value(ty));
        f.push(OPCODE_EOF);
        let crc = crc64(&f);
        f.extend_from_slice(&crc.to_le_bytes());
        let (entries, _) = read_entries(&f[..]).unwrap();
        let Value::Stream(s) = &entries[0].value else {
            panic!("not a stream")
        };
        assert_eq!(s.entries.len(), 1, "deleted entries are skipped");
        assert_eq!(s.entries[0].id.to_string(), "100-0");
        assert_eq!(s.entries[0].fields, vec![(v("f"), v("v0"))]);
        assert_eq!(s.last_id.to_string(), "101-5");
        assert_eq!(s.first_id.to_string(), "100-0");
        let g = &s.groups[0];
        assert_eq!(g.name, v("grp"));
        assert_eq!(g.pel[0].delivery_count, 3);
        assert_eq!(
            g.entries_read,
            if ty == TYPE_STREAM_LISTPACKS { -1 } else { 1 }
        );
        let c = &g.consumers[0];
        assert_eq!(c.seen_time, 1_700_000_000_500);
        let active = if ty == TYPE_STREAM_LISTPACKS_3 {
            1_700_000_000_400
        } else {
            1_700_000_000_500
        };
        assert_eq!(c.active_time, active);
        assert_eq!(c.pel.len(), 1);
        if ty >= TYPE_STREAM_LISTPACKS_2 {
            assert_eq!(s.max_deleted_id.to_string(), "101-5");
            assert_eq!(s.entries_added, 2);
        }
    }
}
