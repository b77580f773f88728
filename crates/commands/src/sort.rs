//! SORT and SORT_RO over lists, sets and sorted sets: BY (with `*` substitution and
//! `->field` hash dereference, or a constant to skip sorting), LIMIT, GET (`#` = the
//! element), ASC/DESC, ALPHA, STORE — Redis 7.0's `sortCommandGeneric` step by step.
//!
//! BY and GET patterns read keys that are only known while sorting, so SORT holds every
//! shard of the client's database (`LockPlan::Db`).

use bytes::Bytes;
use snapkv_keyspace::types::Item;
use snapkv_keyspace::{SetExpiry, SmallBytes, Value, ValueType};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::flags::*;
use crate::spec::key_flags;
use crate::spec::{CommandSpec, LockPlan};

/// SORT's key, then the last STORE destination, as Redis's `sortGetKeys` finds it:
/// LIMIT's two arguments and BY's and GET's one are skipped, not read as options.
fn keys_with_store(args: &[Bytes]) -> Vec<usize> {
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if a.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    std::iter::once(1).chain(store).collect()
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sort", -2, WRITE | DENYOOM | MOVABLE_KEYS, "generic", sort)
        .acl(&["@set", "@sortedset", "@list", "@dangerous"])
        .key_flags2(key_flags::RO_ACCESS, key_flags::OW_UPDATE)
        .getkeys(keys_with_store)
        .keys(1, 1, 1)
        .lock(LockPlan::Db)
        .doc(
            "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
            "1.0.0",
        ),
    CommandSpec::new("sort_ro", -2, READONLY | MOVABLE_KEYS, "generic", sort_ro)
        .acl(&["@set", "@sortedset", "@list", "@dangerous"])
        .keys(1, 1, 1)
        .lock(LockPlan::Db)
        .doc(
            "Returns the sorted elements of a list, a set, or a sorted set.",
            "7.0.0",
        ),
];

fn sort(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    sort_generic(ctx, args, false)
}

fn sort_ro(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    sort_generic(ctx, args, true)
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*` is
/// replaced by the element and the key read as a string, or `key->field` of a hash.
fn lookup_by_pattern(ctx: &mut Ctx, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let after = &pattern[star + 1..];
    let (post, field) = match after.windows(2).position(|w| w == b"->") {
        Some(i) if i + 2 < after.len() => (&after[..i], Some(&after[i + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(post);
    let db = ctx.db();
    let e = ctx.ks.get(db, &key)?;
    match field {
        Some(f) => e.value.as_hash()?.get(f).map(Item::to_vec),
        None => e.value.as_str().map(|s| s.to_vec()),
    }
}

/// C's `strtod` as SORT uses it: leading spaces skipped, the whole rest must parse, an
/// empty string is 0, NaN and out-of-range values are errors.
fn sort_score(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if s.is_empty() {
        return Some(0.0);
    }
    let v = crate::args::parse_f64(s.as_bytes()).ok()?;
    if v.is_infinite() && !s.to_ascii_lowercase().contains("inf") {
        return None;
    }
    Some(v)
}

struct SortItem {
    obj: Vec<u8>,
    score: f64,
    cmp: Option<Vec<u8>>,
}

fn sort_generic(ctx: &mut Ctx, args: &[Bytes], readonly: bool) -> CommandResult {
    let (mut desc, mut alpha) = (false, false);
    let (mut limit_start, mut limit_count) = (0i64, -1i64);
    let mut store: Option<&Bytes> = None;
    let mut sortby: Option<&Bytes> = None;
    let mut dontsort = false;
    let mut gets: Vec<&Bytes> = Vec::new();
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = &args[j];
        if is(a, "asc") {
            desc = false;
        } else if is(a, "desc") {
            desc = true;
        } else if is(a, "alpha") {
            alpha = true;
        } else if is(a, "limit") && left >= 2 {
            limit_start = parse_i64(&args[j + 1])?;
            limit_count = parse_i64(&args[j + 2])?;
            j += 2;
        } else if !readonly && is(a, "store") && left >= 1 {
            store = Some(&args[j + 1]);
            j += 1;
        } else if is(a, "by") && left >= 1 {
            sortby = Some(&args[j + 1]);
            dontsort = !args[j + 1].contains(&b'*');
            j += 1;
        } else if is(a, "get") && left >= 1 {
            gets.push(&args[j + 1]);
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let db = ctx.db();
    let (ty, elems): (Option<ValueType>, Vec<Vec<u8>>) = match ctx.ks.get(db, &args[1]) {
        None => (None, vec![]),
        Some(e) => {
            let v = &e.value;
            let elems = match v.value_type() {
                ValueType::List => v
                    .as_list()
                    .expect("a list")
                    .iter()
                    .map(|x| x.to_vec())
                    .collect(),
                ValueType::Set => v
                    .as_set()
                    .expect("a set")
                    .iter()
                    .map(Item::to_vec)
                    .collect(),
                ValueType::ZSet => v
                    .as_zset()
                    .expect("a zset")
                    .iter()
                    .map(|(m, _)| m.to_vec())
                    .collect(),
                _ => return Err(CommandError::WrongType),
            };
            (Some(v.value_type()), elems)
        }
    };
    // Sets have no order of their own: a stored (or scripted) result is sorted anyway.
    if dontsort && ty == Some(ValueType::Set) && store.is_some() {
        dontsort = false;
        alpha = true;
        sortby = None;
    }
    let len = elems.len() as i64;
    let mut start = limit_start.max(0);
    let mut end = if limit_count < 0 {
        len - 1
    } else {
        start + limit_count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    // Lists and zsets keep their own order when not sorted; DESC walks from the tail.
    let mut elems = elems;
    if dontsort && desc && matches!(ty, Some(ValueType::List) | Some(ValueType::ZSet)) {
        elems.reverse();
    }
    let mut items: Vec<SortItem> = elems
        .into_iter()
        .map(|obj| SortItem {
            obj,
            score: 0.0,
            cmp: None,
        })
        .collect();
    if !dontsort {
        let mut conversion_error = false;
        for it in items.iter_mut() {
            let byval = match sortby {
                Some(p) => match lookup_by_pattern(ctx, p, &it.obj) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.obj.clone(),
            };
            if alpha {
                if sortby.is_some() {
                    it.cmp = Some(byval);
                }
            } else {
                match sort_score(&byval) {
                    Some(s) => it.score = s,
                    None => conversion_error = true,
                }
            }
        }
        if conversion_error {
            return Err(CommandError::err(
                "One or more scores can't be converted into double",
            ));
        }
        let by = sortby.is_some();
        items.sort_by(|a, b| {
            let c = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.obj.cmp(&b.obj))
            } else if by {
                match (&a.cmp, &b.cmp) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Less,
                    (Some(_), None) => std::cmp::Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp(y),
                }
            } else {
                a.obj.cmp(&b.obj)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    let range = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &items[0..0]
    };
    let mut out: Vec<Option<Vec<u8>>> = Vec::new();
    for it in range {
        if gets.is_empty() {
            out.push(Some(it.obj.clone()));
        }
        for g in &gets {
            out.push(lookup_by_pattern(ctx, g, &it.obj));
        }
    }
    match store {
        None => Ok(Reply::Array(
            out.into_iter()
                .map(|v| v.map_or(Reply::Nil, Reply::bulk))
                .collect(),
        )),
        Some(dst) => {
            let n = out.len() as i64;
            if n == 0 {
                ctx.ks.remove(db, dst);
            } else {
                let list: std::collections::VecDeque<SmallBytes> = out
                    .iter()
                    .map(|v| SmallBytes::new(v.as_deref().unwrap_or(b"")))
                    .collect();
                ctx.ks.insert(
                    db,
                    dst,
                    Value::List(std::sync::Arc::new(list)),
                    SetExpiry::Clear,
                );
                crate::blocking::signal_written(ctx, db, dst);
            }
            Ok(Reply::Int(n))
        }
    }
}
