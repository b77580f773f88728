//! The keyspace: every key of every database, and the rules that keep it consistent.
//! No tokio, no sockets, never awaits; callers hold shard locks only for the length of
//! one command (or one `EXEC`).
//!
//! # Layout
//! - [`Keyspace`] (`keyspace.rs`): 16 (configurable) [`Db`]s, each a power-of-two
//!   number of [`Shard`]s behind `parking_lot` mutexes, the global snapshot epoch and the
//!   per-process hash seed.
//! - [`Shard`] (`shard.rs`): an extendible-hashing directory over bounded
//!   [`Segment`]s (`segment.rs`). A segment is the unit of the snapshot walk and
//!   carries a `version`; it splits in two when full. Copy-on-write is per entry: an
//!   entry carries the epoch it was created or captured at.
//! - [`Entry`], [`Value`], [`StrValue`], [`SmallBytes`]: what a key holds, laid out for
//!   memory (inline small strings, integers as integers, expiry in the entry).
//! - [`Locked`] (`locked.rs`): the shards one command holds, and every read and write of
//!   entries. All mutations pass through it, so lazy expiry, the snapshot pre-write hook,
//!   WATCH invalidation and the dirty counter cannot be forgotten by a command.
//! - [`types`]: hashes, sets, sorted sets and lists with their compact encodings.
//! - `scan.rs` (SCAN cursors that survive segment splits), `expire.rs` (active expiry),
//!   `evict.rs` (maxmemory policies), `glob.rs` (Redis's `stringmatchlen`),
//!   `clock.rs` (cached clocks), `memory.rs` (jemalloc `used_memory`).
//!
//! # Hash bits
//! One 64-bit hash per key. hashbrown uses the low bits (bucket) and the top 7 bits
//! (tag) inside a segment, so routing uses the bits in between: `route = hash >> 20`;
//! the low `shard_bits` of `route` pick the shard, the next bits index the directory.

mod bytes;
pub mod clock;
mod entry;
mod evict;
mod expire;
pub mod glob;
mod keyspace;
mod locked;
pub mod memory;
mod scan;
mod segment;
mod shard;
pub mod types;
mod value;

#[cfg(test)]
mod tests;

pub use crate::bytes::SmallBytes;
pub use entry::Entry;
pub use evict::{EvictOutcome, EvictionPolicy};
pub use keyspace::{Db, Keyspace, KeyspaceConfig, KeyspaceStats, ShardRef, SnapshotCapture};
pub use locked::ShardView;
pub use locked::{Locked, SetCondition, SetExpiry};
pub use scan::ScanFilter;
pub use segment::{Segment, SEGMENT_MAX};
pub use shard::Shard;
pub use shard::ShardStats;
pub use types::Limits;
pub use value::parse_canonical_i64;
pub use value::{StrValue, Value, ValueType, BIG_TABLE_ELEMENTS};
