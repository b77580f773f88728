//! String commands: GET, SET (EX PX EXAT PXAT NX XX KEEPTTL GET), and the rest of the
//! string family.

use bytes::Bytes;
use snapkv_keyspace::{SetCondition, SetExpiry, StrValue, Value};
use snapkv_protocol::Reply;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, READONLY | FAST, "string", get)
        .keys(1, 1, 1)
        .doc("Returns the string value of a key.", "1.0.0"),
    CommandSpec::new("set", -3, WRITE | DENYOOM, "string", set)
        .keys(1, 1, 1)
        .doc("Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "1.0.0"),
];

/// The string at `key` (None if missing), or WRONGTYPE.
pub fn read_string(ctx: &mut Ctx, key: &[u8]) -> Result<Option<Bytes>, CommandError> {
    let db = ctx.db();
    match ctx.ks.get(db, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Str(s) => Ok(Some(s.to_bytes())),
            #[allow(unreachable_patterns)]
            _ => Err(CommandError::WrongType),
        },
    }
}

fn get(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(match read_string(ctx, &args[1])? {
        Some(v) => Reply::Bulk(v),
        None => Reply::Nil,
    })
}

/// Parses an expiry option value into absolute Unix ms, with Redis's validity rules.
/// `unit_ms` is 1000 for seconds; `absolute` for EXAT/PXAT.
pub fn expire_at(
    arg: &[u8],
    unit_ms: i64,
    absolute: bool,
    now_ms: u64,
    cmd: &str,
) -> Result<u64, CommandError> {
    let invalid = || CommandError::err(format!("invalid expire time in '{cmd}' command"));
    let v = parse_i64(arg)?;
    if v <= 0 || (unit_ms == 1000 && v > i64::MAX / 1000) {
        return Err(invalid());
    }
    let ms = v * unit_ms;
    let at = if absolute {
        ms
    } else {
        ms.checked_add(now_ms as i64).ok_or_else(invalid)?
    };
    Ok(at as u64)
}

fn set(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut cond = SetCondition::Always;
    let mut expiry = SetExpiry::Clear;
    let mut get_old = false;
    let mut has_expiry = false;
    let now = ctx.now_ms();
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        let next = args.get(i + 1);
        if is(a, "nx") && cond != SetCondition::IfExists {
            cond = SetCondition::IfMissing;
        } else if is(a, "xx") && cond != SetCondition::IfMissing {
            cond = SetCondition::IfExists;
        } else if is(a, "get") {
            get_old = true;
        } else if is(a, "keepttl") && !has_expiry {
            has_expiry = true;
            expiry = SetExpiry::Keep;
        } else if !has_expiry
            && next.is_some()
            && (is(a, "ex") || is(a, "px") || is(a, "exat") || is(a, "pxat"))
        {
            let unit = if is(a, "ex") || is(a, "exat") {
                1000
            } else {
                1
            };
            let absolute = is(a, "exat") || is(a, "pxat");
            let at = expire_at(
                next.map(|b| &b[..]).unwrap_or_default(),
                unit,
                absolute,
                now,
                "set",
            )?;
            has_expiry = true;
            expiry = SetExpiry::At(at);
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    let db = ctx.db();
    let old = if get_old {
        read_string(ctx, &args[1])?
    } else {
        None
    };
    let value = Value::Str(StrValue::from_bytes(&args[2]));
    let (written, _) = ctx.ks.set(db, &args[1], value, cond, expiry);
    Ok(match (get_old, written) {
        (true, _) => old.map(Reply::Bulk).unwrap_or(Reply::Nil),
        (false, true) => Reply::Ok,
        (false, false) => Reply::Nil,
    })
}
