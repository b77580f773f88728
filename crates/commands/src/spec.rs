//! [`CommandSpec`]: one row of the command table — Redis's command metadata as data
//! (name, arity, flags, key positions, group) plus how to lock and which handler runs.

use bytes::Bytes;

use crate::ctx::Ctx;
use crate::error::CommandResult;

pub type Handler = fn(&mut Ctx<'_, '_>, &[Bytes]) -> CommandResult;

/// Computes the (db, key) pairs a command locks from its arguments and current db.
pub type KeysFn = fn(&[Bytes], usize) -> Vec<(usize, Bytes)>;

/// Which shards a command holds while it runs.
#[derive(Clone, Copy)]
pub enum LockPlan {
    /// The keys at the spec's key positions, in the client's database.
    Keys,
    /// Nothing up front; shards are taken one at a time as touched (KEYS, SCAN, DBSIZE,
    /// RANDOMKEY) — or no keyspace access at all (PING, CONFIG, INFO).
    Lazy,
    /// Every shard of the client's database (FLUSHDB).
    Db,
    /// Every shard of every database (FLUSHALL, SWAPDB).
    All,
    /// Touches no keys at all (PING, CONFIG, INFO, MULTI): EXEC needs no shard for it.
    None,
    /// Computed from the arguments: (db, key) pairs (MOVE, COPY … DB n).
    Custom(KeysFn),
}

/// Command flags, named as in Redis's COMMAND INFO.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;

    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name (`get`), or `container|sub` for subcommands.
    pub name: &'static str,
    /// Redis arity: exact argument count including the name, or -N for at least N.
    pub arity: i32,
    pub flags: u32,
    /// Key positions like Redis's legacy (first, last, step); last -1 = to the end.
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub lock: LockPlan,
    pub handler: Handler,
    /// COMMAND DOCS `group` (string, generic, server, connection, transactions, …).
    pub group: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    /// For containers (CONFIG, CLIENT, OBJECT, COMMAND, …): their subcommands.
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// A row with no keys, lazy locking and no subcommands; adjust with struct update.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        group: &'static str,
        handler: Handler,
    ) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            first_key: 0,
            last_key: 0,
            step: 0,
            lock: LockPlan::Lazy,
            handler,
            group,
            summary: "",
            since: "1.0.0",
            subcommands: &[],
        }
    }

    /// The same row with key positions (locks those keys).
    pub const fn keys(self, first: i32, last: i32, step: i32) -> CommandSpec {
        CommandSpec {
            first_key: first,
            last_key: last,
            step,
            lock: LockPlan::Keys,
            ..self
        }
    }

    pub const fn lock(self, lock: LockPlan) -> CommandSpec {
        CommandSpec { lock, ..self }
    }

    pub const fn doc(self, summary: &'static str, since: &'static str) -> CommandSpec {
        CommandSpec {
            summary,
            since,
            ..self
        }
    }

    pub const fn subs(self, subcommands: &'static [CommandSpec]) -> CommandSpec {
        CommandSpec {
            subcommands,
            ..self
        }
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a >= 0 && argc == a as usize) || (a < 0 && argc >= (-a) as usize)
    }

    /// Indexes of key arguments in `args`, per the key positions.
    pub fn key_indexes(&self, argc: usize) -> impl Iterator<Item = usize> {
        let first = self.first_key.max(0) as usize;
        let last = if self.last_key < 0 {
            argc as i64 + self.last_key as i64
        } else {
            self.last_key as i64
        };
        let step = self.step.max(1) as usize;
        let end = if first == 0 {
            0
        } else {
            (last.max(0) as usize + 1).min(argc)
        };
        (first..end).step_by(step)
    }

    /// The `container|sub` name as the arity error prints it.
    pub fn full_name(&self) -> &'static str {
        self.name
    }
}
