//! Worker threads: one single-threaded tokio runtime per `io-threads`, each on its own OS
//! thread. A connection is handed to one worker when accepted and lives there for good:
//! its commands run on the thread that reads them, with no work-stealing and no
//! cross-thread wake-ups on the hot path (measured: see benches/compare-redis.sh).

use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::runtime::Handle;
use tokio::sync::watch;

pub struct Workers {
    handles: Vec<Handle>,
    threads: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    next: std::sync::atomic::AtomicUsize,
}

impl Workers {
    pub fn start(n: usize) -> std::io::Result<Workers> {
        let (stop, stopped) = watch::channel(false);
        let mut handles = Vec::new();
        let mut threads = Vec::new();
        for i in 0..n.max(1) {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(rt.handle().clone());
            let mut stopped = stopped.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("snapkv-io-{i}"))
                    .spawn(move || {
                        rt.block_on(async move {
                            let _ = stopped.wait_for(|s| *s).await;
                        });
                        // Connection tasks still parked on slow peers are dropped here.
                        rt.shutdown_timeout(std::time::Duration::from_millis(100));
                    })?,
            );
        }
        Ok(Workers {
            handles,
            threads,
            stop,
            next: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The worker for the next connection (round robin).
    pub fn pick(&self) -> &Handle {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        &self.handles[i % self.handles.len()]
    }

    pub fn len(&self) -> usize {
        self.handles.len()
    }

    pub fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Shared between the acceptors and `main`.
pub type SharedWorkers = Arc<Workers>;
