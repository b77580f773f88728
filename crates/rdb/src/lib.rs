//! Redis RDB format for snapkv: pure encoding and decoding over `io::Write` / `io::Read`,
//! no server knowledge, no policy.
//!
//! # Layout
//! - [`writer`]: streaming file writer, RDB version 10 (loadable by Redis 7.0+ and Valkey);
//!   entries are written from borrowed data (`write_string_entry`, `write_hash`, …).
//! - [`encode`]: value serialisation shared by the writer and DUMP, with the Redis 7.0
//!   encoding thresholds in [`WriteOptions`].
//! - [`reader`]: streaming reader for versions 1–12, yielding [`Event`]s.
//! - `decode`, `stream`, `input`: value decoding, streams, the bounded input buffer.
//! - [`dump`]: DUMP / RESTORE payloads.
//! - Codecs, byte-compatible with Redis: [`listpack`], [`intset`], [`ziplist`] (and
//!   zipmap, decode only), [`lzf`], [`crc64`].
//! - [`value`]: the owned value model; [`error`]: the error type (always with an offset).
//!
//! Invariants: no input can make the reader panic or allocate much more than the bytes it
//! has actually read; what the writer produces loads in `redis-server` 7.0.

pub mod consts;
pub mod crc64;
mod decode;
pub mod dump;
pub mod encode;
pub mod error;
mod input;
pub mod intset;
pub mod listpack;
pub mod lzf;
mod num;
pub mod reader;
mod stream;
pub mod value;
pub mod writer;
pub mod ziplist;

#[cfg(test)]
mod legacy_tests;

pub use crc64::{crc64, Crc64};
pub use dump::{
    dump_payload, dump_payload_with, finish_dump, parse_dump_payload, verify_dump_payload,
    ValueEncoder,
};
pub use encode::{Encoder, WriteOptions};
pub use error::{CodecError, Error, ErrorKind, Result};
pub use input::Progress;
pub use reader::{read_entries, Checksum, Entry, Event, ReadOptions, Reader};
pub use value::{Consumer, ConsumerGroup, PendingEntry, Stream, StreamEntry, StreamId, Value};
pub use writer::Writer;
