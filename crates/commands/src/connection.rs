//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO, SELECT. (CLIENT lives in
//! `client_cmd.rs`.)

use std::sync::atomic::Ordering;

use bytes::Bytes;
use snapkv_protocol::{Reply, RespVersion};

use crate::args::{is, parse_i64};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, FAST, "connection", ping)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .lock(LockPlan::None)
        .doc("Returns the server's liveliness response.", "1.0.0"),
    CommandSpec::new("echo", 2, LOADING | STALE | FAST, "connection", echo)
        .lock(LockPlan::None)
        .doc("Returns the given string.", "1.0.0"),
    CommandSpec::new(
        "quit",
        -1,
        ALLOW_BUSY | NO_AUTH | LOADING | STALE | FAST | NOSCRIPT,
        "connection",
        quit,
    )
    .lock(LockPlan::None)
    .doc("Closes the connection.", "1.0.0"),
    CommandSpec::new(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        "connection",
        reset,
    )
    .lock(LockPlan::None)
    .doc("Resets the connection.", "6.2.0"),
    CommandSpec::new(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        "connection",
        auth,
    )
    .lock(LockPlan::None)
    .doc("Authenticates the connection.", "1.0.0"),
    CommandSpec::new(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        "connection",
        hello,
    )
    .lock(LockPlan::None)
    .doc("Handshakes with the Redis server.", "6.0.0"),
    CommandSpec::new("select", 2, LOADING | STALE | FAST, "connection", select)
        .lock(LockPlan::None)
        .doc("Changes the selected database.", "1.0.0"),
];

fn ping(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() > 2 {
        return Err(CommandError::WrongArity("ping".into()));
    }
    Ok(match args.get(1) {
        Some(msg) => Reply::Bulk(msg.clone()),
        None if ctx.client.resp == RespVersion::Resp3 => Reply::simple("PONG"),
        None => Reply::simple("PONG"),
    })
}

fn echo(_ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Bulk(args[1].clone()))
}

fn quit(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    ctx.client.close_after_reply = true;
    Ok(Reply::Ok)
}

fn reset(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let c = &mut *ctx.client;
    c.multi = None;
    c.info.in_multi.store(false, Ordering::Relaxed);
    if let Some(w) = c.watch.take() {
        for (db, key) in &w.keys {
            ctx.ks.unwatch(*db, key, &w.flag);
        }
    }
    let c = &mut *ctx.client;
    c.info.watching.store(0, Ordering::Relaxed);
    c.db = 0;
    c.info.db.store(0, Ordering::Relaxed);
    c.resp = RespVersion::Resp2;
    c.info.resp.store(2, Ordering::Relaxed);
    c.reply_mode = crate::client::ReplyMode::On;
    *c.info.name.lock() = None;
    c.info.no_evict.store(false, Ordering::Relaxed);
    c.authenticated = c.settings.requirepass.is_empty();
    if c.monitor.take().is_some() {
        c.info.monitor.store(false, Ordering::Relaxed);
    }
    Ok(Reply::simple("RESET"))
}

/// Checks a password against `requirepass` (the default user), in constant time.
fn check_password(ctx: &Ctx, user: Option<&[u8]>, pass: &[u8]) -> Result<(), CommandError> {
    if user.is_some_and(|u| u != b"default") {
        return Err(CommandError::WrongPass);
    }
    let want = ctx.settings().requirepass.as_bytes();
    if want.is_empty() {
        // The default user is `nopass`: any password works, as in Redis.
        return Ok(());
    }
    let mut diff = want.len() ^ pass.len();
    for (i, &b) in pass.iter().enumerate() {
        diff |= (b ^ want[i % want.len()]) as usize;
    }
    if diff == 0 {
        Ok(())
    } else {
        Err(CommandError::WrongPass)
    }
}

fn auth(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (user, pass) = match args.len() {
        2 => (None, &args[1]),
        3 => (Some(&args[1][..]), &args[2]),
        _ => return Err(CommandError::Syntax),
    };
    if user.is_none() && ctx.settings().requirepass.is_empty() {
        return Err(CommandError::err(
            "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ));
    }
    check_password(ctx, user, pass)?;
    ctx.client.authenticated = true;
    Ok(Reply::Ok)
}

fn hello(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut version = None;
    let mut i = 1;
    if args.len() >= 2 {
        let v = parse_i64(&args[1])
            .map_err(|_| CommandError::err("Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&v) {
            return Err(CommandError::Custom(
                "NOPROTO unsupported protocol version".into(),
            ));
        }
        version = Some(v);
        i = 2;
    }
    let mut name = None;
    let mut authed = false;
    while i < args.len() {
        let more = args.len() - i - 1;
        if is(&args[i], "auth") && more >= 2 {
            check_password(ctx, Some(&args[i + 1]), &args[i + 2])?;
            authed = true;
            i += 3;
        } else if is(&args[i], "setname") && more >= 1 {
            crate::client_cmd::validate_name(&args[i + 1])?;
            name = Some(args[i + 1].clone());
            i += 2;
        } else {
            return Err(CommandError::err(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[i])
            )));
        }
    }
    if authed {
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated {
        return Err(CommandError::Custom(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into(),
        ));
    }
    if let Some(n) = name {
        *ctx.client.info.name.lock() = (!n.is_empty()).then_some(n);
    }
    if let Some(v) = version {
        ctx.client.resp = if v == 3 {
            RespVersion::Resp3
        } else {
            RespVersion::Resp2
        };
        ctx.client.info.resp.store(v as usize, Ordering::Relaxed);
    }
    let proto = if ctx.client.resp == RespVersion::Resp3 {
        3
    } else {
        2
    };
    Ok(Reply::Map(vec![
        (Reply::bulk("server"), Reply::bulk("redis")),
        (Reply::bulk("version"), Reply::bulk(crate::REDIS_VERSION)),
        (Reply::bulk("proto"), Reply::Int(proto)),
        (Reply::bulk("id"), Reply::Int(ctx.client.id() as i64)),
        (Reply::bulk("mode"), Reply::bulk("standalone")),
        (Reply::bulk("role"), Reply::bulk("master")),
        (Reply::bulk("modules"), Reply::Array(vec![])),
    ]))
}

fn select(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let db = parse_i64(&args[1])?;
    if db < 0 || db as usize >= ctx.shared.keyspace.databases() {
        return Err(CommandError::DbIndexOutOfRange);
    }
    ctx.client.db = db as usize;
    ctx.client.info.db.store(db as usize, Ordering::Relaxed);
    Ok(Reply::Ok)
}
