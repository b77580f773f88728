//! Test support: a real `redis-server` child on a free port, a tiny RESP2 client, and
//! helpers to compare values regardless of storage order.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use snapkv_rdb::Value;

pub mod dataset;

pub const REDIS_SERVER: &str = "redis-server";
pub const REDIS_CHECK_RDB: &str = "redis-check-rdb";

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    pub fn bulk(&self) -> Vec<u8> {
        match self {
            Reply::Bulk(Some(b)) => b.clone(),
            other => panic!("expected bulk, got {other:?}"),
        }
    }
    pub fn int(&self) -> i64 {
        match self {
            Reply::Int(i) => *i,
            other => panic!("expected int, got {other:?}"),
        }
    }
    pub fn status(&self) -> String {
        match self {
            Reply::Status(s) => s.clone(),
            other => panic!("expected status, got {other:?}"),
        }
    }
    pub fn array(&self) -> Vec<Reply> {
        match self {
            Reply::Array(Some(a)) => a.clone(),
            other => panic!("expected array, got {other:?}"),
        }
    }
    pub fn bulks(&self) -> Vec<Vec<u8>> {
        self.array().iter().map(Reply::bulk).collect()
    }
}

pub struct Redis {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    conn: BufReader<TcpStream>,
}

/// A port nobody listens on now and that this process never handed out before: tests
/// run in parallel threads, and the kernel may give a just-released port to the next
/// caller, which would let one test talk to another test's server.
fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let port = l.local_addr().expect("local addr").port();
        if HANDED_OUT
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(port)
        {
            return port;
        }
    }
}

pub fn require_tool(name: &str) {
    let ok = Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "`{name}` not found on PATH: these cross-checks need Redis 7.0 installed \
         (e.g. `apt-get install redis-server` / redis-tools)"
    );
}

impl Redis {
    /// Start an empty server.
    pub fn start() -> Redis {
        Self::start_with(None)
    }

    /// Start a server that loads `rdb` at startup (copied into its directory).
    pub fn start_with(rdb: Option<&Path>) -> Redis {
        require_tool(REDIS_SERVER);
        let dir = tempfile::tempdir().unwrap();
        if let Some(p) = rdb {
            std::fs::copy(p, dir.path().join("dump.rdb")).unwrap();
        }
        'attempt: for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(REDIS_SERVER)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .args([
                    "--dir",
                    dir.path().to_str().unwrap(),
                    "--dbfilename",
                    "dump.rdb",
                ])
                .args(["--daemonize", "no", "--loglevel", "warning"])
                // redis.conf's value (the compiled-in default is 512); matches WriteOptions.
                .args(["--hash-max-listpack-entries", "128"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn redis-server");
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut out = String::new();
                    if let Some(mut s) = child.stdout.take() {
                        let _ = s.read_to_string(&mut out);
                    }
                    if out.contains("Address already in use") {
                        break;
                    }
                    panic!("redis-server exited ({status}) during startup:\n{out}");
                }
                if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                    let mut conn = BufReader::new(s);
                    // Wait until the dataset is loaded. A reset here, or an answer from a
                    // server that is not our child (it lost the port to another test's
                    // server between `free_port` and its bind, and exited): next port.
                    match ping_until_loaded(&mut conn) {
                        Ok(()) if matches!(child.try_wait(), Ok(None)) => {
                            return Redis {
                                child,
                                port,
                                dir,
                                conn,
                            };
                        }
                        Ok(()) | Err(_) => {
                            let _ = child.kill();
                            let _ = child.wait();
                            continue 'attempt;
                        }
                    }
                }
                assert!(Instant::now() < deadline, "redis-server did not start");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("could not start redis-server on a free port");
    }

    pub fn rdb_path(&self) -> PathBuf {
        self.dir.path().join("dump.rdb")
    }

    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        let mut req = Vec::new();
        req.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            let a = a.as_ref();
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.conn.get_mut().write_all(&req).unwrap();
        read_reply(&mut self.conn)
    }

    /// Like `cmd` but panics on an error reply.
    pub fn ok<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        let r = self.cmd(args);
        if let Reply::Error(e) = &r {
            let shown: Vec<String> = args
                .iter()
                .map(|a| String::from_utf8_lossy(a.as_ref()).into_owned())
                .collect();
            panic!("{shown:?} -> {e}");
        }
        r
    }

    /// Pipeline many commands (one round trip), checking none fails.
    pub fn pipeline(&mut self, cmds: &[Vec<Vec<u8>>]) {
        for chunk in cmds.chunks(1000) {
            let mut req = Vec::new();
            for args in chunk {
                req.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
                for a in args {
                    req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                    req.extend_from_slice(a);
                    req.extend_from_slice(b"\r\n");
                }
            }
            self.conn.get_mut().write_all(&req).unwrap();
            for args in chunk {
                if let Reply::Error(e) = read_reply(&mut self.conn) {
                    panic!("{:?} -> {e}", String::from_utf8_lossy(&args[0]));
                }
            }
        }
    }

    /// Read a key's full value through ordinary commands.
    pub fn value(&mut self, key: &[u8]) -> Option<Value> {
        let ty = self.ok(&[&b"TYPE"[..], key]).status();
        Some(match ty.as_str() {
            "none" => return None,
            "string" => Value::Str(self.ok(&[&b"GET"[..], key]).bulk()),
            "list" => Value::List(self.ok(&[&b"LRANGE"[..], key, b"0", b"-1"]).bulks()),
            "set" => Value::Set(self.ok(&[&b"SMEMBERS"[..], key]).bulks()),
            "hash" => {
                let v = self.ok(&[&b"HGETALL"[..], key]).bulks();
                Value::Hash(v.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect())
            }
            "zset" => {
                let v = self
                    .ok(&[&b"ZRANGE"[..], key, b"0", b"-1", b"WITHSCORES"])
                    .bulks();
                Value::ZSet(
                    v.chunks(2)
                        .map(|p| {
                            (
                                p[0].clone(),
                                std::str::from_utf8(&p[1]).unwrap().parse::<f64>().unwrap(),
                            )
                        })
                        .collect(),
                )
            }
            other => panic!("value(): unsupported type {other}"),
        })
    }
}

/// PINGs until the server has loaded its dataset; I/O errors are returned, not panics.
fn ping_until_loaded(conn: &mut BufReader<TcpStream>) -> std::io::Result<()> {
    loop {
        conn.get_mut().write_all(b"*1\r\n$4\r\nPING\r\n")?;
        let mut line = Vec::new();
        conn.read_until(b'\n', &mut line)?;
        if line.starts_with(b"+") {
            return Ok(());
        }
        if !line.starts_with(b"-LOADING") {
            return Err(std::io::Error::other(format!(
                "PING: {}",
                String::from_utf8_lossy(&line)
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn read_reply<R: BufRead>(r: &mut R) -> Reply {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line).unwrap();
    assert!(line.ends_with(b"\r\n"), "bad RESP line {line:?}");
    let body = &line[1..line.len() - 2];
    let text = || String::from_utf8_lossy(body).into_owned();
    match line[0] {
        b'+' => Reply::Status(text()),
        b'-' => Reply::Error(text()),
        b':' => Reply::Int(text().parse().unwrap()),
        b'$' => {
            let n: i64 = text().parse().unwrap();
            if n < 0 {
                return Reply::Bulk(None);
            }
            let mut b = vec![0u8; n as usize + 2];
            r.read_exact(&mut b).unwrap();
            b.truncate(n as usize);
            Reply::Bulk(Some(b))
        }
        b'*' => {
            let n: i64 = text().parse().unwrap();
            if n < 0 {
                return Reply::Array(None);
            }
            Reply::Array(Some((0..n).map(|_| read_reply(r)).collect()))
        }
        c => panic!("bad RESP type byte {c}"),
    }
}

/// Run `redis-check-rdb` on a file; panic with its output unless it says OK.
pub fn redis_check_rdb(path: &Path) {
    require_tool(REDIS_CHECK_RDB);
    let out = Command::new(REDIS_CHECK_RDB)
        .arg(path)
        .output()
        .expect("run redis-check-rdb");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("RDB looks OK"),
        "redis-check-rdb failed:\n{text}"
    );
}

/// Canonical form for comparison: sets and hashes sorted (their order is not meaningful).
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::Set(s) => {
            let mut s = s.clone();
            s.sort();
            Value::Set(s)
        }
        Value::Hash(h) => {
            let mut h = h.clone();
            h.sort();
            Value::Hash(h)
        }
        Value::ZSet(z) => {
            let mut z = z.clone();
            z.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            Value::ZSet(z)
        }
        other => other.clone(),
    }
}

pub fn args(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}
