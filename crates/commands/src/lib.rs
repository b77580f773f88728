//! Commands: the command table and every handler, one file per family. Handlers are
//! plain functions `(ctx, args) -> Result<Reply, CommandError>`; they never do network
//! I/O and never await.
//!
//! # Layout
//! - `spec.rs` ([`CommandSpec`]), `table.rs` ([`CommandTable`]): command metadata as data.
//! - `dispatch.rs`: [`execute`] — lookup, arity, auth, MULTI, OOM, locking, stats.
//! - `ctx.rs` ([`Ctx`]), `client.rs` (per-connection state and registry),
//!   `shared.rs` ([`Shared`], the server-wide parts), `error.rs` ([`CommandError`]: every
//!   Redis error text), `args.rs` (argument parsing), `slowlog.rs`, `coll.rs` (what collection
//!   families share: typed lookups, empty-key deletion, scan arguments), `blocking.rs`
//!   (clients waiting in BLPOP & co., per-key FIFO queues).
//! - Families: `string.rs`, `counter.rs`, `lcs.rs`, `bits.rs`, `bitfield.rs`, `hash.rs`, `set.rs`, `zset.rs`, `list.rs`, `sort.rs`, `keys.rs`, `object.rs`, `expire.rs`, `dump.rs`, `connection.rs`,
//!   `client_cmd.rs`, `transaction.rs`, `server.rs`, `info.rs`, `config_cmd.rs`,
//!   `debug.rs`, `latency.rs`, `introspection.rs`, `persistence.rs`, `backup.rs` (with
//!   `backup_job.rs`, the backup thread).

pub mod args;
pub mod backup;
mod backup_job;
mod bitfield;
mod bits;
pub mod blocking;
pub mod client;
mod client_cmd;
mod coll;
mod config_cmd;
mod connection;
mod counter;
pub mod ctx;
mod debug;
pub mod dispatch;
pub mod dump;
pub mod error;
mod expire;
mod float;
mod hash;
mod histogram;
mod info;
mod introspection;
mod keys;
mod latency;
mod lcs;
mod list;
mod memory_cmd;
mod object;
pub mod persistence;
mod server;
mod set;
mod sharded;
pub mod shared;
pub mod slowlog;
mod sort;
pub mod spec;
mod string;
pub mod table;
pub mod transaction;
mod zset;

pub use backup_job::s3_options;
pub use client::{ClientInfo, ClientRegistry, ClientState, ReplyMode};
pub use ctx::Ctx;
pub use dispatch::execute;
pub use error::{CommandError, CommandResult};
pub use shared::Shared;
pub use spec::CommandSpec;
pub use table::CommandTable;

/// The Redis version snapkv is compatible with (INFO `redis_version`, HELLO).
pub const REDIS_VERSION: &str = "7.0.15";
/// snapkv's own version.
pub const SNAPKV_VERSION: &str = env!("CARGO_PKG_VERSION");
