#!/usr/bin/env python3
"""Writes to one big collection while a snapshot runs: what they cost that writer and
everyone else, for real redis-server BGSAVE and snapkv's fork and forkless engines.

Loads one hash of N fields (default 1M) and N small string keys, then, for each round,
starts a BGSAVE while one client HSETs new fields into the big hash (a write every 2 ms)
and another SETs small keys back to back. Reports each client's worst latency during the
snapshot, and the snapshot's duration.

What it shows: a snapshot that shares a big table with the keyspace makes the first write
to it copy the table (a fork's copy-on-write pages, or the forkless engine's copy under
the shard lock). snapkv's forkless engine instead writes the owed collection out of turn
while that one write waits asynchronously, so other clients on the same io thread do not
stall behind a copy.

    benches/big-collection-snapshot.py [--fields 1000000] [--rounds 3]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, Client, free_port, wait_ready  # noqa: E402


def load(port, fields):
    proc = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    batch = []
    for i in range(fields):
        f = b"f%d" % i
        batch.append(b"*4\r\n$4\r\nHSET\r\n$3\r\nbig\r\n$%d\r\n%s\r\n$5\r\nvalue\r\n" % (len(f), f))
        k = b"k%d" % i
        batch.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$5\r\nvalue\r\n" % (len(k), k))
        if len(batch) >= 20000:
            proc.stdin.write(b"".join(batch))
            batch = []
    proc.stdin.write(b"".join(batch))
    proc.stdin.close()
    proc.wait()


def round_(port, n):
    """One snapshot under the two writers: (worst HSET ms, worst other SET ms, snapshot s)."""
    big, other, poll = Client(port), Client(port), Client(port)
    stop = threading.Event()
    worst = {"big": 0.0, "other": 0.0}

    def others():
        i = 0
        while not stop.is_set():
            t = time.monotonic()
            other.call("SET", "k%d" % (i % 1000), "v")
            worst["other"] = max(worst["other"], time.monotonic() - t)
            i += 1

    th = threading.Thread(target=others)
    th.start()
    time.sleep(0.3)
    worst["other"] = 0.0
    t0 = time.monotonic()
    assert "started" in poll.call("BGSAVE")
    i = 0
    while True:
        t = time.monotonic()
        big.call("HSET", "big", "new%d-%d" % (n, i), "x")
        worst["big"] = max(worst["big"], time.monotonic() - t)
        i += 1
        if poll.info("persistence").get("rdb_bgsave_in_progress") == "0":
            break
        time.sleep(0.002)
    duration = time.monotonic() - t0
    stop.set()
    th.join()
    for c in (big, other, poll):
        c.close()
    return worst["big"] * 1000, worst["other"] * 1000, duration


def run(name, cmd, port, args):
    d = tempfile.mkdtemp(prefix="bigcoll-")
    server = subprocess.Popen(cmd + ["--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        load(port, args.fields)
        rounds = [round_(port, n) for n in range(args.rounds)]
        med = lambda i: statistics.median(r[i] for r in rounds)  # noqa: E731
        print(f"{name:16} {med(0):12.2f} {med(1):14.2f} {med(2):7.2f}   "
              f"per round: HSET {'/'.join(f'{r[0]:.1f}' for r in rounds)}, "
              f"other {'/'.join(f'{r[1]:.1f}' for r in rounds)}", flush=True)
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(d, ignore_errors=True)


def main():
    # Two client threads in one process: keep the GIL from adding its 5 ms switch
    # interval to the latencies measured.
    sys.setswitchinterval(0.0002)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fields", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    for tool in ("redis-server", "redis-cli"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (apt-get install redis-server redis-tools)")
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "snapkv-server"], cwd=ROOT,
                   check=True, capture_output=True)
    print(f"one hash of {args.fields} fields + {args.fields} small keys; medians of {args.rounds} snapshots")
    print(f"{'server':16} {'worst HSET ms':>12} {'worst other ms':>14} {'snap s':>7}")
    port = free_port()
    run("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                  "--appendonly", "no"], port, args)
    for method in ("fork", "forkless"):
        port = free_port()
        run(f"snapkv-{method}", [os.path.join(ROOT, "target/release/snapkv-server"), "--port", str(port),
                                 "--bind", "127.0.0.1", "--save", "", "--snapshot-method", method], port, args)


if __name__ == "__main__":
    main()
