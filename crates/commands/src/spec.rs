//! [`CommandSpec`]: one row of the command table — Redis's command metadata as data
//! (name, arity, flags, key positions, group) plus how to lock and which handler runs.

use bytes::Bytes;

use crate::ctx::Ctx;
use crate::error::CommandResult;

pub type Handler = fn(&mut Ctx<'_, '_>, &[Bytes]) -> CommandResult;

/// Computes the (db, key) pairs a command locks from its arguments and current db.
pub type KeysFn = fn(&[Bytes], usize) -> Vec<(usize, Bytes)>;

/// Finds a command's key arguments (their indexes) where positions alone cannot.
pub type GetKeysFn = fn(&[Bytes]) -> Vec<usize>;

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
    /// `numkeys key …` with the count at `args[at]`, after a destination key at `args[1]`
    /// when `dest` (SINTERCARD 2 a b; BLMPOP 0 2 a b LEFT; ZUNIONSTORE dst 2 a b).
    NumKeys { at: usize, dest: bool },
    /// Computed from the arguments: (db, key) pairs (MOVE, COPY … DB n).
    Custom(KeysFn),
}

/// The keys of a [`LockPlan::NumKeys`] command whose count is `n`: the destination, then
/// the counted keys.
fn counted_keys(at: usize, dest: bool, n: usize) -> impl Iterator<Item = usize> {
    dest.then_some(1).into_iter().chain(at + 1..at + 1 + n)
}

impl LockPlan {
    /// For [`LockPlan::NumKeys`]: the keys to lock, as many as there are before the
    /// handler validates the count (a bad one locks only the destination).
    pub fn numkeys_to_lock(at: usize, dest: bool, args: &[Bytes]) -> impl Iterator<Item = usize> {
        let n = args
            .get(at)
            .and_then(|a| snapkv_keyspace::parse_canonical_i64(a))
            .unwrap_or(0)
            .max(0) as usize;
        counted_keys(at, dest, n.min(args.len().saturating_sub(at + 1)))
    }
}

/// C's `atoi`, as Redis's getkeys callbacks read a key count: leading blanks, a sign,
/// then digits up to the first non-digit ("2abc" is 2, "x" is 0).
fn atoi(s: &[u8]) -> i64 {
    let s = s.trim_ascii_start();
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, &b| {
            n.saturating_mul(10).saturating_add((b - b'0') as i64)
        });
    if neg {
        -n
    } else {
        n
    }
}

/// Redis's key-spec flags (COMMAND GETKEYSANDFLAGS, COMMAND INFO) for a command's first
/// key argument and for the others. They also tell the forkless snapshot which keys a
/// write command changes: only those are worth writing first (`dispatch::write_first`);
/// a key a command only reads (`RO`) costs the snapshot nothing, however big.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KeyFlags {
    pub first: &'static [&'static str],
    pub rest: &'static [&'static str],
}

/// The flag sets Redis 7.0's command table uses, by name.
pub mod key_flags {
    pub const RO_ACCESS: &[&str] = &["RO", "access"];
    /// Reads what a key is, not its value (EXISTS, TYPE, HLEN).
    pub const RO: &[&str] = &["RO"];
    pub const RW_ACCESS_UPDATE: &[&str] = &["RW", "access", "update"];
    pub const RW_ACCESS_DELETE: &[&str] = &["RW", "access", "delete"];
    pub const RW_UPDATE: &[&str] = &["RW", "update"];
    pub const RW_INSERT: &[&str] = &["RW", "insert"];
    pub const RW_DELETE: &[&str] = &["RW", "delete"];
    pub const RM_DELETE: &[&str] = &["RM", "delete"];
    pub const OW_UPDATE: &[&str] = &["OW", "update"];
    pub const OW_INSERT: &[&str] = &["OW", "insert"];
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
    pub const NO_ASYNC_LOADING: u32 = 1 << 16;
    /// Keys found by parsing the arguments, not by position alone (numkeys, SORT … STORE).
    pub const MOVABLE_KEYS: u32 = 1 << 17;

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
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLE_KEYS, "movablekeys"),
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
    /// None: `RO access` for read-only commands, `RW access update` for writes.
    pub key_flags: Option<KeyFlags>,
    /// Redis's ACL categories for the row, besides those its flags imply (@read,
    /// @write, @admin, @fast/@slow, @blocking …); None: its group's (@string for
    /// string commands …).
    pub acl: Option<&'static [&'static str]>,
    /// COMMAND INFO's tips for clients and proxies (nondeterministic_output,
    /// request_policy:…, response_policy:…), as Redis 7.0 gives them.
    pub tips: &'static [&'static str],
    /// Key positions that need parsing beyond a numkeys count (SORT … STORE dst).
    pub getkeys: Option<GetKeysFn>,
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
            key_flags: None,
            acl: None,
            tips: &[],
            getkeys: None,
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

    /// The same row with keys counted by a `numkeys` argument (see [`LockPlan::NumKeys`]).
    /// Its fixed key positions, as COMMAND INFO gives them, are the destination's alone.
    pub const fn numkeys(self, at: usize, dest: bool) -> CommandSpec {
        let k = if dest { 1 } else { 0 };
        CommandSpec {
            flags: self.flags | flags::MOVABLE_KEYS,
            lock: LockPlan::NumKeys { at, dest },
            first_key: k,
            last_key: k,
            step: k,
            ..self
        }
    }

    /// The same row with these ACL categories instead of its group's.
    pub const fn acl(self, categories: &'static [&'static str]) -> CommandSpec {
        CommandSpec {
            acl: Some(categories),
            ..self
        }
    }

    pub const fn tips(self, tips: &'static [&'static str]) -> CommandSpec {
        CommandSpec { tips, ..self }
    }

    pub const fn getkeys(self, getkeys: GetKeysFn) -> CommandSpec {
        CommandSpec {
            getkeys: Some(getkeys),
            ..self
        }
    }

    /// The same row with these key-spec flags for every key.
    pub const fn key_flags(self, flags: &'static [&'static str]) -> CommandSpec {
        self.key_flags2(flags, flags)
    }

    /// The same row with these key-spec flags for its first key and for the others.
    pub const fn key_flags2(
        self,
        first: &'static [&'static str],
        rest: &'static [&'static str],
    ) -> CommandSpec {
        CommandSpec {
            key_flags: Some(KeyFlags { first, rest }),
            ..self
        }
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

    /// Indexes of the key arguments in `args` (the command name first), in Redis's
    /// COMMAND GETKEYS order; None when a `numkeys` count is not a positive integer
    /// or names more keys than there are arguments.
    pub fn key_args(&self, args: &[Bytes]) -> Option<Vec<usize>> {
        if let Some(f) = self.getkeys {
            return Some(f(args));
        }
        match self.lock {
            LockPlan::NumKeys { at, dest } => {
                let fits = |n: i64| n > 0 && n as u64 <= (args.len() - at - 1) as u64;
                let count = args.get(at)?;
                // As Redis: the key specs read the count strictly and list a destination
                // first; failing that, its getkeys callback reads it with atoi() and
                // lists the destination last.
                if let Some(n) = snapkv_keyspace::parse_canonical_i64(count).filter(|&n| fits(n)) {
                    return Some(counted_keys(at, dest, n as usize).collect());
                }
                let n = atoi(count);
                fits(n).then(|| {
                    (at + 1..at + 1 + n as usize)
                        .chain(dest.then_some(1))
                        .collect()
                })
            }
            _ => Some(self.key_indexes(args.len()).collect()),
        }
    }

    /// Redis's key-spec flags for the `nth` key argument (from 0).
    pub fn flags_of_key(&self, nth: usize) -> &'static [&'static str] {
        match self.key_flags {
            Some(f) if nth == 0 => f.first,
            Some(f) => f.rest,
            None if self.has(flags::WRITE) => key_flags::RW_ACCESS_UPDATE,
            None => key_flags::RO_ACCESS,
        }
    }

    /// Whether the command only reads its `nth` key argument.
    pub fn only_reads(&self, nth: usize) -> bool {
        self.flags_of_key(nth)[0] == "RO"
    }

    /// The `container|sub` name as the arity error prints it.
    pub fn full_name(&self) -> &'static str {
        self.name
    }
}
