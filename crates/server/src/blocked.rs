//! A client waiting in a blocking command (BLPOP, BLMOVE, BLMPOP …): the connection task
//! awaits its wake-up, its deadline, CLIENT UNBLOCK or the socket closing — never a
//! worker thread — and, when woken, sends the reply a push left for it or re-runs the
//! command (see `snapkv_commands::blocking`).

use std::sync::atomic::Ordering;

use bytes::BytesMut;
use snapkv_commands::blocking::{ended_reply, finish, Unblock};
use snapkv_commands::{ClientState, Shared};
use snapkv_protocol::Reply;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Waits until the blocked command in `client.blocked` can answer; its reply, or None if
/// the connection closed meanwhile. Bytes the client sends while blocked are kept in
/// `rbuf` and run afterwards, as Redis does.
pub async fn wait(
    shared: &Shared,
    client: &mut ClientState,
    stream: &mut TcpStream,
    rbuf: &mut BytesMut,
) -> Option<Reply> {
    loop {
        let (waiter, deadline) = match client.blocked.as_ref() {
            Some(b) => (b.waiter.clone(), b.deadline),
            None => return Some(Reply::NilArray),
        };
        let expired = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = waiter.notify.notified() => {}
            _ = expired => {
                // A push may have served it just now: that reply wins.
                let served = finish(shared, client);
                return Some(served.unwrap_or_else(|| ended_reply(Unblock::Timeout)));
            }
            n = stream.read_buf(rbuf) => match n {
                Ok(0) | Err(_) => {
                    finish(shared, client);
                    return None;
                }
                Ok(n) => {
                    // Read on while blocked (run afterwards), within the query buffer limit.
                    shared.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                    if rbuf.len() as u64 > client.settings.client_query_buffer_limit {
                        tracing::warn!(
                            "Closing client that reached max query buffer length: id={} addr={} (qbuf={})",
                            client.info.id,
                            client.info.addr,
                            rbuf.len()
                        );
                        shared
                            .stats
                            .client_qbuf_limit_disconnections
                            .fetch_add(1, Ordering::Relaxed);
                        finish(shared, client);
                        return None;
                    }
                    continue;
                }
            },
        }
        if client.info.is_killed() {
            finish(shared, client);
            return None;
        }
        if let Some(how) = waiter.unblocked() {
            let served = finish(shared, client);
            return Some(served.unwrap_or_else(|| ended_reply(how)));
        }
        let args = match client.blocked.as_mut() {
            Some(b) => {
                b.again = false;
                b.args.clone()
            }
            None => return Some(Reply::NilArray),
        };
        // Through `dispatch::run` to `blocking::rerun`: the reply a push left, or the
        // command run again under its shards.
        let reply = snapkv_commands::execute(shared, client, args);
        match client.blocked.as_ref() {
            None => return Some(reply),
            Some(b) if b.again => {
                // Nothing for us after all: keep our place, forget the wake-up.
                waiter.rearm();
            }
            // Refused before it ran (OOM, MISCONF …).
            Some(_) => return Some(finish(shared, client).unwrap_or(reply)),
        }
    }
}
