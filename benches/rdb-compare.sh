#!/usr/bin/env bash
# RDB codec vs real Redis on the same data: our encode/decode MB/s against redis-server's
# SAVE and load times, with LZF on and off (crates/rdb/examples/compare_redis.rs).
#
#   benches/rdb-compare.sh [MB]      (default 64; the issue's 1 GB class: 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-64}
for compression in yes no; do
  echo "== rdbcompression $compression, ${mb} MB"
  cargo run --release --locked -q -p snapkv-rdb --example compare_redis -- "$mb" "$compression"
done
