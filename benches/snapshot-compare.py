#!/usr/bin/env python3
"""Snapshots under write load: real redis-server BGSAVE vs snapkv's fork and forkless
engines, in one run on the same machine.

For each server: fill N keys of 500-byte values, run a SET load (redis-benchmark, 20
clients, random keys over the same key space) without a snapshot (baseline), take a
BGSAVE with no load (the unloaded time), then run the load again with a BGSAVE started
0.5 s in (sized to last about as long as the unloaded snapshot, so its latencies are those
of writes during a snapshot; `--rounds N` repeats this and reports medians), and report the snapshot's
duration, the peak memory growth (server RSS + fork child's copied pages) while it ran, and the
write load's throughput and p50/p99/max latency. Each loaded round is paired with the same load
run just before it without a snapshot: "base" columns are those paired runs (medians).

"cores" is the CPU the snapshot itself used (the forkless thread, or the fork child)
over its duration: against benches/background-cost.py it says what any work of that much
CPU would have cost the load. "snap rps" is the throughput while the snapshot ran, from
the server's command counter sampled at BGSAVE and every 10 ms after (up to the snapshot's end, or the load's if it ended
first); "ratio" is the median of the per-round ratios of that to the paired run's rps.
"load" is the ratio of the whole loaded run's rps instead (it also covers the 0.5 s before
the snapshot). Latencies are redis-benchmark's over the whole loaded run.

    benches/snapshot-compare.py [--scale 0.1] [--keys N] [--value-size 500] [--rounds 1]

--scale 1.0 is the 1.73M-key (~1 GB RSS) dataset of the issue's anchor; CI-sized runs use
a small scale. Needs redis-server, redis-benchmark and redis-cli.
"""
import argparse
import statistics
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, Client, free_port, info, rss_kb, set_load, wait_ready  # noqa: E402


def fill(port, keys, size):
    """Loads keys 0..keys-1 ('key:%012d', as redis-benchmark names them) through
    redis-cli --pipe."""
    value = b"x" * size
    proc = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    batch = []
    for i in range(keys):
        k = b"key:%012d" % i
        batch.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, size, value))
        if len(batch) == 10000:
            proc.stdin.write(b"".join(batch))
            batch = []
    proc.stdin.write(b"".join(batch))
    proc.stdin.close()
    proc.wait()


def snapshot_cpu(pid):
    """CPU seconds used so far by whatever writes the server's snapshot: snapkv's
    forkless `snapkv-bgsave` thread, or a fork child (snapkv's or redis-server's). Both
    start at zero with the snapshot."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for tid in tasks:
        try:
            if open(f"/proc/{pid}/task/{tid}/comm").read().strip() == "snapkv-bgsave":
                total += _cpu_ticks(f"/proc/{pid}/task/{tid}/stat")
            for child in open(f"/proc/{pid}/task/{tid}/children").read().split():
                total += _cpu_ticks(f"/proc/{child}/stat")
        except OSError:
            pass  # the thread or child just ended
    return total / tick


def _cpu_ticks(stat):
    fields = open(stat).read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def commands(poll):
    return int(poll.info("stats")["total_commands_processed"])


def run(kind, method, args):
    d = tempfile.mkdtemp(prefix=f"snapbench-{method}-")
    port = free_port()
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", d]
    else:
        cmd = [os.path.join(ROOT, "target/release/snapkv-server"), "--port", str(port),
               "--bind", "127.0.0.1", "--save", "", "--dir", d, "--snapshot-method", method,
               *args.snapkv_arg]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        fill(port, args.keys, args.value_size)
        requests = max(args.keys, 200000)
        # The baseline load also rewrites the values the way the measured load will, so
        # the unloaded snapshot below serialises the same data as the loaded one.
        baseline = set_load(port, requests, args.keys, args.value_size)
        base_rss = rss_kb(server.pid)
        poll = Client(port)
        # The same snapshot with no load, for the "finishes within 2x" comparison.
        t0 = time.monotonic()
        assert "started" in poll.call("BGSAVE")
        while poll.info("persistence").get("rdb_bgsave_in_progress") != "0":
            time.sleep(0.01)
        unloaded = time.monotonic() - t0

        # The measured runs: the load starts, a BGSAVE follows 0.5 s in. The load is sized
        # to last about as long as an unloaded snapshot, so its latencies are those of
        # writes during the snapshot rather than diluted by a long tail of writes after it.
        loaded_requests = max(20000, int(baseline[0] * (0.5 + unloaded)))
        rounds = []
        for _ in range(args.rounds):
            # The same load without a snapshot right before each measured one: the ratio
            # compares neighbours, not a loaded round with one baseline taken minutes ago
            # (this machine's throughput drifts by 10% between runs).
            paired = set_load(port, loaded_requests, args.keys, args.value_size)
            result = {}
            load = threading.Thread(target=lambda: result.setdefault(
                "load", set_load(port, loaded_requests, args.keys, args.value_size)))
            load.start()
            time.sleep(0.5)
            peak = rss_kb(server.pid)
            before = peak
            # Throughput during the snapshot itself, from the server's command counter:
            # the load's own rps also covers the 0.5 s before the snapshot, and it may end
            # before the snapshot does. The window ends at the snapshot's end or at the
            # last sample taken while the load still ran, whichever is first.
            first = (time.monotonic(), commands(poll))
            t0 = time.monotonic()
            reply = poll.call("BGSAVE")
            assert "started" in reply, reply
            last = first
            snap_cpu = 0.0
            while True:
                peak = max(peak, rss_kb(server.pid))
                snap_cpu = max(snap_cpu, snapshot_cpu(server.pid))
                alive = load.is_alive()
                done = poll.info("persistence").get("rdb_bgsave_in_progress") == "0"
                if alive:
                    last = (time.monotonic(), commands(poll))
                if done:
                    break
                time.sleep(0.01)
            duration = time.monotonic() - t0
            load.join()
            snap_rps = (last[1] - first[1]) / max(last[0] - first[0], 1e-3)
            covered = min(1.0, (last[0] - first[0]) / duration)
            pinfo = poll.info("persistence")
            rounds.append({
                "delayed": (pinfo.get("snapshot_writes_delayed"),
                            pinfo.get("snapshot_write_delay_usec")),
                "growth_mb": (peak - before) / 1024,
                "duration_s": duration,
                "snap_cores": snap_cpu / duration,
                "status": pinfo.get("rdb_last_bgsave_status"),
                "during": result["load"],
                "snap_rps": snap_rps,
                "covered": covered,
                "paired": paired,
            })
        poll.close()
        med = lambda xs: statistics.median(xs)  # noqa: E731
        ratios = [r["snap_rps"] / r["paired"][0] for r in rounds]
        return {
            "name": f"{kind}-{method}" if kind == "snapkv" else "redis",
            "rss_mb": base_rss / 1024,
            "unloaded_s": unloaded,
            "growth_mb": med([r["growth_mb"] for r in rounds]),
            "duration_s": med([r["duration_s"] for r in rounds]),
            "snap_cores": med([r["snap_cores"] for r in rounds]),
            "status": ",".join(sorted({r["status"] for r in rounds})),
            "during": tuple(med([r["during"][i] for r in rounds]) for i in range(4)),
            "max_all": [r["during"][3] for r in rounds],
            "snap_rps": med([r["snap_rps"] for r in rounds]),
            "covered": min(r["covered"] for r in rounds),
            "load_ratio": med([r["during"][0] / r["paired"][0] for r in rounds]),
            "ratios": ratios,
            "ratio": med(ratios),
            "paired": tuple(med([r["paired"][i] for r in rounds]) for i in range(4)),
            "delayed": rounds[-1]["delayed"],
        }
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(d, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=0.1)
    p.add_argument("--keys", type=int, default=0)
    p.add_argument("--value-size", type=int, default=500)
    p.add_argument("--rounds", type=int, default=1,
                   help="loaded snapshots per server; the table shows medians")
    p.add_argument("--servers", default="redis,fork,forkless",
                   help="which of redis, fork, forkless to run")
    p.add_argument("--snapkv-arg", action="append", default=[],
                   help="extra snapkv-server argument (repeatable), e.g. --snapkv-arg=--snapshot-throttle-max-delay --snapkv-arg=2")
    args = p.parse_args()
    if not args.keys:
        args.keys = int(1_730_000 * args.scale)
    for tool in ("redis-server", "redis-benchmark", "redis-cli"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (apt-get install redis-server redis-tools)")
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "snapkv-server"], cwd=ROOT,
                   check=True, capture_output=True)
    wanted = args.servers.split(",")
    rows = [run("redis", "bgsave", args)] if "redis" in wanted else []
    rows += [run("snapkv", m, args) for m in ("fork", "forkless") if m in wanted]
    print(f"{args.keys} keys x {args.value_size} B; SET load: 20 clients, random keys; "
          f"medians of {args.rounds} loaded snapshot(s) per server")
    print(f"{'server':18} {'RSS MB':>7} {'idle s':>7} {'snap s':>7} {'cores':>5} {'peak +MB':>9} {'+%':>6} "
          f"{'base rps':>9} {'snap rps':>9} {'ratio':>6} {'load':>5} {'p50':>6} {'p99':>6} {'max ms':>7} {'base p99/max':>13}")
    for r in rows:
        b, d = r["paired"], r["during"]
        print(f"{r['name']:18} {r['rss_mb']:7.0f} {r['unloaded_s']:7.2f} {r['duration_s']:7.2f} {r['snap_cores']:5.2f} {r['growth_mb']:9.1f} "
              f"{100 * r['growth_mb'] / max(r['rss_mb'], 1):5.1f}% {b[0]:9.0f} {r['snap_rps']:9.0f} "
              f"{r['ratio']:6.2f} {r['load_ratio']:5.2f} {d[1]:6.3f} {d[2]:6.3f} {d[3]:7.2f} {b[2]:6.3f}/{b[3]:.2f}"
              + ("" if r["status"] == "ok" else f"  (save status {r['status']})")
              + ("" if r["covered"] > 0.99 else f"  (the load covered {100 * r['covered']:.0f}% of a snapshot)")
              + (f"  throttled writes {r['delayed'][0]}, {int(r['delayed'][1]) / 1000:.1f} ms total"
                 if r["delayed"][0] is not None else "")
              + (f"  max per round {'/'.join(f'{m:.1f}' for m in r['max_all'])}"
                 f"  ratio per round {'/'.join(f'{x:.2f}' for x in r['ratios'])}"
                 if len(r["max_all"]) > 1 else ""))


if __name__ == "__main__":
    main()
