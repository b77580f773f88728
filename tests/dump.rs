//! DUMP/RESTORE across servers: a payload DUMPed by snapkv RESTOREs in real Redis 7.0 and
//! the other way round, for every string encoding (int, short, long, LZF-compressible),
//! with TTLs carried by PTTL.

use snapkv_e2e::{Server, Value};

fn values() -> Vec<Vec<u8>> {
    vec![
        b"".to_vec(),
        b"0".to_vec(),
        b"-123456789".to_vec(),
        b"9223372036854775807".to_vec(),
        b"12345678901234567890".to_vec(),
        b"short".to_vec(),
        vec![b'a'; 100],
        (0..5000u32).flat_map(|i| (i % 251).to_le_bytes()).collect(),
        b"the quick brown fox jumps over the lazy dog; the quick brown fox again".to_vec(),
    ]
}

#[test]
fn payloads_cross_between_snapkv_and_redis() {
    let snapkv = Server::snapkv(&[]);
    let redis = Server::redis(&[]);
    for (dir, (from, to)) in [
        ("snapkv→redis", (&snapkv, &redis)),
        ("redis→snapkv", (&redis, &snapkv)),
    ] {
        let mut a = from.conn();
        let mut b = to.conn();
        for (i, v) in values().into_iter().enumerate() {
            let key = format!("k{i}");
            a.cmd(&[b"SET".to_vec(), key.clone().into_bytes(), v.clone()]);
            let payload = a.cmd(&["DUMP", &key]);
            let Value::Bulk(payload) = payload else {
                panic!("{dir}: DUMP {key}: {payload}")
            };
            let r = b.cmd(&[
                b"RESTORE".to_vec(),
                key.clone().into_bytes(),
                b"60000".to_vec(),
                payload,
                b"REPLACE".to_vec(),
            ]);
            assert_eq!(r, Value::Simple("OK".into()), "{dir}: RESTORE {key}");
            assert_eq!(
                b.cmd(&["GET", &key]),
                Value::Bulk(v.clone()),
                "{dir}: value of {key}"
            );
            let ttl = b.cmd(&["PTTL", &key]).as_int().unwrap();
            assert!((59_000..=60_000).contains(&ttl), "{dir}: ttl {ttl}");
        }
    }
}
