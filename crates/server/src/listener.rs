//! Listening sockets: `bind` addresses (a leading `-` marks one whose failure is not
//! fatal, as in Redis), `port`, `tcp-backlog`; and the accept loop with `maxclients`
//! and protected mode.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use snapkv_commands::{ClientInfo, Shared};
use snapkv_config::Settings;
use socket2::{Domain, Socket, Type};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

pub async fn bind(settings: &Settings) -> Result<Vec<TcpListener>, String> {
    let mut out = Vec::new();
    for addr in &settings.bind {
        let (optional, addr) = match addr.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, addr.as_str()),
        };
        let ip: IpAddr = match addr {
            "*" => "0.0.0.0".parse().map_err(|e| format!("{e}"))?,
            a => a
                .parse()
                .map_err(|e| format!("Invalid bind address '{a}': {e}"))?,
        };
        match listen(SocketAddr::new(ip, settings.port), settings.tcp_backlog) {
            Ok(l) => out.push(l),
            Err(e) if optional => {
                tracing::warn!("Could not create server TCP listening socket {addr}:{}: {e}", settings.port)
            }
            Err(e) => {
                return Err(format!(
                    "Warning: Could not create server TCP listening socket {addr}:{}: bind: {e}\nFailed listening on port {} (TCP), aborting.",
                    settings.port, settings.port
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "Failed listening on port {} (TCP), aborting.",
            settings.port
        ));
    }
    Ok(out)
}

fn listen(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog.max(1) as i32)?;
    TcpListener::from_std(socket.into())
}

pub async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    workers: crate::workers::SharedWorkers,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!("Accepting client connection: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        // Move the socket to its worker's runtime (its I/O driver must own it).
        let std_stream = match stream.into_std() {
            Ok(s) => s,
            Err(_) => continue,
        };
        let shared = shared.clone();
        workers.pick().spawn(async move {
            if let Ok(stream) = TcpStream::from_std(std_stream) {
                admit(shared, stream, peer).await;
            }
        });
    }
}

/// Checks limits for a new connection and hands it to its connection task.
async fn admit(shared: Arc<Shared>, mut stream: TcpStream, peer: SocketAddr) {
    let settings = shared.config.settings();
    let _ = stream.set_nodelay(true);
    if settings.tcp_keepalive_secs > 0 {
        let sock = socket2::SockRef::from(&stream);
        let ka = socket2::TcpKeepalive::new()
            .with_time(std::time::Duration::from_secs(settings.tcp_keepalive_secs));
        let _ = sock.set_tcp_keepalive(&ka);
    }
    if shared.clients.count() >= settings.maxclients {
        shared
            .clients
            .rejected_connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = stream
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    if settings.protected_mode && settings.requirepass.is_empty() && !peer.ip().is_loopback() {
        let _ = stream
            .write_all(b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n")
            .await;
        return;
    }
    let laddr = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let fd = {
        use std::os::fd::AsRawFd;
        stream.as_raw_fd() as i64
    };
    let info = Arc::new(ClientInfo::new(
        shared.clients.next_id(),
        peer.to_string(),
        laddr,
        fd,
        snapkv_keyspace::clock::now_ms(),
    ));
    shared.clients.register(info.clone());
    crate::connection::serve(shared, stream, info).await;
}
