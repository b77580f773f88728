//! A real S3-compatible server for the backup tests: moto's server (installed by
//! `tests/run.sh` into `target/s3-venv`) on a free loopback port, killed by PID on drop;
//! plain-HTTP helpers (moto ignores credentials) to create buckets, put raw objects and
//! look at multipart uploads; and a fault proxy that cuts large requests mid-flight.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::free_port;

/// `moto_server`: `SNAPKV_MOTO_SERVER`, else `target/s3-venv/bin/moto_server`.
pub fn moto_binary() -> PathBuf {
    if let Ok(p) = std::env::var("SNAPKV_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/s3-venv/bin/moto_server");
    assert!(
        p.exists(),
        "{} not found: the backup tests need moto's S3 server. Run tests/run.sh (it installs it: \
         python3 -m venv target/s3-venv && target/s3-venv/bin/pip install 'moto[server]'), or set SNAPKV_MOTO_SERVER",
        p.display()
    );
    p
}

/// Static dummy credentials for the servers the tests start (the AWS default chain then
/// never probes instance metadata).
pub fn aws_env() -> [(&'static str, &'static str); 5] {
    [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/dev/null"),
    ]
}

/// Sets [`aws_env`] in this process, once, so child servers inherit it.
pub fn set_aws_env() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for (k, v) in aws_env() {
            std::env::set_var(k, v);
        }
    });
}

pub struct S3Server {
    child: Child,
    pub port: u16,
}

impl S3Server {
    pub fn start() -> S3Server {
        let bin = moto_binary();
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn moto_server");
            let mut s = S3Server { child, port };
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(20) {
                if let Ok(Some(_)) = s.child.try_wait() {
                    break;
                }
                if http(port, "GET", "/", b"").is_ok() {
                    return s;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("moto_server did not start");
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn create_bucket(&self, bucket: &str) {
        let (status, body) = http(self.port, "PUT", &format!("/{bucket}"), b"").expect("http");
        assert!(status == 200, "create bucket {bucket}: {status} {body}");
    }

    pub fn put(&self, key: &str, data: &[u8]) {
        let (status, body) = http(self.port, "PUT", &format!("/{key}"), data).expect("http");
        assert!(status == 200, "put {key}: {status} {body}");
    }

    /// (status, body) of a GET.
    pub fn get(&self, path: &str) -> (u16, String) {
        http(self.port, "GET", path, b"").expect("http")
    }

    /// The raw body of a GET.
    pub fn get_bytes(&self, path: &str) -> Vec<u8> {
        let resp = request(self.port, "GET", path, b"").expect("http");
        assert_eq!(status_of(&resp), 200, "GET {path}");
        let at = resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("headers end");
        resp[at + 4..].to_vec()
    }

    /// Keys of the multipart uploads open in `bucket`.
    pub fn open_uploads(&self, bucket: &str) -> Vec<String> {
        let (status, body) = self.get(&format!("/{bucket}?uploads"));
        assert_eq!(status, 200, "{body}");
        body.split("<Upload>")
            .skip(1)
            .filter_map(|u| {
                let k = u.split("<Key>").nth(1)?;
                Some(k.split("</Key>").next()?.to_string())
            })
            .collect()
    }

    /// The response headers of a HEAD of `key` (`bucket/key`).
    pub fn head(&self, key: &str) -> String {
        let (status, head) = http_head(self.port, &format!("/{key}")).expect("http");
        assert_eq!(status, 200, "HEAD {key}");
        head
    }

    /// The ETag of an object (`"…-N"` for one uploaded in N parts).
    pub fn etag(&self, key: &str) -> String {
        self.head(key)
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .starts_with("etag:")
                    .then(|| l[5..].trim().to_string())
            })
            .unwrap_or_default()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// moto checks no signature, but reads anonymous requests against object ACLs.
const AUTH: &str = "Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\n";

fn request(port: u16, method: &str, path: &str, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n{AUTH}\r\n",
        body.len()
    )?;
    s.write_all(body)?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    Ok(out)
}

fn status_of(resp: &[u8]) -> u16 {
    String::from_utf8_lossy(resp)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A plain HTTP/1.1 request; (status, body).
pub fn http(port: u16, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
    let resp = request(port, method, path, body)?;
    let text = String::from_utf8_lossy(&resp).into_owned();
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    Ok((status_of(&resp), body.to_string()))
}

fn http_head(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let resp = request(port, "HEAD", path, b"")?;
    Ok((
        status_of(&resp),
        String::from_utf8_lossy(&resp).into_owned(),
    ))
}

/// A TCP proxy to `upstream` that cuts any connection once more than `cut_after` bytes
/// went upstream on it (0 = never): small requests pass, large uploads fail mid-flight;
/// and that can slow uploads to `rate` bytes per second per connection (0 = no limit).
pub struct FaultProxy {
    pub port: u16,
    pub cut_after: Arc<AtomicU64>,
    pub rate: Arc<AtomicU64>,
    pub cuts: Arc<AtomicU64>,
}

impl FaultProxy {
    pub fn start(upstream: u16) -> FaultProxy {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = l.local_addr().expect("addr").port();
        let cut_after = Arc::new(AtomicU64::new(0));
        let rate = Arc::new(AtomicU64::new(0));
        let cuts = Arc::new(AtomicU64::new(0));
        let (limit, count, speed) = (cut_after.clone(), cuts.clone(), rate.clone());
        std::thread::spawn(move || {
            for client in l.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (c2, s2) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                let (limit, count, speed) = (limit.clone(), count.clone(), speed.clone());
                // Client → server, counted and cut.
                std::thread::spawn(move || {
                    let (mut from, mut to) = (client, server);
                    let mut buf = [0u8; 64 * 1024];
                    let mut sent = 0u64;
                    loop {
                        let n = match from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        sent += n as u64;
                        let cut = limit.load(Ordering::Relaxed);
                        if cut > 0 && sent > cut {
                            count.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        let bps = speed.load(Ordering::Relaxed);
                        if bps > 0 {
                            std::thread::sleep(Duration::from_secs_f64(n as f64 / bps as f64));
                        }
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = from.shutdown(Shutdown::Both);
                    let _ = to.shutdown(Shutdown::Both);
                });
                // Server → client.
                std::thread::spawn(move || {
                    let (mut from, mut to) = (s2, c2);
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = from.shutdown(Shutdown::Both);
                    let _ = to.shutdown(Shutdown::Both);
                });
            }
        });
        FaultProxy {
            port,
            cut_after,
            rate,
            cuts,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
