#!/usr/bin/env bash
# snapkv vs redis-server, same machine, same run: redis-benchmark (50 clients) against
# each, -P 1 and -P 16, SET/GET/INCR/MSET, several rounds alternating the servers;
# prints median requests/s and the ratio snapkv/redis.
#
#   benches/compare-redis.sh [--rounds N] [--requests N] [--threads N] [--tests LIST]
#
# --tests takes redis-benchmark's -t names, e.g. the collections:
#   --tests lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100
# --threads sets snapkv's io-threads (default: its own default, the core count).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
requests=200000
threads=""
tests="set,get,incr,mset"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --tests) tests="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

for bin in redis-server redis-benchmark redis-cli; do
  command -v "$bin" >/dev/null || { echo "$bin not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
[ -n "${SNAPKV_BIN:-}" ] || cargo build --release --locked -p snapkv-server >/dev/null 2>&1 || cargo build --release --locked -p snapkv-server
snapkv=${SNAPKV_BIN:-target/release/snapkv-server}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

start() { # name binary port args...
  local name=$1 bin=$2 port=$3; shift 3
  "$bin" --port "$port" --bind 127.0.0.1 --save "" --dir "$work" "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "$name did not start" >&2; cat "$work/$name.log" >&2; exit 1
}

rport=$(free_port); start redis redis-server "$rport" --appendonly no
sport=$(free_port)
if [ -n "$threads" ]; then start snapkv "$snapkv" "$sport" --io-threads "$threads"; else start snapkv "$snapkv" "$sport"; fi

declare -A results
names=()
for round in $(seq "$rounds"); do
  for pipe in 1 16; do
    for server in redis snapkv; do
      port=$rport; [ "$server" = snapkv ] && port=$sport
      n=$requests; [ "$pipe" = 16 ] && n=$((requests * 5))
      while IFS=, read -r name rps _; do
        name=${name//\"/}; rps=${rps//\"/}
        [ "$name" = test ] && continue
        name=${name%% *}
        case " ${names[*]} " in *" $name "*) ;; *) names+=("$name") ;; esac
        results["$server,$pipe,$name"]+="$rps "
      done < <(redis-benchmark -p "$port" -c 50 -n "$n" -P "$pipe" -t "$tests" -r 100000 --csv 2>/dev/null)
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '%-10s %3s %14s %14s %8s\n' test "-P" "redis rps" "snapkv rps" ratio
for pipe in 1 16; do
  for t in "${names[@]}"; do
    r=$(echo "${results["redis,$pipe,$t"]:-0}" | median)
    s=$(echo "${results["snapkv,$pipe,$t"]:-0}" | median)
    ratio=$(awk -v s="$s" -v r="$r" 'BEGIN { if (r > 0) printf "%.2f", s / r; else print "n/a" }')
    printf '%-10s %3s %14.0f %14.0f %8s\n' "$t" "$pipe" "$r" "$s" "$ratio"
  done
done
echo "(medians of $rounds rounds, 50 clients, $requests requests at -P 1 and $((requests * 5)) at -P 16; snapkv io-threads=${threads:-default})"
