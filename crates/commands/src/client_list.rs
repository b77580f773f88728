//! CLIENT LIST / INFO lines (Redis's `catClientInfoString`) and CLIENT KILL's filters.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use crate::args::{is, lower};
use crate::client::{ClientInfo, ClientState};
use crate::error::CommandError;
use crate::shared::Shared;

/// Redis's client types (`getClientTypeByName`); snapkv only has normal clients.
fn parse_type(arg: &[u8]) -> Result<&'static str, CommandError> {
    match lower(arg).as_str() {
        "normal" => Ok("normal"),
        "slave" | "replica" => Ok("slave"),
        "pubsub" => Ok("pubsub"),
        "master" => Ok("master"),
        _ => Err(CommandError::err(format!(
            "Unknown client type '{}'",
            String::from_utf8_lossy(arg)
        ))),
    }
}

/// One client's line, without the trailing newline. `me` is the asking connection's own
/// state, which knows more than the shared [`ClientInfo`] (its MULTI queue).
pub fn line(shared: &Shared, c: &ClientInfo, me: Option<&ClientState>, now_ms: u64) -> String {
    let mut flags = String::new();
    if c.monitor.load(Ordering::Relaxed) {
        flags.push('O');
    }
    if c.in_multi.load(Ordering::Relaxed) {
        flags.push('x');
    }
    if c.no_evict.load(Ordering::Relaxed) {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let multi = match me {
        Some(s) => s.multi.as_ref().map_or(-1, |m| m.queue.len() as i64),
        None if c.in_multi.load(Ordering::Relaxed) => 0,
        None => -1,
    };
    let name = c
        .name
        .lock()
        .as_ref()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    let cmd = match c.last_cmd.load(Ordering::Relaxed) {
        0 => "NULL",
        i => shared.commands.spec(i - 1).map_or("NULL", |s| s.name),
    };
    let qbuf = c.qbuf.load(Ordering::Relaxed);
    let omem = c.omem.load(Ordering::Relaxed);
    // The connection's read buffer starts at 16 KiB (READ_CHUNK in the server crate).
    let qbuf_free = (16 * 1024usize).saturating_sub(qbuf);
    let tot_mem = qbuf + qbuf_free + omem + 1024 + std::mem::size_of::<ClientInfo>();
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        name,
        now_ms.saturating_sub(c.created_ms) / 1000,
        now_ms.saturating_sub(c.last_interaction_ms.load(Ordering::Relaxed)) / 1000,
        flags,
        c.db.load(Ordering::Relaxed),
        multi,
        qbuf,
        qbuf_free,
        omem,
        tot_mem,
        cmd,
        c.resp.load(Ordering::Relaxed),
    )
}

/// CLIENT LIST [TYPE type] [ID id …].
pub fn list(shared: &Shared, me: &ClientState, args: &[Bytes]) -> Result<String, CommandError> {
    let mut ids: Option<Vec<u64>> = None;
    let mut want_type: Option<&str> = None;
    if args.len() == 4 && is(&args[2], "type") {
        want_type = Some(parse_type(&args[3])?);
    } else if args.len() > 3 && is(&args[2], "id") {
        let mut v = Vec::new();
        for a in &args[3..] {
            let id =
                crate::args::parse_i64(a).map_err(|_| CommandError::err("Invalid client ID"))?;
            v.push(id as u64);
        }
        ids = Some(v);
    } else if args.len() != 2 {
        return Err(CommandError::Syntax);
    }
    let now = snapkv_keyspace::clock::now_ms();
    let mut clients = shared.clients.all();
    clients.sort_by_key(|c| c.id);
    let mut out = String::new();
    for c in clients {
        if want_type.is_some_and(|t| t != "normal") {
            continue;
        }
        if ids.as_ref().is_some_and(|ids| !ids.contains(&c.id)) {
            continue;
        }
        let own = (c.id == me.id()).then_some(me);
        out.push_str(&line(shared, &c, own, now));
        out.push('\n');
    }
    Ok(out)
}

/// CLIENT KILL filters (the new form).
#[derive(Default)]
struct Filter {
    id: Option<u64>,
    addr: Option<String>,
    laddr: Option<String>,
    type_ok: Option<bool>,
    skipme: bool,
}

impl Filter {
    fn matches(&self, c: &ClientInfo) -> bool {
        self.id.is_none_or(|id| c.id == id)
            && self.addr.as_ref().is_none_or(|a| c.addr == *a)
            && self.laddr.as_ref().is_none_or(|a| c.laddr == *a)
            && self.type_ok.unwrap_or(true)
    }
}

/// CLIENT KILL: returns (killed, whether the caller itself must close after replying).
/// The old `ip:port` form answers +OK or `No such client` (`Ok(None)` = old form).
pub fn kill(
    shared: &Shared,
    me: &ClientState,
    args: &[Bytes],
) -> Result<(Option<usize>, bool), CommandError> {
    if args.len() == 3 {
        let addr = String::from_utf8_lossy(&args[2]).into_owned();
        if me.info.addr == addr {
            return Ok((None, true));
        }
        let n = shared
            .clients
            .kill(|c| c.addr == addr && c.id != me.id() && !c.is_killed());
        if n == 0 {
            return Err(CommandError::err("No such client"));
        }
        return Ok((None, false));
    }
    let mut f = Filter {
        skipme: true,
        ..Default::default()
    };
    let mut i = 2;
    while i < args.len() {
        if i + 1 >= args.len() {
            return Err(CommandError::Syntax);
        }
        let v = &args[i + 1];
        let key = lower(&args[i]);
        match key.as_str() {
            "id" => {
                let id = crate::args::parse_i64(v)
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| CommandError::err("client-id should be greater than 0"))?;
                f.id = Some(id as u64);
            }
            "type" => f.type_ok = Some(parse_type(v)? == "normal"),
            "addr" => f.addr = Some(String::from_utf8_lossy(v).into_owned()),
            "laddr" => f.laddr = Some(String::from_utf8_lossy(v).into_owned()),
            "user" => {
                if &v[..] != b"default" {
                    return Err(CommandError::err(format!(
                        "No such user '{}'",
                        String::from_utf8_lossy(v)
                    )));
                }
            }
            "skipme" => {
                f.skipme = if is(v, "yes") {
                    true
                } else if is(v, "no") {
                    false
                } else {
                    return Err(CommandError::Syntax);
                }
            }
            _ => return Err(CommandError::Syntax),
        }
        i += 2;
    }
    // Already-killed clients still unwinding are not counted twice.
    let mut n = shared
        .clients
        .kill(|c| c.id != me.id() && !c.is_killed() && f.matches(c));
    // Our own socket must stay open until this reply is written.
    let close_me = !f.skipme && f.matches(&me.info);
    if close_me {
        n += 1;
    }
    Ok((Some(n), close_me))
}
