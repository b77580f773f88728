#!/usr/bin/env python3
"""What any background CPU work costs a SET load on this machine, whatever the work is.

Runs the snapshot benchmark's load (redis-benchmark SET, 20 clients, 500-byte values,
random keys) against snapkv with no snapshot, once alone and once beside a CPU-bound
spinner under each scheduling policy a snapshot thread could use, and prints the
throughput against the paired run alone and the CPU the spinner got. The loss per core
the spinner got is what a forkless snapshot of X CPU-seconds costs the load at best: it
says how far snapshot CPU, rather than how it is scheduled, bounds the throughput ratio.

The "idle N% / normal M%" spinners switch between `SCHED_IDLE` and normal priority every
few milliseconds, as the snapshot's pacer does: they trace the ratio a background task
keeps at each CPU share between what `SCHED_IDLE` alone gets and a full core. A forkless
snapshot that must finish within 2x its unloaded time needs half a core; the ratio these
spinners keep near 0.5 cores is the most any snapshot can keep on this machine.

    benches/background-cost.py [--rounds 3] [--requests 300000]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, free_port, set_load, wait_ready  # noqa: E402

POLICIES = {
    "SCHED_IDLE": ["chrt", "-i", "0"],
    "SCHED_IDLE cpu0": ["chrt", "-i", "0", "taskset", "-c", "0"],
    "SCHED_IDLE cpu1": ["chrt", "-i", "0", "taskset", "-c", "1"],
    "nice 19": ["nice", "-n", "19"],
    "nice 0": [],
}
# Time-sliced spinners: (label, ms at SCHED_IDLE, ms at normal priority).
MIXES = [("idle 90% / normal 10%", 45, 5), ("idle 85% / normal 15%", 42.5, 7.5),
         ("idle 80% / normal 20%", 40, 10),
         ("idle 50% / normal 50%", 25, 25)]
MIX_SPINNER = """
import os, sys, time
idle, normal = float(sys.argv[1]) / 1000, float(sys.argv[2]) / 1000
p = os.sched_param(0)
while True:
    os.sched_setscheduler(0, os.SCHED_IDLE, p)
    t = time.monotonic() + idle
    while time.monotonic() < t:
        pass
    os.sched_setscheduler(0, os.SCHED_OTHER, p)
    t = time.monotonic() + normal
    while time.monotonic() < t:
        pass
"""


def bench(port, requests):
    return set_load(port, requests, 1_000_000, 500)[0]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=300000)
    args = p.parse_args()
    for tool in ("redis-benchmark", "redis-cli", "chrt", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found")
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "snapkv-server"], cwd=ROOT,
                   check=True, capture_output=True)
    d = tempfile.mkdtemp(prefix="background-cost-")
    port = free_port()
    server = subprocess.Popen(
        [os.path.join(ROOT, "target/release/snapkv-server"), "--port", str(port), "--bind",
         "127.0.0.1", "--save", "", "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        bench(port, args.requests)  # fill the key space
        print(f"SET load, 20 clients, 500 B values; medians of {args.rounds} paired rounds")
        print(f"{'spinner':22} {'alone rps':>10} {'beside rps':>10} {'ratio':>6} {'spinner cores':>14} {'loss per core':>14}")
        spinners = [(name, prefix + ["python3", "-c", "while True: pass"])
                     for name, prefix in POLICIES.items()]
        spinners += [(name, ["python3", "-c", MIX_SPINNER, str(i), str(n)]) for name, i, n in MIXES]
        for name, spinner in spinners:
            alones, besides, cores = [], [], []
            for _ in range(args.rounds):
                alone = bench(port, args.requests)
                spin = subprocess.Popen(spinner)
                time.sleep(0.3)
                c0, t0 = cpu_seconds(spin.pid), time.monotonic()
                beside = bench(port, args.requests)
                c1, t1 = cpu_seconds(spin.pid), time.monotonic()
                spin.kill()
                spin.wait()
                alones.append(alone)
                besides.append(beside)
                cores.append((c1 - c0) / (t1 - t0))
            r = statistics.median([b / a for a, b in zip(alones, besides)])
            c = statistics.median(cores)
            alone, beside = statistics.median(alones), statistics.median(besides)
            print(f"{name:22} {alone:10.0f} {beside:10.0f} {r:6.2f} {c:14.2f} {(1 - r) / max(c, 0.01):14.2f}")
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
