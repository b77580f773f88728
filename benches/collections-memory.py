#!/usr/bin/env python3
"""Memory of small collections: the same data loaded into snapkv and a real redis-server
(started here, same run), then used_memory and RSS side by side with ratios.

Datasets (issue 3): 1M hashes of 10 fields, 1M sets of 10 integers, 100k sorted sets of
100 members. Loaded with `redis-cli --pipe` from one generated RESP stream per dataset.

    benches/collections-memory.py [--scale 1.0] [--only hashes,sets,zsets]

Needs redis-server and redis-cli; snapkv is target/release/snapkv-server (build it with
`cargo build --release -p snapkv-server`) or $SNAPKV_BIN.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, cli, free_port, info, wait_ready  # noqa: E402


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def generate(kind, n, path):
    rnd = random.Random(42)
    with open(path, "wb") as f:
        buf = []
        for i in range(n):
            if kind == "hashes":
                args = ["HSET", f"hash:{i}"]
                for j in range(10):
                    args += [f"field{j}", rnd.randrange(1_000_000)]
            elif kind == "sets":
                args = ["SADD", f"set:{i}"] + [rnd.randrange(1_000_000) for _ in range(10)]
            else:
                args = ["ZADD", f"zset:{i}"]
                for j in range(100):
                    args += [rnd.randrange(10_000) / 4, f"member:{j}"]
            buf.append(resp(*args))
            if len(buf) >= 10_000:
                f.write(b"".join(buf))
                buf = []
        f.write(b"".join(buf))


def info_memory(port):
    f = info(port, "memory")
    return int(f["used_memory"]), int(f["used_memory_rss"])


def start(kind, binary, tmp):
    port = free_port()
    d = tempfile.mkdtemp(dir=tmp)
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", d]
    if kind == "redis":
        args += ["--appendonly", "no"]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(port)
    return p, port


def load(port, path):
    with open(path, "rb") as f:
        r = subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=f,
                           capture_output=True, text=True)
    if "errors: 0" not in r.stdout:
        sys.exit(f"load into {port} failed: {r.stdout} {r.stderr}")


def mb(b):
    return f"{b / 1e6:8.1f} MB"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--only", default="hashes,sets,zsets")
    a = ap.parse_args()
    snapkv = os.environ.get("SNAPKV_BIN", os.path.join(ROOT, "target/release/snapkv-server"))
    redis = shutil.which("redis-server")
    if not os.path.exists(snapkv) or not redis:
        sys.exit("need target/release/snapkv-server (or $SNAPKV_BIN) and redis-server")
    counts = {"hashes": 1_000_000, "sets": 1_000_000, "zsets": 100_000}
    tmp = tempfile.mkdtemp(prefix="collmem-")
    try:
        print(f"{'dataset':<28} {'server':<7} {'used_memory':>12} {'RSS':>12}")
        ratios = []
        for kind in a.only.split(","):
            n = int(counts[kind] * a.scale)
            path = os.path.join(tmp, f"{kind}.resp")
            generate(kind, n, path)
            row = {}
            for name, binary in (("redis", redis), ("snapkv", snapkv)):
                p, port = start(name, binary, tmp)
                try:
                    base_used, base_rss = info_memory(port)
                    t = time.time()
                    load(port, path)
                    took = time.time() - t
                    keys = int(cli(port, "DBSIZE"))
                    assert keys == n, f"{name}: {keys} keys, expected {n}"
                    enc = cli(port, "OBJECT", "ENCODING",
                              {"hashes": "hash:0", "sets": "set:0", "zsets": "zset:0"}[kind])
                    used, rss = info_memory(port)
                    row[name] = (used - base_used, rss)
                    label = f"{n} {kind} ({enc})"
                    print(f"{label:<28} {name:<7} {mb(used - base_used):>12} {mb(rss):>12}"
                          f"   load {took:.1f}s")
                finally:
                    p.terminate()
                    p.wait()
            ru = row["snapkv"][0] / row["redis"][0]
            rr = row["snapkv"][1] / row["redis"][1]
            ratios.append((kind, ru, rr))
            os.remove(path)
        print()
        for kind, ru, rr in ratios:
            print(f"{kind:<8} snapkv/redis: used_memory {ru:.2f}x   RSS {rr:.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
