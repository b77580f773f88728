//! Server and connection commands end to end: INFO fields against a real redis-server,
//! CLIENT LIST/KILL, CLIENT PAUSE timing, MONITOR output, CONFIG REWRITE round trip,
//! maxclients, and the real redis-cli printing the same for snapkv as for Redis.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use snapkv_e2e::{free_port, snapkv_binary, Conn, Server, Value};

/// INFO's field names per section (lower-cased section title).
fn info_fields(text: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.split("\r\n") {
        if let Some(title) = line.strip_prefix("# ") {
            section = title.to_ascii_lowercase();
        } else if let Some((name, _)) = line.split_once(':') {
            out.push((section.clone(), name.to_string()));
        }
    }
    out
}

#[test]
fn info_has_every_field_redis_prints() {
    let snapkv = Server::snapkv(&[]);
    let redis = Server::redis(&[]);
    let mut a = snapkv.conn();
    let mut b = redis.conn();
    for c in [&mut a, &mut b] {
        c.cmd(&["SET", "k", "v"]);
        c.cmd(&["SET", "t", "v", "EX", "100"]);
        c.cmd(&["GET", "k"]);
    }
    let ours = a.cmd(&["INFO", "everything"]).as_str();
    let theirs = b.cmd(&["INFO", "everything"]).as_str();
    assert!(
        ours.starts_with("# Server\r\nredis_version:7.0.15\r\n"),
        "{ours}"
    );
    assert!(ours.ends_with("\r\n"));
    let ours: BTreeSet<(String, String)> = info_fields(&ours).into_iter().collect();
    let sections = [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "keyspace",
    ];
    let missing: Vec<String> = info_fields(&theirs)
        .into_iter()
        .filter(|(s, _)| sections.contains(&s.as_str()))
        .filter(|f| !ours.contains(f))
        .map(|(s, n)| format!("{s}.{n}"))
        .collect();
    assert!(
        missing.is_empty(),
        "fields Redis prints that snapkv lacks: {missing:?}"
    );
    for (s, n) in [
        ("stats", "keyspace_hits"),
        ("keyspace", "db0"),
        ("commandstats", "cmdstat_set"),
        ("memory", "reserved_memory_percent"),
    ] {
        assert!(ours.contains(&(s.to_string(), n.to_string())), "{s}.{n}");
    }
    // Default INFO: the default sections, in Redis's order.
    let titles = |t: &str| -> Vec<String> {
        t.split("\r\n")
            .filter_map(|l| l.strip_prefix("# ").map(str::to_string))
            .collect()
    };
    assert_eq!(
        titles(&a.cmd(&["INFO"]).as_str()),
        titles(&b.cmd(&["INFO"]).as_str())
    );
    assert_eq!(
        titles(&a.cmd(&["INFO", "keyspace", "server"]).as_str()),
        vec!["Server", "Keyspace"]
    );
    let ks = a.cmd(&["INFO", "keyspace"]).as_str();
    assert!(ks.contains("db0:keys=2,expires=1,avg_ttl="), "{ks}");
}

fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}

#[test]
fn client_list_and_kill() {
    let s = Server::snapkv(&[]);
    let mut a = s.conn();
    let mut b = s.conn();
    let mut c = s.conn();
    assert_eq!(
        b.cmd(&["CLIENT", "SETNAME", "bee"]),
        Value::Simple("OK".into())
    );
    b.cmd(&["SELECT", "3"]);
    let b_id = b.cmd(&["CLIENT", "ID"]).as_int().unwrap();
    let list = a.cmd(&["CLIENT", "LIST"]).as_str();
    assert_eq!(list.lines().count(), 3, "{list}");
    let line = list
        .lines()
        .find(|l| field(l, "id") == b_id.to_string())
        .unwrap();
    assert_eq!(field(line, "name"), "bee");
    assert_eq!(field(line, "db"), "3");
    assert_eq!(field(line, "cmd"), "client|id");
    assert_eq!(field(line, "flags"), "N");
    assert_eq!(field(line, "resp"), "2");
    let names: Vec<&str> = line
        .split(' ')
        .map(|kv| kv.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names.join(" "),
        "id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp"
    );
    let mine = a.cmd(&["CLIENT", "INFO"]).as_str();
    assert_eq!(field(&mine, "cmd"), "client|info");
    let only_b = a.cmd(&["CLIENT", "LIST", "ID", &b_id.to_string()]).as_str();
    assert_eq!(only_b.lines().count(), 1);

    // New form by id, then the old ip:port form.
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "ID", &b_id.to_string()]),
        Value::Int(1)
    );
    assert!(b.is_closed(Duration::from_secs(2)));
    let c_addr = field(&c.cmd(&["CLIENT", "INFO"]).as_str(), "addr").to_string();
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", &c_addr]),
        Value::Simple("OK".into())
    );
    assert!(c.is_closed(Duration::from_secs(2)));
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", &c_addr]),
        Value::Error("ERR No such client".into())
    );
    // SKIPME no: the caller gets its reply, then is closed.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        a.cmd(&["CLIENT", "KILL", "USER", "default", "SKIPME", "no"]),
        Value::Int(1)
    );
    assert!(a.is_closed(Duration::from_secs(2)));
}

#[test]
fn client_pause_delays_commands_without_blocking_others() {
    let s = Server::snapkv(&[]);
    let mut admin = s.conn();
    let mut c = s.conn();
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "400", "WRITE"]),
        Value::Simple("OK".into())
    );
    let t = Instant::now();
    assert_eq!(c.cmd(&["GET", "k"]), Value::Nil);
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "reads are not paused"
    );
    assert_eq!(c.cmd(&["SET", "k", "v"]), Value::Simple("OK".into()));
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "write waited {waited:?}"
    );

    // ALL pauses everything, CLIENT UNPAUSE included (as in Redis 7.0).
    admin.cmd(&["CLIENT", "PAUSE", "500", "ALL"]);
    let t = Instant::now();
    assert_eq!(c.cmd(&["PING"]), Value::Simple("PONG".into()));
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(400),
        "ping waited {waited:?}"
    );

    // UNPAUSE releases a waiting write early.
    admin.cmd(&["CLIENT", "PAUSE", "5000", "WRITE"]);
    let t = Instant::now();
    c.send(&["SET", "k", "w"]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        admin.cmd(&["CLIENT", "UNPAUSE"]),
        Value::Simple("OK".into())
    );
    assert_eq!(c.read().unwrap(), Value::Simple("OK".into()));
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_millis(2000),
        "set waited {waited:?}"
    );
}

#[test]
fn monitor_streams_commands_like_redis() {
    for server in [Server::snapkv(&[]), Server::redis(&[])] {
        let mut m = server.conn();
        assert_eq!(m.cmd(&["MONITOR"]), Value::Simple("OK".into()));
        let mut c = server.conn();
        c.cmd(&["SELECT", "2"]);
        c.cmd(&["SET", "foo", "bar \"q\""]);
        c.cmd(&["HELLO", "2", "AUTH", "default", "secret"]);
        let mut lines = Vec::new();
        while lines.len() < 3 {
            match m.read().unwrap() {
                Value::Simple(s) => lines.push(s),
                other => panic!("{other:?}"),
            }
        }
        let (time, rest) = lines[1].split_once(' ').unwrap();
        let (secs, micros) = time.split_once('.').unwrap();
        assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{time}");
        assert!(rest.starts_with("[2 127.0.0.1:"), "{rest}");
        assert!(
            rest.ends_with("] \"SET\" \"foo\" \"bar \\\"q\\\"\""),
            "{rest}"
        );
        assert!(
            lines[2].ends_with("\"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\""),
            "{}",
            lines[2]
        );
        assert!(lines[0].ends_with("\"SELECT\" \"2\""), "{}", lines[0]);
    }
}

fn wait_ready(port: u16) -> Conn {
    let start = Instant::now();
    loop {
        if let Ok(mut c) = Conn::connect(port) {
            if c.cmd(&["PING"]) == Value::Simple("PONG".into()) {
                return c;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn config_rewrite_round_trip() {
    let dir = std::env::temp_dir().join(format!("snapkv-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("snapkv.conf");
    let port = free_port();
    std::fs::write(
        &conf,
        format!("# my settings\nport {port}\nbind 127.0.0.1\nsave \"\"\nhz 10\n"),
    )
    .unwrap();
    let start = || {
        Command::new(snapkv_binary())
            .arg(&conf)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut child = start();
    let mut c = wait_ready(port);
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "hz",
            "25",
            "maxmemory",
            "5mb",
            "maxmemory-policy",
            "allkeys-lru"
        ]),
        Value::Simple("OK".into())
    );
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), Value::Simple("OK".into()));
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(
        text.contains("# my settings") && text.contains("hz 25"),
        "{text}"
    );
    let _ = child.kill();
    let _ = child.wait();
    let mut child = start();
    let mut c = wait_ready(port);
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "hz"]),
        Value::Array(vec![
            Value::Bulk(b"hz".to_vec()),
            Value::Bulk(b"25".to_vec())
        ])
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        Value::Array(vec![
            Value::Bulk(b"maxmemory".to_vec()),
            Value::Bulk(b"5242880".to_vec())
        ])
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory-policy"]).as_str(),
        Value::Array(vec![
            Value::Bulk(b"maxmemory-policy".to_vec()),
            Value::Bulk(b"allkeys-lru".to_vec())
        ])
        .as_str()
    );
    let _ = child.kill();
    let _ = child.wait();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn maxclients_refuses_with_redis_error() {
    let s = Server::snapkv(&["--maxclients", "2"]);
    // Let the server notice the harness's readiness probe has gone.
    std::thread::sleep(Duration::from_millis(300));
    let mut a = s.conn();
    let mut b = s.conn();
    assert_eq!(a.cmd(&["PING"]), Value::Simple("PONG".into()));
    assert_eq!(b.cmd(&["PING"]), Value::Simple("PONG".into()));
    let mut c = s.conn();
    assert_eq!(
        c.read().unwrap(),
        Value::Error("ERR max number of clients reached".into())
    );
    assert!(c.is_closed(Duration::from_secs(2)));
    drop(b);
    std::thread::sleep(Duration::from_millis(200));
    let mut d = s.conn();
    assert_eq!(d.cmd(&["PING"]), Value::Simple("PONG".into()));
    let info = a.cmd(&["INFO", "stats"]).as_str();
    assert!(info.contains("rejected_connections:1\r\n"), "{info}");
}

#[test]
fn debug_set_active_expire_and_sleep() {
    let s = Server::snapkv(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]),
        Value::Simple("OK".into())
    );
    c.cmd(&["SET", "k", "v", "PX", "50"]);
    std::thread::sleep(Duration::from_millis(400));
    // Not touched and no active expiry: still counted.
    let ks = c.cmd(&["INFO", "keyspace"]).as_str();
    assert!(ks.contains("db0:keys=1,"), "{ks}");
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    std::thread::sleep(Duration::from_millis(500));
    let ks = c.cmd(&["INFO", "keyspace"]).as_str();
    assert!(!ks.contains("db0:"), "{ks}");
    let t = Instant::now();
    assert_eq!(
        c.cmd(&["DEBUG", "SLEEP", "0.2"]),
        Value::Simple("OK".into())
    );
    assert!(t.elapsed() >= Duration::from_millis(190));
    c.cmd(&["SET", "o", "12345"]);
    let obj = c.cmd(&["DEBUG", "OBJECT", "o"]).as_str();
    assert!(
        obj.starts_with("Value at:0x") && obj.contains(" refcount:1 encoding:int "),
        "{obj}"
    );
}

#[test]
fn slowlog_and_latency_record_slow_commands() {
    let s = Server::snapkv(&[]);
    let mut c = s.conn();
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    c.cmd(&["CLIENT", "SETNAME", "slowpoke"]);
    c.cmd(&["SET", "k", "v"]);
    let Value::Array(entries) = c.cmd(&["SLOWLOG", "GET", "1"]) else {
        panic!()
    };
    let Value::Array(e) = &entries[0] else {
        panic!()
    };
    assert_eq!(e.len(), 6);
    assert_eq!(
        e[3],
        Value::Array(vec![
            Value::Bulk(b"SET".to_vec()),
            Value::Bulk(b"k".to_vec()),
            Value::Bulk(b"v".to_vec())
        ])
    );
    assert_eq!(e[5], Value::Bulk(b"slowpoke".to_vec()));
    c.cmd(&["AUTH", "default", "hunter2"]);
    let Value::Array(entries) = c.cmd(&["SLOWLOG", "GET", "1"]) else {
        panic!()
    };
    let Value::Array(e) = &entries[0] else {
        panic!()
    };
    assert_eq!(
        e[3],
        Value::Array(vec![
            Value::Bulk(b"AUTH".to_vec()),
            Value::Bulk(b"(redacted)".to_vec()),
            Value::Bulk(b"(redacted)".to_vec())
        ])
    );
    c.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "100"]);
    c.cmd(&["DEBUG", "SLEEP", "0.15"]);
    let Value::Array(latest) = c.cmd(&["LATENCY", "LATEST"]) else {
        panic!()
    };
    assert_eq!(latest.len(), 1, "{latest:?}");
    let Value::Array(ev) = &latest[0] else {
        panic!()
    };
    assert_eq!(ev[0], Value::Bulk(b"command".to_vec()));
    assert!(ev[2].as_int().unwrap() >= 150);
    assert_eq!(c.cmd(&["LATENCY", "RESET"]), Value::Int(1));
}

/// `redis-cli -p PORT args…` output.
fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("redis-cli is installed (tests/run.sh installs redis-tools)");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn redis_cli_prints_the_same() {
    let snapkv = Server::snapkv(&[]);
    let redis = Server::redis(&[]);
    let cases: &[&[&str]] = &[
        &["SET", "k", "v"],
        &["GET", "k"],
        &["CONFIG", "GET", "hz"],
        &["CONFIG", "SET", "hz", "nope"],
        &["CLIENT", "GETNAME"],
        &["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"],
        &["INFO", "keyspace"],
        &["SLOWLOG", "LEN"],
        &["CLIENT", "NOSUCH"],
        &["CONFIG", "HELP"],
        &["LATENCY", "LATEST"],
    ];
    for args in cases {
        assert_eq!(
            cli(snapkv.port, args),
            cli(redis.port, args),
            "redis-cli {}",
            args.join(" ")
        );
    }
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let s = Server::snapkv(&["--timeout", "1"]);
    let mut idle = s.conn();
    assert_eq!(idle.cmd(&["PING"]), Value::Simple("PONG".into()));
    let mut busy = s.conn();
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(2500) {
        assert_eq!(busy.cmd(&["PING"]), Value::Simple("PONG".into()));
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        idle.is_closed(Duration::from_secs(2)),
        "idle client still open"
    );
    assert_eq!(busy.cmd(&["PING"]), Value::Simple("PONG".into()));
    assert_eq!(
        busy.cmd(&["CONFIG", "GET", "tcp-keepalive"]),
        Value::Array(vec![
            Value::Bulk(b"tcp-keepalive".to_vec()),
            Value::Bulk(b"300".to_vec())
        ])
    );
}
