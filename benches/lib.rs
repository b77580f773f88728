//! Benchmarks live in `benches/` (criterion, `cargo bench -p snapkv-benches`) and in the
//! shell scripts beside this file, which run `redis-benchmark` against snapkv and a real
//! redis-server in the same run and print ratios.
