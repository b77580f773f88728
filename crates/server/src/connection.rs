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
                    while shared.pause.until_ms.load(Ordering::Relaxed) != 0 {
                        // Registered before the check, so an UNPAUSE in between wakes us.
                        let lifted = shared.pause.notify.notified();
                        let Some(wait) = snapkv_commands::dispatch::pause_wait(&shared, &args)
                        else {
                            break;
                        };
                        // Replies so far go out before this client waits out the pause.
                        if write_out(&shared, &mut stream, &mut wbuf).await.is_err() {
                            break 'conn;
                        }
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = lifted => {}
                        }
                    }
                    if let Some(wait) =
                        snapkv_commands::dispatch::throttle_wait(&shared, &client, &args)
                    {
                        // A forkless snapshot is behind: this write waits (asynchronously).
                        if write_out(&shared, &mut stream, &mut wbuf).await.is_err() {
                            break 'conn;
                        }
                        tokio::time::sleep(wait).await;
                    }
                    let first = snapkv_commands::dispatch::write_first(&shared, &client, &args);
                    if !first.is_empty() {
                        // A forkless snapshot writes the big collection this command
                        // changes first, so the command need not copy it (asynchronously).
                        if write_out(&shared, &mut stream, &mut wbuf).await.is_err() {
                            break 'conn;
                        }
                        let start = std::time::Instant::now();
                        let _ = tokio::time::timeout(
                            snapkv_commands::dispatch::WRITE_FIRST_MAX_WAIT,
                            async {
                                for written in first {
                                    let _ = written.await;
                                }
                            },
                        )
                        .await;
                        shared.persistence.write_delay_us.fetch_add(
                            start.elapsed().as_micros() as u64,
                            std::sync::atomic::Ordering::Relaxed,
                        );
                    }
                    let mut reply = snapkv_commands::execute(&shared, &mut client, args);
                    if client.blocked.is_some() {
                        // A blocking command found nothing: wait here, asynchronously.
                        if write_out(&shared, &mut stream, &mut wbuf).await.is_err() {
                            break 'conn;
                        }
                        match crate::blocked::wait(&shared, &mut client, &mut stream, &mut rbuf)
                            .await
                        {
                            Some(r) => reply = r,
                            None => break 'conn,
                        }
                    }
                    emit(&mut client, &reply, &mut wbuf);
                    let hard = client.settings.output_limit_normal.hard;
                    if hard > 0 && wbuf.len() as u64 > hard {
                        tracing::warn!(
                            "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                            info.id,
                            info.addr
                        );
                        shared
                            .stats
                            .client_outbuf_limit_disconnections
                            .fetch_add(1, Ordering::Relaxed);
                        break 'conn;
                    }
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
    snapkv_commands::blocking::finish(&shared, &mut client);
    snapkv_commands::transaction::forget_client(&shared, &mut client);
    // Unregister before the socket closes: CLIENT KILL shuts sockets down by descriptor.
    shared.clients.unregister(info.id);
    drop(stream);
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

pub(crate) async fn write_out(
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
    shared
        .stats
        .writes_processed
        .fetch_add(1, Ordering::Relaxed);
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
    mut rx: tokio::sync::mpsc::Receiver<bytes::Bytes>,
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
