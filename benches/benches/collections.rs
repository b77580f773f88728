//! Hot operations of each collection type, per encoding, through the keyspace views the
//! commands use: HSET/HGET, SADD/SISMEMBER, ZADD/ZSCORE/ZRANGE-by-score, list push/pop.
//! Small sizes run on the compact encodings (listpack, intset), large ones on the tables.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use snapkv_keyspace::types::{hash, set, zset, Limits};
use snapkv_keyspace::{SmallBytes, Value};

fn fields(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("field:{i}").into_bytes()).collect()
}

fn hashes(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("hash");
    for &n in &[10usize, 100, 10_000] {
        let f = fields(n);
        let v = hash::build(f.iter().map(|x| (&x[..], &b"value"[..])), &limits);
        let enc = v.encoding();
        g.bench_with_input(BenchmarkId::new(format!("hget/{enc}"), n), &n, |b, _| {
            let h = v.as_hash().unwrap();
            let mut i = 0;
            b.iter(|| {
                i = (i + 7) % n;
                h.get(&f[i]).is_some()
            })
        });
        g.bench_with_input(
            BenchmarkId::new(format!("hset-update/{enc}"), n),
            &n,
            |b, _| {
                let mut v = v.clone();
                let mut i = 0;
                b.iter(|| {
                    i = (i + 7) % n;
                    v.as_hash_mut().unwrap().set(&f[i], b"other", &limits)
                })
            },
        );
    }
    g.finish();
}

fn sets(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("set");
    for (name, members) in [
        (
            "ints-100",
            (0..100)
                .map(|i| (i * 7).to_string().into_bytes())
                .collect::<Vec<_>>(),
        ),
        ("strs-100", fields(100)),
        ("strs-10000", fields(10_000)),
    ] {
        let v = set::build(members.iter().map(|m| &m[..]), &limits);
        let enc = v.encoding();
        let n = members.len();
        g.bench_function(format!("sismember/{enc}/{name}"), |b| {
            let s = v.as_set().unwrap();
            let mut i = 0;
            b.iter(|| {
                i = (i + 7) % n;
                s.contains(&members[i])
            })
        });
        g.bench_function(format!("srem+sadd/{enc}/{name}"), |b| {
            let mut v = v.clone();
            let mut i = 0;
            b.iter(|| {
                i = (i + 7) % n;
                let mut s = v.as_set_mut().unwrap();
                s.remove(&members[i]);
                s.insert(&members[i], &limits)
            })
        });
    }
    g.finish();
}

fn zsets(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("zset");
    for &n in &[100usize, 10_000] {
        let m = fields(n);
        let v = zset::build(
            m.iter().enumerate().map(|(i, x)| (&x[..], i as f64 * 1.5)),
            &limits,
        );
        let enc = v.encoding();
        g.bench_with_input(BenchmarkId::new(format!("zscore/{enc}"), n), &n, |b, _| {
            let z = v.as_zset().unwrap();
            let mut i = 0;
            b.iter(|| {
                i = (i + 7) % n;
                z.score(&m[i])
            })
        });
        g.bench_with_input(
            BenchmarkId::new(format!("zadd-update/{enc}"), n),
            &n,
            |b, _| {
                let mut v = v.clone();
                let mut i = 0;
                b.iter(|| {
                    i = (i + 7) % n;
                    v.as_zset_mut()
                        .unwrap()
                        .insert(&m[i], (i * 3) as f64, &limits)
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new(format!("range-10-by-score/{enc}"), n),
            &n,
            |b, _| {
                let z = v.as_zset().unwrap();
                let mut i = 0;
                b.iter(|| {
                    i = (i + 7) % n;
                    z.iter_from(i as f64).take(10).count()
                })
            },
        );
    }
    g.finish();
}

fn lists(c: &mut Criterion) {
    let mut g = c.benchmark_group("list");
    g.bench_function("rpush+lpop/quicklist", |b| {
        let mut v = Value::new_list();
        for i in 0..1000 {
            v.as_list_mut()
                .unwrap()
                .push_back(SmallBytes::new(format!("item:{i}").as_bytes()));
        }
        b.iter(|| {
            let l = v.as_list_mut().unwrap();
            l.push_back(SmallBytes::new(b"item:new"));
            l.pop_front()
        })
    });
    g.finish();
}

criterion_group!(benches, hashes, sets, zsets, lists);
criterion_main!(benches);
