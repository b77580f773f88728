//! Compare snapkv-rdb with a real Redis on the same data: our encode and decode rates
//! against Redis's SAVE and startup load times.
//!
//! Run: `cargo run --release -p snapkv-rdb --example compare_redis -- [MB] [rdbcompression yes|no]`
//! (default 64 MB, yes). Needs `redis-server` on PATH; uses a temp dir and a free port.
//!
//! Steps: generate the mixed dataset; encode it with our writer (timed); start
//! redis-server on our file and read its "DB loaded from disk" time; time its SAVE; decode
//! Redis's own dump with our reader (timed).

#[path = "../benches/mixed/mod.rs"]
mod mixed;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use snapkv_rdb::{Event, Reader, WriteOptions, Writer};

fn cmd(conn: &mut BufReader<TcpStream>, args: &[&str]) -> String {
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req += &format!("${}\r\n{a}\r\n", a.len());
    }
    conn.get_mut()
        .write_all(req.as_bytes())
        .expect("write to redis");
    let mut line = String::new();
    conn.read_line(&mut line).expect("read from redis");
    if let Some(n) = line
        .strip_prefix('$')
        .and_then(|n| n.trim().parse::<usize>().ok())
    {
        let mut b = vec![0u8; n + 2];
        conn.read_exact(&mut b).expect("read bulk");
        return String::from_utf8_lossy(&b[..n]).into_owned();
    }
    line.trim().to_owned()
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mb: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(64.0);
    let compression = args.next().map(|s| s != "no").unwrap_or(true);
    let dir = std::env::temp_dir().join(format!("snapkv-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let data = mixed::mixed_dataset((mb * 1e6) as usize);
    println!(
        "dataset: {} keys, ~{mb} MB of payload, rdbcompression {}",
        data.len(),
        if compression { "yes" } else { "no" }
    );

    let ours = dir.join("dump.rdb");
    let t = Instant::now();
    let f = std::io::BufWriter::new(std::fs::File::create(&ours).expect("create"));
    let mut w = Writer::new(
        f,
        WriteOptions {
            compression,
            ..Default::default()
        },
    )
    .expect("writer");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    w.write_default_aux(now, 0).expect("aux");
    w.select_db(0).expect("select");
    for (k, ttl, v) in &data {
        w.write_entry(k, *ttl, v).expect("write");
    }
    w.finish().expect("finish");
    let enc = t.elapsed();
    let our_size = std::fs::metadata(&ours).expect("stat").len();
    println!(
        "snapkv encode:  {:>8.1} ms  {:>7.1} MB/s  ({our_size} bytes)",
        enc.as_secs_f64() * 1e3,
        mbps(our_size, enc)
    );

    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let log = dir.join("redis.log");
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args([
            "--dir",
            dir.to_str().expect("utf8 dir"),
            "--dbfilename",
            "dump.rdb",
        ])
        .args([
            "--logfile",
            log.to_str().expect("utf8 log"),
            "--hash-max-listpack-entries",
            "128",
        ])
        .args(["--rdbcompression", if compression { "yes" } else { "no" }])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server on PATH");
    let mut conn = loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log_text = std::fs::read_to_string(&log).unwrap_or_default();
            eprintln!("redis-server exited ({status}) while loading our file:\n{log_text}");
            std::process::exit(1);
        }
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            let mut c = BufReader::new(s);
            if cmd(&mut c, &["PING"]) == "+PONG" {
                break c;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    let load = log_text
        .lines()
        .find_map(|l| l.split("DB loaded from disk: ").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse::<f64>().ok());
    let keys = cmd(&mut conn, &["DBSIZE"])
        .trim_start_matches(':')
        .to_owned();
    match load {
        Some(s) => println!(
            "redis load:     {:>8.1} ms  {:>7.1} MB/s  (keys {keys})",
            s * 1e3,
            our_size as f64 / 1e6 / s
        ),
        None => println!("redis load:     (no load time in log; keys {keys})"),
    }
    let t = Instant::now();
    cmd(&mut conn, &["SAVE"]);
    let save = t.elapsed();
    let their_size = std::fs::metadata(&ours).expect("stat").len();
    println!(
        "redis SAVE:     {:>8.1} ms  {:>7.1} MB/s  ({their_size} bytes)",
        save.as_secs_f64() * 1e3,
        mbps(their_size, save)
    );
    let _ = child.kill();
    let _ = child.wait();

    let t = Instant::now();
    let f = std::fs::File::open(&ours).expect("open");
    let mut r = Reader::new(f).expect("reader");
    let mut n = 0u64;
    while let Some(ev) = r.next_event().expect("decode redis dump") {
        if let Event::Entry(_) = ev {
            n += 1;
        }
    }
    let dec = t.elapsed();
    println!(
        "snapkv decode:  {:>8.1} ms  {:>7.1} MB/s  (keys {n}, Redis's file)",
        dec.as_secs_f64() * 1e3,
        mbps(their_size, dec)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
