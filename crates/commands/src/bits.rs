//! Bit commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.

use crate::spec::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
