//! Snapshots: one Redis-compatible RDB byte stream from a point-in-time cut of the
//! keyspace, written to a sink; and loading such a stream back.
//!
//! # Layout (built so far, and where the rest goes)
//! - `serialize.rs`: keyspace values → `snapkv_rdb::Writer` calls; the whole keyspace
//!   under held shard locks ([`write_locked`]) — the engine of SAVE, SHUTDOWN SAVE and
//!   DEBUG RELOAD, and the serialiser both background engines will reuse.
//! - `sink.rs`: [`FileSink`] — `temp-<pid>.rdb` in `dir`, fsync, rename over
//!   `dbfilename`, fsync the directory; on any failure the old file stays and the temp
//!   file is removed.
//! - `direct.rs`: [`DirectFile`] — the file written with `O_DIRECT` where the file system
//!   allows, so the snapshot's bytes skip the page cache (and its CPU and writeback).
//! - `load.rs`: [`load_file`] — start-up loading through the streaming RDB reader, with
//!   progress for INFO's `loading_*` fields; expired keys dropped; a value type the
//!   keyspace cannot hold yet stops the load with a clear error (never a silent drop).
//! - `forkless.rs`: the forkless engine (epoch cut, per-entry `SnapshotCapture` hook,
//!   background walk and serialiser, memory bound by writer throttling).
//! - `fork.rs`: the fork engine (lock all shards, `fork()`, the child serialises with
//!   the held guards, reports over a pipe, `_exit`).
//! - `policy.rs`: engine choice (`snapshot-method auto`): fork when the memory headroom
//!   covers the estimated copy-on-write growth, else forkless.
//! - Save points are scheduled by the server's cron thread.
//! - `throttle.rs`: the forkless queue's memory bound, as asynchronous delays for write
//!   commands.

pub mod convert;
mod direct;
pub mod fork;
pub mod forkless;
mod load;
pub mod policy;
mod serialize;
mod sink;
pub mod throttle;

pub use direct::DirectFile;
pub use load::{load_file, load_with, remove_stale_temp_files, LoadError, LoadStats};
pub use serialize::{write_entry, write_locked, SaveStats};
pub use sink::{FileSink, SinkError};
