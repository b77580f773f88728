//! Graceful shutdown: on SIGTERM, SIGINT or SHUTDOWN, stop serving, close every client
//! and return the exit code.

use std::sync::Arc;

use snapkv_commands::Shared;
use tokio::signal::unix::{signal, SignalKind};

pub async fn wait(shared: &Arc<Shared>) -> i32 {
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    let reason = tokio::select! {
        _ = async { match term.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => "Received SIGTERM scheduling shutdown...",
        _ = async { match int.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => "Received SIGINT scheduling shutdown...",
        _ = shared.shutdown.notify.notified() => "User requested shutdown...",
    };
    tracing::warn!("{reason}");
    let closed = shared.clients.kill(|_| true);
    tracing::info!("closed {closed} client connections");
    0
}
