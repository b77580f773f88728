//! COMMAND (COUNT, INFO, DOCS, LIST, GETKEYS): the command table described to clients.

use crate::spec::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
