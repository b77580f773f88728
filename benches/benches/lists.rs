//! List commands through `snapkv_commands::execute` (dispatch, locking, handler, reply):
//! LPUSH + RPOP on a steady-size list, LPOP with a count, LRANGE of 10 and 100
//! elements. The pushes include the blocked-clients check (one atomic load when nobody
//! waits), the hot path every push pays.

use std::sync::Arc;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use snapkv_commands::{ClientInfo, ClientState, Shared};
use snapkv_config::Config;
use snapkv_keyspace::{Keyspace, KeyspaceConfig};

fn setup() -> (Arc<Shared>, ClientState) {
    let config = Config::load(None, &[]).expect("default config");
    let settings = config.settings();
    let generation = config.generation();
    let keyspace = Keyspace::new(KeyspaceConfig {
        databases: settings.databases,
        shards_per_db: 64,
    });
    let shared = Arc::new(Shared::new(keyspace, config));
    let info = Arc::new(ClientInfo::new(
        1,
        "127.0.0.1:1".into(),
        "127.0.0.1:6379".into(),
        -1,
        0,
    ));
    let client = ClientState::new(info, settings, generation);
    (shared, client)
}

fn args(words: &[&str]) -> Vec<Bytes> {
    words
        .iter()
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect()
}

fn lists(c: &mut Criterion) {
    let (shared, mut client) = setup();
    let elems: Vec<String> = (0..1000).map(|i| format!("element:{i:06}")).collect();
    let mut fill = vec!["RPUSH", "big"];
    fill.extend(elems.iter().map(String::as_str));
    snapkv_commands::execute(&shared, &mut client, args(&fill));
    let mut g = c.benchmark_group("lists");
    g.throughput(Throughput::Elements(1));
    g.bench_function("lpush_rpop_1000", |b| {
        let push = args(&["LPUSH", "big", "element:xxxxxx"]);
        let pop = args(&["RPOP", "big"]);
        b.iter(|| {
            snapkv_commands::execute(&shared, &mut client, push.clone());
            snapkv_commands::execute(&shared, &mut client, pop.clone())
        })
    });
    g.bench_function("lpop_count_10_and_refill", |b| {
        let pop = args(&["LPOP", "big", "10"]);
        let mut refill = vec!["RPUSH", "big"];
        refill.extend(elems[..10].iter().map(String::as_str));
        let refill = args(&refill);
        b.iter(|| {
            snapkv_commands::execute(&shared, &mut client, pop.clone());
            snapkv_commands::execute(&shared, &mut client, refill.clone())
        })
    });
    for n in [10, 100] {
        let range = args(&["LRANGE", "big", "500", &(500 + n - 1).to_string()]);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("lrange_{n}_of_1000"), |b| {
            b.iter(|| snapkv_commands::execute(&shared, &mut client, range.clone()))
        });
    }
    g.finish();
}

criterion_group!(benches, lists);
criterion_main!(benches);
