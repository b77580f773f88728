//! Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX XX GT LT), EXPIRETIME,
//! PEXPIRETIME, TTL, PTTL, PERSIST.

use crate::spec::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
