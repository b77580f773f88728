//! Configuration: every option snapkv accepts, in one table (`options.rs`, one row per
//! option: name, type, default, mutability), the typed [`Settings`] they fill, redis.conf
//! and `--directive value` parsing (`parse.rs`), and the live [`Config`] that CONFIG
//! GET/SET/REWRITE work on (`live.rs`).
//!
//! Hot paths read settings through an `Arc<Settings>` cached per connection and
//! refreshed when [`Config::generation`] moves, so a command never takes a lock to read
//! configuration.

mod live;
mod memory;
mod options;
mod parse;
mod settings;

pub use live::Config;
pub use memory::{format_memory, parse_memory};
pub use options::{OptionKind, OptionSpec, OPTIONS};
pub use parse::{parse_args, parse_config_file, ConfigError};
pub use settings::{allows, OutputBufferLimit, SaveParam, Settings, SnapshotMethod};
