//! Graceful shutdown: on SIGTERM, SIGINT or SHUTDOWN, stop serving, close every client
//! and return the exit code. A signal saves first when save points are configured (as
//! Redis does); if that save fails the server keeps running, so no data is lost.

use std::sync::Arc;

use snapkv_commands::Shared;
use tokio::signal::unix::{signal, SignalKind};

pub async fn wait(shared: &Arc<Shared>) -> i32 {
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    loop {
        let (reason, signalled) = tokio::select! {
            _ = async { match term.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => ("Received SIGTERM scheduling shutdown...", true),
            _ = async { match int.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => ("Received SIGINT scheduling shutdown...", true),
            _ = shared.shutdown.notify.notified() => ("User requested shutdown...", false),
        };
        tracing::warn!("{reason}");
        // SHUTDOWN saved (or chose not to) before asking; a signal saves here.
        if signalled && !shared.config.settings().save.is_empty() {
            let s = shared.clone();
            let saved = tokio::task::spawn_blocking(move || {
                let mut locked = s.keyspace.lock_all();
                snapkv_commands::persistence::save_locked(&s, &mut locked)
            })
            .await;
            match saved {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!("Error trying to save the DB, can't exit: {e}");
                    continue;
                }
                Err(e) => {
                    tracing::error!("Error trying to save the DB, can't exit: {e}");
                    continue;
                }
            }
        }
        let closed = shared.clients.kill(|_| true);
        tracing::info!("closed {closed} client connections");
        return 0;
    }
}
