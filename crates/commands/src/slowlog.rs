//! SLOWLOG: the last `slowlog-max-len` commands slower than `slowlog-log-slower-than`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;

#[derive(Debug, Clone)]
pub struct SlowLogEntry {
    pub id: u64,
    pub time_secs: u64,
    pub duration_us: u64,
    pub args: Vec<Bytes>,
    pub addr: String,
    pub name: Bytes,
}

#[derive(Default)]
pub struct SlowLog {
    pub entries: Mutex<VecDeque<SlowLogEntry>>,
    next_id: AtomicU64,
}

/// Redis's `SLOWLOG_ENTRY_MAX_ARGC` / `SLOWLOG_ENTRY_MAX_STRING`.
const MAX_ARGC: usize = 32;
const MAX_STRING: usize = 128;

impl SlowLog {
    pub fn push(
        &self,
        args: &[Bytes],
        duration_us: u64,
        addr: String,
        name: Bytes,
        max_len: usize,
    ) {
        let mut kept: Vec<Bytes> = Vec::new();
        let argc = args.len().min(MAX_ARGC);
        for (i, a) in args.iter().take(argc).enumerate() {
            if argc != args.len() && i == argc - 1 {
                kept.push(Bytes::from(format!(
                    "... ({} more arguments)",
                    args.len() - argc + 1
                )));
            } else if a.len() > MAX_STRING {
                let mut s = a[..MAX_STRING].to_vec();
                s.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes(),
                );
                kept.push(Bytes::from(s));
            } else {
                kept.push(a.clone());
            }
        }
        let entry = SlowLogEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            time_secs: snapkv_keyspace::clock::now_ms() / 1000,
            duration_us,
            args: kept,
            addr,
            name,
        };
        let mut e = self.entries.lock();
        e.push_front(entry);
        e.truncate(max_len);
    }

    pub fn reset(&self) {
        self.entries.lock().clear();
    }
}
