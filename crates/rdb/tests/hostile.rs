//! Hostile input, bounded in time (what CI runs in place of cargo-fuzz): mutated valid RDB
//! files and DUMP payloads of every type must yield values or typed errors with an offset
//! inside the input, never a panic, and never an allocation out of proportion to the input.
//!
//! `RDB_FUZZ_SECS` (default 4) sets the time spent per corpus.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::dataset::dataset;
use snapkv_rdb::{
    crc64, dump_payload, parse_dump_payload, Reader, StreamEntry, StreamId, Value, WriteOptions,
    Writer,
};

/// Records the largest single allocation, to catch trust in length fields.
struct Tracking;
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LARGEST.fetch_max(l.size(), Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LARGEST.fetch_max(n, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

fn budget() -> Duration {
    let secs = std::env::var("RDB_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4.0);
    Duration::from_secs_f64(secs)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four edits: byte overwrite, bit flip, insert, delete, truncate, or a length-like
/// byte (0x80/0x81/0xC3 …) dropped in.
fn mutate(rng: &mut Rng, src: &[u8], keep: usize) -> Vec<u8> {
    let mut f = src.to_vec();
    for _ in 0..1 + rng.below(4) {
        if f.len() <= keep + 1 {
            break;
        }
        let i = keep + rng.below(f.len() - keep);
        match rng.below(6) {
            0 => f[i] = rng.next() as u8,
            1 => f[i] ^= 1 << rng.below(8),
            2 => f.insert(i, rng.next() as u8),
            3 => {
                f.remove(i);
            }
            4 => f.truncate(i),
            _ => f[i] = [0x80, 0x81, 0xC3, 0xFF, 0xFE, 0x00, 0x3F][rng.below(7)],
        }
    }
    f
}

fn read_all(bytes: &[u8]) {
    let Ok(mut r) = Reader::new(bytes) else {
        return;
    };
    loop {
        match r.next_event() {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                // Allow the 8 checksum bytes past the end to be reported at the footer.
                assert!(
                    e.offset <= bytes.len() as u64,
                    "offset {} past input {}",
                    e.offset,
                    bytes.len()
                );
                break;
            }
        }
    }
}

fn corpus_file(compression: bool) -> Vec<u8> {
    let mut w = Writer::new(
        Vec::new(),
        WriteOptions {
            compression,
            ..Default::default()
        },
    )
    .unwrap();
    w.write_default_aux(1_700_000_000, 1).unwrap();
    for it in dataset() {
        // Keep files small so each mutation is cheap.
        if it.value.len() > 700 || matches!(&it.value, Value::Str(s) if s.len() > 1000) {
            continue;
        }
        w.select_db(it.db).unwrap();
        w.write_entry(&it.key, it.expire_ms, &it.value).unwrap();
    }
    w.write_stream(b"st", None, &small_stream()).unwrap();
    w.finish().unwrap()
}

fn small_stream() -> snapkv_rdb::Stream {
    let mut s = snapkv_rdb::Stream::default();
    for i in 0..20u64 {
        s.entries.push(StreamEntry {
            id: StreamId::new(100 + i, i % 2),
            fields: vec![(b"f".to_vec(), i.to_string().into_bytes())],
        });
    }
    s.length = 20;
    s.last_id = s.entries[19].id;
    s.groups.push(snapkv_rdb::ConsumerGroup {
        name: b"g".to_vec(),
        ..Default::default()
    });
    s
}

fn check_allocation(input_len: usize) {
    let largest = LARGEST.swap(0, Ordering::Relaxed);
    // LZF may legitimately expand ~88x; anything beyond proportional means a length was
    // trusted. The reader's own buffer is 64 KiB.
    let bound = 200 * input_len + (1 << 20);
    assert!(
        largest <= bound,
        "allocation of {largest} bytes for a {input_len}-byte input"
    );
}

#[test]
fn mutated_rdb_files_yield_typed_errors() {
    for compression in [true, false] {
        let file = corpus_file(compression);
        read_all(&file);
        let mut rng = Rng(0x9E3779B97F4A7C15 ^ compression as u64);
        let start = Instant::now();
        let mut runs = 0;
        while start.elapsed() < budget() / 2 {
            let m = mutate(&mut rng, &file, 0);
            LARGEST.store(0, Ordering::Relaxed);
            read_all(&m);
            check_allocation(m.len());
            runs += 1;
        }
        assert!(runs > 50, "only {runs} runs");
    }
}

#[test]
fn mutated_dump_payloads_yield_typed_errors() {
    let mut payloads: Vec<Vec<u8>> = dataset()
        .iter()
        .filter(|it| it.value.len() <= 700)
        .map(|it| dump_payload(&it.value))
        .collect();
    payloads.push(dump_payload(&Value::Stream(Box::new(small_stream()))));
    let mut rng = Rng(42);
    let start = Instant::now();
    while start.elapsed() < budget() / 2 {
        let p = &payloads[rng.below(payloads.len())];
        let mut m = mutate(&mut rng, &p[..p.len() - 10], 0);
        // Fix the footer so the mutation reaches the value decoder.
        m.extend_from_slice(&10u16.to_le_bytes());
        let crc = crc64(&m);
        m.extend_from_slice(&crc.to_le_bytes());
        LARGEST.store(0, Ordering::Relaxed);
        if let Err(e) = parse_dump_payload(&m) {
            assert!(e.offset <= m.len() as u64);
        }
        check_allocation(m.len());
    }
}
