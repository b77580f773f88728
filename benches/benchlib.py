"""Helpers the benchmark scripts share: ports, redis-cli, INFO, and memory as the
machine sees it."""
import os
import socket
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cli(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True)
    return out.stdout.strip()


def info(port, section):
    fields = {}
    for line in cli(port, "INFO", section).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k] = v.strip()
    return fields


def rss_kb(pid):
    """Memory a process costs the machine, in KiB: its RSS plus what its fork children
    copied (Private_Dirty; a child's shared pages are the parent's, not new)."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    except OSError:
        pass
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for k in kids:
        try:
            with open(f"/proc/{k}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Private_Dirty:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total
