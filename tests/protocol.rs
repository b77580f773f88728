//! Wire-level behaviour: inline commands, pipelining, malformed requests and limits.

use std::time::Duration;

use snapkv_e2e::{Server, Value};

#[test]
fn inline_and_pipelined_requests() {
    let s = Server::snapkv(&[]);
    let mut c = s.conn();
    c.send_raw(b"PING\r\nSET a \"x y\"\r\nGET a\r\n*1\r\n$4\r\nPING\r\n");
    assert_eq!(c.read().unwrap(), Value::Simple("PONG".into()));
    assert_eq!(c.read().unwrap(), Value::Simple("OK".into()));
    assert_eq!(c.read().unwrap(), Value::Bulk(b"x y".to_vec()));
    assert_eq!(c.read().unwrap(), Value::Simple("PONG".into()));
}

#[test]
fn malformed_requests_get_protocol_errors_and_close() {
    let s = Server::snapkv(&[]);
    for (input, err) in [
        (
            &b"*1\r\n:5\r\n"[..],
            "ERR Protocol error: expected '$', got ':'",
        ),
        (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*1\r\n$-3\r\n", "ERR Protocol error: invalid bulk length"),
        (
            b"SET \"unbalanced\r\n",
            "ERR Protocol error: unbalanced quotes in request",
        ),
    ] {
        let mut c = s.conn();
        c.send_raw(input);
        assert_eq!(c.read().unwrap(), Value::Error(err.into()), "{input:?}");
        assert!(
            c.is_closed(Duration::from_secs(2)),
            "connection stays open after {input:?}"
        );
    }
    // The server is still fine.
    assert_eq!(s.conn().cmd(&["PING"]), Value::Simple("PONG".into()));
}

#[test]
fn oversized_bulk_is_rejected_before_it_is_buffered() {
    let s = Server::snapkv(&["--proto-max-bulk-len", "1mb"]);
    let mut c = s.conn();
    c.send_raw(b"*2\r\n$3\r\nGET\r\n$2000000\r\n");
    assert_eq!(
        c.read().unwrap(),
        Value::Error("ERR Protocol error: invalid bulk length".into())
    );
}

#[test]
fn query_buffer_limit_closes_the_client() {
    let s = Server::snapkv(&["--client-query-buffer-limit", "1mb"]);
    let mut c = s.conn();
    // A declared 900 KB bulk is fine; an inline-free stream of incomplete args is not.
    let mut big = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000000\r\n".to_vec();
    big.extend(vec![b'x'; 2 * 1024 * 1024]);
    c.send_raw(&big);
    assert!(c.is_closed(Duration::from_secs(5)));
    assert_eq!(s.conn().cmd(&["PING"]), Value::Simple("PONG".into()));
}

#[test]
fn requirepass_and_auth() {
    let s = Server::snapkv(&["--requirepass", "secret"]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["GET", "x"]),
        Value::Error("NOAUTH Authentication required.".into())
    );
    assert_eq!(
        c.cmd(&["AUTH", "wrong"]),
        Value::Error("WRONGPASS invalid username-password pair or user is disabled.".into())
    );
    assert_eq!(c.cmd(&["AUTH", "secret"]), Value::Simple("OK".into()));
    assert_eq!(c.cmd(&["GET", "x"]), Value::Nil);
    // Unauthenticated clients cannot send big requests.
    let mut d = s.conn();
    d.send_raw(b"*20\r\n");
    assert_eq!(
        d.read().unwrap(),
        Value::Error("ERR Protocol error: unauthenticated multibulk length".into())
    );
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let mut s = Server::snapkv(&[]);
    s.signal(libc::SIGTERM);
    let status = s
        .wait_exit(Duration::from_secs(5))
        .expect("exits on SIGTERM");
    assert!(status.success(), "{status:?}");
}
