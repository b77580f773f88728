//! Blocking list commands across connections, on snapkv and on a real redis-server with
//! the same expectations: wake-up on a push from another client, FIFO order among
//! blocked clients, timeouts, CLIENT UNBLOCK, BLMOVE, and clients that go away while
//! blocked. (Replies that need no second connection are in `corpus/42-lists.txt`.)

use std::time::{Duration, Instant};

use snapkv_e2e::{Conn, Server, Value};

fn both() -> [Server; 2] {
    [Server::snapkv(&[]), Server::redis(&[])]
}

fn bulk(s: &str) -> Value {
    Value::Bulk(s.as_bytes().to_vec())
}

fn arr(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| bulk(s)).collect())
}

fn blocked_clients(c: &mut Conn) -> i64 {
    let info = c.cmd(&["INFO", "clients"]).as_str();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("blocked_clients in INFO")
}

/// Waits until the server reports `n` blocked clients (so the order of blocking is
/// known before the next client blocks).
fn wait_blocked(c: &mut Conn, n: i64) {
    let start = Instant::now();
    while blocked_clients(c) != n {
        if start.elapsed() > Duration::from_secs(5) {
            let list = c.cmd(&["CLIENT", "LIST"]).as_str();
            panic!("never saw {n} blocked clients:\n{list}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn client_id(c: &mut Conn) -> String {
    c.cmd(&["CLIENT", "ID"]).as_int().expect("id").to_string()
}

#[test]
fn push_from_another_connection_wakes_blpop() {
    for s in both() {
        let mut waiter = s.conn();
        let mut other = s.conn();
        waiter.send(&["BLPOP", "nothing", "k", "0"]);
        wait_blocked(&mut other, 1);
        assert_eq!(other.cmd(&["RPUSH", "k", "v"]), Value::Int(1));
        assert_eq!(waiter.read().unwrap(), arr(&["k", "v"]));
        assert_eq!(other.cmd(&["EXISTS", "k"]), Value::Int(0));
        wait_blocked(&mut other, 0);
        // The connection is usable again.
        assert_eq!(waiter.cmd(&["PING"]), Value::Simple("PONG".into()));
    }
}

#[test]
fn blocked_clients_are_served_first_come_first_served() {
    for s in both() {
        let mut admin = s.conn();
        let mut waiters: Vec<Conn> = (0..3).map(|_| s.conn()).collect();
        for (i, w) in waiters.iter_mut().enumerate() {
            w.send(&["BRPOP", "q", "0"]);
            wait_blocked(&mut admin, i as i64 + 1);
        }
        // One push of three elements serves all three, oldest first.
        admin.cmd(&["LPUSH", "q", "a", "b", "c"]);
        for (w, want) in waiters.iter_mut().zip(["a", "b", "c"]) {
            assert_eq!(w.read().unwrap(), arr(&["q", want]));
        }
        // One element at a time: still in blocking order.
        wait_blocked(&mut admin, 0);
        for (i, w) in waiters.iter_mut().enumerate() {
            w.send(&["BLPOP", "q", "0"]);
            wait_blocked(&mut admin, i as i64 + 1);
        }
        for (i, want) in ["x", "y", "z"].into_iter().enumerate() {
            admin.cmd(&["RPUSH", "q", want]);
            assert_eq!(waiters[i].read().unwrap(), arr(&["q", want]));
        }
        wait_blocked(&mut admin, 0);
    }
}

#[test]
fn timeout_answers_nil_after_about_the_timeout() {
    for s in both() {
        let mut c = s.conn();
        for cmd in [
            vec!["BLPOP", "k", "0.3"],
            vec!["BLMOVE", "k", "d", "LEFT", "RIGHT", "0.3"],
            vec!["BLMPOP", "0.3", "2", "k", "k2", "LEFT"],
        ] {
            let start = Instant::now();
            assert_eq!(c.cmd(&cmd), Value::Nil, "{cmd:?}");
            let took = start.elapsed();
            assert!(
                took >= Duration::from_millis(250) && took < Duration::from_secs(2),
                "{cmd:?} took {took:?}"
            );
        }
        // Commands pipelined behind a blocked one wait for it.
        let replies = c.pipeline([vec!["BRPOP", "k", "0.1"], vec!["PING"]]);
        assert_eq!(replies, vec![Value::Nil, Value::Simple("PONG".into())]);
    }
}

#[test]
fn client_unblock_timeout_and_error() {
    for s in both() {
        let mut admin = s.conn();
        let mut w = s.conn();
        let id = client_id(&mut w);
        assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &id]), Value::Int(0));
        w.send(&["BLPOP", "k", "0"]);
        wait_blocked(&mut admin, 1);
        let line = admin.cmd(&["CLIENT", "LIST", "ID", &id]).as_str();
        assert!(line.contains(" flags=b "), "{line}");
        assert_eq!(admin.cmd(&["CLIENT", "UNBLOCK", &id]), Value::Int(1));
        assert_eq!(w.read().unwrap(), Value::Nil);
        wait_blocked(&mut admin, 0);
        let line = admin.cmd(&["CLIENT", "LIST", "ID", &id]).as_str();
        assert!(line.contains(" flags=N "), "{line}");

        w.send(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0"]);
        wait_blocked(&mut admin, 1);
        assert_eq!(
            admin.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]),
            Value::Int(1)
        );
        assert_eq!(
            w.read().unwrap(),
            Value::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
        );
        assert_eq!(
            admin.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]),
            Value::Int(0)
        );
        // The unblocked client lost its place: a push now stays in the list.
        admin.cmd(&["RPUSH", "k", "v"]);
        assert_eq!(admin.cmd(&["LLEN", "k"]), Value::Int(1));
    }
}

#[test]
fn blmove_is_woken_and_wakes_the_destination_waiters() {
    for s in both() {
        let mut admin = s.conn();
        let mut mover = s.conn();
        let mut popper = s.conn();
        mover.send(&["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]);
        wait_blocked(&mut admin, 1);
        popper.send(&["BLPOP", "dst", "0"]);
        wait_blocked(&mut admin, 2);
        admin.cmd(&["LPUSH", "src", "x"]);
        assert_eq!(mover.read().unwrap(), bulk("x"));
        // The moved element reached dst, where the second client was waiting.
        assert_eq!(popper.read().unwrap(), arr(&["dst", "x"]));
        wait_blocked(&mut admin, 0);
        assert_eq!(admin.cmd(&["EXISTS", "src", "dst"]), Value::Int(0));

        mover.send(&["BRPOPLPUSH", "src", "dst", "0"]);
        wait_blocked(&mut admin, 1);
        admin.cmd(&["RPUSH", "src", "1", "2"]);
        assert_eq!(mover.read().unwrap(), bulk("2"));
        assert_eq!(admin.cmd(&["LRANGE", "dst", "0", "-1"]), arr(&["2"]));
        assert_eq!(admin.cmd(&["LRANGE", "src", "0", "-1"]), arr(&["1"]));
    }
}

#[test]
fn blmpop_is_woken_with_its_count() {
    for s in both() {
        let mut admin = s.conn();
        let mut w = s.conn();
        w.send(&["BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2"]);
        wait_blocked(&mut admin, 1);
        admin.cmd(&["RPUSH", "b", "1", "2", "3"]);
        assert_eq!(
            w.read().unwrap(),
            Value::Array(vec![bulk("b"), arr(&["3", "2"])])
        );
        assert_eq!(admin.cmd(&["LRANGE", "b", "0", "-1"]), arr(&["1"]));
    }
}

#[test]
fn a_client_that_goes_away_leaves_the_queue() {
    for s in both() {
        let mut admin = s.conn();
        let mut gone = s.conn();
        let mut killed = s.conn();
        let mut stays = s.conn();
        let killed_id = client_id(&mut killed);
        gone.send(&["BLPOP", "k", "0"]);
        wait_blocked(&mut admin, 1);
        killed.send(&["BLPOP", "k", "0"]);
        wait_blocked(&mut admin, 2);
        stays.send(&["BLPOP", "k", "0"]);
        wait_blocked(&mut admin, 3);
        drop(gone);
        wait_blocked(&mut admin, 2);
        assert_eq!(
            admin.cmd(&["CLIENT", "KILL", "ID", &killed_id]),
            Value::Int(1)
        );
        wait_blocked(&mut admin, 1);
        admin.cmd(&["RPUSH", "k", "v"]);
        assert_eq!(stays.read().unwrap(), arr(&["k", "v"]));
        wait_blocked(&mut admin, 0);
    }
}

#[test]
fn wrong_type_after_wake_and_multi_exec_push() {
    for s in both() {
        let mut admin = s.conn();
        let mut w = s.conn();
        w.send(&["BLPOP", "k", "0"]);
        wait_blocked(&mut admin, 1);
        // A push inside a transaction wakes the waiter too.
        admin.cmd(&["MULTI"]);
        admin.cmd(&["RPUSH", "k", "a"]);
        admin.cmd(&["RPUSH", "k", "b"]);
        admin.cmd(&["LLEN", "k"]);
        assert_eq!(
            admin.cmd(&["EXEC"]),
            Value::Array(vec![Value::Int(1), Value::Int(2), Value::Int(2)])
        );
        // Served when the EXEC ended, before its reply.
        assert_eq!(admin.cmd(&["LRANGE", "k", "0", "-1"]), arr(&["b"]));
        assert_eq!(w.read().unwrap(), arr(&["k", "a"]));
        // Non-list writes do not wake list waiters.
        w.send(&["BLPOP", "s", "0.5"]);
        wait_blocked(&mut admin, 1);
        admin.cmd(&["SET", "s", "v"]);
        assert_eq!(w.read().unwrap(), Value::Nil);
    }
}

/// Blocks `w` on `key`, runs `setup` on `admin`, expects `want` for `w`.
fn serve(admin: &mut Conn, w: &mut Conn, key: &str, setup: &[&[&str]], want: Value) {
    w.send(&["BLPOP", key, "0"]);
    wait_blocked(admin, 1);
    for cmd in setup {
        admin.cmd(cmd);
    }
    assert_eq!(w.read().unwrap(), want, "{setup:?}");
    wait_blocked(admin, 0);
}

#[test]
fn keys_that_become_lists_by_rename_copy_move_restore_swapdb_wake_waiters() {
    for s in both() {
        let mut admin = s.conn();
        let mut w = s.conn();
        admin.cmd(&["RPUSH", "tmp", "r"]);
        serve(
            &mut admin,
            &mut w,
            "k",
            &[&["RENAME", "tmp", "k"]],
            arr(&["k", "r"]),
        );
        admin.cmd(&["RPUSH", "tmp", "c"]);
        serve(
            &mut admin,
            &mut w,
            "k",
            &[&["COPY", "tmp", "k"]],
            arr(&["k", "c"]),
        );
        let dump = admin.cmd(&["DUMP", "tmp"]);
        let dump = dump.as_bytes().expect("dump").to_vec();
        admin.cmd(&["DEL", "tmp"]);
        w.send(&["BLPOP", "k", "0"]);
        wait_blocked(&mut admin, 1);
        admin.cmd(&[&b"RESTORE"[..], b"k", b"0", &dump]);
        assert_eq!(w.read().unwrap(), arr(&["k", "c"]));
        wait_blocked(&mut admin, 0);
        admin.cmd(&["SELECT", "1"]);
        admin.cmd(&["RPUSH", "k", "m"]);
        serve(
            &mut admin,
            &mut w,
            "k",
            &[&["MOVE", "k", "0"]],
            arr(&["k", "m"]),
        );
        admin.cmd(&["RPUSH", "k", "s"]);
        serve(
            &mut admin,
            &mut w,
            "k",
            &[&["SWAPDB", "0", "1"]],
            arr(&["k", "s"]),
        );
        // A key that becomes a string does not answer the list waiter.
        admin.cmd(&["SELECT", "0"]);
        admin.cmd(&["SET", "str", "v"]);
        w.send(&["BLPOP", "k", "0.3"]);
        wait_blocked(&mut admin, 1);
        admin.cmd(&["RENAME", "str", "k"]);
        assert_eq!(w.read().unwrap(), Value::Nil);
    }
}

#[test]
fn a_blocked_command_counts_as_one_call() {
    for s in both() {
        let mut admin = s.conn();
        let mut w = s.conn();
        admin.cmd(&["CONFIG", "RESETSTAT"]);
        assert_eq!(w.cmd(&["BLPOP", "k", "0.05"]), Value::Nil);
        w.send(&["BLPOP", "k", "0"]);
        wait_blocked(&mut admin, 1);
        admin.cmd(&["RPUSH", "k", "v"]);
        assert_eq!(w.read().unwrap(), arr(&["k", "v"]));
        let stats = admin.cmd(&["INFO", "commandstats"]).as_str();
        assert!(stats.contains("cmdstat_blpop:calls=2,"), "{stats}");
    }
}

#[test]
fn a_push_serves_waiters_before_its_own_reply() {
    for s in both() {
        let mut admin = s.conn();
        let mut a = s.conn();
        let mut b = s.conn();
        let a_id = client_id(&mut a);
        a.send(&["BLPOP", "k", "0"]);
        wait_blocked(&mut admin, 1);
        b.send(&["BLMPOP", "0", "2", "other", "k", "RIGHT", "COUNT", "2"]);
        wait_blocked(&mut admin, 2);
        // Both are served by the push itself: the pusher's next commands see the rest.
        assert_eq!(
            admin.cmd(&["RPUSH", "k", "1", "2", "3", "4"]),
            Value::Int(4)
        );
        assert_eq!(admin.cmd(&["LRANGE", "k", "0", "-1"]), arr(&["2"]));
        assert_eq!(blocked_clients(&mut admin), 0);
        let line = admin.cmd(&["CLIENT", "LIST", "ID", &a_id]).as_str();
        assert!(line.contains(" flags=N "), "{line}");
        assert_eq!(a.read().unwrap(), arr(&["k", "1"]));
        assert_eq!(
            b.read().unwrap(),
            Value::Array(vec![bulk("k"), arr(&["4", "3"])])
        );
        // A push that a waiter takes whole leaves no key behind.
        a.send(&["BRPOP", "k2", "0"]);
        wait_blocked(&mut admin, 1);
        assert_eq!(admin.cmd(&["LPUSH", "k2", "x"]), Value::Int(1));
        assert_eq!(admin.cmd(&["EXISTS", "k2"]), Value::Int(0));
        assert_eq!(a.read().unwrap(), arr(&["k2", "x"]));
    }
}

/// Producers push while consumers pop with BLPOP, BRPOP, BLMPOP (short timeouts, so
/// timeouts race the pushes, and so does CLIENT UNBLOCK from another thread) and a
/// BLMOVE relay: every element arrives exactly once.
#[test]
fn concurrent_producers_and_blocked_consumers_lose_and_duplicate_nothing() {
    const PER_PRODUCER: usize = 300;
    let s = Server::snapkv(&[]);
    let port = s.port;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The relay moves everything from "in" to "out", where the consumers wait.
    let relay = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut c = Conn::connect(port).unwrap();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                c.cmd(&["BLMOVE", "in", "out", "LEFT", "RIGHT", "0.02"]);
            }
        })
    };
    let consumers: Vec<_> = (0..4)
        .map(|i| {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut c = Conn::connect(port).unwrap();
                let mut got = Vec::new();
                loop {
                    let cmd: Vec<&str> = match i {
                        0 => vec!["BLPOP", "out", "0.01"],
                        1 => vec!["BRPOP", "none", "out", "0.03"],
                        _ => vec!["BLMPOP", "0.02", "2", "none", "out", "LEFT", "COUNT", "3"],
                    };
                    match c.cmd(&cmd) {
                        Value::Nil => {
                            if done.load(std::sync::atomic::Ordering::Relaxed) {
                                return got;
                            }
                        }
                        Value::Array(v) => match &v[1] {
                            Value::Array(items) => {
                                got.extend(items.iter().map(|x| x.as_str()));
                            }
                            one => got.push(one.as_str()),
                        },
                        other => panic!("{other}"),
                    }
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..2)
        .map(|p| {
            std::thread::spawn(move || {
                let mut c = Conn::connect(port).unwrap();
                for i in 0..PER_PRODUCER {
                    let key = if i % 2 == 0 { "in" } else { "out" };
                    c.cmd(&["RPUSH", key, &format!("{p}-{i}")]);
                    if i % 10 == 0 {
                        // Pauses let the consumers block.
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
            })
        })
        .collect();
    // Releases every blocked client it sees, racing the pushes that serve them.
    let unblocker = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut c = Conn::connect(port).unwrap();
            let mut released = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let list = c.cmd(&["CLIENT", "LIST"]).as_str();
                for line in list.lines().filter(|l| l.contains(" flags=b ")) {
                    let id = line[3..].split(' ').next().unwrap_or("0").to_string();
                    if c.cmd(&["CLIENT", "UNBLOCK", &id]) == Value::Int(1) {
                        released += 1;
                    }
                }
            }
            released
        })
    };
    for p in producers {
        p.join().unwrap();
    }
    let mut admin = s.conn();
    let start = Instant::now();
    while admin.cmd(&["EXISTS", "in", "out"]) != Value::Int(0) {
        assert!(start.elapsed() < Duration::from_secs(20), "not drained");
        std::thread::sleep(Duration::from_millis(10));
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    relay.join().unwrap();
    let released = unblocker.join().unwrap();
    eprintln!("CLIENT UNBLOCK released {released} waits");
    let mut all: Vec<String> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort();
    let mut want: Vec<String> = (0..2)
        .flat_map(|p| (0..PER_PRODUCER).map(move |i| format!("{p}-{i}")))
        .collect();
    want.sort();
    assert_eq!(all.len(), want.len());
    assert_eq!(all, want);
    wait_blocked(&mut admin, 0);
}

#[test]
fn info_counts_blocked_clients_and_those_with_a_timeout() {
    for s in both() {
        let mut admin = s.conn();
        let mut a = s.conn();
        let mut b = s.conn();
        a.send(&["BLPOP", "k", "10"]);
        wait_blocked(&mut admin, 1);
        b.send(&["BRPOP", "k2", "0"]);
        wait_blocked(&mut admin, 2);
        let info = admin.cmd(&["INFO", "clients"]).as_str();
        assert!(info.contains("clients_in_timeout_table:1\r\n"), "{info}");
        admin.cmd(&["RPUSH", "k", "v"]);
        admin.cmd(&["RPUSH", "k2", "v"]);
        assert_eq!(a.read().unwrap(), arr(&["k", "v"]));
        assert_eq!(b.read().unwrap(), arr(&["k2", "v"]));
        let info = admin.cmd(&["INFO", "clients"]).as_str();
        assert!(info.contains("clients_in_timeout_table:0\r\n"), "{info}");
        assert!(info.contains("blocked_clients:0\r\n"), "{info}");
    }
}

#[test]
fn bzpop_and_bzmpop_wake_on_zadd_in_arrival_order() {
    for s in both() {
        let mut admin = s.conn();
        let mut a = s.conn();
        let mut b = s.conn();
        a.send(&["BZPOPMIN", "z", "0"]);
        wait_blocked(&mut admin, 1);
        b.send(&["BZMPOP", "0", "2", "other", "z", "MAX", "COUNT", "2"]);
        wait_blocked(&mut admin, 2);
        assert_eq!(admin.cmd(&["ZADD", "z", "1", "one"]), Value::Int(1));
        // The first to block gets the first member.
        assert_eq!(
            a.read().unwrap(),
            Value::Array(vec![bulk("z"), bulk("one"), bulk("1")])
        );
        wait_blocked(&mut admin, 1);
        admin.cmd(&["ZADD", "z", "2", "two", "3", "three"]);
        assert_eq!(
            b.read().unwrap(),
            Value::Array(vec![
                bulk("z"),
                Value::Array(vec![
                    Value::Array(vec![bulk("three"), bulk("3")]),
                    Value::Array(vec![bulk("two"), bulk("2")]),
                ]),
            ])
        );
        wait_blocked(&mut admin, 0);
        assert_eq!(admin.cmd(&["EXISTS", "z"]), Value::Int(0));
        // BZPOPMAX times out with a nil array; inside MULTI it never blocks.
        let start = Instant::now();
        assert_eq!(a.cmd(&["BZPOPMAX", "z", "0.2"]), Value::Nil);
        assert!(start.elapsed() >= Duration::from_millis(150));
        a.cmd(&["MULTI"]);
        a.cmd(&["BZPOPMIN", "z", "0"]);
        assert_eq!(a.cmd(&["EXEC"]), Value::Array(vec![Value::Nil]));
        // A store into the waited key wakes too.
        a.send(&["BZPOPMAX", "dst", "0"]);
        wait_blocked(&mut admin, 1);
        admin.cmd(&["ZADD", "src", "5", "m"]);
        admin.cmd(&["ZUNIONSTORE", "dst", "1", "src"]);
        assert_eq!(
            a.read().unwrap(),
            Value::Array(vec![bulk("dst"), bulk("m"), bulk("5")])
        );
    }
}
