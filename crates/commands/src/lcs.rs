//! LCS: the longest common subsequence of two strings (Redis 7.0's dynamic program, with
//! LEN, IDX, MINMATCHLEN and WITHMATCHLEN).

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};

pub fn lcs(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let mut read =
        |k: &[u8]| -> Result<Bytes, CommandError> {
            match ctx.ks.get(db, k) {
                None => Ok(Bytes::new()),
                Some(e) => e.value.as_str().map(|s| s.to_bytes()).ok_or_else(|| {
                    CommandError::err("The specified keys must contain string values")
                }),
            }
        };
    let a = read(&args[1])?;
    let b = read(&args[2])?;
    let (mut want_len, mut want_idx, mut with_len) = (false, false, false);
    let mut min_len: i64 = 0;
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        if is(a, "idx") {
            want_idx = true;
        } else if is(a, "len") {
            want_len = true;
        } else if is(a, "withmatchlen") {
            with_len = true;
        } else if is(a, "minmatchlen") && i + 1 < args.len() {
            min_len = parse_i64(&args[i + 1])?.max(0);
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    if want_idx && want_len {
        return Err(CommandError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    let cells = (a.len() as u64 + 1).checked_mul(b.len() as u64 + 1);
    if cells.is_none_or(|c| c.saturating_mul(4) > ctx.settings().proto_max_bulk_len) {
        return Err(CommandError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    // dp[i][j] = LCS length of a[..i] and b[..j].
    let w = b.len() + 1;
    let mut dp = vec![0u32; (a.len() + 1) * w];
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            dp[i * w + j] = if a[i - 1] == b[j - 1] {
                dp[(i - 1) * w + j - 1] + 1
            } else {
                dp[(i - 1) * w + j].max(dp[i * w + j - 1])
            };
        }
    }
    let total = dp[a.len() * w + b.len()] as usize;
    if want_len {
        return Ok(Reply::Int(total as i64));
    }
    // Walk back from the end, collecting the subsequence and its matching ranges.
    let mut result = vec![0u8; total];
    let mut idx = total;
    let (mut i, mut j) = (a.len(), b.len());
    let mut matches = Vec::new();
    let mut range: Option<(usize, usize, usize, usize)> = None; // (a_start, a_end, b_start, b_end)
    let flush = |range: &mut Option<(usize, usize, usize, usize)>, matches: &mut Vec<Reply>| {
        if let Some((as_, ae, bs, be)) = range.take() {
            let len = ae - as_ + 1;
            if len as i64 >= min_len {
                let mut m = vec![
                    Reply::Array(vec![Reply::Int(as_ as i64), Reply::Int(ae as i64)]),
                    Reply::Array(vec![Reply::Int(bs as i64), Reply::Int(be as i64)]),
                ];
                if with_len {
                    m.push(Reply::Int(len as i64));
                }
                matches.push(Reply::Array(m));
            }
        }
    };
    while i > 0 && j > 0 {
        if a[i - 1] == b[j - 1] {
            idx -= 1;
            result[idx] = a[i - 1];
            let (ai, bi) = (i - 1, j - 1);
            match range {
                Some((as_, _, bs, _)) if as_ == ai + 1 && bs == bi + 1 => {
                    if let Some(r) = range.as_mut() {
                        r.0 = ai;
                        r.2 = bi;
                    }
                }
                _ => {
                    flush(&mut range, &mut matches);
                    range = Some((ai, ai, bi, bi));
                }
            }
            i -= 1;
            j -= 1;
        } else if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    flush(&mut range, &mut matches);
    if want_idx {
        return Ok(Reply::Map(vec![
            (Reply::bulk("matches"), Reply::Array(matches)),
            (Reply::bulk("len"), Reply::Int(total as i64)),
        ]));
    }
    Ok(Reply::bulk(result))
}
