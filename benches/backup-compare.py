#!/usr/bin/env python3
"""Backups to a local S3 server: snapkv's BACKUP CREATE (snapshot streamed into a
multipart upload) and restore, against the raw throughput of uploading the same RDB file
with the same SDK (aws-sdk-s3, same part size and concurrency, no snapkv code), and the
server's memory growth during the upload.

    benches/backup-compare.py [--mb 1024] [--value-size 4096] [--part-mb 8] [--concurrency 4]

Needs release builds (`cargo build --release -p snapkv-server -p snapkv-cli` and `cargo build --release -p
snapkv-backup --example raw_upload`) and moto's S3 server in target/s3-venv (tests/run.sh
installs it). moto keeps objects in memory: expect ~2-3x --mb of RAM in its process.
rdbcompression is off so the RDB is as big as the data.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import ROOT, Client, free_port, rss_kb  # noqa: E402
REL = os.path.join(ROOT, "target", "release")
MOTO = os.path.join(ROOT, "target", "s3-venv", "bin", "moto_server")
AUTH = ("Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/"
        "aws4_request, SignedHeaders=host, Signature=00\r\n")
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
           AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")


def http(port, method, path):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
              f"Connection: close\r\n{AUTH}\r\n".encode())
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    return out


def field(text, name):
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def wait_ready(port, proc, timeout=600):
    t = time.time()
    while time.time() - t < timeout:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}")
        try:
            if Client(port).call("PING") == "PONG":
                return
        except (OSError, RuntimeError):
            pass
        time.sleep(0.05)
    sys.exit("server did not start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--value-size", type=int, default=4096)
    ap.add_argument("--part-mb", type=int, default=8)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--engine", default="auto", choices=["auto", "fork", "forkless"])
    a = ap.parse_args()
    for b in ["snapkv-server", "snapkv", "examples/raw_upload"]:
        if not os.path.exists(os.path.join(REL, b)):
            sys.exit(f"missing target/release/{b}: see the docstring for the build command")
    if not os.path.exists(MOTO):
        sys.exit(f"missing {MOTO}: run tests/run.sh (or pip install 'moto[server]' there)")
    work = tempfile.mkdtemp(prefix="snapkv-backup-bench-")
    s3port, port = free_port(), free_port()
    moto = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(s3port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [moto]
    try:
        for _ in range(200):
            try:
                http(s3port, "GET", "/")
                break
            except OSError:
                time.sleep(0.05)
        http(s3port, "PUT", "/bench")
        endpoint = f"http://127.0.0.1:{s3port}"
        common = ["--backup-s3-endpoint", endpoint, "--backup-part-size", f"{a.part_mb}mb",
                  "--backup-upload-concurrency", str(a.concurrency), "--rdbcompression", "no",
                  "--save", "", "--bind", "127.0.0.1", "--backup-target", "s3://bench/b",
                  "--snapshot-method", a.engine]
        d1 = os.path.join(work, "a")
        os.makedirs(d1)
        server = subprocess.Popen([os.path.join(REL, "snapkv-server"), "--port", str(port),
                                   "--dir", d1, *common], env=ENV,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(server)
        wait_ready(port, server)
        c = Client(port)
        keys = a.mb * (1 << 20) // a.value_size
        block = os.urandom(1 << 20)
        t = time.time()
        for start in range(0, keys, 1000):
            n = min(1000, keys - start)
            for i in range(start, start + n):
                off = (i * 7919) % ((1 << 20) - a.value_size)
                c.send("SET", f"key:{i:012d}", block[off:off + a.value_size])
            for _ in range(n):
                c.read()
        print(f"filled {keys} keys x {a.value_size} B in {time.time() - t:.1f} s")
        base = rss_kb(server.pid)
        peak = [base]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_kb(server.pid))
                time.sleep(0.02)
        th = threading.Thread(target=sample)
        th.start()
        c.call("BACKUP", "CREATE", "bench1")
        while True:
            st = c.call("BACKUP", "STATUS")
            if field(st, "backup_in_progress") == "0" and field(st, "backup_queued") == "0" \
                    and field(st, "backup_last_name") == "bench1":
                break
            time.sleep(0.02)
        done.set()
        th.join()
        if field(st, "backup_last_status") != "ok":
            sys.exit(f"backup failed: {st}")
        nbytes = int(field(st, "backup_last_bytes"))
        bsecs = int(field(st, "backup_last_duration_ms")) / 1000
        server.terminate()
        server.wait()

        # Restore: download + verify (CLI), then a fresh server seeded from the backup.
        rdb = os.path.join(work, "bench1.rdb")
        t = time.time()
        subprocess.run([os.path.join(REL, "snapkv"), "backup", "restore", "bench1", "--to", rdb,
                        "--target", "s3://bench/b", "--s3-endpoint", endpoint], env=ENV,
                       check=True, stdout=subprocess.DEVNULL)
        dl_secs = time.time() - t
        d2 = os.path.join(work, "b")
        os.makedirs(d2)
        port2 = free_port()
        t = time.time()
        seeded = subprocess.Popen([os.path.join(REL, "snapkv-server"), "--port", str(port2),
                                   "--dir", d2, *common, "--restore-from", "bench1"], env=ENV,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(seeded)
        while True:
            try:
                if Client(port2).call("DBSIZE") == str(keys):
                    break
            except (OSError, RuntimeError):
                pass
            if seeded.poll() is not None:
                sys.exit("restore failed")
            time.sleep(0.02)
        restore_secs = time.time() - t

        # The same file uploaded by the SDK alone.
        out = subprocess.run([os.path.join(REL, "examples", "raw_upload"), rdb, "s3://bench/raw.rdb",
                              "--endpoint", endpoint, "--part-mb", str(a.part_mb),
                              "--concurrency", str(a.concurrency)],
                             env=ENV, check=True, capture_output=True, text=True).stdout.split()
        raw_bytes, raw_secs = int(out[0]), float(out[1])
        mb = nbytes / 1e6
        print(f"RDB {nbytes} bytes; part {a.part_mb} MiB x {a.concurrency} in flight; engine {a.engine}")
        print(f"{'':34}{'seconds':>9}{'MB/s':>9}")
        print(f"{'BACKUP CREATE (snapshot+upload)':34}{bsecs:9.2f}{mb / bsecs:9.1f}")
        print(f"{'raw SDK multipart upload of it':34}{raw_secs:9.2f}{raw_bytes / 1e6 / raw_secs:9.1f}")
        print(f"{'ratio backup / raw':34}{'':9}{(mb / bsecs) / (raw_bytes / 1e6 / raw_secs):9.2f}")
        print(f"{'restore to file (download+verify)':34}{dl_secs:9.2f}{mb / dl_secs:9.1f}")
        print(f"{'--restore-from until all keys in':34}{restore_secs:9.2f}{mb / restore_secs:9.1f}")
        print(f"server memory during the backup: base {base / 1024:.0f} MiB, peak "
              f"{peak[0] / 1024:.0f} MiB (+{(peak[0] - base) / 1024:.0f} MiB incl. fork child's "
              f"copied pages; bound: (concurrency+1) x part = {(a.concurrency + 1) * a.part_mb} MiB + buffers)")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
