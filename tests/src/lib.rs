//! Test harness: start the real `snapkv-server` binary and a real `redis-server` on free
//! loopback ports, talk RESP to them, and compare replies (differential testing).
//!
//! - [`Server`]: a child process on a free port, stopped by PID on drop.
//! - [`Conn`]: a blocking RESP client that can also send raw bytes.
//! - [`corpus`]: the differential corpus format and runner.

pub mod corpus;
pub mod s3;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use redis_protocol::resp2::decode::decode_bytes_mut as decode2;
use redis_protocol::resp2::types::BytesFrame as Frame2;
use redis_protocol::resp3::decode::complete::decode_bytes_mut as decode3;
use redis_protocol::resp3::types::BytesFrame;

/// A reply, normalised for comparison and printing.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Value>),
    /// RESP3-only types, kept distinct so RESP3 shapes are compared too.
    Map(Vec<(Value, Value)>),
    Set(Vec<Value>),
    Double(String),
    Bool(bool),
    Verbatim(Vec<u8>),
    Push(Vec<Value>),
}

impl Value {
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bulk(b) | Value::Verbatim(b) => Some(b),
            Value::Simple(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    pub fn as_str(&self) -> String {
        self.as_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_else(|| format!("{self}"))
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Value::Error(_))
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Simple(s) => write!(f, "+{s}"),
            Value::Error(s) => write!(f, "-{s}"),
            Value::Int(i) => write!(f, ":{i}"),
            Value::Bulk(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Value::Nil => write!(f, "(nil)"),
            Value::Double(d) => write!(f, ",{d}"),
            Value::Bool(b) => write!(f, "#{b}"),
            Value::Verbatim(b) => write!(f, "={:?}", String::from_utf8_lossy(b)),
            Value::Array(v) | Value::Set(v) | Value::Push(v) => {
                write!(f, "[")?;
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{x}")?;
                }
                write!(f, "]")
            }
            Value::Map(v) => {
                write!(f, "{{")?;
                for (i, (k, x)) in v.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}: {x}")?;
                }
                write!(f, "}}")
            }
        }
    }
}

fn convert2(frame: Frame2) -> Value {
    match frame {
        Frame2::SimpleString(s) => Value::Simple(String::from_utf8_lossy(&s).into_owned()),
        Frame2::Error(e) => Value::Error(e.to_string()),
        Frame2::Integer(i) => Value::Int(i),
        Frame2::BulkString(b) => Value::Bulk(b.to_vec()),
        Frame2::Array(items) => Value::Array(items.into_iter().map(convert2).collect()),
        Frame2::Null => Value::Nil,
    }
}

fn convert(frame: BytesFrame) -> Value {
    use BytesFrame as F;
    match frame {
        F::SimpleString { data, .. } => Value::Simple(String::from_utf8_lossy(&data).into_owned()),
        F::SimpleError { data, .. } => Value::Error(data.to_string()),
        F::BlobError { data, .. } => Value::Error(String::from_utf8_lossy(&data).into_owned()),
        F::Number { data, .. } => Value::Int(data),
        F::BlobString { data, .. } => Value::Bulk(data.to_vec()),
        F::Null => Value::Nil,
        F::Array { data, .. } => Value::Array(data.into_iter().map(convert).collect()),
        F::Set { data, .. } => Value::Set(data.into_iter().map(convert).collect()),
        F::Push { data, .. } => Value::Push(data.into_iter().map(convert).collect()),
        F::Map { data, .. } => Value::Map(
            data.into_iter()
                .map(|(k, v)| (convert(k), convert(v)))
                .collect(),
        ),
        F::Double { data, .. } => Value::Double(format!("{data}")),
        F::Boolean { data, .. } => Value::Bool(data),
        F::VerbatimString { data, .. } => Value::Verbatim(data.to_vec()),
        F::BigNumber { data, .. } => Value::Bulk(data.to_vec()),
        F::Hello { .. } | F::ChunkedString(_) => Value::Error("unexpected frame".into()),
    }
}

/// Which server a [`Server`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Snapkv,
    Redis,
}

/// A server child process on a free loopback port. Killed (by PID) when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    pub kind: Kind,
    pub dir: PathBuf,
    /// The directory was given by the test (restarts reuse it): not removed on drop.
    keep_dir: bool,
}

/// A port nobody listens on now and that this process never handed out before: tests
/// run in parallel threads, and the kernel may give a just-released port to the next
/// caller, which would let one test talk to another test's server.
pub fn free_port() -> u16 {
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

/// The `snapkv-server` binary built alongside the tests (`SNAPKV_SERVER_BIN` overrides).
pub fn snapkv_binary() -> PathBuf {
    if let Ok(p) = std::env::var("SNAPKV_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> → target/<profile>/snapkv-server
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = profile_dir.join("snapkv-server");
    assert!(
        bin.exists(),
        "{} not found: build it first (`cargo build -p snapkv-server`), or set SNAPKV_SERVER_BIN",
        bin.display()
    );
    bin
}

/// `redis-server` from PATH; the test command installs Debian's redis-server.
pub fn redis_binary() -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = PathBuf::from(dir).join("redis-server");
        if p.exists() {
            return p;
        }
    }
    panic!("redis-server not found in PATH: the differential tests need a real Redis 7.0 (apt-get install redis-server; tests/run.sh does it)");
}

/// Asserts that Redis's own `redis-check-rdb` accepts the file (`what` names it in the
/// failure message).
pub fn assert_redis_check_rdb_ok(file: &std::path::Path, what: &str) {
    let out = std::process::Command::new("redis-check-rdb")
        .arg(file)
        .output()
        .expect("redis-check-rdb (apt-get install redis-tools; tests/run.sh does it)");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("RDB looks OK"),
        "{what}: {out:?}"
    );
}

/// Names of the `temp-*.rdb` files of interrupted or running saves in `dir`.
pub fn temp_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("temp-"))
                .collect()
        })
        .unwrap_or_default()
}

/// A fresh empty directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("snapkv-test-{}-{tag}-{n}", std::process::id()));
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

impl Server {
    /// Starts snapkv-server with `args` (redis-server style `--name value`).
    pub fn snapkv(args: &[&str]) -> Server {
        Self::start(Kind::Snapkv, args)
    }

    /// Starts a real redis-server with `args`.
    pub fn redis(args: &[&str]) -> Server {
        Self::start(Kind::Redis, args)
    }

    /// Starts snapkv-server with a config file (as its first argument, like redis-server).
    pub fn start_with_file(conf: &std::path::Path) -> Server {
        let conf = conf.display().to_string();
        Self::start_inner(Kind::Snapkv, Some(&conf), &[])
    }

    pub fn start(kind: Kind, args: &[&str]) -> Server {
        Self::start_inner(kind, None, args)
    }

    /// Starts a server whose data directory is `dir` (kept after the server stops, so a
    /// second server can load what the first saved).
    pub fn start_in(kind: Kind, dir: &std::path::Path, args: &[&str]) -> Server {
        let mut all = vec!["--dir", dir.to_str().expect("utf-8 dir")];
        all.extend_from_slice(args);
        let mut s = Self::start_inner(kind, None, &all);
        let fresh = std::mem::replace(&mut s.dir, dir.to_path_buf());
        let _ = std::fs::remove_dir_all(fresh);
        s.keep_dir = true;
        s
    }

    /// Like [`Server::start_in`], but returns the process's stderr if it exits instead
    /// of serving (start-up errors).
    pub fn start_failure(kind: Kind, dir: &std::path::Path, args: &[&str]) -> String {
        let bin = match kind {
            Kind::Snapkv => snapkv_binary(),
            Kind::Redis => redis_binary(),
        };
        let out = Command::new(bin)
            .arg("--port")
            .arg(free_port().to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(dir)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run server");
        assert!(
            !out.status.success(),
            "server started (or exited 0) unexpectedly"
        );
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
    }

    fn start_inner(kind: Kind, conf: Option<&str>, args: &[&str]) -> Server {
        for _attempt in 0..5 {
            let port = free_port();
            let dir = temp_dir(match kind {
                Kind::Snapkv => "snapkv",
                Kind::Redis => "redis",
            });
            let bin = match kind {
                Kind::Snapkv => snapkv_binary(),
                Kind::Redis => redis_binary(),
            };
            let mut cmd = Command::new(bin);
            if let Some(conf) = conf {
                cmd.arg(conf);
            }
            cmd.arg("--port")
                .arg(port.to_string())
                .arg("--bind")
                .arg("127.0.0.1")
                .arg("--save")
                .arg("")
                .arg("--dir")
                .arg(&dir);
            if kind == Kind::Redis {
                cmd.arg("--appendonly").arg("no");
            }
            // The log goes to a file: an unread pipe would fill and stall the server.
            let log = std::fs::File::create(dir.join("server.log")).expect("server log");
            cmd.args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log);
            let child = cmd.spawn().expect("spawn server");
            let mut s = Server {
                child,
                port,
                kind,
                dir,
                keep_dir: false,
            };
            if s.wait_ready(Duration::from_secs(10)) {
                return s;
            }
            // Port taken by someone else between probe and bind: try another one.
        }
        panic!("{kind:?} server did not start");
    }

    fn wait_ready(&mut self, timeout: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut c) = Conn::connect(self.port) {
                // Any answer will do (NOAUTH too) but LOADING: the server is serving.
                c.send_raw(b"PING\r\n");
                match c.read() {
                    Ok(Value::Error(e)) if e.starts_with("LOADING") => {}
                    Ok(_) => return true,
                    Err(_) => {}
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn conn(&self) -> Conn {
        Conn::connect(self.port).expect("connect to server")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process has exited (and its status).
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(s) = self.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Sends a signal to the server by PID.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) with our own child's PID.
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            // A failing test shows what the server said (a panic message, say).
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!(
                "--- {:?} server log (last lines) ---\n{}",
                self.kind,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        if !self.keep_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Appends one command as a RESP multibulk.
fn encode_command<A: AsRef<[u8]>>(args: &[A], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Occurrences of `needle` in `hay`.
fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// A blocking RESP connection.
pub struct Conn {
    pub stream: TcpStream,
    buf: BytesMut,
    /// Replies are RESP3 after `HELLO 3`.
    pub resp3: bool,
    /// The last RESP2 reply's null bulks (`$-1`) and null arrays (`*-1`): [`Value`] has
    /// one `Nil` for both, as redis-protocol's RESP2 frame does, and clients that type
    /// their replies can tell them apart.
    pub last_nulls: (usize, usize),
}

impl Conn {
    pub fn connect(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: BytesMut::new(),
            resp3: false,
            last_nulls: (0, 0),
        })
    }

    /// Sends one command and reads its reply.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Value {
        self.send(args);
        let hello = args
            .first()
            .is_some_and(|a| a.as_ref().eq_ignore_ascii_case(b"hello"));
        if hello {
            if let Some(v) = args.get(1).map(|v| v.as_ref().to_vec()) {
                // The HELLO reply itself already uses the requested protocol.
                let before = self.resp3;
                self.resp3 = v == b"3";
                let r = self
                    .read()
                    .unwrap_or_else(|e| Value::Error(format!("<io: {e}>")));
                if r.is_error() {
                    self.resp3 = before;
                }
                return r;
            }
        }
        self.read()
            .unwrap_or_else(|e| Value::Error(format!("<io: {e}>")))
    }

    /// Waits for the running background save to end (at most 60 s); returns INFO
    /// persistence as it was then.
    pub fn bgsave_finished(&mut self) -> String {
        let start = Instant::now();
        loop {
            let info = self.cmd(&["INFO", "persistence"]).as_str();
            if info.contains("rdb_bgsave_in_progress:0") {
                return info;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "BGSAVE did not finish"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        self.send_raw(&out);
    }

    /// Sends every command in one write (pipelining) and reads all their replies.
    pub fn pipeline<A: AsRef<[u8]>>(
        &mut self,
        commands: impl IntoIterator<Item = Vec<A>>,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        let mut n = 0;
        for args in commands {
            encode_command(&args, &mut out);
            n += 1;
        }
        self.send_raw(&out);
        (0..n)
            .map(|_| {
                self.read()
                    .unwrap_or_else(|e| Value::Error(format!("<io: {e}>")))
            })
            .collect()
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    /// Reads one reply.
    pub fn read(&mut self) -> std::io::Result<Value> {
        loop {
            if !self.buf.is_empty() {
                let bad =
                    |e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{e:?}"));
                if self.resp3 {
                    match decode3(&mut self.buf) {
                        Ok(Some((frame, _, _))) => return Ok(convert(frame)),
                        Ok(None) => {}
                        Err(e) => return Err(bad(&format!("{e:?}"))),
                    }
                } else {
                    let before = self.buf.clone();
                    match decode2(&mut self.buf) {
                        Ok(Some((frame, _, _))) => {
                            let raw = &before[..before.len() - self.buf.len()];
                            self.last_nulls = (count(raw, b"$-1\r\n"), count(raw, b"*-1\r\n"));
                            return Ok(convert2(frame));
                        }
                        Ok(None) => {}
                        Err(e) => return Err(bad(&format!("{e:?}"))),
                    }
                }
            }
            let mut chunk = [0u8; 16384];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed",
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// True if the server closed the connection (EOF) within `timeout`.
    pub fn is_closed(&mut self, timeout: Duration) -> bool {
        let _ = self.stream.set_read_timeout(Some(timeout));
        let mut b = [0u8; 1024];
        let closed = loop {
            match self.stream.read(&mut b) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
                Err(_) => break false,
            }
        };
        let _ = self.stream.set_read_timeout(Some(Duration::from_secs(10)));
        closed
    }
}
