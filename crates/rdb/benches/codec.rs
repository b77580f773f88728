//! Encode and decode throughput (MB/s of RDB bytes) on a mixed dataset: strings, integers,
//! small and large hashes, lists, sets and sorted sets, a few with TTLs.
//!
//! `SNAPKV_BENCH_MB` sets the approximate dataset size (default 8).
//! Run: `cargo bench -p snapkv-rdb --bench codec`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use snapkv_rdb::{Event, Reader, Value, WriteOptions, Writer};

// The dataset is shared with examples/compare_redis.rs.
mod mixed;
use mixed::mixed_dataset;

fn encode(data: &[(Vec<u8>, Option<i64>, Value)], out: Vec<u8>, compression: bool) -> Vec<u8> {
    let opts = WriteOptions {
        compression,
        ..Default::default()
    };
    let mut w = Writer::new(out, opts).unwrap();
    w.write_default_aux(1_700_000_000, 0).unwrap();
    w.select_db(0).unwrap();
    for (k, ttl, v) in data {
        w.write_entry(k, *ttl, v).unwrap();
    }
    w.finish().unwrap()
}

fn decode(bytes: &[u8]) -> u64 {
    let mut r = Reader::new(bytes).unwrap();
    let mut n = 0;
    while let Some(ev) = r.next_event().unwrap() {
        if let Event::Entry(_) = ev {
            n += 1;
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let mb: f64 = std::env::var("SNAPKV_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8.0);
    let data = mixed_dataset((mb * 1e6) as usize);
    for compression in [true, false] {
        let file = encode(&data, Vec::new(), compression);
        let name = if compression { "lzf" } else { "plain" };
        let mut g = c.benchmark_group(format!("rdb-{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Bytes(file.len() as u64));
        g.bench_function("encode", |b| {
            let mut buf = Vec::with_capacity(file.len() + 1024);
            b.iter(|| {
                buf.clear();
                buf = encode(&data, std::mem::take(&mut buf), compression);
            })
        });
        g.bench_function("decode", |b| {
            b.iter(|| assert_eq!(decode(&file), data.len() as u64))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
