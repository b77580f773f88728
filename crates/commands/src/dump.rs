//! DUMP and RESTORE: values as Redis's DUMP payload (RDB value + version + CRC-64), so a
//! DUMP from real Redis RESTOREs here and the other way round. The payload codec is the
//! `snapkv-rdb` crate's; this file maps it to and from keyspace values.

use bytes::Bytes;
use snapkv_keyspace::{clock, Entry, SmallBytes};
use snapkv_protocol::Reply;
use snapkv_rdb as rdb;

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::key_flags;
use crate::spec::{flags::*, CommandSpec};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("dump", 2, READONLY, "generic", dump)
        .tips(&["nondeterministic_output"])
        .keys(1, 1, 1)
        .doc(
            "Returns a serialized representation of the value stored at a key.",
            "2.6.0",
        ),
    CommandSpec::new("restore", -4, WRITE | DENYOOM, "generic", restore)
        .acl(&["@keyspace", "@dangerous"])
        .key_flags(key_flags::OW_UPDATE)
        .keys(1, 1, 1)
        .doc(
            "Creates a key from the serialized representation of a value.",
            "2.6.0",
        ),
];

fn dump(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = ctx.db();
    let mut enc = rdb::Encoder::new(crate::persistence::write_options(ctx.settings()));
    let Some(e) = ctx.ks.get(db, &args[1]) else {
        return Ok(Reply::Nil);
    };
    Ok(Reply::bulk(rdb::dump_payload_with(
        &snapkv_snapshot::convert::to_rdb(&e.value),
        &mut enc,
    )))
}

fn restore(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < args.len() {
        let more = j + 1 < args.len();
        if is(&args[j], "replace") {
            replace = true;
        } else if is(&args[j], "absttl") {
            absttl = true;
        } else if is(&args[j], "idletime") && more && freq.is_none() {
            let v = parse_i64(&args[j + 1])?;
            if v < 0 {
                return Err(CommandError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
            j += 1;
        } else if is(&args[j], "freq") && more && idle.is_none() {
            let v = parse_i64(&args[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err(CommandError::err(
                    "Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let db = ctx.db();
    if !replace && ctx.ks.exists(db, &args[1]) {
        return Err(CommandError::Custom(
            "BUSYKEY Target key name already exists.".into(),
        ));
    }
    let ttl = parse_i64(&args[2])?;
    if ttl < 0 {
        return Err(CommandError::err("Invalid TTL value, must be >= 0"));
    }
    if rdb::verify_dump_payload(&args[3]).is_err() {
        return Err(CommandError::err(
            "DUMP payload version or checksum are wrong",
        ));
    }
    let value =
        rdb::parse_dump_payload(&args[3]).map_err(|_| CommandError::err("Bad data format"))?;
    let limits = ctx.limits();
    let value = snapkv_snapshot::convert::from_rdb(value, &limits).map_err(|kind| {
        CommandError::err(format!(
            "Bad data format: snapkv does not hold {kind} values"
        ))
    })?;
    if replace {
        ctx.ks.remove(db, &args[1]);
    }
    let now = ctx.now_ms();
    let expire_at = match ttl {
        0 => None,
        t if absttl => Some(t as u64),
        t => Some(now + t as u64),
    };
    if expire_at.is_some_and(|at| at <= now) {
        return Ok(Reply::Ok);
    }
    let policy = ctx.ks.policy();
    let lru = match (policy.is_lfu(), freq, idle) {
        (true, Some(f), _) => (clock::lfu_minutes(now) << 8) | f as u32,
        (false, _, Some(idle)) => {
            let clock_now = clock::lru_clock(now) as i64;
            let abs = clock_now - idle;
            if abs < 0 {
                ((clock_now + (clock::LRU_CLOCK_MAX / 2) as i64) % clock::LRU_CLOCK_MAX as i64)
                    as u32
            } else {
                abs as u32
            }
        }
        (true, ..) => (clock::lfu_minutes(now) << 8) | clock::LFU_INIT,
        _ => clock::lru_clock(now),
    };
    ctx.ks.insert_entry(
        db,
        Entry::new(SmallBytes::new(&args[1]), value, expire_at, lru),
    );
    crate::blocking::signal_written(ctx, db, &args[1]);
    Ok(Reply::Ok)
}
