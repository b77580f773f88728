//! Server commands whose replies differ by nature between servers (ids, times, memory):
//! INFO's field names against real Redis, CLIENT LIST/KILL, CLIENT PAUSE, MONITOR,
//! CONFIG REWRITE, maxclients.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use snapkv_e2e::{Server, Value};

fn info_fields(v: &Value) -> BTreeSet<String> {
    v.as_str()
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(':'))
        .map(|l| l.split(':').next().unwrap_or("").to_string())
        .filter(|k| {
            !k.starts_with("db") && !k.starts_with("cmdstat_") && !k.starts_with("errorstat_")
        })
        .collect()
}

#[test]
fn info_has_every_field_redis_has() {
    let snapkv = Server::snapkv(&[]);
    let redis = Server::redis(&[]);
    for section in [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "cluster",
    ] {
        let ours = info_fields(&snapkv.conn().cmd(&["INFO", section]));
        let theirs = info_fields(&redis.conn().cmd(&["INFO", section]));
        let missing: Vec<_> = theirs.difference(&ours).collect();
        assert!(missing.is_empty(), "INFO {section} lacks {missing:?}");
    }
    let text = snapkv.conn().cmd(&["INFO"]).as_str();
    for header in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Keyspace",
    ] {
        assert!(text.contains(header), "{header} missing from default INFO");
    }
    assert!(text.contains("reserved_memory_percent:25"));
    let mut c = snapkv.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["GET", "a"]);
    c.cmd(&["GET", "nope"]);
    let all = c.cmd(&["INFO", "all"]).as_str();
    assert!(all.contains("cmdstat_get:calls=2"), "{all}");
    assert!(all.contains("keyspace_hits:1") && all.contains("keyspace_misses:1"));
    assert!(all.contains("db0:keys=1,expires=0,avg_ttl=0"));
}

#[test]
fn client_list_and_kill() {
    let s = Server::snapkv(&[]);
    let mut a = s.conn();
    let mut b = s.conn();
    b.cmd(&["CLIENT", "SETNAME", "victim"]);
    let list = a.cmd(&["CLIENT", "LIST"]).as_str();
    let victim = list
        .lines()
        .find(|l| l.contains("name=victim"))
        .expect("victim listed");
    for field in [
        "id=",
        "addr=",
        "laddr=",
        "fd=",
        "age=",
        "idle=",
        "flags=N",
        "db=0",
        "cmd=client|setname",
        "resp=2",
    ] {
        assert!(victim.contains(field), "{field} missing: {victim}");
    }
    let id = victim
        .split(' ')
        .next()
        .unwrap()
        .trim_start_matches("id=")
        .to_string();
    assert_eq!(a.cmd(&["CLIENT", "KILL", "ID", &id]), Value::Int(1));
    assert!(
        b.is_closed(Duration::from_secs(2)),
        "killed client still connected"
    );
    assert_eq!(a.cmd(&["CLIENT", "KILL", "ID", &id]), Value::Int(0));
    assert_eq!(a.cmd(&["PING"]), Value::Simple("PONG".into()));
}

#[test]
fn client_pause_delays_writes_not_reads() {
    let s = Server::snapkv(&[]);
    let mut admin = s.conn();
    let mut c = s.conn();
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "400", "WRITE"]),
        Value::Simple("OK".into())
    );
    let t = Instant::now();
    assert_eq!(c.cmd(&["GET", "k"]), Value::Bulk(b"v".to_vec()));
    assert!(t.elapsed() < Duration::from_millis(200), "read was paused");
    let t = Instant::now();
    assert_eq!(c.cmd(&["SET", "k", "w"]), Value::Simple("OK".into()));
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "write not paused: {:?}",
        t.elapsed()
    );
    // (Under PAUSE ALL, UNPAUSE itself would wait like in Redis: pause writes only.)
    admin.cmd(&["CLIENT", "PAUSE", "5000", "WRITE"]);
    admin.cmd(&["CLIENT", "UNPAUSE"]);
    let t = Instant::now();
    c.cmd(&["SET", "k", "x"]);
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "UNPAUSE did not release"
    );
}

#[test]
fn monitor_streams_commands() {
    let s = Server::snapkv(&[]);
    let mut m = s.conn();
    assert_eq!(m.cmd(&["MONITOR"]), Value::Simple("OK".into()));
    let mut c = s.conn();
    c.cmd(&["SET", "watched", "va\"l"]);
    let line = m.read().unwrap();
    let text = line.as_str();
    assert!(text.contains("[0 127.0.0.1:"), "{text}");
    assert!(text.ends_with("\"SET\" \"watched\" \"va\\\"l\""), "{text}");
}

#[test]
fn config_rewrite_round_trip() {
    let dir = std::env::temp_dir().join(format!("snapkv-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("snapkv.conf");
    std::fs::write(&conf, "# my settings\nhz 15\n").unwrap();
    // The config file must come first, as with redis-server.
    let s = Server::start_with_file(&conf);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", "64mb", "hz", "20"]),
        Value::Simple("OK".into())
    );
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), Value::Simple("OK".into()));
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains("# my settings"), "{text}");
    assert!(text.contains("hz 20") && !text.contains("hz 15"), "{text}");
    assert!(text.contains("maxmemory 67108864"), "{text}");
    drop(s);
    let again = Server::start_with_file(&conf);
    let v = again.conn().cmd(&["CONFIG", "GET", "maxmemory"]);
    assert_eq!(
        v,
        Value::Array(vec![
            Value::Bulk(b"maxmemory".to_vec()),
            Value::Bulk(b"67108864".to_vec())
        ])
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn maxclients_is_enforced() {
    let s = Server::snapkv(&["--maxclients", "3"]);
    let conns: Vec<_> = (0..3).map(|_| s.conn()).collect();
    for mut c in conns.into_iter().take(3) {
        let _ = c.cmd(&["PING"]);
        std::mem::forget(c);
    }
    let mut extra = s.conn();
    assert_eq!(
        extra.read().unwrap(),
        Value::Error("ERR max number of clients reached".into())
    );
}

#[test]
fn monitor_lines_match_redis_and_hide_passwords() {
    for server in [Server::snapkv(&[]), Server::redis(&[])] {
        let mut m = server.conn();
        assert_eq!(m.cmd(&["MONITOR"]), Value::Simple("OK".into()));
        let mut c = server.conn();
        c.cmd(&["SELECT", "2"]);
        // Admin commands are not shown to monitors.
        c.cmd(&["CONFIG", "GET", "hz"]);
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
        assert!(lines[0].ends_with("\"SELECT\" \"2\""), "{}", lines[0]);
        assert!(
            lines[2].ends_with("\"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\""),
            "{}",
            lines[2]
        );
    }
}

#[test]
fn client_pause_all_holds_every_command_like_redis() {
    // Redis 7.0 pauses CLIENT UNPAUSE too under PAUSE ALL; under WRITE it runs at once
    // and releases waiting writes.
    let s = Server::snapkv(&[]);
    let mut admin = s.conn();
    let mut c = s.conn();
    admin.cmd(&["CLIENT", "PAUSE", "500", "ALL"]);
    let t = Instant::now();
    assert_eq!(c.cmd(&["PING"]), Value::Simple("PONG".into()));
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
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
fn debug_set_active_expire_sleep_and_object() {
    let s = Server::snapkv(&["--enable-debug-command", "yes"]);
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
        obj.starts_with("Value at:") && obj.contains(" refcount:1 encoding:int "),
        "{obj}"
    );
}

#[test]
fn slowlog_and_latency_record_slow_commands() {
    let s = Server::snapkv(&["--enable-debug-command", "yes"]);
    let mut c = s.conn();
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    c.cmd(&["CLIENT", "SETNAME", "slowpoke"]);
    c.cmd(&["SET", "k", "v"]);
    let entry = |c: &mut snapkv_e2e::Conn| {
        let Value::Array(entries) = c.cmd(&["SLOWLOG", "GET", "1"]) else {
            panic!()
        };
        let Value::Array(e) = entries[0].clone() else {
            panic!()
        };
        e
    };
    let e = entry(&mut c);
    assert_eq!(e.len(), 6);
    let bulks = |v: &[&str]| {
        Value::Array(
            v.iter()
                .map(|s| Value::Bulk(s.as_bytes().to_vec()))
                .collect(),
        )
    };
    assert_eq!(e[3], bulks(&["SET", "k", "v"]));
    assert_eq!(e[5], Value::Bulk(b"slowpoke".to_vec()));
    // Passwords never reach the slowlog.
    c.cmd(&["AUTH", "default", "hunter2"]);
    assert_eq!(
        entry(&mut c)[3],
        bulks(&["AUTH", "(redacted)", "(redacted)"])
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
    let graph = c.cmd(&["LATENCY", "GRAPH", "command"]).as_str();
    assert!(graph.starts_with("command - high "), "{graph}");
    assert_eq!(c.cmd(&["LATENCY", "RESET"]), Value::Int(1));
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
}

/// `redis-cli -p PORT args…` output.
fn cli(port: u16, args: &[&str]) -> String {
    let out = std::process::Command::new("redis-cli")
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
        &["CLIENT", "HELP"],
        &["LATENCY", "LATEST"],
        &["LATENCY", "DOCTOR"],
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
fn client_list_shows_multi_queue_and_last_command_like_redis() {
    for server in [Server::snapkv(&[]), Server::redis(&[])] {
        let mut a = server.conn();
        let mut m = server.conn();
        let mut x = server.conn();
        m.cmd(&["MONITOR"]);
        x.cmd(&["CLIENT", "SETNAME", "xx"]);
        x.cmd(&["MULTI"]);
        x.cmd(&["SET", "a", "b"]);
        x.cmd(&["GET", "a"]);
        let list = a.cmd(&["CLIENT", "LIST"]).as_str();
        let get = |name: &str, field: &str| -> String {
            let line = list
                .lines()
                .find(|l| l.contains(name))
                .unwrap_or_else(|| panic!("{name} in {list}"));
            line.split(' ')
                .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
                .unwrap()
                .to_string()
        };
        assert_eq!(get("name=xx", "flags"), "x", "{list}");
        assert_eq!(get("name=xx", "multi"), "2", "{list}");
        assert_eq!(get("name=xx", "cmd"), "get", "{list}");
        assert_eq!(get("cmd=monitor", "flags"), "O", "{list}");
        x.cmd(&["EXEC"]);
        let list = a.cmd(&["CLIENT", "LIST"]).as_str();
        let line = list.lines().find(|l| l.contains("name=xx")).unwrap();
        assert!(
            line.contains(" flags=N ")
                && line.contains(" multi=-1 ")
                && line.contains(" cmd=exec "),
            "{line}"
        );
    }
}

#[test]
fn client_reply_off_skip_on_like_redis() {
    for server in [Server::snapkv(&[]), Server::redis(&[])] {
        let mut c = server.conn();
        // OFF and SKIP themselves get no reply; ON does.
        c.send(&["CLIENT", "REPLY", "OFF"]);
        c.send(&["SET", "a", "1"]);
        c.send(&["CLIENT", "REPLY", "ON"]);
        assert_eq!(c.read().unwrap(), Value::Simple("OK".into()));
        c.send(&["CLIENT", "REPLY", "SKIP"]);
        c.send(&["SET", "a", "2"]);
        c.send(&["GET", "a"]);
        assert_eq!(c.read().unwrap(), Value::Bulk(b"2".to_vec()));
        c.cmd(&["CLIENT", "NO-EVICT", "on"]);
        let me = c.cmd(&["CLIENT", "INFO"]).as_str();
        assert!(me.contains(" flags=e "), "{me}");
    }
}

#[test]
fn maxclients_set_at_runtime() {
    let s = Server::snapkv(&[]);
    std::thread::sleep(Duration::from_millis(300));
    let mut a = s.conn();
    assert_eq!(
        a.cmd(&["CONFIG", "SET", "maxclients", "1"]),
        Value::Simple("OK".into())
    );
    let mut b = s.conn();
    assert_eq!(
        b.read().unwrap(),
        Value::Error("ERR max number of clients reached".into())
    );
    a.cmd(&["CONFIG", "SET", "maxclients", "10"]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PING"]), Value::Simple("PONG".into()));
}

/// `name:value` of an INFO reply.
fn info_value(text: &str, name: &str) -> String {
    text.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .to_string()
}

#[test]
fn info_counters_count_like_redis() {
    let mut seen = Vec::new();
    for server in [Server::snapkv(&[]), Server::redis(&[])] {
        let mut c = server.conn();
        c.cmd(&["SET", "a", "1"]);
        c.cmd(&["SET", "n", "x"]);
        c.cmd(&["CONFIG", "RESETSTAT"]);
        c.cmd(&["GET", "a"]);
        c.cmd(&["GET", "a"]);
        c.cmd(&["GET", "missing"]);
        c.cmd(&["GET"]);
        c.cmd(&["INCR", "n"]);
        c.cmd(&["SET", "t", "v", "PX", "1"]);
        std::thread::sleep(Duration::from_millis(20));
        c.cmd(&["GET", "t"]);
        let stats = c.cmd(&["INFO", "stats"]).as_str();
        let cmds = c.cmd(&["INFO", "commandstats"]).as_str();
        let errs = c.cmd(&["INFO", "errorstats"]).as_str();
        let get = info_value(&cmds, "cmdstat_get");
        let get_counts: Vec<&str> = get
            .split(',')
            .filter(|kv| !kv.starts_with("usec"))
            .collect();
        let incr = info_value(&cmds, "cmdstat_incr");
        seen.push(format!(
            "hits={} misses={} expired={} errors={} get={:?} incr_failed={} errorstats={:?}",
            info_value(&stats, "keyspace_hits"),
            info_value(&stats, "keyspace_misses"),
            info_value(&stats, "expired_keys"),
            info_value(&stats, "total_error_replies"),
            get_counts,
            incr.split(',')
                .find(|kv| kv.starts_with("failed_calls"))
                .unwrap(),
            errs.split("\r\n")
                .filter(|l| l.starts_with("errorstat_"))
                .collect::<Vec<_>>(),
        ));
    }
    assert_eq!(seen[0], seen[1], "snapkv vs redis");
}

#[test]
fn debug_populate_matches_redis() {
    let args = ["--enable-debug-command", "yes"];
    let (snapkv, redis) = (Server::snapkv(&args), Server::redis(&args));
    let (mut a, mut b) = (snapkv.conn(), redis.conn());
    let script: &[&[&str]] = &[
        &["SET", "k:1", "kept"],
        &["DEBUG", "POPULATE", "3", "k", "12"],
        &["GET", "k:0"],
        &["GET", "k:1"],
        &["GET", "k:2"],
        &["DEBUG", "POPULATE", "3", "t", "3"],
        &["GET", "t:2"],
        &["DEBUG", "POPULATE", "20000"],
        &["GET", "key:19999"],
        &["DEBUG", "POPULATE", "-1"],
        &["DEBUG", "POPULATE", "abc"],
        &["DEBUG", "POPULATE", "2", "z", "0"],
        &["GET", "z:1"],
        &["DEBUG", "POPULATE", "2", "y", "-3"],
        &["DEBUG", "POPULATE", "1", "a", "1", "extra"],
        &["DBSIZE"],
    ];
    for cmd in script {
        assert_eq!(a.cmd(cmd), b.cmd(cmd), "{cmd:?}");
    }
    // Populated keys do not count towards save points (one change: the SET).
    let changes = |c: &mut snapkv_e2e::Conn| {
        let info = c.cmd(&["INFO", "persistence"]).as_str().to_string();
        info.lines()
            .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
            .map(str::to_string)
    };
    assert_eq!(changes(&mut a), Some("1".into()));
    assert_eq!(changes(&mut a), changes(&mut b));
}

/// CONFIG GET * as (name, value) pairs.
fn all_config(c: &mut snapkv_e2e::Conn) -> std::collections::BTreeMap<String, String> {
    let Value::Array(items) = c.cmd(&["CONFIG", "GET", "*"]) else {
        panic!("CONFIG GET * is not an array")
    };
    items
        .chunks(2)
        .map(|kv| (kv[0].as_str().to_string(), kv[1].as_str().to_string()))
        .collect()
}

#[test]
fn every_redis_config_directive_is_accepted_with_redis_defaults() {
    let (snapkv, redis) = (Server::snapkv(&[]), Server::redis(&[]));
    let ours = all_config(&mut snapkv.conn());
    let theirs = all_config(&mut redis.conn());
    // Where snapkv's defaults differ on purpose: the port and directory of each test
    // server, loopback-only bind, and io-threads chosen from the cores (0).
    let own = ["port", "dir", "bind", "io-threads"];
    for (name, value) in &theirs {
        let Some(v) = ours.get(name) else {
            panic!("redis-server's '{name}' is unknown to snapkv")
        };
        if !own.contains(&name.as_str()) {
            assert_eq!(v, value, "default of '{name}'");
        }
    }
}

#[test]
fn debians_redis_conf_loads() {
    let path = std::path::Path::new("/etc/redis/redis.conf");
    let Ok(text) = std::fs::read_to_string(path) else {
        panic!(
            "{} missing: the test set-up installs redis-server",
            path.display()
        )
    };
    let dir = snapkv_e2e::temp_dir("debian-conf");
    let port = snapkv_e2e::free_port();
    // Only where it listens, writes and logs is changed; every other directive is as
    // Debian ships it (comments dropped), plus two snapkv does not act upon.
    let conf: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let key = l.split_whitespace().next().unwrap_or("");
            match key {
                "port" => format!("port {port}"),
                "dir" => format!("dir {}", dir.display()),
                "daemonize" => "daemonize no".into(),
                "logfile" => format!("logfile {}", dir.join("server.log").display()),
                "pidfile" => "pidfile \"\"".into(),
                "bind" => "bind 127.0.0.1".into(),
                _ => l.to_string(),
            }
        })
        .chain(["replicaof 10.0.0.1 6379".into(), "tls-port 0".into()])
        .collect::<Vec<_>>()
        .join("\n");
    let file = dir.join("redis.conf");
    std::fs::write(&file, conf).unwrap();
    let mut child = std::process::Command::new(snapkv_e2e::snapkv_binary())
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let conn = (0..100).find_map(|_| {
        std::thread::sleep(Duration::from_millis(50));
        snapkv_e2e::Conn::connect(port).ok()
    });
    let result = conn.map(|mut c| {
        (
            c.cmd(&["PING"]),
            c.cmd(&["CONFIG", "GET", "slaveof"]),
            c.cmd(&["CONFIG", "GET", "appendfilename"]),
        )
    });
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    let Some((ping, slaveof, aof)) = result else {
        panic!(
            "snapkv did not start with Debian's redis.conf: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    };
    assert_eq!(ping, Value::Simple("PONG".into()));
    let pair = |k: &str, v: &str| Value::Array(vec![Value::Bulk(k.into()), Value::Bulk(v.into())]);
    assert_eq!(slaveof, pair("slaveof", "10.0.0.1 6379"));
    assert_eq!(aof, pair("appendfilename", "appendonly.aof"));
    assert!(
        log.contains("'replicaof 10.0.0.1 6379' is accepted for redis.conf compatibility"),
        "{log}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn memory_usage_and_stats_follow_the_data_and_redis_fields() {
    let (snapkv, redis) = (Server::snapkv(&[]), Server::redis(&[]));
    let mut c = snapkv.conn();
    let usage = |c: &mut snapkv_e2e::Conn, args: &[&str]| match c.cmd(args) {
        Value::Int(n) => n,
        other => panic!("{args:?}: {other:?}"),
    };
    c.cmd(&["SET", "small", "v"]);
    c.cmd(&["SET", "big", &"x".repeat(10_000)]);
    let (small, big) = (
        usage(&mut c, &["MEMORY", "USAGE", "small"]),
        usage(&mut c, &["MEMORY", "USAGE", "big"]),
    );
    assert!(big >= small + 10_000, "small {small}, big {big}");
    // A hash whose first fields are short and the rest long: 5 samples (the default)
    // see only short ones, SAMPLES 0 sees them all.
    let mut hset = vec!["HSET".to_string(), "h".into()];
    for i in 0..1000 {
        let v = if i < 10 {
            "s".to_string()
        } else {
            "l".repeat(200)
        };
        hset.extend([format!("field:{i}"), v]);
    }
    c.cmd(&hset);
    let sampled = usage(&mut c, &["MEMORY", "USAGE", "h"]);
    let all = usage(&mut c, &["MEMORY", "USAGE", "h", "SAMPLES", "0"]);
    assert!(all > sampled + 100_000, "sampled {sampled}, all {all}");
    // MEMORY STATS: Redis's field names, in Redis's order.
    let names = |v: Value| -> Vec<String> {
        let Value::Array(items) = v else {
            panic!("{v:?}")
        };
        items
            .chunks(2)
            .map(|kv| kv[0].as_str().to_string())
            .filter(|k| !k.starts_with("db."))
            .collect()
    };
    let mut r = redis.conn();
    r.cmd(&["SET", "small", "v"]);
    assert_eq!(
        names(c.cmd(&["MEMORY", "STATS"])),
        names(r.cmd(&["MEMORY", "STATS"]))
    );
    let report = c.cmd(&["MEMORY", "MALLOC-STATS"]);
    assert!(
        report.as_str().contains("Begin jemalloc statistics"),
        "{report:?}"
    );
}

/// COMMAND INFO is what cluster clients and proxies route by (key positions, key specs,
/// movablekeys, request/response policy tips): for every command snapkv has, it must be
/// redis-server's, field for field.
#[test]
fn command_info_is_redis_for_every_command() {
    let (snapkv, redis) = (Server::snapkv(&[]), Server::redis(&[]));
    let (mut ours, mut theirs) = (snapkv.conn(), redis.conn());
    // Where Redis's key specs depend on the arguments (variable_flags, keys of unknown
    // position, notes) and snapkv gives one plain spec; and snapkv's own BACKUP.
    let own = ["set", "bitfield", "getex", "sort", "sort_ro"];
    let Value::Array(names) = ours.cmd(&["COMMAND", "LIST"]) else {
        panic!("COMMAND LIST")
    };
    let mut compared = 0;
    for name in names {
        let name = name.as_str();
        if own.contains(&name.as_str()) || name.starts_with("backup") {
            continue;
        }
        let info = |c: &mut snapkv_e2e::Conn| match c.cmd(&["COMMAND", "INFO", &name]) {
            Value::Array(mut v) if v.len() == 1 => match v.remove(0) {
                // Containers' subcommands are compared one by one (CLIENT and LATENCY
                // lack some of Redis's).
                Value::Array(mut row) if row.len() == 10 => {
                    row.truncate(9);
                    Value::Array(row)
                }
                other => other,
            },
            other => panic!("COMMAND INFO {name}: {other:?}"),
        };
        assert_eq!(info(&mut ours), info(&mut theirs), "COMMAND INFO {name}");
        compared += 1;
    }
    assert!(compared > 200, "only {compared} commands compared");
}

/// Latency tracking as Redis 7.0 reports it: INFO latencystats names the same commands
/// with the configured percentiles, LATENCY HISTOGRAM counts the same calls on the same
/// bucket labels, and `latency-tracking no` stops both.
#[test]
fn latency_tracking_matches_redis() {
    let (snapkv, redis) = (Server::snapkv(&[]), Server::redis(&[]));
    let run = |c: &mut snapkv_e2e::Conn| {
        assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), Value::Simple("OK".into()));
        c.cmd(&["SET", "a", "b"]);
        c.cmd(&["GET", "a"]);
        c.cmd(&["GET", "a"]);
        c.cmd(&["CONFIG", "GET", "maxmemory"]);
        let info = c.cmd(&["INFO", "latencystats"]).as_str();
        let stats: BTreeSet<(String, Vec<String>)> = info
            .lines()
            .filter_map(|l| l.strip_prefix("latency_percentiles_usec_"))
            .map(|l| {
                let (name, values) = l.split_once(':').unwrap();
                let values: Vec<(String, f64)> = values
                    .split(',')
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap();
                        (k.to_string(), v.parse().unwrap())
                    })
                    .collect();
                assert!(
                    values.windows(2).all(|w| w[0].1 <= w[1].1),
                    "percentiles out of order: {l}"
                );
                (
                    name.to_string(),
                    values.into_iter().map(|(k, _)| k).collect(),
                )
            })
            .collect();
        let Value::Array(h) = c.cmd(&["LATENCY", "HISTOGRAM", "set", "get", "nosuch"]) else {
            panic!("LATENCY HISTOGRAM")
        };
        // [name, [calls, n, histogram_usec, [label, cumulative, …]], …]
        let hist: Vec<(String, i64, Vec<i64>)> = h
            .chunks(2)
            .map(|pair| {
                let Value::Array(body) = &pair[1] else {
                    panic!("{pair:?}")
                };
                let Value::Array(cdf) = &body[3] else {
                    panic!("{body:?}")
                };
                let labels = cdf.chunks(2).map(|kv| kv[0].as_int().unwrap()).collect();
                (pair[0].as_str(), body[1].as_int().unwrap(), labels)
            })
            .collect();
        (stats, hist)
    };
    let (ours, theirs) = (run(&mut snapkv.conn()), run(&mut redis.conn()));
    assert_eq!(ours.0, theirs.0, "INFO latencystats");
    let calls = |h: &[(String, i64, Vec<i64>)]| -> Vec<(String, i64)> {
        h.iter().map(|(n, c, _)| (n.clone(), *c)).collect()
    };
    assert_eq!(calls(&ours.1), calls(&theirs.1), "LATENCY HISTOGRAM calls");
    assert_eq!(calls(&ours.1), [("set".into(), 1), ("get".into(), 2)]);
    // Redis labels its doubling steps from 1024 ns: 1, 2, 4, 8, 16, 33, 66, 132 … µs.
    let redis_labels: Vec<i64> = (0..21)
        .map(|k| {
            let bound = 1024i64 << k;
            (bound + bound / 128 - 1) / 1000
        })
        .collect();
    for (name, _, labels) in ours.1.iter().chain(&theirs.1) {
        assert!(
            labels.iter().all(|l| redis_labels.contains(l)),
            "{name}: {labels:?}"
        );
    }

    for s in [&snapkv, &redis] {
        let mut c = s.conn();
        c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
        c.cmd(&["CONFIG", "RESETSTAT"]);
        c.cmd(&["SET", "a", "b"]);
        let info = c.cmd(&["INFO", "latencystats"]).as_str();
        assert!(!info.contains("latency_percentiles_usec_"), "{info}");
        assert_eq!(c.cmd(&["LATENCY", "HISTOGRAM"]), Value::Array(vec![]));
    }
}
