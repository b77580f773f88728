//! Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX XX GT LT), TTL, PTTL,
//! EXPIRETIME, PEXPIRETIME, PERSIST.

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::key_flags;
use crate::spec::{flags::*, CommandSpec};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("expire", -3, WRITE | FAST, "generic", expire)
        .key_flags(key_flags::RW_UPDATE)
        .keys(1, 1, 1)
        .doc("Sets the expiration time of a key in seconds.", "1.0.0"),
    CommandSpec::new("pexpire", -3, WRITE | FAST, "generic", pexpire)
        .key_flags(key_flags::RW_UPDATE)
        .keys(1, 1, 1)
        .doc(
            "Sets the expiration time of a key in milliseconds.",
            "2.6.0",
        ),
    CommandSpec::new("expireat", -3, WRITE | FAST, "generic", expireat)
        .key_flags(key_flags::RW_UPDATE)
        .keys(1, 1, 1)
        .doc(
            "Sets the expiration time of a key to a Unix timestamp.",
            "1.2.0",
        ),
    CommandSpec::new("pexpireat", -3, WRITE | FAST, "generic", pexpireat)
        .key_flags(key_flags::RW_UPDATE)
        .keys(1, 1, 1)
        .doc(
            "Sets the expiration time of a key to a Unix milliseconds timestamp.",
            "2.6.0",
        ),
    CommandSpec::new("ttl", 2, READONLY | FAST, "generic", ttl)
        .tips(&["nondeterministic_output"])
        .keys(1, 1, 1)
        .doc("Returns the expiration time in seconds of a key.", "1.0.0"),
    CommandSpec::new("pttl", 2, READONLY | FAST, "generic", pttl)
        .tips(&["nondeterministic_output"])
        .keys(1, 1, 1)
        .doc(
            "Returns the expiration time in milliseconds of a key.",
            "2.6.0",
        ),
    CommandSpec::new("expiretime", 2, READONLY | FAST, "generic", expiretime)
        .keys(1, 1, 1)
        .doc(
            "Returns the expiration time of a key as a Unix timestamp.",
            "7.0.0",
        ),
    CommandSpec::new("pexpiretime", 2, READONLY | FAST, "generic", pexpiretime)
        .keys(1, 1, 1)
        .doc(
            "Returns the expiration time of a key as a Unix milliseconds timestamp.",
            "7.0.0",
        ),
    CommandSpec::new("persist", 2, WRITE | FAST, "generic", persist)
        .key_flags(key_flags::RW_UPDATE)
        .keys(1, 1, 1)
        .doc("Removes the expiration time of a key.", "2.2.0"),
];

#[derive(Default)]
struct Flags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn parse_flags(args: &[Bytes]) -> Result<Flags, CommandError> {
    let mut f = Flags::default();
    for a in &args[3..] {
        if is(a, "nx") {
            f.nx = true;
        } else if is(a, "xx") {
            f.xx = true;
        } else if is(a, "gt") {
            f.gt = true;
        } else if is(a, "lt") {
            f.lt = true;
        } else {
            return Err(CommandError::err(format!(
                "Unsupported option {}",
                String::from_utf8_lossy(a)
            )));
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(CommandError::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f.gt && f.lt {
        return Err(CommandError::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

/// Redis's `expireGenericCommand`: `unit_ms` 1000 for seconds; `absolute` for *AT.
fn expire_generic(
    ctx: &mut Ctx,
    args: &[Bytes],
    unit_ms: i64,
    absolute: bool,
    name: &str,
) -> CommandResult {
    let flags = parse_flags(args)?;
    let mut when = parse_i64(&args[2])?;
    let invalid = || CommandError::err(format!("invalid expire time in '{name}' command"));
    if unit_ms == 1000 {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(invalid());
        }
        when *= 1000;
    }
    let now = ctx.now_ms() as i64;
    let base = if absolute { 0 } else { now };
    if when > i64::MAX - base {
        return Err(invalid());
    }
    when += base;
    let db = ctx.db();
    let Some(e) = ctx.ks.lookup_write(db, &args[1]) else {
        return Ok(Reply::Int(0));
    };
    let current = e.expire_at().map(|t| t as i64);
    let refused = (flags.nx && current.is_some())
        || (flags.xx && current.is_none())
        || (flags.gt && current.is_none_or(|c| when <= c))
        || (flags.lt && current.is_some_and(|c| when >= c));
    if refused {
        return Ok(Reply::Int(0));
    }
    if when <= now {
        ctx.ks.remove(db, &args[1]);
    } else {
        ctx.ks.set_expire(db, &args[1], Some(when as u64));
    }
    Ok(Reply::Int(1))
}

fn expire(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, 1000, false, "expire")
}

fn pexpire(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, 1, false, "pexpire")
}

fn expireat(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, 1000, true, "expireat")
}

fn pexpireat(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    expire_generic(ctx, args, 1, true, "pexpireat")
}

/// TTL-family answer: -2 missing, -1 persistent, else `f(expire_at, now)`.
fn ttl_generic(ctx: &mut Ctx, key: &[u8], f: impl Fn(i64, i64) -> i64) -> CommandResult {
    let db = ctx.db();
    let now = ctx.now_ms() as i64;
    Ok(Reply::Int(match ctx.ks.get_notouch(db, key) {
        None => -2,
        Some(e) => match e.expire_at() {
            None => -1,
            Some(at) => f(at as i64, now),
        },
    }))
}

fn ttl(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, &args[1], |at, now| ((at - now).max(0) + 500) / 1000)
}

fn pttl(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, &args[1], |at, now| (at - now).max(0))
}

fn expiretime(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    // Unsigned like Redis's overflowing `(expire+500)/1000` near PEXPIREAT's maximum.
    ttl_generic(ctx, &args[1], |at, _| {
        ((at as u64).saturating_add(500) / 1000) as i64
    })
}

fn pexpiretime(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    ttl_generic(ctx, &args[1], |at, _| at)
}

fn persist(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let has_ttl = ctx
        .ks
        .lookup_write(db, &args[1])
        .is_some_and(|e| e.expire_at().is_some());
    if has_ttl {
        ctx.ks.set_expire(db, &args[1], None);
    }
    Ok(Reply::Int(has_ttl as i64))
}
