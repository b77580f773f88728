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
    admin.cmd(&["CLIENT", "PAUSE", "5000"]);
    admin.cmd(&["CLIENT", "UNPAUSE"]);
    let t = Instant::now();
    c.cmd(&["GET", "k"]);
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
