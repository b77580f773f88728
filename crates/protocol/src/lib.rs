//! RESP on the wire, and nothing else: this crate knows no keys and no commands.
//!
//! # Layout
//! - [`request`]: turns bytes read from a client into argument vectors. Multibulk
//!   requests are framed incrementally here (so limits and Redis's exact
//!   `Protocol error: …` texts apply before anything is buffered without bound) and
//!   decoded by the `redis-protocol` crate; inline commands (telnet style) are split
//!   here with `sdssplitargs` semantics.
//! - [`reply`]: the [`Reply`] value every command produces, and its encoding for a
//!   RESP2 or RESP3 connection.
//! - [`float`]: Redis's number formatting (`%.17g`), shared by replies and commands.

pub mod float;
pub mod reply;
pub mod request;

pub use reply::{Reply, RespVersion};
pub use request::{Limits, ProtocolError, RequestParser};
