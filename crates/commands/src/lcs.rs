//! LCS: the longest common subsequence of two strings (LEN, IDX, MINMATCHLEN,
//! WITHMATCHLEN), by Redis's dynamic-programming table, walked back the same way so
//! the reported ranges are the ones Redis reports.

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec};

pub static COMMANDS: &[CommandSpec] = &[CommandSpec::new("lcs", -3, READONLY, "string", lcs)
    .keys(1, 2, 1)
    .doc("Finds the longest common substring.", "7.0.0")];

/// Both keys' strings ("" when missing), or Redis's LCS type error.
fn operand(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Bytes>, CommandError> {
    let db = ctx.db();
    match ctx.ks.get(db, key) {
        None => Ok(None),
        Some(e) => match e.value.as_str() {
            Some(s) => Ok(Some(s.to_bytes())),
            None => Err(CommandError::err(
                "The specified keys must contain string values",
            )),
        },
    }
}

fn lcs(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let a = operand(ctx, &args[1]);
    let b = operand(ctx, &args[2]);
    let (a, b) = (a?.unwrap_or_default(), b?.unwrap_or_default());
    let (mut get_idx, mut get_len, mut with_len) = (false, false, false);
    let mut min_len: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j];
        if is(opt, "idx") {
            get_idx = true;
        } else if is(opt, "len") {
            get_len = true;
        } else if is(opt, "withmatchlen") {
            with_len = true;
        } else if is(opt, "minmatchlen") && j + 1 < args.len() {
            min_len = parse_i64(&args[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    if get_idx && get_len {
        return Err(CommandError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(CommandError::err("String too long for LCS"));
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells * 4 > ctx.settings().proto_max_bulk_len {
        return Err(CommandError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let mut table: Vec<u32> = Vec::new();
    if table.try_reserve_exact(cells as usize).is_err() {
        return Err(CommandError::err(
            "Insufficient memory, failed allocating transient memory for LCS",
        ));
    }
    table.resize(cells as usize, 0);
    let w = blen + 1;
    for i in 1..=alen {
        for k in 1..=blen {
            table[i * w + k] = if a[i - 1] == b[k - 1] {
                table[(i - 1) * w + k - 1] + 1
            } else {
                table[(i - 1) * w + k].max(table[i * w + k - 1])
            };
        }
    }
    let total = table[alen * w + blen];
    if get_len {
        return Ok(Reply::Int(total as i64));
    }

    // Walk back from the end, collecting the subsequence and its contiguous ranges.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut matches = Vec::new();
    let (mut i, mut k) = (alen, blen);
    // `range` = (a_start, a_end, b_start, b_end) of the match being extended.
    let mut range: Option<(usize, usize, usize, usize)> = None;
    while i > 0 && k > 0 {
        let mut emit = false;
        if a[i - 1] == b[k - 1] {
            result[idx - 1] = a[i - 1];
            range = Some(match range {
                None => (i - 1, i - 1, k - 1, k - 1),
                Some((as_, ae, bs, be)) if as_ == i && bs == k => (as_ - 1, ae, bs - 1, be),
                Some(r) => {
                    emit = true;
                    r
                }
            });
            if let Some((as_, _, bs, _)) = range {
                if as_ == 0 || bs == 0 {
                    emit = true;
                }
            }
            idx -= 1;
            i -= 1;
            k -= 1;
        } else {
            if table[(i - 1) * w + k] > table[i * w + k - 1] {
                i -= 1;
            } else {
                k -= 1;
            }
            emit = range.is_some();
        }
        if emit {
            if let Some((as_, ae, bs, be)) = range.take() {
                let len = (ae - as_ + 1) as i64;
                if get_idx && (min_len == 0 || len >= min_len) {
                    let mut m = vec![
                        Reply::Array(vec![Reply::Int(as_ as i64), Reply::Int(ae as i64)]),
                        Reply::Array(vec![Reply::Int(bs as i64), Reply::Int(be as i64)]),
                    ];
                    if with_len {
                        m.push(Reply::Int(len));
                    }
                    matches.push(Reply::Array(m));
                }
            }
        }
    }
    if get_idx {
        return Ok(Reply::Map(vec![
            (Reply::bulk("matches"), Reply::Array(matches)),
            (Reply::bulk("len"), Reply::Int(total as i64)),
        ]));
    }
    Ok(Reply::Bulk(Bytes::from(result)))
}
