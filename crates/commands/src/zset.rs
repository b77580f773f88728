//! Sorted-set commands: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT
//! ZLEXCOUNT ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES) ZRANGESTORE ZREVRANGE
//! ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREMRANGEBYRANK/SCORE/LEX
//! ZPOPMIN ZPOPMAX ZMPOP BZPOPMIN BZPOPMAX BZMPOP ZRANDMEMBER ZUNION ZINTER ZDIFF (+STORE) ZINTERCARD ZSCAN.
//!
//! Ranges are one [`Range`] (rank, score or lex, either direction, LIMIT) evaluated by
//! [`select`], the way Redis funnels every Z*RANGE* command through `zrangeGenericCommand`.

use bytes::Bytes;
use snapkv_keyspace::types::{zset, Item, ZSetRef};
use snapkv_keyspace::{Value, ValueType};
use snapkv_protocol::{Reply, RespVersion};

use crate::args::{is, parse_f64, parse_i64};
use crate::blocking;
use crate::coll::{self, bulk};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::flags::*;
use crate::spec::key_flags;
use crate::spec::CommandSpec;

macro_rules! z {
    ($name:literal, $arity:expr, $flags:expr, $h:expr, $summary:literal, $since:literal) => {
        CommandSpec::new($name, $arity, $flags, "sorted-set", $h)
            .keys(1, 1, 1)
            .doc($summary, $since)
    };
}

pub static COMMANDS: &[CommandSpec] = &[
    z!("zadd", -4, WRITE | DENYOOM | FAST, zadd, "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", "1.2.0")
        .key_flags(key_flags::RW_UPDATE),
    z!("zincrby", 4, WRITE | DENYOOM | FAST, zincrby, "Increments the score of a member in a sorted set.", "1.2.0"),
    z!("zrem", -3, WRITE | FAST, zrem, "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", "1.2.0")
        .key_flags(key_flags::RW_DELETE),
    z!("zcard", 2, READONLY | FAST, zcard, "Returns the number of members in a sorted set.", "1.2.0")
        .key_flags(key_flags::RO),
    z!("zscore", 3, READONLY | FAST, zscore, "Returns the score of a member in a sorted set.", "1.2.0"),
    z!("zmscore", -3, READONLY | FAST, zmscore, "Returns the score of one or more members in a sorted set.", "6.2.0"),
    z!("zrank", 3, READONLY | FAST, zrank, "Returns the index of a member in a sorted set ordered by ascending scores.", "2.0.0"),
    z!("zrevrank", 3, READONLY | FAST, zrevrank, "Returns the index of a member in a sorted set ordered by descending scores.", "2.0.0"),
    z!("zcount", 4, READONLY | FAST, zcount, "Returns the count of members in a sorted set that have scores within a range.", "2.0.0"),
    z!("zlexcount", 4, READONLY | FAST, zlexcount, "Returns the number of members in a sorted set within a lexicographical range.", "2.8.9"),
    z!("zrange", -4, READONLY, zrange, "Returns members in a sorted set within a range of indexes.", "1.2.0"),
    CommandSpec::new("zrangestore", -5, WRITE | DENYOOM, "sorted-set", zrangestore)
        .key_flags2(key_flags::OW_UPDATE, key_flags::RO_ACCESS)
        .keys(1, 2, 1)
        .doc("Stores a range of members from sorted set in a key.", "6.2.0"),
    z!("zrevrange", -4, READONLY, zrevrange, "Returns members in a sorted set within a range of indexes in reverse order.", "1.2.0"),
    z!("zrangebyscore", -4, READONLY, zrangebyscore, "Returns members in a sorted set within a range of scores.", "1.0.5"),
    z!("zrevrangebyscore", -4, READONLY, zrevrangebyscore, "Returns members in a sorted set within a range of scores in reverse order.", "2.2.0"),
    z!("zrangebylex", -4, READONLY, zrangebylex, "Returns members in a sorted set within a lexicographical range.", "2.8.9"),
    z!("zrevrangebylex", -4, READONLY, zrevrangebylex, "Returns members in a sorted set within a lexicographical range in reverse order.", "2.8.9"),
    z!("zremrangebyrank", 4, WRITE, zremrangebyrank, "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", "2.0.0")
        .key_flags(key_flags::RW_DELETE),
    z!("zremrangebyscore", 4, WRITE, zremrangebyscore, "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", "1.2.0")
        .key_flags(key_flags::RW_DELETE),
    z!("zremrangebylex", 4, WRITE, zremrangebylex, "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", "2.8.9")
        .key_flags(key_flags::RW_DELETE),
    z!("zpopmin", -2, WRITE | FAST, zpopmin, "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "5.0.0")
        .key_flags(key_flags::RW_ACCESS_DELETE),
    z!("zpopmax", -2, WRITE | FAST, zpopmax, "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "5.0.0")
        .key_flags(key_flags::RW_ACCESS_DELETE),
    CommandSpec::new("bzpopmin", -3, WRITE | NOSCRIPT | FAST | BLOCKING, "sorted-set", bzpopmin)
        .key_flags(key_flags::RW_ACCESS_DELETE)
        .keys(1, -2, 1)
        .doc("Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "5.0.0"),
    CommandSpec::new("bzpopmax", -3, WRITE | NOSCRIPT | FAST | BLOCKING, "sorted-set", bzpopmax)
        .key_flags(key_flags::RW_ACCESS_DELETE)
        .keys(1, -2, 1)
        .doc("Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", "5.0.0"),
    CommandSpec::new("bzmpop", -5, WRITE | BLOCKING, "sorted-set", bzmpop)
        .key_flags(key_flags::RW_ACCESS_DELETE)
        .numkeys(2, false)
        .doc("Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "7.0.0"),
    CommandSpec::new("zmpop", -4, WRITE, "sorted-set", zmpop)
        .key_flags(key_flags::RW_ACCESS_DELETE)
        .numkeys(1, false)
        .doc("Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", "7.0.0"),
    z!("zrandmember", -2, READONLY, zrandmember, "Returns one or more random members from a sorted set.", "6.2.0")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("zunion", -3, READONLY, "sorted-set", zunion)
        .numkeys(1, false)
        .doc("Returns the union of multiple sorted sets.", "6.2.0"),
    CommandSpec::new("zinter", -3, READONLY, "sorted-set", zinter)
        .numkeys(1, false)
        .doc("Returns the intersect of multiple sorted sets.", "6.2.0"),
    CommandSpec::new("zdiff", -3, READONLY, "sorted-set", zdiff)
        .numkeys(1, false)
        .doc("Returns the difference between multiple sorted sets.", "6.2.0"),
    CommandSpec::new("zunionstore", -4, WRITE | DENYOOM, "sorted-set", zunionstore)
        .key_flags2(key_flags::OW_UPDATE, key_flags::RO_ACCESS)
        .numkeys(2, true)
        .doc("Stores the union of multiple sorted sets in a key.", "2.0.0"),
    CommandSpec::new("zinterstore", -4, WRITE | DENYOOM, "sorted-set", zinterstore)
        .key_flags2(key_flags::OW_UPDATE, key_flags::RO_ACCESS)
        .numkeys(2, true)
        .doc("Stores the intersect of multiple sorted sets in a key.", "2.0.0"),
    CommandSpec::new("zdiffstore", -4, WRITE | DENYOOM, "sorted-set", zdiffstore)
        .key_flags2(key_flags::OW_UPDATE, key_flags::RO_ACCESS)
        .numkeys(2, true)
        .doc("Stores the difference of multiple sorted sets in a key.", "6.2.0"),
    CommandSpec::new("zintercard", -3, READONLY, "sorted-set", zintercard)
        .numkeys(1, false)
        .doc("Returns the number of members of the intersect of multiple sorted sets.", "7.0.0"),
    z!("zscan", -3, READONLY, zscan, "Iterates over members and scores of a sorted set.", "2.8.0")
        .tips(&["nondeterministic_output"]),
];

fn read<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<ZSetRef<'c>>, CommandError> {
    Ok(coll::read(ctx, key, ValueType::ZSet)?.and_then(Value::as_zset))
}

fn resp3(ctx: &Ctx) -> bool {
    ctx.client.resp == RespVersion::Resp3
}

/// Members with scores: RESP2 flat, RESP3 `[member, score]` pairs (`nested`).
fn scored_reply(items: Vec<(Vec<u8>, f64)>, withscores: bool, nested: bool) -> Reply {
    let mut out = Vec::with_capacity(items.len() * if withscores { 2 } else { 1 });
    for (m, s) in items {
        match (withscores, nested) {
            (false, _) => out.push(Reply::bulk(m)),
            (true, false) => {
                out.push(Reply::bulk(m));
                out.push(Reply::Double(s));
            }
            (true, true) => out.push(Reply::Array(vec![Reply::bulk(m), Reply::Double(s)])),
        }
    }
    Reply::Array(out)
}

// ---- ZADD / ZINCRBY ----

#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

enum AddOutcome {
    Added(f64),
    Updated(f64),
    Unchanged(f64),
    Nop,
}

/// Redis's `zsetAdd` for one member.
fn add_one(
    v: &mut Value,
    m: &[u8],
    score: f64,
    f: AddFlags,
    limits: &snapkv_keyspace::Limits,
) -> Result<AddOutcome, CommandError> {
    let mut z = v.as_zset_mut().expect("a zset");
    let cur = z.view().score(m);
    match cur {
        Some(cur) => {
            if f.nx {
                return Ok(AddOutcome::Nop);
            }
            let new = if f.incr { cur + score } else { score };
            if new.is_nan() {
                return Err(CommandError::err("resulting score is not a number (NaN)"));
            }
            if (f.lt && new >= cur) || (f.gt && new <= cur) {
                return Ok(AddOutcome::Nop);
            }
            if new != cur {
                z.insert(m, new, limits);
                Ok(AddOutcome::Updated(new))
            } else {
                Ok(AddOutcome::Unchanged(new))
            }
        }
        None => {
            if f.xx {
                return Ok(AddOutcome::Nop);
            }
            z.insert(m, score, limits);
            Ok(AddOutcome::Added(score))
        }
    }
}

fn zadd(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut f = AddFlags::default();
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if is(a, "nx") {
            f.nx = true;
        } else if is(a, "xx") {
            f.xx = true;
        } else if is(a, "gt") {
            f.gt = true;
        } else if is(a, "lt") {
            f.lt = true;
        } else if is(a, "ch") {
            f.ch = true;
        } else if is(a, "incr") {
            f.incr = true;
        } else {
            break;
        }
        i += 1;
    }
    let elements = args.len() - i;
    if !elements.is_multiple_of(2) || elements == 0 {
        return Err(CommandError::Syntax);
    }
    if f.xx && f.nx {
        return Err(CommandError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(CommandError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && elements > 2 {
        return Err(CommandError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let pairs: Vec<(f64, &Bytes)> = args[i..]
        .chunks(2)
        .map(|p| Ok((parse_f64(&p[0])?, &p[1])))
        .collect::<Result<_, CommandError>>()?;
    zadd_pairs(ctx, &args[1], &pairs, f)
}

fn zadd_pairs(ctx: &mut Ctx, key: &[u8], pairs: &[(f64, &Bytes)], f: AddFlags) -> CommandResult {
    let limits = ctx.limits();
    let exists = coll::check(ctx, key, ValueType::ZSet)?;
    let nil_or_zero = |incr: bool| if incr { Reply::Nil } else { Reply::Int(0) };
    if !exists && f.xx {
        return Ok(nil_or_zero(f.incr));
    }
    let v = coll::write(ctx, key, ValueType::ZSet, Some(Value::new_zset))?.expect("created");
    let (mut added, mut updated, mut last) = (0, 0, None);
    let mut result = Ok(());
    for (score, m) in pairs {
        match add_one(v, m, *score, f, &limits) {
            Ok(AddOutcome::Added(s)) => {
                added += 1;
                last = Some(s);
            }
            Ok(AddOutcome::Updated(s)) => {
                updated += 1;
                last = Some(s);
            }
            Ok(AddOutcome::Unchanged(s)) => last = Some(s),
            Ok(AddOutcome::Nop) => {}
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    // A ZADD that created the key but added nothing must not leave it empty.
    if !coll::remove_if_empty(ctx, key) {
        signal(ctx, key);
    }
    result?;
    Ok(if f.incr {
        last.map_or(Reply::Nil, Reply::Double)
    } else {
        Reply::Int(if f.ch { added + updated } else { added })
    })
}

fn zincrby(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let incr = parse_f64(&args[2])?;
    let f = AddFlags {
        incr: true,
        ..Default::default()
    };
    zadd_pairs(ctx, &args[1], &[(incr, &args[3])], f)
}

// ---- simple reads and removal ----

fn zrem(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let Some(v) = coll::write(ctx, &args[1], ValueType::ZSet, None)? else {
        return Ok(Reply::Int(0));
    };
    let mut z = v.as_zset_mut().expect("a zset");
    let mut removed = 0;
    for m in &args[2..] {
        removed += z.remove(m).is_some() as i64;
        if z.is_empty() {
            break;
        }
    }
    coll::remove_if_empty(ctx, &args[1]);
    Ok(Reply::Int(removed))
}

fn zcard(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Int(
        read(ctx, &args[1])?.map_or(0, |z| z.len()) as i64
    ))
}

fn zscore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(read(ctx, &args[1])?
        .and_then(|z| z.score(&args[2]))
        .map_or(Reply::Nil, Reply::Double))
}

fn zmscore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let z = read(ctx, &args[1])?;
    Ok(Reply::Array(
        args[2..]
            .iter()
            .map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double))
            .collect(),
    ))
}

fn rank(ctx: &mut Ctx, args: &[Bytes], rev: bool) -> CommandResult {
    let Some(z) = read(ctx, &args[1])? else {
        return Ok(Reply::Nil);
    };
    let len = z.len();
    Ok(z.rank(&args[2]).map_or(Reply::Nil, |r| {
        Reply::Int(if rev { len - 1 - r } else { r } as i64)
    }))
}

fn zrank(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    rank(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    rank(ctx, args, true)
}

// ---- ranges ----

#[derive(Clone, Copy, Debug)]
struct ScoreBound {
    value: f64,
    exclusive: bool,
}

/// `zslParseRange` for one end: `(1.5`, `-inf`, `3`.
fn parse_score_bound(a: &[u8]) -> Option<ScoreBound> {
    let (exclusive, rest) = match a.first() {
        Some(b'(') => (true, &a[1..]),
        _ => (false, a),
    };
    let value = parse_f64(rest).ok()?;
    Some(ScoreBound { value, exclusive })
}

#[derive(Clone, Debug)]
enum LexBound {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

/// `zslParseLexRangeItem`: `-`, `+`, `[x`, `(x`.
fn parse_lex_bound(a: &[u8]) -> Option<LexBound> {
    match a.first()? {
        b'+' if a.len() == 1 => Some(LexBound::Max),
        b'-' if a.len() == 1 => Some(LexBound::Min),
        b'[' => Some(LexBound::Incl(a[1..].to_vec())),
        b'(' => Some(LexBound::Excl(a[1..].to_vec())),
        _ => None,
    }
}

fn lex_gte_min(m: &[u8], min: &LexBound) -> bool {
    match min {
        LexBound::Min => true,
        LexBound::Max => false,
        LexBound::Incl(b) => m >= &b[..],
        LexBound::Excl(b) => m > &b[..],
    }
}

fn lex_lte_max(m: &[u8], max: &LexBound) -> bool {
    match max {
        LexBound::Min => false,
        LexBound::Max => true,
        LexBound::Incl(b) => m <= &b[..],
        LexBound::Excl(b) => m < &b[..],
    }
}

#[derive(Clone, Debug)]
enum Kind {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

#[derive(Clone, Debug)]
struct Range {
    kind: Kind,
    rev: bool,
    /// LIMIT offset, count (count < 0 = all).
    offset: i64,
    count: i64,
}

fn gte_min(s: f64, b: ScoreBound) -> bool {
    if b.exclusive {
        s > b.value
    } else {
        s >= b.value
    }
}

fn lte_max(s: f64, b: ScoreBound) -> bool {
    if b.exclusive {
        s < b.value
    } else {
        s <= b.value
    }
}

/// The members a range selects, in reply order.
fn select(z: ZSetRef<'_>, r: &Range) -> Vec<(Vec<u8>, f64)> {
    let own = |(m, s): (Item<'_>, f64)| (m.to_vec(), s);
    let len = z.len() as i64;
    match &r.kind {
        Kind::Rank(start, end) => {
            let mut start = if *start < 0 { len + start } else { *start };
            let mut end = if *end < 0 { len + end } else { *end };
            if start < 0 {
                start = 0;
            }
            if start > end || start >= len {
                return vec![];
            }
            if end >= len {
                end = len - 1;
            }
            let n = (end - start + 1) as usize;
            if r.rev {
                z.iter()
                    .rev()
                    .skip(start as usize)
                    .take(n)
                    .map(own)
                    .collect()
            } else {
                z.iter().skip(start as usize).take(n).map(own).collect()
            }
        }
        Kind::Score(min, max) => {
            if r.offset < 0 || (r.offset > 0 && r.offset >= len) {
                return vec![];
            }
            let limit = if r.count < 0 {
                usize::MAX
            } else {
                r.count as usize
            };
            let (min, max) = (*min, *max);
            if r.rev {
                z.iter_rev_from(max.value)
                    .skip_while(|(_, s)| !lte_max(*s, max))
                    .take_while(|(_, s)| gte_min(*s, min))
                    .skip(r.offset as usize)
                    .take(limit)
                    .map(own)
                    .collect()
            } else {
                z.iter_from(min.value)
                    .skip_while(|(_, s)| !gte_min(*s, min))
                    .take_while(|(_, s)| lte_max(*s, max))
                    .skip(r.offset as usize)
                    .take(limit)
                    .map(own)
                    .collect()
            }
        }
        Kind::Lex(min, max) => {
            if r.offset < 0 || (r.offset > 0 && r.offset >= len) {
                return vec![];
            }
            let limit = if r.count < 0 {
                usize::MAX
            } else {
                r.count as usize
            };
            let it = z.iter().map(own);
            if r.rev {
                it.rev()
                    .skip_while(|(m, _)| !lex_lte_max(m, max))
                    .take_while(|(m, _)| lex_gte_min(m, min))
                    .skip(r.offset as usize)
                    .take(limit)
                    .collect()
            } else {
                it.skip_while(|(m, _)| !lex_gte_min(m, min))
                    .take_while(|(m, _)| lex_lte_max(m, max))
                    .skip(r.offset as usize)
                    .take(limit)
                    .collect()
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Redis's `zrangeGenericCommand` argument parsing. `at`: index of the first of the two
/// range arguments; `store`: ZRANGESTORE (no WITHSCORES).
fn parse_range(
    args: &[Bytes],
    at: usize,
    mut ty: RangeType,
    mut rev: Option<bool>,
    store: bool,
) -> Result<(Range, bool), CommandError> {
    let (mut withscores, mut offset, mut count) = (false, 0i64, -1i64);
    let mut limit_given = false;
    let mut j = at + 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if !store && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = parse_i64(&args[j + 1])?;
            count = parse_i64(&args[j + 2])?;
            limit_given = true;
            j += 2;
        } else if rev.is_none() && is(a, "rev") {
            rev = Some(true);
        } else if ty == RangeType::Auto && is(a, "bylex") {
            ty = RangeType::Lex;
        } else if ty == RangeType::Auto && is(a, "byscore") {
            ty = RangeType::Score;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if ty == RangeType::Auto {
        ty = RangeType::Rank;
    }
    if limit_given && ty == RangeType::Rank {
        return Err(CommandError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && ty == RangeType::Lex {
        return Err(CommandError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut lo, mut hi) = (&args[at], &args[at + 1]);
    if rev && ty != RangeType::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let kind = match ty {
        RangeType::Rank | RangeType::Auto => Kind::Rank(parse_i64(lo)?, parse_i64(hi)?),
        RangeType::Score => match (parse_score_bound(lo), parse_score_bound(hi)) {
            (Some(a), Some(b)) => Kind::Score(a, b),
            _ => return Err(CommandError::err("min or max is not a float")),
        },
        RangeType::Lex => match (parse_lex_bound(lo), parse_lex_bound(hi)) {
            (Some(a), Some(b)) => Kind::Lex(a, b),
            _ => return Err(CommandError::err("min or max not valid string range item")),
        },
    };
    Ok((
        Range {
            kind,
            rev,
            offset,
            count,
        },
        withscores,
    ))
}

fn range_reply(ctx: &mut Ctx, key: &[u8], r: Range, withscores: bool) -> CommandResult {
    let nested = resp3(ctx);
    let Some(z) = read(ctx, key)? else {
        return Ok(Reply::Array(vec![]));
    };
    Ok(scored_reply(select(z, &r), withscores, nested))
}

/// The read-only Z*RANGE* commands: one parse, one select; they differ in the range
/// type and direction they start from.
macro_rules! range_command {
    ($name:ident, $ty:expr, $rev:expr) => {
        fn $name(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
            let (r, ws) = parse_range(args, 2, $ty, $rev, false)?;
            range_reply(ctx, &args[1], r, ws)
        }
    };
}

range_command!(zrange, RangeType::Auto, None);
range_command!(zrevrange, RangeType::Rank, Some(true));
range_command!(zrangebyscore, RangeType::Score, Some(false));
range_command!(zrevrangebyscore, RangeType::Score, Some(true));
range_command!(zrangebylex, RangeType::Lex, Some(false));
range_command!(zrevrangebylex, RangeType::Lex, Some(true));

fn zrangestore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (r, _) = parse_range(args, 3, RangeType::Auto, None, true)?;
    let items = match read(ctx, &args[2])? {
        Some(z) => select(z, &r),
        None => vec![],
    };
    let limits = ctx.limits();
    let value = zset::build(items.iter().map(|(m, s)| (&m[..], *s)), &limits);
    let n = coll::store(ctx, &args[1], value);
    signal(ctx, &args[1]);
    Ok(Reply::Int(n))
}

fn zcount(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (Some(min), Some(max)) = (parse_score_bound(&args[2]), parse_score_bound(&args[3])) else {
        return Err(CommandError::err("min or max is not a float"));
    };
    let r = Range {
        kind: Kind::Score(min, max),
        rev: false,
        offset: 0,
        count: -1,
    };
    Ok(Reply::Int(
        read(ctx, &args[1])?.map_or(0, |z| select(z, &r).len()) as i64,
    ))
}

fn zlexcount(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (Some(min), Some(max)) = (parse_lex_bound(&args[2]), parse_lex_bound(&args[3])) else {
        return Err(CommandError::err("min or max not valid string range item"));
    };
    let r = Range {
        kind: Kind::Lex(min, max),
        rev: false,
        offset: 0,
        count: -1,
    };
    Ok(Reply::Int(
        read(ctx, &args[1])?.map_or(0, |z| select(z, &r).len()) as i64,
    ))
}

fn remove_range(ctx: &mut Ctx, key: &[u8], r: Range) -> CommandResult {
    let Some(v) = coll::write(ctx, key, ValueType::ZSet, None)? else {
        return Ok(Reply::Int(0));
    };
    let mut z = v.as_zset_mut().expect("a zset");
    let doomed = select(z.view(), &r);
    for (m, _) in &doomed {
        z.remove(m);
    }
    coll::remove_if_empty(ctx, key);
    Ok(Reply::Int(doomed.len() as i64))
}

fn zremrangebyrank(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (r, _) = parse_range(&args[..4], 2, RangeType::Rank, Some(false), true)?;
    remove_range(ctx, &args[1], r)
}

fn zremrangebyscore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (r, _) = parse_range(&args[..4], 2, RangeType::Score, Some(false), true)?;
    remove_range(ctx, &args[1], r)
}

fn zremrangebylex(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (r, _) = parse_range(&args[..4], 2, RangeType::Lex, Some(false), true)?;
    remove_range(ctx, &args[1], r)
}

// ---- pops ----

/// Removes up to `count` members from the low (`max` false) or high end.
fn pop(
    ctx: &mut Ctx,
    key: &[u8],
    max: bool,
    count: usize,
) -> Result<Vec<(Vec<u8>, f64)>, CommandError> {
    let Some(v) = coll::write(ctx, key, ValueType::ZSet, None)? else {
        return Ok(vec![]);
    };
    let mut z = v.as_zset_mut().expect("a zset");
    let picked: Vec<(Vec<u8>, f64)> = {
        let view = z.view();
        let it = view.iter();
        let it: Box<dyn Iterator<Item = _>> = if max { Box::new(it.rev()) } else { it };
        it.take(count).map(|(m, s)| (m.to_vec(), s)).collect()
    };
    for (m, _) in &picked {
        z.remove(m);
    }
    coll::remove_if_empty(ctx, key);
    Ok(picked)
}

fn zpop(ctx: &mut Ctx, args: &[Bytes], max: bool) -> CommandResult {
    if args.len() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => Some(coll::positive_count(a)?),
    };
    if count == Some(0) {
        return Ok(Reply::Array(vec![]));
    }
    let nested = resp3(ctx) && count.is_some();
    let items = pop(ctx, &args[1], max, count.unwrap_or(1))?;
    Ok(scored_reply(items, true, nested))
}

fn zpopmin(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    zpop(ctx, args, false)
}

fn zpopmax(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    zpop(ctx, args, true)
}

fn zmpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    zmpop_generic(ctx, args, 1, None)
}

fn bzmpop(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let timeout = blocking::parse_timeout(&args[1])?;
    zmpop_generic(ctx, args, 2, Some(timeout))
}

/// ZMPOP / BZMPOP from `numkeys` at `args[at]`; `block`: BZMPOP's timeout.
fn zmpop_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    at: usize,
    block: Option<Option<std::time::Duration>>,
) -> CommandResult {
    let n = snapkv_keyspace::parse_canonical_i64(&args[at])
        .filter(|n| *n > 0)
        .ok_or_else(|| CommandError::err("numkeys should be greater than 0"))? as usize;
    let where_at = at + 1 + n;
    if where_at >= args.len() {
        return Err(CommandError::Syntax);
    }
    let max = if is(&args[where_at], "min") {
        false
    } else if is(&args[where_at], "max") {
        true
    } else {
        return Err(CommandError::Syntax);
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < args.len() {
        if count.is_none() && is(&args[j], "count") && j + 1 < args.len() {
            count = Some(
                snapkv_keyspace::parse_canonical_i64(&args[j + 1])
                    .filter(|c| *c > 0)
                    .ok_or_else(|| CommandError::err("count should be greater than 0"))?
                    as usize,
            );
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let keys = &args[at + 1..where_at];
    for key in keys {
        if read(ctx, key)?.is_some() {
            let items = pop(ctx, key, max, count.unwrap_or(1))?;
            return Ok(Reply::Array(vec![
                Reply::Bulk(key.clone()),
                scored_reply(items, true, true),
            ]));
        }
    }
    match block {
        None => Ok(Reply::NilArray),
        Some(timeout) => blocking::block(ctx, args, keys, timeout, None, Reply::NilArray),
    }
}

/// BZPOPMIN / BZPOPMAX: `[key, member, score]` from the first non-empty zset, or wait.
fn bzpop(ctx: &mut Ctx, args: &[Bytes], max: bool) -> CommandResult {
    let timeout = blocking::parse_timeout(&args[args.len() - 1])?;
    let keys = &args[1..args.len() - 1];
    for k in keys {
        if read(ctx, k)?.is_some() {
            if let Some((m, s)) = pop(ctx, k, max, 1)?.into_iter().next() {
                return Ok(Reply::Array(vec![
                    Reply::Bulk(k.clone()),
                    Reply::bulk(m),
                    Reply::Double(s),
                ]));
            }
        }
    }
    blocking::block(ctx, args, keys, timeout, None, Reply::NilArray)
}

fn bzpopmin(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    bzpop(ctx, args, false)
}

fn bzpopmax(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    bzpop(ctx, args, true)
}

/// A write left members at `key`: clients blocked in BZPOP*/BZMPOP on it may go on.
fn signal(ctx: &mut Ctx, key: &[u8]) {
    let db = ctx.db();
    blocking::signal_written(ctx, db, key);
}

// ---- random ----

fn zrandmember(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() == 2 {
        let Some(z) = read(ctx, &args[1])? else {
            return Ok(Reply::Nil);
        };
        let i = coll::random_index(z.len());
        return Ok(z.nth_any(i).map_or(Reply::Nil, |(m, _)| bulk(m)));
    }
    let rc = coll::random_count(args, "withscores")?;
    let nested = resp3(ctx);
    let Some(z) = read(ctx, &args[1])? else {
        return Ok(Reply::Array(vec![]));
    };
    if rc.count == 0 {
        return Ok(Reply::Array(vec![]));
    }
    let own = |(m, s): (Item<'_>, f64)| (m.to_vec(), s);
    let items: Vec<(Vec<u8>, f64)> = match coll::random_picks(z.len(), &rc) {
        Some(picks) => picks
            .into_iter()
            .map(|i| own(z.nth_any(i).expect("in range")))
            .collect(),
        // The whole set, in the order Redis answers it (from the end).
        None => z.iter().rev().map(own).collect(),
    };
    Ok(scored_reply(items, rc.with, nested))
}

// ---- ZUNION / ZINTER / ZDIFF ----

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(a: Aggregate, acc: f64, v: f64) -> f64 {
    match a {
        Aggregate::Sum => {
            let s = acc + v;
            // +inf + -inf: Redis's convention is 0.
            if s.is_nan() {
                0.0
            } else {
                s
            }
        }
        Aggregate::Min => acc.min(v),
        Aggregate::Max => acc.max(v),
    }
}

/// One input: a zset's (member, score) pairs, or a set's members with score 1.
type Members = Vec<(Vec<u8>, f64)>;

fn source(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Members>, CommandError> {
    let db = ctx.db();
    let Some(e) = ctx.ks.get(db, key) else {
        return Ok(None);
    };
    if let Some(z) = e.value.as_zset() {
        return Ok(Some(z.iter().map(|(m, s)| (m.to_vec(), s)).collect()));
    }
    if let Some(s) = e.value.as_set() {
        return Ok(Some(s.iter().map(|m| (m.to_vec(), 1.0)).collect()));
    }
    Err(CommandError::WrongType)
}

struct SetOpResult {
    items: Vec<(Vec<u8>, f64)>,
    withscores: bool,
}

/// Redis's `zunionInterDiffGenericCommand`. `numkeys_at`: index of numkeys;
/// `cmd`: the command's name for the "at least 1 input key" error.
fn setop(
    ctx: &mut Ctx,
    args: &[Bytes],
    numkeys_at: usize,
    op: SetOp,
    store: bool,
    card_limit: Option<&mut usize>,
) -> Result<SetOpResult, CommandError> {
    let cmd = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let cardinality = card_limit.is_some();
    let setnum = parse_i64(&args[numkeys_at])?;
    if setnum < 1 {
        return Err(CommandError::err(format!(
            "at least 1 input key is needed for '{cmd}' command"
        )));
    }
    if setnum as usize > args.len() - numkeys_at - 1 {
        return Err(CommandError::Syntax);
    }
    let setnum = setnum as usize;
    let keys = &args[numkeys_at + 1..numkeys_at + 1 + setnum];
    let mut sources = Vec::with_capacity(setnum);
    for k in keys {
        sources.push(source(ctx, k)?);
    }
    let mut weights = vec![1.0f64; setnum];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = numkeys_at + 1 + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        if op != SetOp::Diff && remaining > setnum && is(&args[j], "weights") {
            j += 1;
            for w in weights.iter_mut() {
                *w = parse_f64(&args[j])
                    .map_err(|_| CommandError::err("weight value is not a float"))?;
                j += 1;
            }
        } else if op != SetOp::Diff && remaining >= 2 && is(&args[j], "aggregate") {
            let a = &args[j + 1];
            agg = if is(a, "sum") {
                Aggregate::Sum
            } else if is(a, "min") {
                Aggregate::Min
            } else if is(a, "max") {
                Aggregate::Max
            } else {
                return Err(CommandError::Syntax);
            };
            j += 2;
        } else if cardinality && remaining >= 2 && is(&args[j], "limit") {
            limit = snapkv_keyspace::parse_canonical_i64(&args[j + 1])
                .filter(|l| *l >= 0)
                .ok_or_else(|| CommandError::err("LIMIT can't be negative"))?
                as usize;
            j += 2;
        } else if !store && !cardinality && is(&args[j], "withscores") {
            withscores = true;
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if let Some(l) = card_limit {
        *l = limit;
    }
    let weighted = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut items: Vec<(Vec<u8>, f64)> = Vec::new();
    match op {
        SetOp::Union => {
            let mut index: std::collections::HashMap<Vec<u8>, usize> = Default::default();
            for (src, w) in sources.iter().zip(&weights) {
                for (m, s) in src.iter().flatten() {
                    let v = weighted(*s, *w);
                    match index.get(m) {
                        Some(&i) => items[i].1 = aggregate(agg, items[i].1, v),
                        None => {
                            index.insert(m.clone(), items.len());
                            items.push((m.clone(), v));
                        }
                    }
                }
            }
        }
        SetOp::Inter => {
            if sources.iter().all(Option::is_some) {
                let maps: Vec<std::collections::HashMap<&[u8], f64>> = sources
                    .iter()
                    .map(|s| s.iter().flatten().map(|(m, sc)| (&m[..], *sc)).collect())
                    .collect();
                let (first_i, _) = maps
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, m)| m.len())
                    .expect("at least one source");
                for (m, s) in sources[first_i].iter().flatten() {
                    let mut acc = None;
                    let mut all = true;
                    for (i, map) in maps.iter().enumerate() {
                        let Some(sc) = map.get(&m[..]) else {
                            all = false;
                            break;
                        };
                        let v = weighted(if i == first_i { *s } else { *sc }, weights[i]);
                        acc = Some(match acc {
                            None => v,
                            Some(a) => aggregate(agg, a, v),
                        });
                    }
                    if all {
                        items.push((m.clone(), acc.expect("one source at least")));
                        if cardinality && limit != 0 && items.len() >= limit {
                            break;
                        }
                    }
                }
            }
        }
        SetOp::Diff => {
            if let Some(Some(first)) = sources.first() {
                let others: std::collections::HashSet<&[u8]> = sources[1..]
                    .iter()
                    .flatten()
                    .flatten()
                    .map(|(m, _)| &m[..])
                    .collect();
                items = first
                    .iter()
                    .filter(|(m, _)| !others.contains(&m[..]))
                    .cloned()
                    .collect();
            }
        }
    }
    // Results are sorted sets: score, then member.
    items.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    Ok(SetOpResult { items, withscores })
}

fn setop_reply(ctx: &mut Ctx, args: &[Bytes], op: SetOp) -> CommandResult {
    let nested = resp3(ctx);
    let r = setop(ctx, args, 1, op, false, None)?;
    Ok(scored_reply(r.items, r.withscores, nested))
}

fn setop_store(ctx: &mut Ctx, args: &[Bytes], op: SetOp) -> CommandResult {
    let r = setop(ctx, args, 2, op, true, None)?;
    let limits = ctx.limits();
    let value = zset::build(r.items.iter().map(|(m, s)| (&m[..], *s)), &limits);
    let n = coll::store(ctx, &args[1], value);
    signal(ctx, &args[1]);
    Ok(Reply::Int(n))
}

/// ZUNION/ZINTER/ZDIFF and their STORE forms: one implementation each way.
macro_rules! setop_command {
    ($name:ident, $run:ident, $op:expr) => {
        fn $name(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
            $run(ctx, args, $op)
        }
    };
}

setop_command!(zunion, setop_reply, SetOp::Union);
setop_command!(zinter, setop_reply, SetOp::Inter);
setop_command!(zdiff, setop_reply, SetOp::Diff);
setop_command!(zunionstore, setop_store, SetOp::Union);
setop_command!(zinterstore, setop_store, SetOp::Inter);
setop_command!(zdiffstore, setop_store, SetOp::Diff);

fn zintercard(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut limit = 0usize;
    let r = setop(ctx, args, 1, SetOp::Inter, false, Some(&mut limit))?;
    let n = if limit != 0 {
        r.items.len().min(limit)
    } else {
        r.items.len()
    };
    Ok(Reply::Int(n as i64))
}

fn zscan(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let cursor = coll::scan_cursor(args)?;
    let Some(z) = read(ctx, &args[1])? else {
        return Ok(coll::scan_reply(0, vec![]));
    };
    let sa = coll::scan_args(args, cursor)?;
    let (page, next) = z.scan(sa.cursor, sa.count);
    let mut items = Vec::with_capacity(page.len() * 2);
    for (m, s) in page {
        if sa.matches(m) {
            items.push(bulk(m));
            // ZSCAN answers scores as strings in every protocol version.
            items.push(match s {
                Item::Float(f) => Reply::bulk(snapkv_protocol::float::fmt_g17(f)),
                other => bulk(other),
            });
        }
    }
    Ok(coll::scan_reply(next, items))
}
