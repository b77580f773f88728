//! What every collection family shares: typed lookups that answer WRONGTYPE, creating a
//! key on first write, deleting it when it becomes empty (Redis never keeps an empty
//! collection), and the reply shapes for collection items.

use bytes::Bytes;
use snapkv_keyspace::types::Item;
use snapkv_keyspace::{SetExpiry, Value, ValueType};
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::CommandError;

/// A read lookup (`lookupKeyRead`): `None` when missing, WRONGTYPE when of another type.
pub fn read<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
    ty: ValueType,
) -> Result<Option<&'c Value>, CommandError> {
    let db = ctx.db();
    match ctx.ks.get(db, key) {
        None => Ok(None),
        Some(e) if e.value.value_type() == ty => Ok(Some(&e.value)),
        Some(_) => Err(CommandError::WrongType),
    }
}

/// Checks the type of `key` without touching it: Ok(true) if it holds `ty`, Ok(false) if
/// missing.
pub fn check(ctx: &mut Ctx, key: &[u8], ty: ValueType) -> Result<bool, CommandError> {
    let db = ctx.db();
    match ctx.ks.peek(db, key) {
        None => Ok(false),
        Some(e) if e.value.value_type() == ty => Ok(true),
        Some(_) => Err(CommandError::WrongType),
    }
}

/// A write lookup: the value at `key` for changing in place, created with `create` when
/// missing (or `None` when missing and `create` is `None`). WRONGTYPE for another type.
pub fn write<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
    ty: ValueType,
    create: Option<fn() -> Value>,
) -> Result<Option<&'c mut Value>, CommandError> {
    let db = ctx.db();
    if !check(ctx, key, ty)? {
        let Some(create) = create else {
            return Ok(None);
        };
        ctx.ks.insert(db, key, create(), SetExpiry::Clear);
    }
    Ok(ctx.ks.get_mut(db, key).map(|e| &mut e.value))
}

/// Deletes `key` if its collection is now empty; true if it did.
pub fn remove_if_empty(ctx: &mut Ctx, key: &[u8]) -> bool {
    let db = ctx.db();
    if ctx.ks.peek(db, key).is_some_and(|e| e.value.is_empty()) {
        ctx.ks.remove(db, key);
        true
    } else {
        false
    }
}

/// Stores `value` at `key` (the *STORE commands), or deletes `key` when `value` is empty.
/// Returns the stored size.
pub fn store(ctx: &mut Ctx, key: &[u8], value: Value) -> i64 {
    let db = ctx.db();
    let n = value.len() as i64;
    if n == 0 {
        ctx.ks.remove(db, key);
    } else {
        ctx.ks.insert(db, key, value, SetExpiry::Clear);
    }
    n
}

pub fn bulk(i: Item<'_>) -> Reply {
    Reply::Bulk(i.with_bytes(Bytes::copy_from_slice))
}

/// A non-negative COUNT-like argument (`getPositiveLongFromObjectOrReply`: one error
/// for both a non-integer and a negative).
pub fn positive_count(arg: &[u8]) -> Result<usize, CommandError> {
    snapkv_keyspace::parse_canonical_i64(arg)
        .filter(|n| *n >= 0)
        .map(|n| n as usize)
        .ok_or_else(|| CommandError::err("value is out of range, must be positive"))
}

/// A uniformly random index below `n`.
pub fn random_index(n: usize) -> usize {
    use rand::Rng;
    rand::rng().random_range(0..n)
}

/// HSCAN / SSCAN / ZSCAN arguments after the key: cursor, then MATCH / COUNT.
pub struct ScanArgs<'a> {
    pub cursor: u64,
    pub count: usize,
    pub pattern: Option<&'a [u8]>,
}

/// The cursor alone: Redis reads it before looking the key up, and the options only
/// once the key is found (a missing key answers an empty page whatever they are).
pub fn scan_cursor(args: &[Bytes]) -> Result<u64, CommandError> {
    crate::keys::parse_cursor(&args[2]).ok_or_else(|| CommandError::err("invalid cursor"))
}

/// The options after `cursor` (read by [`scan_cursor`]).
pub fn scan_args(args: &[Bytes], cursor: u64) -> Result<ScanArgs<'_>, CommandError> {
    let mut s = ScanArgs {
        cursor,
        count: 10,
        pattern: None,
    };
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        if crate::args::is(&args[i], "count") && more {
            let c = crate::args::parse_i64(&args[i + 1])?;
            if c < 1 {
                return Err(CommandError::Syntax);
            }
            s.count = c as usize;
        } else if crate::args::is(&args[i], "match") && more {
            s.pattern = Some(&args[i + 1]);
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    Ok(s)
}

impl ScanArgs<'_> {
    pub fn matches(&self, item: Item<'_>) -> bool {
        match self.pattern {
            None => true,
            Some(p) if p == b"*" => true,
            Some(p) => item.with_bytes(|b| snapkv_keyspace::glob::matches(p, b, false)),
        }
    }
}

/// The `[cursor, [items…]]` reply.
pub fn scan_reply(next: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::bulk(next.to_string()), Reply::Array(items)])
}

/// Parses `numkeys` at `args[at]` with Redis's errors; returns the keys.
pub fn numkeys(args: &[Bytes], at: usize) -> Result<&[Bytes], CommandError> {
    let n = snapkv_keyspace::parse_canonical_i64(&args[at])
        .filter(|n| *n > 0)
        .ok_or_else(|| CommandError::err("numkeys should be greater than 0"))? as usize;
    if n > args.len() - at - 1 {
        return Err(CommandError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    Ok(&args[at + 1..at + 1 + n])
}

/// HRANDFIELD / ZRANDMEMBER's `key count [WITHVALUES|WITHSCORES]` (arguments after the
/// key): a negative count may repeat elements.
pub struct RandomCount {
    pub count: usize,
    pub uniq: bool,
    pub with: bool,
}

pub fn random_count(args: &[Bytes], with_keyword: &str) -> Result<RandomCount, CommandError> {
    // The count first, as Redis reads it: a bad count is reported before bad options.
    let l = crate::args::parse_i64(&args[2])?;
    if l == i64::MIN {
        return Err(CommandError::err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let with = match args.len() {
        3 => false,
        4 if crate::args::is(&args[3], with_keyword) => true,
        _ => return Err(CommandError::Syntax),
    };
    let (count, uniq) = (l.unsigned_abs() as usize, l >= 0);
    if with && count > (i64::MAX / 2) as usize {
        return Err(CommandError::err("value is out of range"));
    }
    Ok(RandomCount { count, uniq, with })
}

/// The positions a random count picks from `size` elements, in reply order; `None`
/// means the whole collection in its own order (a distinct count ≥ its size).
pub fn random_picks(size: usize, rc: &RandomCount) -> Option<Vec<usize>> {
    if !rc.uniq || rc.count == 1 {
        Some((0..rc.count).map(|_| random_index(size)).collect())
    } else if rc.count >= size {
        None
    } else {
        Some(rand::seq::index::sample(&mut rand::rng(), size, rc.count).into_vec())
    }
}
