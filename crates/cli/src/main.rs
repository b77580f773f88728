//! `snapkv`: the operator's command-line tool. Each subcommand family lives in its own
//! module (`rdb_cmd`, `backup_cmd`) and returns the process exit code.

mod backup_cmd;
mod rdb_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "snapkv", version, about = "snapkv command-line tool")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect RDB files (check, dump).
    Rdb(rdb_cmd::RdbArgs),
    /// Backups in a directory or S3: list, describe, create, restore, copy, delete, verify.
    Backup(backup_cmd::BackupArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Rdb(args) => rdb_cmd::run(args),
        Command::Backup(args) => backup_cmd::run(args),
    }
}
