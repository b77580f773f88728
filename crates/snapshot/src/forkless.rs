//! The forkless snapshot engine: a point-in-time cut by one epoch increment, then an
//! incremental walk over every segment while the server keeps serving.
//!
//! - `start`: install the capture hook, then advance the epoch (in that order, so any
//!   writer that sees the new epoch also finds the hook).
//! - Writers about to change a segment still behind the epoch hand it to
//!   [`Capture::capture`] under the shard lock: its entries are cloned (keys and large
//!   strings are reference-counted, so this is a bounded copy of ≤ `SEGMENT_MAX`
//!   entries) into a queue.
//! - The snapshot thread walks every shard, capturing the segments nobody touched, and
//!   serialises queued chunks as it goes. Each segment is serialised exactly once, so the
//!   file equals the keyspace at the cut.
//!
//! The queue's memory is bounded by throttling writers (see `throttle.rs`): when it holds
//! more than `snapshot-buffer-limit`, write commands are delayed asynchronously before
//! they run. Not yet: serialising one huge value in chunks.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use snapkv_keyspace::{Entry, Keyspace, Segment, SegmentCapture};
use snapkv_rdb::{WriteOptions, Writer};

use crate::serialize::SaveStats;

/// Captured segments waiting for the snapshot thread: (db, entries).
#[derive(Default)]
pub struct Capture {
    queue: Mutex<Vec<(usize, Vec<Entry>)>>,
    /// Entries captured by writers (not by the walk): INFO's view of copy-on-write.
    pub captured_by_writers: AtomicU64,
    pub queued_entries: AtomicU64,
    /// Approximate bytes held by queued (captured, not yet written) entries: what
    /// `snapshot-buffer-limit` bounds by throttling writers.
    pub queued_bytes: AtomicU64,
}

/// Bytes an entry copy adds while it waits in the queue: the entry itself and any value
/// bytes that had to be copied. Keys and string values on the heap are reference-counted
/// and shared with the live keyspace, so capturing them copies nothing (measured: with
/// 519k × 500 B values under write load, counting them made the throttle fire while the
/// real growth stayed under 35 MB — and the delays were the worst tail latencies).
/// Large collections are reference-counted too: a writer that then changes one copies
/// it at that moment (not counted here).
fn entry_bytes(e: &Entry) -> u64 {
    (std::mem::size_of::<Entry>() + e.value.capture_copy_size()) as u64
}

impl SegmentCapture for Capture {
    fn capture(&self, db: usize, _shard: usize, segment: &Segment) {
        let entries: Vec<Entry> = segment.iter().cloned().collect();
        let bytes: u64 = entries.iter().map(entry_bytes).sum();
        self.captured_by_writers
            .fetch_add(entries.len() as u64, Ordering::Relaxed);
        self.queued_entries
            .fetch_add(entries.len() as u64, Ordering::Relaxed);
        self.queued_bytes.fetch_add(bytes, Ordering::Relaxed);
        self.queue.lock().push((db, entries));
    }
}

impl Capture {
    fn take(&self) -> Vec<(usize, Vec<Entry>)> {
        let chunks = std::mem::take(&mut *self.queue.lock());
        let n: usize = chunks.iter().map(|(_, e)| e.len()).sum();
        let bytes: u64 = chunks
            .iter()
            .flat_map(|(_, e)| e.iter())
            .map(entry_bytes)
            .sum();
        self.queued_entries.fetch_sub(n as u64, Ordering::Relaxed);
        self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
        chunks
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
    fn chunk(
        &mut self,
        db: usize,
        entries: &[Entry],
        progress: &Progress,
    ) -> snapkv_rdb::Result<()> {
        for e in entries {
            if e.is_expired(self.now_ms) {
                continue;
            }
            if self.db != Some(db) {
                self.w.select_db(db as u64)?;
                self.db = Some(db);
            }
            crate::serialize::write_entry(self.w, e)?;
            self.stats.keys += 1;
        }
        progress
            .keys_processed
            .fetch_add(entries.len() as u64, Ordering::Relaxed);
        Ok(())
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
    let result = (|| {
        let total: usize = (0..ks.databases()).map(|db| ks.dbsize(db)).sum();
        progress.keys_total.store(total as u64, Ordering::Relaxed);
        let mut w = Writer::new(out, opts)?;
        let now = snapkv_keyspace::clock::now_ms();
        w.write_default_aux((now / 1000) as i64, snapkv_keyspace::memory::used_memory())?;
        let mut o = Out {
            w: &mut w,
            db: None,
            now_ms: now,
            stats: SaveStats::default(),
        };
        for at in ks.shard_refs().collect::<Vec<_>>() {
            let mut walked: Vec<Entry> = Vec::new();
            ks.capture_shard(at, epoch, |seg| walked.extend(seg.iter().cloned()));
            o.chunk(at.db, &walked, progress)?;
            for (db, entries) in capture.take() {
                o.chunk(db, &entries, progress)?;
            }
        }
        // Every segment is stamped now; drain what writers captured last.
        for (db, entries) in capture.take() {
            o.chunk(db, &entries, progress)?;
        }
        let stats = o.stats;
        let stats = SaveStats {
            bytes: w.bytes_written(),
            ..stats
        };
        Ok((w.finish()?, stats))
    })();
    ks.set_capture(None);
    result
}
