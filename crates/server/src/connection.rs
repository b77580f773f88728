//! One client connection: read what is available, run every complete command in it, and
//! write all the replies of that batch with one write (pipelining). A command runs on the
//! worker thread that read it: no hand-off on the hot path.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::BytesMut;
use snapkv_commands::{ClientInfo, ClientState, ReplyMode, Shared};
use snapkv_protocol::{Limits, Reply, RequestParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const READ_CHUNK: usize = 16 * 1024;

pub async fn serve(shared: Arc<Shared>, mut stream: TcpStream, info: Arc<ClientInfo>) {
    let settings = shared.config.settings();
    let mut client = ClientState::new(info.clone(), settings.clone(), shared.config.generation());
    let mut parser = RequestParser::new(Limits {
        proto_max_bulk_len: settings.proto_max_bulk_len,
    });
    let mut rbuf = BytesMut::with_capacity(READ_CHUNK);
    let mut wbuf = BytesMut::with_capacity(READ_CHUNK);
    'conn: loop {
        if rbuf.capacity() - rbuf.len() < READ_CHUNK / 4 {
            rbuf.reserve(READ_CHUNK);
        }
        let n = match stream.read_buf(&mut rbuf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if info.is_killed() {
            break;
        }
        shared
            .stats
            .net_input_bytes
            .fetch_add(n as u64, Ordering::Relaxed);
        info.last_interaction_ms
            .store(snapkv_keyspace::clock::now_ms(), Ordering::Relaxed);
        parser.limits.proto_max_bulk_len = client.settings.proto_max_bulk_len;
        loop {
            match parser.next(&mut rbuf, client.authenticated) {
                Ok(Some(args)) => {
                    // (Hot path: one atomic load when no CLIENT PAUSE is on.)
                    if shared.pause.until_ms.load(Ordering::Relaxed) != 0
                        && paused_until(&shared, &client, &args).is_some()
                    {
                        // Replies already produced go out before this command waits.
                        if write_out(&shared, &mut stream, &mut wbuf).await.is_err() {
                            break 'conn;
                        }
                        wait_if_paused(&shared, &client, &args).await;
                    }
                    let reply = snapkv_commands::execute(&shared, &mut client, args);
                    emit(&mut client, &reply, &mut wbuf);
                    if client.close_after_reply {
                        let _ = write_out(&shared, &mut stream, &mut wbuf).await;
                        break 'conn;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    Reply::error(format!("ERR {e}")).encode(client.resp, &mut wbuf);
                    let _ = write_out(&shared, &mut stream, &mut wbuf).await;
                    break 'conn;
                }
            }
        }
        info.qbuf.store(rbuf.len(), Ordering::Relaxed);
        if rbuf.len() as u64 > client.settings.client_query_buffer_limit {
            tracing::warn!(
                "Closing client that reached max query buffer length: id={} addr={} (qbuf={})",
                info.id,
                info.addr,
                rbuf.len()
            );
            shared
                .stats
                .client_qbuf_limit_disconnections
                .fetch_add(1, Ordering::Relaxed);
            break;
        }
        if write_out(&shared, &mut stream, &mut wbuf).await.is_err() {
            break;
        }
        if let Some(rx) = client.monitor.take() {
            monitor(&shared, &mut stream, &mut rbuf, rx).await;
            break;
        }
    }
    snapkv_commands::transaction::forget_client(&shared, &mut client);
    // Unregister before the socket closes: CLIENT KILL shuts sockets down by descriptor.
    shared.clients.unregister(info.id);
    drop(stream);
}

/// CLIENT PAUSE: when this command must wait, until when. Applies to all commands, or
/// with WRITE only to those that may write (an EXEC counts when it has queued writes,
/// as in Redis). An expired pause is cleared so later commands skip this check.
fn paused_until(shared: &Shared, client: &ClientState, args: &[bytes::Bytes]) -> Option<u64> {
    use snapkv_commands::spec::flags::{MAY_REPLICATE, WRITE};
    let until = shared.pause.until_ms.load(Ordering::Acquire);
    if until == 0 {
        return None;
    }
    if until <= snapkv_keyspace::clock::now_ms() {
        let _ =
            shared
                .pause
                .until_ms
                .compare_exchange(until, 0, Ordering::AcqRel, Ordering::Relaxed);
        return None;
    }
    if shared.pause.writes_only.load(Ordering::Acquire) {
        let writes = |name: &[u8]| {
            shared
                .commands
                .lookup(name)
                .is_some_and(|(_, s)| s.has(WRITE | MAY_REPLICATE))
        };
        let queued_write = args[0].eq_ignore_ascii_case(b"exec")
            && client
                .multi
                .as_ref()
                .is_some_and(|m| m.queue.iter().any(|q| writes(&q[0])));
        if !writes(&args[0]) && !queued_write {
            return None;
        }
    }
    Some(until)
}

/// Waits, without blocking the worker thread, until the pause no longer applies.
async fn wait_if_paused(shared: &Shared, client: &ClientState, args: &[bytes::Bytes]) {
    loop {
        // Registered before the check, so an UNPAUSE in between still wakes us.
        let lifted = shared.pause.notify.notified();
        let Some(until) = paused_until(shared, client, args) else {
            return;
        };
        let left = until.saturating_sub(snapkv_keyspace::clock::now_ms());
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(left.max(1))) => {}
            _ = lifted => {}
        }
    }
}

/// Encodes a reply unless CLIENT REPLY says to drop it.
fn emit(client: &mut ClientState, reply: &Reply, wbuf: &mut BytesMut) {
    match client.reply_mode {
        ReplyMode::On => reply.encode(client.resp, wbuf),
        ReplyMode::Off => {}
        ReplyMode::Skip => client.reply_mode = ReplyMode::On,
        ReplyMode::SkipNext => client.reply_mode = ReplyMode::Skip,
    }
}

async fn write_out(
    shared: &Shared,
    stream: &mut TcpStream,
    wbuf: &mut BytesMut,
) -> std::io::Result<()> {
    if wbuf.is_empty() {
        return Ok(());
    }
    shared
        .stats
        .net_output_bytes
        .fetch_add(wbuf.len() as u64, Ordering::Relaxed);
    let r = stream.write_all(wbuf).await;
    wbuf.clear();
    if wbuf.capacity() > 4 * 1024 * 1024 {
        // Don't keep a huge buffer around after one big reply.
        *wbuf = BytesMut::with_capacity(READ_CHUNK);
    }
    r
}

/// MONITOR mode: forward the feed until the client goes away.
async fn monitor(
    shared: &Shared,
    stream: &mut TcpStream,
    rbuf: &mut BytesMut,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<bytes::Bytes>,
) {
    loop {
        tokio::select! {
            line = rx.recv() => match line {
                Some(line) => {
                    shared.stats.net_output_bytes.fetch_add(line.len() as u64, Ordering::Relaxed);
                    if stream.write_all(&line).await.is_err() { return; }
                }
                None => return,
            },
            n = stream.read_buf(rbuf) => match n {
                Ok(0) | Err(_) => return,
                Ok(_) => rbuf.clear(),
            },
        }
    }
}
