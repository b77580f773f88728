//! Graceful shutdown: on SIGTERM, SIGINT or SHUTDOWN, stop serving, close every client
//! and return the exit code. A signal saves first when save points are configured (as
//! Redis does); if that save fails the server keeps running, so no data is lost. With
//! `backup-on-shutdown yes` a final backup is taken next (its failure is only logged).

use std::sync::Arc;

use snapkv_commands::Shared;
use tokio::signal::unix::{signal, SignalKind};

/// SIGTERM and SIGINT handlers. Installed before the server listens: a signal sent as soon
/// as the port accepts (as tests and supervisors do) must not take the default action.
pub struct Signals {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    pub fn install() -> Signals {
        Signals {
            term: signal(SignalKind::terminate()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
        }
    }

    /// Waits for the next signal and returns Redis's log line for it.
    pub async fn recv(&mut self) -> &'static str {
        async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
            match s.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = next(&mut self.term) => "Received SIGTERM scheduling shutdown...",
            _ = next(&mut self.int) => "Received SIGINT scheduling shutdown...",
        }
    }
}

pub async fn wait(shared: &Arc<Shared>, signals: &mut Signals) -> i32 {
    loop {
        let (reason, signalled) = tokio::select! {
            reason = signals.recv() => (reason, true),
            _ = shared.shutdown.notify.notified() => ("User requested shutdown...", false),
        };
        tracing::warn!("{reason}");
        // A background save would outlive us (a fork child renaming an older snapshot
        // over the final one); SHUTDOWN stopped it already.
        if signalled && snapkv_commands::persistence::abort_bgsave(shared) {
            tracing::warn!("There is a child saving an .rdb. Killing it!");
        }
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
        if shared.config.settings().backup_on_shutdown {
            let s = shared.clone();
            match tokio::task::spawn_blocking(move || snapkv_commands::backup::final_backup(&s))
                .await
            {
                Ok(Ok(name)) => tracing::info!("Final backup {name} done"),
                Ok(Err(e)) => tracing::error!("The final backup failed: {e}"),
                Err(e) => tracing::error!("The final backup failed: {e}"),
            }
        }
        let closed = shared.clients.kill(|_| true);
        tracing::info!("closed {closed} client connections");
        return 0;
    }
}
