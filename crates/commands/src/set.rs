//! Set commands: SADD SREM SISMEMBER SMISMEMBER SCARD SMEMBERS SPOP SRANDMEMBER SMOVE
//! SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN.

use bytes::Bytes;
use snapkv_keyspace::types::{set, Item, SetRef};
use snapkv_keyspace::{Value, ValueType};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::coll::{self, bulk};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::flags::*;
use crate::spec::key_flags;
use crate::spec::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, WRITE | DENYOOM | FAST, "set", sadd)
        .key_flags(key_flags::RW_INSERT)
        .keys(1, 1, 1)
        .doc("Adds one or more members to a set. Creates the key if it doesn't exist.", "1.0.0"),
    CommandSpec::new("srem", -3, WRITE | FAST, "set", srem)
        .key_flags(key_flags::RW_DELETE)
        .keys(1, 1, 1)
        .doc("Removes one or more members from a set. Deletes the set if the last member was removed.", "1.0.0"),
    CommandSpec::new("sismember", 3, READONLY | FAST, "set", sismember)
        .key_flags(key_flags::RO)
        .keys(1, 1, 1)
        .doc("Determines whether a member belongs to a set.", "1.0.0"),
    CommandSpec::new("smismember", -3, READONLY | FAST, "set", smismember)
        .keys(1, 1, 1)
        .doc("Determines whether multiple members belong to a set.", "6.2.0"),
    CommandSpec::new("scard", 2, READONLY | FAST, "set", scard)
        .key_flags(key_flags::RO)
        .keys(1, 1, 1)
        .doc("Returns the number of members in a set.", "1.0.0"),
    CommandSpec::new("smembers", 2, READONLY, "set", smembers)
        .tips(&["nondeterministic_output_order"])
        .keys(1, 1, 1)
        .doc("Returns all members of a set.", "1.0.0"),
    CommandSpec::new("spop", -2, WRITE | FAST, "set", spop)
        .tips(&["nondeterministic_output"])
        .key_flags(key_flags::RW_ACCESS_DELETE)
        .keys(1, 1, 1)
        .doc("Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "1.0.0"),
    CommandSpec::new("srandmember", -2, READONLY, "set", srandmember)
        .tips(&["nondeterministic_output"])
        .keys(1, 1, 1)
        .doc("Get one or multiple random members from a set", "1.0.0"),
    CommandSpec::new("smove", 4, WRITE | FAST, "set", smove)
        .key_flags2(key_flags::RW_ACCESS_DELETE, key_flags::RW_INSERT)
        .keys(1, 2, 1)
        .doc("Moves a member from one set to another.", "1.0.0"),
    CommandSpec::new("sinter", -2, READONLY, "set", sinter)
        .tips(&["nondeterministic_output_order"])
        .keys(1, -1, 1)
        .doc("Returns the intersect of multiple sets.", "1.0.0"),
    CommandSpec::new("sintercard", -3, READONLY, "set", sintercard)
        .numkeys(1, false)
        .doc("Returns the number of members of the intersect of multiple sets.", "7.0.0"),
    CommandSpec::new("sinterstore", -3, WRITE | DENYOOM, "set", sinterstore)
        .key_flags2(key_flags::RW_UPDATE, key_flags::RO_ACCESS)
        .keys(1, -1, 1)
        .doc("Stores the intersect of multiple sets in a key.", "1.0.0"),
    CommandSpec::new("sunion", -2, READONLY, "set", sunion)
        .tips(&["nondeterministic_output_order"])
        .keys(1, -1, 1)
        .doc("Returns the union of multiple sets.", "1.0.0"),
    CommandSpec::new("sunionstore", -3, WRITE | DENYOOM, "set", sunionstore)
        .key_flags2(key_flags::OW_UPDATE, key_flags::RO_ACCESS)
        .keys(1, -1, 1)
        .doc("Stores the union of multiple sets in a key.", "1.0.0"),
    CommandSpec::new("sdiff", -2, READONLY, "set", sdiff)
        .tips(&["nondeterministic_output_order"])
        .keys(1, -1, 1)
        .doc("Returns the difference of multiple sets.", "1.0.0"),
    CommandSpec::new("sdiffstore", -3, WRITE | DENYOOM, "set", sdiffstore)
        .key_flags2(key_flags::OW_UPDATE, key_flags::RO_ACCESS)
        .keys(1, -1, 1)
        .doc("Stores the difference of multiple sets in a key.", "1.0.0"),
    CommandSpec::new("sscan", -3, READONLY, "set", sscan)
        .tips(&["nondeterministic_output"])
        .keys(1, 1, 1)
        .doc("Iterates over members of a set.", "2.8.0"),
];

fn read<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<SetRef<'c>>, CommandError> {
    Ok(coll::read(ctx, key, ValueType::Set)?.and_then(Value::as_set))
}

fn members_reply(items: Vec<Reply>) -> Reply {
    Reply::Set(items)
}

fn sadd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let limits = ctx.limits();
    let db = ctx.db();
    if !coll::check(ctx, &args[1], ValueType::Set)? {
        ctx.ks.insert(
            db,
            &args[1],
            set::new_for(&args[2]),
            snapkv_keyspace::SetExpiry::Clear,
        );
    }
    let v = coll::write(ctx, &args[1], ValueType::Set, None)?.expect("created");
    let mut s = v.as_set_mut().expect("a set");
    let added = args[2..].iter().filter(|m| s.insert(m, &limits)).count();
    Ok(Reply::Int(added as i64))
}

fn srem(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let Some(v) = coll::write(ctx, &args[1], ValueType::Set, None)? else {
        return Ok(Reply::Int(0));
    };
    let mut s = v.as_set_mut().expect("a set");
    let mut removed = 0;
    for m in &args[2..] {
        removed += s.remove(m) as i64;
        if s.is_empty() {
            break;
        }
    }
    coll::remove_if_empty(ctx, &args[1]);
    Ok(Reply::Int(removed))
}

fn sismember(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Int(
        read(ctx, &args[1])?.is_some_and(|s| s.contains(&args[2])) as i64,
    ))
}

fn smismember(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let s = read(ctx, &args[1])?;
    Ok(Reply::Array(
        args[2..]
            .iter()
            .map(|m| Reply::Int(s.is_some_and(|s| s.contains(m)) as i64))
            .collect(),
    ))
}

fn scard(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Int(
        read(ctx, &args[1])?.map_or(0, |s| s.len()) as i64
    ))
}

fn smembers(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(members_reply(match read(ctx, &args[1])? {
        Some(s) => s.iter().map(bulk).collect(),
        None => vec![],
    }))
}

fn spop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = match args.get(2) {
        Some(a) => Some(coll::positive_count(a)?),
        None => None,
    };
    let Some(v) = coll::write(ctx, &args[1], ValueType::Set, None)? else {
        return Ok(match count {
            Some(_) => members_reply(vec![]),
            None => Reply::Nil,
        });
    };
    let mut s = v.as_set_mut().expect("a set");
    let reply = match count {
        None => {
            let i = coll::random_index(s.len());
            bulk(Item::Str(&s.remove_nth(i).expect("in range")))
        }
        Some(n) => {
            let mut out = Vec::with_capacity(n.min(s.len()));
            while out.len() < n && !s.is_empty() {
                let i = coll::random_index(s.len());
                out.push(Reply::bulk(s.remove_nth(i).expect("in range")));
            }
            members_reply(out)
        }
    };
    coll::remove_if_empty(ctx, &args[1]);
    Ok(reply)
}

fn srandmember(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let Some(count) = args.get(2) else {
        return Ok(match read(ctx, &args[1])? {
            Some(s) => s.nth(coll::random_index(s.len())).map_or(Reply::Nil, bulk),
            None => Reply::Nil,
        });
    };
    let l = parse_i64(count)?;
    if l == i64::MIN {
        return Err(CommandError::err(
            "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let Some(s) = read(ctx, &args[1])? else {
        return Ok(Reply::Array(vec![]));
    };
    let n = l.unsigned_abs() as usize;
    let size = s.len();
    let out: Vec<Reply> = if l < 0 {
        (0..n)
            .map(|_| bulk(s.nth(coll::random_index(size)).expect("in range")))
            .collect()
    } else if n >= size {
        s.iter().map(bulk).collect()
    } else {
        rand::seq::index::sample(&mut rand::rng(), size, n)
            .into_iter()
            .map(|i| bulk(s.nth(i).expect("in range")))
            .collect()
    };
    Ok(Reply::Array(out))
}

fn smove(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let limits = ctx.limits();
    let (src, dst, m) = (&args[1], &args[2], &args[3]);
    let db = ctx.db();
    let src_set = ctx.ks.peek(db, src).map(|e| e.value.value_type());
    let dst_set = ctx.ks.peek(db, dst).map(|e| e.value.value_type());
    let Some(src_t) = src_set else {
        return Ok(Reply::Int(0));
    };
    if src_t != ValueType::Set || dst_set.is_some_and(|t| t != ValueType::Set) {
        return Err(CommandError::WrongType);
    }
    if src == dst {
        let found = read(ctx, src)?.is_some_and(|s| s.contains(m));
        return Ok(Reply::Int(found as i64));
    }
    let v = coll::write(ctx, src, ValueType::Set, None)?.expect("checked");
    if !v.as_set_mut().expect("a set").remove(m) {
        return Ok(Reply::Int(0));
    }
    coll::remove_if_empty(ctx, src);
    if dst_set.is_none() {
        ctx.ks
            .insert(db, dst, set::new_for(m), snapkv_keyspace::SetExpiry::Clear);
    }
    let v = coll::write(ctx, dst, ValueType::Set, None)?.expect("created");
    v.as_set_mut().expect("a set").insert(m, &limits);
    Ok(Reply::Int(1))
}

/// The sets at `keys` (None = missing = empty), type-checked first as Redis 7.0 does.
fn gather(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Vec<Option<Vec<Vec<u8>>>>, CommandError> {
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        out.push(read(ctx, k)?.map(|s| s.iter().map(Item::to_vec).collect()));
    }
    Ok(out)
}

/// Members of the intersection, iterating the smallest set (as Redis does), stopping at
/// `limit` (0 = no limit).
fn intersect(ctx: &mut Ctx, keys: &[Bytes], limit: usize) -> Result<Vec<Vec<u8>>, CommandError> {
    let sets = gather(ctx, keys)?;
    if sets.iter().any(Option::is_none) {
        return Ok(vec![]);
    }
    let mut sets: Vec<Vec<Vec<u8>>> = sets.into_iter().flatten().collect();
    sets.sort_by_key(|s| s.len());
    let (first, rest) = sets.split_first().expect("at least one key");
    let rest: Vec<std::collections::HashSet<&[u8]>> = rest
        .iter()
        .map(|s| s.iter().map(|m| &m[..]).collect())
        .collect();
    let mut out = Vec::new();
    for m in first {
        if rest.iter().all(|s| s.contains(&m[..])) {
            out.push(m.clone());
            if limit != 0 && out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

fn union(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Vec<Vec<u8>>, CommandError> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for s in gather(ctx, keys)?.into_iter().flatten() {
        for m in s {
            if seen.insert(m.clone()) {
                out.push(m);
            }
        }
    }
    Ok(out)
}

fn diff(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Vec<Vec<u8>>, CommandError> {
    let sets = gather(ctx, keys)?;
    let mut it = sets.into_iter();
    let Some(Some(first)) = it.next() else {
        return Ok(vec![]);
    };
    let others: std::collections::HashSet<Vec<u8>> = it.flatten().flatten().collect();
    Ok(first.into_iter().filter(|m| !others.contains(m)).collect())
}

fn reply_members(members: Vec<Vec<u8>>) -> Reply {
    members_reply(members.into_iter().map(Reply::bulk).collect())
}

fn store(ctx: &mut Ctx, dst: &[u8], members: Vec<Vec<u8>>) -> CommandResult {
    let limits = ctx.limits();
    let value = set::build(members.iter().map(|m| &m[..]), &limits);
    Ok(Reply::Int(coll::store(ctx, dst, value)))
}

fn sinter(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(reply_members(intersect(ctx, &args[1..], 0)?))
}

fn sinterstore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let m = intersect(ctx, &args[2..], 0)?;
    store(ctx, &args[1], m)
}

fn sintercard(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let keys = coll::numkeys(args, 1)?;
    let mut limit = 0usize;
    let mut i = 2 + keys.len();
    while i < args.len() {
        if is(&args[i], "limit") && i + 1 < args.len() {
            limit = snapkv_keyspace::parse_canonical_i64(&args[i + 1])
                .filter(|l| *l >= 0)
                .ok_or_else(|| CommandError::err("LIMIT can't be negative"))?
                as usize;
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    Ok(Reply::Int(intersect(ctx, keys, limit)?.len() as i64))
}

fn sunion(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(reply_members(union(ctx, &args[1..])?))
}

fn sunionstore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let m = union(ctx, &args[2..])?;
    store(ctx, &args[1], m)
}

fn sdiff(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(reply_members(diff(ctx, &args[1..])?))
}

fn sdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let m = diff(ctx, &args[2..])?;
    store(ctx, &args[1], m)
}

fn sscan(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let cursor = coll::scan_cursor(args)?;
    let Some(s) = read(ctx, &args[1])? else {
        return Ok(coll::scan_reply(0, vec![]));
    };
    let sa = coll::scan_args(args, cursor)?;
    let (page, next) = s.scan(sa.cursor, sa.count);
    let items = page
        .into_iter()
        .filter(|m| sa.matches(*m))
        .map(bulk)
        .collect();
    Ok(coll::scan_reply(next, items))
}
