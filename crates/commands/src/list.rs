//! List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM
//! LTRIM LPOS LMOVE RPOPLPUSH LMPOP and the blocking BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP
//! (waiting itself is `blocking.rs`'s and the connection task's). Every write that leaves
//! a list non-empty signals the key's waiters; every pop deletes an emptied key.

use bytes::Bytes;
use snapkv_keyspace::types::List;
use snapkv_keyspace::{SmallBytes, Value, ValueType};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::blocking;
use crate::coll;
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::flags::*;
use crate::spec::key_flags;
use crate::spec::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("lpush", -3, WRITE | DENYOOM | FAST, "list", lpush)
        .key_flags(key_flags::RW_INSERT)
        .keys(1, 1, 1)
        .doc("Prepends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0"),
    CommandSpec::new("rpush", -3, WRITE | DENYOOM | FAST, "list", rpush)
        .key_flags(key_flags::RW_INSERT)
        .keys(1, 1, 1)
        .doc("Appends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0"),
    CommandSpec::new("lpushx", -3, WRITE | DENYOOM | FAST, "list", lpushx)
        .key_flags(key_flags::RW_INSERT)
        .keys(1, 1, 1)
        .doc("Prepends one or more elements to a list only when the list exists.", "2.2.0"),
    CommandSpec::new("rpushx", -3, WRITE | DENYOOM | FAST, "list", rpushx)
        .key_flags(key_flags::RW_INSERT)
        .keys(1, 1, 1)
        .doc("Appends an element to a list only when the list exists.", "2.2.0"),
    CommandSpec::new("lpop", -2, WRITE | FAST, "list", lpop)
        .key_flags(key_flags::RW_ACCESS_DELETE)
        .keys(1, 1, 1)
        .doc("Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", "1.0.0"),
    CommandSpec::new("rpop", -2, WRITE | FAST, "list", rpop)
        .key_flags(key_flags::RW_ACCESS_DELETE)
        .keys(1, 1, 1)
        .doc("Returns and removes the last elements of a list. Deletes the list if the last element was popped.", "1.0.0"),
    CommandSpec::new("llen", 2, READONLY | FAST, "list", llen)
        .key_flags(key_flags::RO)
        .keys(1, 1, 1)
        .doc("Returns the length of a list.", "1.0.0"),
    CommandSpec::new("lrange", 4, READONLY, "list", lrange)
        .keys(1, 1, 1)
        .doc("Returns a range of elements from a list.", "1.0.0"),
    CommandSpec::new("lindex", 3, READONLY, "list", lindex)
        .keys(1, 1, 1)
        .doc("Returns an element from a list by its index.", "1.0.0"),
    CommandSpec::new("lset", 4, WRITE | DENYOOM, "list", lset)
        .key_flags(key_flags::RW_UPDATE)
        .keys(1, 1, 1)
        .doc("Sets the value of an element in a list by its index.", "1.0.0"),
    CommandSpec::new("linsert", 5, WRITE | DENYOOM, "list", linsert)
        .key_flags(key_flags::RW_INSERT)
        .keys(1, 1, 1)
        .doc("Inserts an element before or after another element in a list.", "2.2.0"),
    CommandSpec::new("lrem", 4, WRITE, "list", lrem)
        .key_flags(key_flags::RW_DELETE)
        .keys(1, 1, 1)
        .doc("Removes elements from a list. Deletes the list if the last element was removed.", "1.0.0"),
    CommandSpec::new("ltrim", 4, WRITE, "list", ltrim)
        .key_flags(key_flags::RW_DELETE)
        .keys(1, 1, 1)
        .doc("Removes elements from both ends a list. Deletes the list if all elements were trimmed.", "1.0.0"),
    CommandSpec::new("lpos", -3, READONLY, "list", lpos)
        .keys(1, 1, 1)
        .doc("Returns the index of matching elements in a list.", "6.0.6"),
    CommandSpec::new("lmove", 5, WRITE | DENYOOM, "list", lmove)
        .key_flags2(key_flags::RW_ACCESS_DELETE, key_flags::RW_INSERT)
        .keys(1, 2, 1)
        .doc("Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", "6.2.0"),
    CommandSpec::new("rpoplpush", 3, WRITE | DENYOOM, "list", rpoplpush)
        .key_flags2(key_flags::RW_ACCESS_DELETE, key_flags::RW_INSERT)
        .keys(1, 2, 1)
        .doc("Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", "1.2.0"),
    CommandSpec::new("lmpop", -4, WRITE, "list", lmpop)
        .key_flags(key_flags::RW_ACCESS_DELETE)
        .numkeys(1, false)
        .doc("Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", "7.0.0"),
    CommandSpec::new("blpop", -3, WRITE | NOSCRIPT | BLOCKING, "list", blpop)
        .key_flags(key_flags::RW_ACCESS_DELETE)
        .keys(1, -2, 1)
        .doc("Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0"),
    CommandSpec::new("brpop", -3, WRITE | NOSCRIPT | BLOCKING, "list", brpop)
        .key_flags(key_flags::RW_ACCESS_DELETE)
        .keys(1, -2, 1)
        .doc("Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0"),
    CommandSpec::new("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, "list", blmove)
        .key_flags2(key_flags::RW_ACCESS_DELETE, key_flags::RW_INSERT)
        .keys(1, 2, 1)
        .doc("Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", "6.2.0"),
    CommandSpec::new("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, "list", brpoplpush)
        .key_flags2(key_flags::RW_ACCESS_DELETE, key_flags::RW_INSERT)
        .keys(1, 2, 1)
        .doc("Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", "2.2.0"),
    CommandSpec::new("blmpop", -5, WRITE | BLOCKING, "list", blmpop)
        .key_flags(key_flags::RW_ACCESS_DELETE)
        .numkeys(2, false)
        .doc("Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "7.0.0"),
];

/// LEFT (head) or RIGHT (tail).
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Left,
    Right,
}

fn end(arg: &[u8]) -> Result<End, CommandError> {
    if is(arg, "left") {
        Ok(End::Left)
    } else if is(arg, "right") {
        Ok(End::Right)
    } else {
        Err(CommandError::Syntax)
    }
}

fn read<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c List>, CommandError> {
    Ok(coll::read(ctx, key, ValueType::List)?.and_then(Value::as_list))
}

/// The list at `key` for writing; None when missing.
fn write<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut List>, CommandError> {
    Ok(coll::write(ctx, key, ValueType::List, None)?.and_then(Value::as_list_mut))
}

fn bulk(e: &SmallBytes) -> Reply {
    Reply::Bulk(e.to_bytes())
}

/// Pushes `items` at `at` (creating the list when `create`); returns the new length, 0 if
/// missing and not created.
fn push(ctx: &mut Ctx, key: &[u8], items: &[Bytes], at: End, create: bool) -> CommandResult {
    let create = create.then_some(Value::new_list as fn() -> Value);
    let Some(v) = coll::write(ctx, key, ValueType::List, create)? else {
        return Ok(Reply::Int(0));
    };
    let l = v.as_list_mut().expect("a list");
    for it in items {
        let e = SmallBytes::new(it);
        match at {
            End::Left => l.push_front(e),
            End::Right => l.push_back(e),
        }
    }
    let len = l.len() as i64;
    let db = ctx.db();
    serve_blocked(ctx, db, key);
    Ok(Reply::Int(len))
}

fn lpush(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    push(ctx, &args[1], &args[2..], End::Left, true)
}

fn rpush(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    push(ctx, &args[1], &args[2..], End::Right, true)
}

fn lpushx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    push(ctx, &args[1], &args[2..], End::Left, false)
}

fn rpushx(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    push(ctx, &args[1], &args[2..], End::Right, false)
}

/// Serves the clients blocked on `key` (a list that just got elements), first blocked
/// first, while the caller still holds the key: Redis's `handleClientsBlockedOnKeys`, so
/// the pusher's next command already sees what they took. Inside EXEC the key is noted
/// and served when the EXEC ends ([`blocking::serve_ready`]). Waiters that cannot be
/// served here (BLMOVE needs its destination's shard) are woken to re-run instead.
pub(crate) fn serve_blocked(ctx: &mut Ctx, db: usize, key: &[u8]) {
    let blocking = &ctx.shared.blocking;
    if blocking.blocked_clients() == 0 {
        return;
    }
    if ctx.client.deny_blocking {
        let ready = &mut ctx.client.ready_keys;
        if !ready.iter().any(|(d, k)| *d == db && k == key) {
            ready.push((db, Bytes::copy_from_slice(key)));
        }
        return;
    }
    while let Some(w) = blocking.first(db, key) {
        let Some(pop) = w.pop else {
            blocking.signal(db, key);
            break;
        };
        let Some(l) = ctx.ks.get_mut(db, key).and_then(|e| e.value.as_list_mut()) else {
            break;
        };
        if l.is_empty() {
            break;
        }
        let n = pop.count.min(l.len());
        let taken: Vec<SmallBytes> = if pop.left {
            l.drain(..n).collect()
        } else {
            (0..n).filter_map(|_| l.pop_back()).collect()
        };
        let name = Reply::Bulk(Bytes::copy_from_slice(key));
        let reply = if pop.multi {
            Reply::Array(vec![name, Reply::Array(taken.iter().map(bulk).collect())])
        } else {
            Reply::Array(vec![name, taken.first().map_or(Reply::Nil, bulk)])
        };
        if blocking.complete(&w, reply).is_err() {
            // It left meanwhile (timed out, went away): put the elements back.
            for e in taken.into_iter().rev() {
                if pop.left {
                    l.push_front(e);
                } else {
                    l.push_back(e);
                }
            }
        }
    }
    if ctx.ks.peek(db, key).is_some_and(|e| e.value.is_empty()) {
        ctx.ks.remove(db, key);
    }
}

/// Pops up to `n` elements from `at`, deleting the key when emptied. None when missing.
fn pop_n(
    ctx: &mut Ctx,
    key: &[u8],
    at: End,
    n: usize,
) -> Result<Option<Vec<SmallBytes>>, CommandError> {
    let Some(l) = write(ctx, key)? else {
        return Ok(None);
    };
    let n = n.min(l.len());
    let out: Vec<SmallBytes> = match at {
        End::Left => l.drain(..n).collect(),
        End::Right => (0..n).filter_map(|_| l.pop_back()).collect(),
    };
    coll::remove_if_empty(ctx, key);
    Ok(Some(out))
}

fn pop(ctx: &mut Ctx, args: &[Bytes], at: End) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::WrongArity(
            String::from_utf8_lossy(&args[0]).to_ascii_lowercase(),
        ));
    }
    let count = match args.get(2) {
        Some(a) => Some(coll::positive_count(a)?),
        None => None,
    };
    let popped = pop_n(ctx, &args[1], at, count.unwrap_or(1))?;
    Ok(match (popped, count) {
        (None, Some(_)) => Reply::NilArray,
        (None, None) => Reply::Nil,
        (Some(v), Some(_)) => Reply::Array(v.iter().map(bulk).collect()),
        (Some(v), None) => v.first().map_or(Reply::Nil, bulk),
    })
}

fn lpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    pop(ctx, args, End::Left)
}

fn rpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    pop(ctx, args, End::Right)
}

fn llen(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Int(
        read(ctx, &args[1])?.map_or(0, |l| l.len()) as i64
    ))
}

/// Redis's start/end normalisation (LRANGE, LTRIM): None when the range is empty.
fn range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (start + len).max(0)
    } else {
        start
    };
    let end = if end < 0 { end + len } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

fn lrange(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let start = parse_i64(&args[2])?;
    let stop = parse_i64(&args[3])?;
    let Some(l) = read(ctx, &args[1])? else {
        return Ok(Reply::Array(vec![]));
    };
    Ok(Reply::Array(match range(start, stop, l.len()) {
        Some((a, b)) => l.range(a..=b).map(bulk).collect(),
        None => vec![],
    }))
}

/// A possibly negative index into a list of `len`; None when out of range.
fn index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn lindex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let Some(l) = read(ctx, &args[1])? else {
        return Ok(Reply::Nil);
    };
    let i = parse_i64(&args[2])?;
    Ok(index(i, l.len()).map_or(Reply::Nil, |i| bulk(&l[i])))
}

fn lset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if !coll::check(ctx, &args[1], ValueType::List)? {
        return Err(CommandError::NoSuchKey);
    }
    let i = parse_i64(&args[2])?;
    let l = write(ctx, &args[1])?.expect("checked");
    let i = index(i, l.len()).ok_or(CommandError::OutOfRange)?;
    l[i] = SmallBytes::new(&args[3]);
    Ok(Reply::Ok)
}

fn linsert(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let after = if is(&args[2], "after") {
        true
    } else if is(&args[2], "before") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    let Some(l) = write(ctx, &args[1])? else {
        return Ok(Reply::Int(0));
    };
    let Some(at) = l.iter().position(|e| e.as_slice() == &args[3][..]) else {
        return Ok(Reply::Int(-1));
    };
    l.insert(at + after as usize, SmallBytes::new(&args[4]));
    Ok(Reply::Int(l.len() as i64))
}

fn lrem(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let count = parse_i64(&args[2])?;
    let Some(l) = write(ctx, &args[1])? else {
        return Ok(Reply::Int(0));
    };
    let want = &args[3][..];
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs() as usize
    };
    // One pass (O(n), not a shift per removal): from the tail, the matches to keep are
    // the first ones up to all but `limit` of them.
    let mut keep = if count < 0 {
        let matches = l.iter().filter(|e| e.as_slice() == want).count();
        matches.saturating_sub(limit)
    } else {
        0
    };
    let mut removed = 0usize;
    l.retain(|e| {
        if removed >= limit || e.as_slice() != want {
            return true;
        }
        if keep > 0 {
            keep -= 1;
            return true;
        }
        removed += 1;
        false
    });
    coll::remove_if_empty(ctx, &args[1]);
    Ok(Reply::Int(removed as i64))
}

fn ltrim(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let start = parse_i64(&args[2])?;
    let stop = parse_i64(&args[3])?;
    let Some(l) = write(ctx, &args[1])? else {
        return Ok(Reply::Ok);
    };
    match range(start, stop, l.len()) {
        Some((a, b)) => {
            l.truncate(b + 1);
            l.drain(..a);
        }
        None => l.clear(),
    }
    coll::remove_if_empty(ctx, &args[1]);
    Ok(Reply::Ok)
}

fn lpos(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen: usize = 0;
    let mut i = 3;
    while i < args.len() {
        let more = i + 1 < args.len();
        if is(&args[i], "rank") && more {
            rank = parse_i64(&args[i + 1])?;
            if rank == 0 {
                return Err(CommandError::err("RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
            }
        } else if is(&args[i], "count") && more {
            count = Some(non_negative(&args[i + 1], "COUNT can't be negative")?);
        } else if is(&args[i], "maxlen") && more {
            maxlen = non_negative(&args[i + 1], "MAXLEN can't be negative")?;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    let Some(l) = read(ctx, &args[1])? else {
        return Ok(match count {
            Some(_) => Reply::Array(vec![]),
            None => Reply::Nil,
        });
    };
    let want = &args[2][..];
    let len = l.len();
    let limit = if maxlen == 0 { len } else { maxlen.min(len) };
    let wanted = match count {
        Some(0) => usize::MAX,
        Some(c) => c,
        None => 1,
    };
    // Redis negates a negative rank in a C long: i64::MIN stays negative, so every match
    // passes its `matches >= rank` test (the first match from the tail).
    let mut skip = if rank == i64::MIN {
        0
    } else {
        rank.unsigned_abs() - 1
    };
    let mut found = Vec::new();
    for step in 0..limit {
        let at = if rank > 0 { step } else { len - 1 - step };
        if l[at].as_slice() == want {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            found.push(Reply::Int(at as i64));
            if found.len() >= wanted {
                break;
            }
        }
    }
    Ok(match count {
        Some(_) => Reply::Array(found),
        None => found.pop().unwrap_or(Reply::Nil),
    })
}

/// `getPositiveLongFromObjectOrReply` with a custom message for both failures.
fn non_negative(arg: &[u8], msg: &str) -> Result<usize, CommandError> {
    snapkv_keyspace::parse_canonical_i64(arg)
        .filter(|n| *n >= 0)
        .map(|n| n as usize)
        .ok_or_else(|| CommandError::err(msg))
}

/// LMOVE's work: None when `src` is missing (or empty).
fn move_one(
    ctx: &mut Ctx,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<Reply>, CommandError> {
    if !coll::check(ctx, src, ValueType::List)? {
        return Ok(None);
    }
    coll::check(ctx, dst, ValueType::List)?;
    let Some(mut popped) = pop_n(ctx, src, from, 1)? else {
        return Ok(None);
    };
    let Some(e) = popped.pop() else {
        return Ok(None);
    };
    let reply = bulk(&e);
    let v = coll::write(ctx, dst, ValueType::List, Some(Value::new_list))?.expect("created");
    let l = v.as_list_mut().expect("a list");
    match to {
        End::Left => l.push_front(e),
        End::Right => l.push_back(e),
    }
    let db = ctx.db();
    serve_blocked(ctx, db, dst);
    Ok(Some(reply))
}

fn lmove(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let from = end(&args[3])?;
    let to = end(&args[4])?;
    Ok(move_one(ctx, &args[1], &args[2], from, to)?.unwrap_or(Reply::Nil))
}

fn rpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(move_one(ctx, &args[1], &args[2], End::Right, End::Left)?.unwrap_or(Reply::Nil))
}

/// Parsed `numkeys key … LEFT|RIGHT [COUNT n]` starting at `args[at]`.
fn mpop_args(args: &[Bytes], at: usize) -> Result<(&[Bytes], End, usize), CommandError> {
    let n = snapkv_keyspace::parse_canonical_i64(&args[at])
        .filter(|n| *n > 0)
        .ok_or_else(|| CommandError::err("numkeys should be greater than 0"))? as usize;
    let where_at = at.saturating_add(n).saturating_add(1);
    if where_at >= args.len() {
        return Err(CommandError::Syntax);
    }
    let keys = &args[at + 1..where_at];
    let from = end(&args[where_at])?;
    let mut count = None;
    let mut i = where_at + 1;
    while i < args.len() {
        if count.is_none() && is(&args[i], "count") && i + 1 < args.len() {
            count = Some(
                snapkv_keyspace::parse_canonical_i64(&args[i + 1])
                    .filter(|c| *c > 0)
                    .ok_or_else(|| CommandError::err("count should be greater than 0"))?
                    as usize,
            );
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok((keys, from, count.unwrap_or(1)))
}

/// Pops from the first non-empty list of `keys`: `[key, [elements…]]`.
fn mpop(
    ctx: &mut Ctx,
    keys: &[Bytes],
    from: End,
    count: usize,
) -> Result<Option<Reply>, CommandError> {
    for k in keys {
        if let Some(v) = pop_n(ctx, k, from, count)? {
            return Ok(Some(Reply::Array(vec![
                Reply::Bulk(k.clone()),
                Reply::Array(v.iter().map(bulk).collect()),
            ])));
        }
    }
    Ok(None)
}

fn lmpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (keys, from, count) = mpop_args(args, 1)?;
    Ok(mpop(ctx, keys, from, count)?.unwrap_or(Reply::NilArray))
}

/// BLPOP / BRPOP: `[key, element]` from the first non-empty list, or wait.
fn bpop(ctx: &mut Ctx, args: &[Bytes], from: End) -> CommandResult {
    let timeout = blocking::parse_timeout(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    for k in keys {
        if let Some(mut v) = pop_n(ctx, k, from, 1)? {
            if let Some(e) = v.pop() {
                return Ok(Reply::Array(vec![Reply::Bulk(k.clone()), bulk(&e)]));
            }
        }
    }
    let pop = blocking::PopSpec {
        left: from == End::Left,
        count: 1,
        multi: false,
    };
    blocking::block(ctx, args, keys, timeout, Some(pop), Reply::NilArray)
}

fn blpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    bpop(ctx, args, End::Left)
}

fn brpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    bpop(ctx, args, End::Right)
}

fn bmove(ctx: &mut Ctx, args: &[Bytes], from: End, to: End, timeout_at: usize) -> CommandResult {
    let timeout = blocking::parse_timeout(&args[timeout_at])?;
    match move_one(ctx, &args[1], &args[2], from, to)? {
        Some(r) => Ok(r),
        None => blocking::block(ctx, args, &args[1..2], timeout, None, Reply::Nil),
    }
}

fn blmove(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let from = end(&args[3])?;
    let to = end(&args[4])?;
    bmove(ctx, args, from, to, 5)
}

fn brpoplpush(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    bmove(ctx, args, End::Right, End::Left, 3)
}

fn blmpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let timeout = blocking::parse_timeout(&args[1])?;
    let (keys, from, count) = mpop_args(args, 2)?;
    match mpop(ctx, keys, from, count)? {
        Some(r) => Ok(r),
        None => {
            let pop = blocking::PopSpec {
                left: from == End::Left,
                count,
                multi: true,
            };
            blocking::block(ctx, args, keys, timeout, Some(pop), Reply::NilArray)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_like_redis() {
        assert_eq!(range(0, -1, 3), Some((0, 2)));
        assert_eq!(range(-100, 100, 3), Some((0, 2)));
        assert_eq!(range(2, 1, 3), None);
        assert_eq!(range(3, 5, 3), None);
        assert_eq!(range(-1, -1, 3), Some((2, 2)));
        assert_eq!(range(0, -4, 3), None);
        assert_eq!(index(-1, 3), Some(2));
        assert_eq!(index(3, 3), None);
        assert_eq!(index(-4, 3), None);
    }
}
