"""Helpers the benchmark scripts share: ports, redis-cli, INFO, and memory as the
machine sees it."""
import os
import socket
import subprocess
import sys
import time

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


def wait_ready(port):
    """Waits for a server just started on `port` to answer PING (exits if it never does)."""
    for _ in range(200):
        if cli(port, "PING") == "PONG":
            return
        time.sleep(0.05)
    sys.exit(f"server on {port} did not start")


def set_load(port, requests, keys, size):
    """The snapshot benchmarks' write load: redis-benchmark SET, 20 clients, `size`-byte
    values, random keys over `keys`. Returns (rps, p50, p99, max) from its CSV."""
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", "set", "-c", "20", "-n", str(requests),
         "-r", str(keys), "-d", str(size), "--csv"],
        capture_output=True, text=True).stdout
    for line in out.splitlines():
        cols = [c.strip('"') for c in line.split(",")]
        if cols and cols[0] == "SET":
            return float(cols[1]), float(cols[4]), float(cols[6]), float(cols[7])
    raise RuntimeError("no SET result:\n" + out)


class Client:
    """One persistent RESP connection: polling INFO through it every few milliseconds
    costs the machine far less than starting redis-cli each time, which on 2 cores
    would steal CPU from the very server being measured."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind in (b"+", b":"):
            return rest.decode()
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode(errors="replace")
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise ValueError(f"unexpected reply {line!r}")

    def send(self, *args):
        """Sends one command without waiting (pipelining); `read` gets its reply."""
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def read(self):
        """The next reply; an error reply raises RuntimeError."""
        return self._reply()

    def call(self, *args):
        self.send(*args)
        return self._reply()

    def info(self, section):
        return parse_info(self.call("INFO", section))

    def close(self):
        self.sock.close()


def parse_info(text):
    fields = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k] = v.strip()
    return fields


def info(port, section):
    fields = {}
    for line in cli(port, "INFO", section).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k] = v.strip()
    return fields


def _proc_kb(path, field):
    """The kB value of `field:` in a /proc file (0 if the file or field is missing)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid):
    """Memory a process costs the machine, in KiB: its RSS plus what its fork children
    copied (Private_Dirty; a child's shared pages are the parent's, not new)."""
    try:
        # The children file lists a thread's children; fork children come from any thread.
        kids = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += f.read().split()
    except OSError:
        kids = []
    return _proc_kb(f"/proc/{pid}/status", "VmRSS") + sum(
        _proc_kb(f"/proc/{k}/smaps_rollup", "Private_Dirty") for k in kids)
