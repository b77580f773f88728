//! The forkless snapshot engine: a point-in-time cut by one epoch increment, then an
//! incremental walk over every segment while the server keeps serving.
//!
//! - `start`: install the capture hook, then advance the epoch (in that order, so any
//!   writer that sees the new epoch also finds the hook).
//! - Copy-on-write is per entry. A writer about to change or remove an entry that the
//!   snapshot still owes (its segment not yet walked, the entry not yet handed over)
//!   clones it into [`Capture`]'s queue under the shard lock: one 64-byte entry, its key
//!   and large values shared by reference count. Entries born after the cut are never
//!   owed. So a write costs the snapshot one entry, whatever the segment size, and the
//!   queue grows with the write rate, not with the dataset.
//! - The snapshot thread walks every segment, one shard lock per segment (≤
//!   `SEGMENT_MAX` entries cloned under it), and serialises the queue between segments,
//!   so captured entries (and the old values they keep alive) are freed first. Each
//!   entry is written exactly once, so the file equals the keyspace at the cut.
//!
//! The queue's memory — captured entries and the values only they keep alive — is bounded
//! by throttling writers (see `throttle.rs`): when it holds more than half of
//! `snapshot-buffer-limit`, write commands are delayed asynchronously before they run.
//! The snapshot thread runs at `SCHED_IDLE` while well ahead of its 2× schedule,
//! competes normally when it falls behind, and only past that are writers delayed (the
//! pace throttle), so it always finishes; see `throttle.rs::Pacer`.
//! Values are serialised straight into the sink's stream, never materialised whole, and
//! a captured collection is shared, not copied, until a writer changes it. A write
//! command about to change a big collection the snapshot still owes asks for it first
//! ([`Capture::write_first`]) and waits, asynchronously: between segments the snapshot
//! thread takes such keys out of turn (stamping them, so neither the walk nor writers
//! hand them over again), writes them, drops its reference, and releases the waiting
//! write — which then changes the table in place rather than copying it whole under the
//! shard lock.

use std::io::Write;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use snapkv_keyspace::{Entry, Keyspace, SnapshotCapture, SEGMENT_MAX};
use snapkv_rdb::{WriteOptions, Writer};

use crate::serialize::SaveStats;
use crate::throttle::{holding_locks, Pacer};

/// A write waiting for the snapshot to write `key` first (see [`Capture::write_first`]).
struct FirstRequest {
    db: usize,
    key: Vec<u8>,
    /// Dropped once the key is written (or no longer owed, or the snapshot is over):
    /// that is what the waiting write is told.
    _done: Box<dyn Send + Sync>,
}

/// Write-first requests, and whether the snapshot still takes them.
#[derive(Default)]
struct FirstRequests {
    waiting: Vec<FirstRequest>,
    closed: bool,
}

/// Entries handed over by writers, waiting for the snapshot thread.
#[derive(Default)]
struct Queue {
    entries: Vec<(usize, Entry)>,
    bytes: u64,
}

#[derive(Default)]
pub struct Capture {
    queue: Mutex<Queue>,
    /// Entries captured by writers (not by the walk): INFO's view of copy-on-write.
    pub captured_by_writers: AtomicU64,
    /// Approximate bytes the queue holds alive: what `snapshot-buffer-limit` bounds by
    /// throttling writers.
    pub queued_bytes: AtomicU64,
    /// The pace throttle's level, in thousandths of `snapshot-throttle-max-delay`, set by
    /// the snapshot thread when it falls behind (see `throttle.rs`).
    pub pace_permille: AtomicU32,
    first: Mutex<FirstRequests>,
    /// Set by [`Capture::cancel`]: the walk stops at its next segment.
    cancelled: std::sync::atomic::AtomicBool,
}

/// Elements sampled to size a captured collection: enough for a fair mean, and O(1)
/// under the shard lock the capturing writer holds, whatever the collection's size.
const CAPTURE_SIZE_SAMPLES: usize = 64;

/// Memory a captured entry holds while it waits: the entry, and its value's heap —
/// counted whole even when it is shared, because the writer that captured it is about
/// to replace or change it, after which the queue's copy is the only one.
fn entry_bytes(e: &Entry) -> u64 {
    (std::mem::size_of::<(usize, Entry)>() + e.value.heap_size(CAPTURE_SIZE_SAMPLES)) as u64
}

impl SnapshotCapture for Capture {
    fn capture(&self, db: usize, entry: &Entry) {
        let bytes = entry_bytes(entry);
        self.captured_by_writers.fetch_add(1, Ordering::Relaxed);
        self.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
        let mut q = self.queue.lock();
        q.entries.push((db, entry.clone()));
        q.bytes += bytes;
    }
}

impl Capture {
    /// Stops the snapshot: [`run`] returns an error at its next segment (FLUSHALL and
    /// SHUTDOWN end a running save, as Redis kills its child).
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// The error [`run`] stops with once [`Capture::cancel`] was called.
    pub fn check_cancelled(&self) -> snapkv_rdb::Result<()> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("the background save was cancelled").into());
        }
        Ok(())
    }

    /// Asks the snapshot thread to write `key` of `db` before anything else, for a write
    /// about to change it that would otherwise copy a big table whole under its shard
    /// lock (the snapshot would hold the old one). `done` is dropped once the key is
    /// written, is no longer owed, or the snapshot has ended — at once if it already has.
    pub fn write_first(&self, db: usize, key: Vec<u8>, done: Box<dyn Send + Sync>) {
        let mut first = self.first.lock();
        if !first.closed {
            first.waiting.push(FirstRequest {
                db,
                key,
                _done: done,
            });
        }
    }

    /// Ends write-first requests: waiting ones are released, new ones released at once.
    fn close_first(&self) {
        let waiting = {
            let mut first = self.first.lock();
            first.closed = true;
            std::mem::take(&mut first.waiting)
        };
        drop(waiting);
    }

    fn take(&self) -> Vec<(usize, Entry)> {
        let q = std::mem::take(&mut *self.queue.lock());
        self.queued_bytes.fetch_sub(q.bytes, Ordering::Relaxed);
        q.entries
    }
}

/// Progress shared with INFO while a snapshot runs.
#[derive(Default)]
pub struct Progress {
    pub keys_processed: AtomicU64,
    pub keys_total: AtomicU64,
}

struct Out<'w, W: Write> {
    w: &'w mut Writer<W>,
    db: Option<usize>,
    now_ms: u64,
    stats: SaveStats,
}

impl<W: Write> Out<'_, W> {
    fn entry(&mut self, db: usize, e: &Entry) -> snapkv_rdb::Result<()> {
        if e.is_expired(self.now_ms) {
            return Ok(());
        }
        if self.db != Some(db) {
            self.w.select_db(db as u64)?;
            self.db = Some(db);
        }
        crate::serialize::write_entry(self.w, e)?;
        self.stats.keys += 1;
        Ok(())
    }

    /// Serialises the keys writes wait for ([`Capture::write_first`]), then what writers
    /// captured; both go before the walk's next segment: a client waits on the first,
    /// and each captured entry keeps an old value alive.
    fn drain(
        &mut self,
        ks: &Keyspace,
        epoch: u64,
        capture: &Capture,
        progress: &Progress,
        pacer: &mut Option<Pacer>,
    ) -> snapkv_rdb::Result<()> {
        let first = std::mem::take(&mut capture.first.lock().waiting);
        if !first.is_empty() {
            // Clients wait on these: at normal priority, lock or no lock.
            holding_locks(pacer, || -> snapkv_rdb::Result<()> {
                for r in first {
                    if let Some(e) = ks.capture_key(r.db, &r.key, epoch) {
                        self.entry(r.db, &e)?;
                        progress.keys_processed.fetch_add(1, Ordering::Relaxed);
                    }
                    // `r` (its `done`) drops here, after the clone: the write that waits
                    // then finds the table unshared and changes it in place.
                }
                Ok(())
            })?;
        }
        let queued = holding_locks(pacer, || capture.take());
        if queued.is_empty() {
            return Ok(());
        }
        // A FLUSHALL hands over everything at once; cancelled, it need not be written.
        let written = queued.iter().try_for_each(|(db, e)| {
            capture.check_cancelled()?;
            self.entry(*db, e)
        });
        progress
            .keys_processed
            .fetch_add(queued.len() as u64, Ordering::Relaxed);
        // Captured entries hold the only copies of overwritten values: freeing them takes
        // allocator locks the commands' threads share, so not at idle priority — on the
        // way out of a failed or cancelled write too.
        holding_locks(pacer, || drop(queued));
        written
    }
}

/// Cuts the keyspace now and returns the hook and epoch; call [`run`] (usually on a
/// background thread) to write the snapshot.
pub fn start(ks: &Keyspace) -> (Arc<Capture>, u64) {
    let capture = Arc::new(Capture::default());
    ks.set_capture(Some(capture.clone()));
    let epoch = ks.advance_epoch();
    (capture, epoch)
}

/// Writes the snapshot cut at `epoch` to `out`; removes the hook when done (or failed).
pub fn run<W: Write>(
    ks: &Keyspace,
    capture: &Capture,
    epoch: u64,
    out: W,
    opts: WriteOptions,
    progress: &Progress,
) -> snapkv_rdb::Result<(W, SaveStats)> {
    let (wall0, cpu0) = (std::time::Instant::now(), thread_cpu());
    let wait0 = crate::throttle::run_queue_wait();
    let total: usize = (0..ks.databases()).map(|db| ks.dbsize(db)).sum();
    progress.keys_total.store(total as u64, Ordering::Relaxed);
    let mut pacer = Pacer::new();
    let result = (|| {
        let mut w = Writer::new(out, opts)?;
        let now = snapkv_keyspace::clock::now_ms();
        w.write_default_aux((now / 1000) as i64, snapkv_keyspace::memory::used_memory())?;
        let mut o = Out {
            w: &mut w,
            db: None,
            now_ms: now,
            stats: SaveStats::default(),
        };
        // Sized for a whole segment, so the walk never allocates under a shard lock.
        let mut walked: Vec<Entry> = Vec::with_capacity(SEGMENT_MAX);
        for at in ks.shard_refs().collect::<Vec<_>>() {
            let mut si = 0;
            while holding_locks(&mut pacer, || {
                ks.capture_segment(at, si, epoch, |e| walked.push(e.clone()))
            }) {
                capture.check_cancelled()?;
                si += 1;
                if let Some(p) = pacer.as_mut() {
                    let done = progress.keys_processed.load(Ordering::Relaxed) as f64
                        / total.max(1) as f64;
                    capture.pace_permille.store(p.step(done), Ordering::Relaxed);
                }
                progress
                    .keys_processed
                    .fetch_add(walked.len() as u64, Ordering::Relaxed);
                // Two values ahead is far enough for the loads to land before LZF reads
                // them, near enough that they are still in cache then.
                for i in 0..walked.len() {
                    if let Some(next) = walked.get(i + 2) {
                        next.prefetch();
                    }
                    o.entry(at.db, &walked[i])?;
                }
                walked.clear();
                o.drain(ks, epoch, capture, progress, &mut pacer)?;
            }
        }
        // Every segment is stamped now: no writer captures any more.
        capture.pace_permille.store(0, Ordering::Relaxed);
        o.drain(ks, epoch, capture, progress, &mut pacer)?;
        let stats = o.stats;
        let stats = SaveStats {
            bytes: w.bytes_written(),
            ..stats
        };
        Ok((w.finish()?, stats))
    })();
    capture.close_first();
    // Back to normal priority before taking the hook's lock for writing.
    let switches = pacer.as_ref().map_or(0, |p| p.switches);
    drop(pacer);
    ks.set_capture(None);
    if let Ok((_, stats)) = &result {
        tracing::info!(
            "Forkless snapshot: {} keys, {} bytes in {:.2} s ({:.2} s of CPU, {:.2} s waiting for one, {} priority switches; {} entries captured by writers)",
            stats.keys,
            stats.bytes,
            wall0.elapsed().as_secs_f64(),
            (thread_cpu() - cpu0).as_secs_f64(),
            crate::throttle::run_queue_wait()
                .zip(wait0)
                .map_or(0.0, |(w, w0)| w.saturating_sub(w0).as_secs_f64()),
            switches,
            capture.captured_by_writers.load(Ordering::Relaxed),
        );
    }
    result
}

/// CPU time the calling thread has used.
fn thread_cpu() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
