//! Hot paths of one GET/SET: framing a pipelined request batch, encoding replies, and
//! keyspace lookups/inserts under the shard lock.

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use snapkv_keyspace::{Keyspace, KeyspaceConfig, SetExpiry, StrValue, Value};
use snapkv_protocol::{Reply, RequestParser, RespVersion};

fn request_parsing(c: &mut Criterion) {
    let mut batch = Vec::new();
    for i in 0..16 {
        let key = format!("key:{i:012}");
        batch.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$3\r\nxxx\r\n",
                key.len()
            )
            .as_bytes(),
        );
    }
    let mut g = c.benchmark_group("protocol");
    g.throughput(Throughput::Elements(16));
    g.bench_function("parse_16_set_pipeline", |b| {
        let mut p = RequestParser::default();
        b.iter(|| {
            let mut buf = BytesMut::from(&batch[..]);
            let mut n = 0;
            while let Ok(Some(args)) = p.next(&mut buf, true) {
                n += args.len();
            }
            n
        })
    });
    g.bench_function("encode_16_bulk_replies", |b| {
        let reply = Reply::bulk(&b"xxx"[..]);
        let mut out = BytesMut::with_capacity(1024);
        b.iter(|| {
            out.clear();
            for _ in 0..16 {
                reply.encode(RespVersion::Resp2, &mut out);
            }
            out.len()
        })
    });
    g.finish();
}

fn keyspace_ops(c: &mut Criterion) {
    let mut g = c.benchmark_group("keyspace");
    for &n in &[10_000usize, 1_000_000] {
        let ks = Keyspace::new(KeyspaceConfig::default());
        let keys: Vec<String> = (0..n).map(|i| format!("key:{i:012}")).collect();
        for k in &keys {
            ks.lock_keys(0, [k.as_bytes()]).insert(
                0,
                k.as_bytes(),
                Value::Str(StrValue::from_bytes(b"xxx")),
                SetExpiry::Clear,
            );
        }
        g.throughput(Throughput::Elements(1));
        let mut i = 0usize;
        g.bench_with_input(BenchmarkId::new("get_hit", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 7919) % n;
                let k = keys[i].as_bytes();
                let mut l = ks.lock_keys(0, [k]);
                l.get(0, k).map(|e| e.value.as_str().map(|s| s.len()))
            })
        });
        g.bench_with_input(BenchmarkId::new("set_overwrite", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 7919) % n;
                let k = keys[i].as_bytes();
                let mut l = ks.lock_keys(0, [k]);
                l.insert(
                    0,
                    k,
                    Value::Str(StrValue::from_bytes(b"yyy")),
                    SetExpiry::Clear,
                )
                .is_some()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, request_parsing, keyspace_ops);
criterion_main!(benches);
