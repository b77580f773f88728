//! [`CommandError`]: every error a command can answer. `Display` is the exact Redis 7.0
//! wire text (without the leading `-`), so there is one place to get them right.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    WrongType,
    Syntax,
    NotInteger,
    NotFloat,
    Overflow,
    NoSuchKey,
    OutOfRange,
    DbIndexOutOfRange,
    WrongArity(String),
    UnknownCommand {
        name: String,
        args: String,
    },
    UnknownSubcommand {
        command: String,
        sub: String,
    },
    NoAuth,
    WrongPass,
    Oom,
    Misconf,
    ExecAbort,
    /// Any other error: the whole line, e.g. `ERR invalid expire time in 'set' command`.
    Custom(String),
}

pub type CommandResult = Result<snapkv_protocol::Reply, CommandError>;

impl CommandError {
    /// `ERR <text>`.
    pub fn err(text: impl fmt::Display) -> CommandError {
        CommandError::Custom(format!("ERR {text}"))
    }

    /// Redis's `addReplySubcommandSyntaxError`: a known subcommand with the wrong number
    /// of arguments (the subcommand as typed, the command upper-cased).
    pub fn subcommand_syntax(args: &[bytes::Bytes]) -> CommandError {
        CommandError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
            String::from_utf8_lossy(&args[1]),
            String::from_utf8_lossy(&args[0]).to_ascii_uppercase()
        ))
    }

    /// Redis's `ERR unknown command '…', with args beginning with: '…' '…' `.
    pub fn unknown_command(args: &[bytes::Bytes]) -> CommandError {
        let name = String::from_utf8_lossy(&args[0]);
        let name: String = name.chars().take(128).collect();
        let mut rest = String::new();
        for a in &args[1..] {
            if rest.len() >= 128 {
                break;
            }
            let a = String::from_utf8_lossy(a);
            let room = 128 - rest.len();
            let a: String = a.chars().take(room).collect();
            rest.push_str(&format!("'{a}' "));
        }
        CommandError::UnknownCommand { name, args: rest }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CommandError::*;
        match self {
            WrongType => f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value"),
            Syntax => f.write_str("ERR syntax error"),
            NotInteger => f.write_str("ERR value is not an integer or out of range"),
            NotFloat => f.write_str("ERR value is not a valid float"),
            Overflow => f.write_str("ERR increment or decrement would overflow"),
            NoSuchKey => f.write_str("ERR no such key"),
            OutOfRange => f.write_str("ERR index out of range"),
            DbIndexOutOfRange => f.write_str("ERR DB index is out of range"),
            WrongArity(cmd) => write!(f, "ERR wrong number of arguments for '{cmd}' command"),
            UnknownCommand { name, args } => {
                write!(f, "ERR unknown command '{name}', with args beginning with: {args}")
            }
            UnknownSubcommand { command, sub } => write!(
                f,
                "ERR unknown subcommand '{sub}'. Try {} HELP.",
                command.to_ascii_uppercase()
            ),
            NoAuth => f.write_str("NOAUTH Authentication required."),
            WrongPass => f.write_str(
                "WRONGPASS invalid username-password pair or user is disabled.",
            ),
            Oom => f.write_str("OOM command not allowed when used memory > 'maxmemory'."),
            Misconf => f.write_str(
                "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.",
            ),
            ExecAbort => f.write_str("EXECABORT Transaction discarded because of previous errors."),
            Custom(line) => f.write_str(line),
        }
    }
}

impl From<CommandError> for snapkv_protocol::Reply {
    fn from(e: CommandError) -> Self {
        snapkv_protocol::Reply::Error(e.to_string())
    }
}
