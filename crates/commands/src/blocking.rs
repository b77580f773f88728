//! Blocking commands (BLPOP & co.): the per-(db, key) FIFO of waiting clients and the
//! contract between handlers and the connection task.
//!
//! A handler never waits. When a blocking command finds nothing to serve it calls
//! [`block`], which registers the client in the queue of every key it waits on (while the
//! handler still holds those keys' shards, so no push can slip in between the check and
//! the registration) and leaves a [`Blocked`] in the client state. The connection task
//! then awaits the waiter's [`Waiter::notify`], the deadline, the socket closing or CLIENT
//! UNBLOCK.
//!
//! A push serves waiters itself, as Redis does, in the order they blocked: while it still
//! holds the key, `list.rs` pops for each pop-only waiter (BLPOP, BRPOP, BLMPOP) and hands
//! the reply over with [`Blocking::complete`], so the pusher's next command already sees
//! the list without them. Waiters it cannot serve in place (BLMOVE needs its destination's
//! shard; pushes inside EXEC wait for the EXEC to end; RENAME & co.) are woken with
//! [`Blocking::signal`] instead and re-run their command ([`rerun`]); one that finds nothing again
//! keeps its place. A woken waiter that leaves (served, timed out, gone) passes the
//! wake-up on to the next one of its keys.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::shared::Shared;

/// How CLIENT UNBLOCK ended a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unblock {
    Timeout,
    Error,
}

/// One blocked client, queued under each key it waits on.
#[derive(Debug)]
pub struct Waiter {
    pub client_id: u64,
    db: usize,
    keys: Vec<Bytes>,
    /// Woken by [`Blocking::signal`], [`Blocking::complete`] and CLIENT UNBLOCK.
    pub notify: tokio::sync::Notify,
    /// A signal reached this waiter and it has not re-run since.
    woken: AtomicBool,
    /// 0: none, 1: CLIENT UNBLOCK … TIMEOUT, 2: … ERROR.
    unblock: AtomicU8,
    /// Waits with a timeout (INFO `clients_in_timeout_table`).
    timed: bool,
    /// The client's shared info: its `blocked` flag (CLIENT LIST `b`), killed state.
    info: Option<Arc<crate::ClientInfo>>,
    /// How a push may serve this waiter in place (None: only by a re-run).
    pub pop: Option<PopSpec>,
    /// The reply of a push that served this waiter in place.
    served: Mutex<Option<Reply>>,
}

/// What a pop-only blocking command takes when a push serves it in place.
#[derive(Debug, Clone, Copy)]
pub struct PopSpec {
    /// From the head (LEFT) or the tail.
    pub left: bool,
    pub count: usize,
    /// BLMPOP's reply shape `[key, [elements…]]` rather than BLPOP's `[key, element]`.
    pub multi: bool,
}

impl Waiter {
    /// Whether CLIENT UNBLOCK ended the wait, and how.
    pub fn unblocked(&self) -> Option<Unblock> {
        match self.unblock.load(Ordering::Acquire) {
            1 => Some(Unblock::Timeout),
            2 => Some(Unblock::Error),
            _ => None,
        }
    }

    /// Called when a re-run waits again: the wake-up was used up.
    pub fn rearm(&self) {
        self.woken.store(false, Ordering::Release);
    }
}

/// A client's current wait, kept in its [`ClientState`](crate::ClientState).
#[derive(Debug)]
pub struct Blocked {
    pub waiter: Arc<Waiter>,
    /// The command to re-run when woken.
    pub args: Vec<Bytes>,
    /// None: wait forever (timeout 0).
    pub deadline: Option<Instant>,
    /// Set by [`block`]: the last run found nothing and waits (again).
    pub again: bool,
}

#[derive(Default)]
struct Queues {
    by_key: HashMap<(usize, Bytes), VecDeque<Arc<Waiter>>>,
    by_client: HashMap<u64, Arc<Waiter>>,
}

/// Every blocked client, by key and by client id.
#[derive(Default)]
pub struct Blocking {
    /// Registered waiters: writers check this one atomic before anything else.
    count: AtomicUsize,
    /// Those of them with a timeout.
    timed: AtomicUsize,
    queues: Mutex<Queues>,
}

impl Blocking {
    /// INFO clients `blocked_clients`.
    pub fn blocked_clients(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// INFO clients `clients_in_timeout_table`: blocked with a timeout.
    pub fn timed_clients(&self) -> usize {
        self.timed.load(Ordering::Relaxed)
    }

    fn register(
        &self,
        client_id: u64,
        info: Option<Arc<crate::ClientInfo>>,
        db: usize,
        keys: &[Bytes],
        pop: Option<PopSpec>,
        timed: bool,
    ) -> Arc<Waiter> {
        let mut unique: Vec<Bytes> = Vec::with_capacity(keys.len());
        for k in keys {
            if !unique.contains(k) {
                unique.push(k.clone());
            }
        }
        let w = Arc::new(Waiter {
            client_id,
            db,
            keys: unique,
            notify: tokio::sync::Notify::new(),
            woken: AtomicBool::new(false),
            unblock: AtomicU8::new(0),
            timed,
            info,
            pop,
            served: Mutex::new(None),
        });
        if let Some(i) = &w.info {
            i.blocked.store(true, Ordering::Relaxed);
        }
        let mut q = self.queues.lock();
        for k in &w.keys {
            q.by_key
                .entry((db, k.clone()))
                .or_default()
                .push_back(w.clone());
        }
        q.by_client.insert(client_id, w.clone());
        self.count.store(q.by_client.len(), Ordering::Relaxed);
        if timed {
            self.timed.fetch_add(1, Ordering::Relaxed);
        }
        w
    }

    /// Takes `w` out of every queue. If a signal had reached it, the next waiter of each
    /// of its keys is woken instead (it re-checks and waits again if nothing is left).
    pub fn remove(&self, w: &Arc<Waiter>) {
        let mut q = self.queues.lock();
        if self.unlink(&mut q, w) && w.timed {
            self.timed.fetch_sub(1, Ordering::Relaxed);
        }
        self.count.store(q.by_client.len(), Ordering::Relaxed);
        if w.woken.load(Ordering::Acquire) {
            for k in &w.keys {
                wake_first(&q, w.db, k);
            }
        }
    }

    /// The first waiter of `key` still waiting (not released by CLIENT UNBLOCK, its
    /// client not killed).
    pub fn first(&self, db: usize, key: &[u8]) -> Option<Arc<Waiter>> {
        if self.count.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let q = self.queues.lock();
        q.by_key
            .get(&(db, Bytes::copy_from_slice(key)))?
            .iter()
            .find(|w| {
                w.unblock.load(Ordering::Acquire) == 0
                    && !w.info.as_ref().is_some_and(|i| i.is_killed())
            })
            .cloned()
    }

    /// A push served `w` in place with `reply`: it leaves the queues and is woken to send
    /// it. Err(reply) if `w` left meanwhile (timed out, went away): the caller undoes.
    pub fn complete(&self, w: &Arc<Waiter>, reply: Reply) -> Result<(), Reply> {
        let mut q = self.queues.lock();
        if !q
            .by_client
            .get(&w.client_id)
            .is_some_and(|x| Arc::ptr_eq(x, w))
        {
            return Err(reply);
        }
        if self.unlink(&mut q, w) && w.timed {
            self.timed.fetch_sub(1, Ordering::Relaxed);
        }
        self.count.store(q.by_client.len(), Ordering::Relaxed);
        *w.served.lock() = Some(reply);
        w.notify.notify_one();
        Ok(())
    }

    /// Takes `w` out of the queues; false if it was not in them any more.
    fn unlink(&self, q: &mut Queues, w: &Arc<Waiter>) -> bool {
        if let Some(i) = &w.info {
            i.blocked.store(false, Ordering::Relaxed);
        }
        for k in &w.keys {
            let slot = (w.db, k.clone());
            if let Some(queue) = q.by_key.get_mut(&slot) {
                queue.retain(|x| !Arc::ptr_eq(x, w));
                if queue.is_empty() {
                    q.by_key.remove(&slot);
                }
            }
        }
        if q.by_client
            .get(&w.client_id)
            .is_some_and(|x| Arc::ptr_eq(x, w))
        {
            q.by_client.remove(&w.client_id);
            return true;
        }
        false
    }

    /// `key` may now hold what waiters want: wakes the first of them to re-run.
    /// (One relaxed load when nobody is blocked. Callers hold the key's shard, as
    /// [`block`] does when registering, so the load cannot miss a waiter.)
    pub fn signal(&self, db: usize, key: &[u8]) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let q = self.queues.lock();
        wake_first(&q, db, key);
    }

    /// CLIENT UNBLOCK: true if `client_id` was blocked.
    pub fn unblock(&self, client_id: u64, how: Unblock) -> bool {
        let q = self.queues.lock();
        let Some(w) = q.by_client.get(&client_id) else {
            return false;
        };
        let code = match how {
            Unblock::Timeout => 1,
            Unblock::Error => 2,
        };
        w.unblock.store(code, Ordering::Release);
        w.notify.notify_one();
        true
    }
}

fn wake_first(q: &Queues, db: usize, key: &[u8]) {
    let slot = (db, Bytes::copy_from_slice(key));
    if let Some(w) = q.by_key.get(&slot).and_then(|queue| queue.front()) {
        w.woken.store(true, Ordering::Release);
        w.notify.notify_one();
    }
}

/// A generic write (RENAME, COPY, MOVE, RESTORE, SORT … STORE) stored a value at `key`
/// in `db`: if it is a list or a sorted set, its waiters may go on. (Waiters on a key
/// that now holds another type stay blocked, as in Redis.)
pub fn signal_written(ctx: &mut Ctx, db: usize, key: &[u8]) {
    if ctx.shared.blocking.blocked_clients() == 0 {
        return;
    }
    match ctx.ks.peek(db, key).map(|e| e.value.value_type()) {
        Some(snapkv_keyspace::ValueType::List) => crate::list::serve_blocked(ctx, db, key),
        Some(snapkv_keyspace::ValueType::ZSet) => ctx.shared.blocking.signal(db, key),
        _ => {}
    }
}

/// SWAPDB swapped `dbs`: keys waited on there may now hold lists. The caller holds every
/// shard of both databases.
pub fn signal_dbs(ctx: &mut Ctx, dbs: [usize; 2]) {
    if ctx.shared.blocking.blocked_clients() == 0 {
        return;
    }
    let waited: Vec<(usize, Bytes)> = ctx
        .shared
        .blocking
        .queues
        .lock()
        .by_key
        .keys()
        .filter(|(db, _)| dbs.contains(db))
        .cloned()
        .collect();
    for (db, key) in waited {
        signal_written(ctx, db, &key);
    }
}

/// A blocking command found nothing on `keys`. Inside MULTI/EXEC it answers `denied` at
/// once (Redis's CLIENT_DENY_BLOCKING); otherwise the client waits, keeping its place in
/// the queues if it was already waiting. The reply returned here is never sent.
pub fn block(
    ctx: &mut Ctx,
    args: &[Bytes],
    keys: &[Bytes],
    timeout: Option<Duration>,
    pop: Option<PopSpec>,
    denied: Reply,
) -> CommandResult {
    if ctx.client.deny_blocking {
        return Ok(denied);
    }
    match ctx.client.blocked.as_mut() {
        Some(b) => b.again = true,
        None => {
            let waiter = ctx.shared.blocking.register(
                ctx.client.id(),
                Some(ctx.client.info.clone()),
                ctx.db(),
                keys,
                pop,
                timeout.is_some(),
            );
            ctx.client.blocked = Some(Blocked {
                waiter,
                args: args.to_vec(),
                // Beyond what an Instant holds: forever, in effect.
                deadline: timeout.and_then(|t| Instant::now().checked_add(t)),
                again: true,
            });
        }
    }
    Ok(Reply::NilArray)
}

/// Ends the client's wait (served, timed out, unblocked or disconnected). Returns the
/// reply of a push that served it in place just before, if one did: that one wins.
pub fn finish(shared: &Shared, client: &mut crate::ClientState) -> Option<Reply> {
    let b = client.blocked.take()?;
    shared.blocking.remove(&b.waiter);
    let served = b.waiter.served.lock().take();
    served
}

/// The end of an EXEC (still holding its shards): serves the waiters of the keys its
/// commands pushed to, as Redis does after the transaction.
pub fn serve_ready(
    shared: &Shared,
    client: &mut crate::ClientState,
    locked: &mut snapkv_keyspace::Locked<'_>,
) {
    if client.ready_keys.is_empty() {
        return;
    }
    let ready = std::mem::take(&mut client.ready_keys);
    let mut ctx = Ctx {
        shared,
        client,
        ks: locked,
    };
    for (db, key) in ready {
        crate::list::serve_blocked(&mut ctx, db, &key);
    }
}

/// Runs a woken blocked command (from `dispatch::run`, under the command's shards, which
/// a push serving it in place must hold too): the in-place reply if a push served it,
/// else the handler's; the wait ends here unless the handler blocks again.
pub fn rerun(
    shared: &Shared,
    client: &mut crate::ClientState,
    handler: crate::spec::Handler,
    args: &[Bytes],
    locked: &mut snapkv_keyspace::Locked<'_>,
) -> Reply {
    let served = client
        .blocked
        .as_ref()
        .and_then(|b| b.waiter.served.lock().take());
    if let Some(reply) = served {
        finish(shared, client);
        return reply;
    }
    let result = {
        let mut ctx = Ctx {
            shared,
            client,
            ks: locked,
        };
        handler(&mut ctx, args)
    };
    if !client.blocked.as_ref().is_some_and(|b| b.again) {
        finish(shared, client);
    }
    result.unwrap_or_else(Reply::from)
}

/// The reply of a wait ended by its timeout or CLIENT UNBLOCK.
pub fn ended_reply(how: Unblock) -> Reply {
    match how {
        Unblock::Timeout => Reply::NilArray,
        Unblock::Error => Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into()),
    }
}

/// A blocking timeout in seconds (`getTimeoutFromObjectOrReply`, UNIT_SECONDS): a
/// `strtold` float, truncated to milliseconds. None = wait forever (0).
pub fn parse_timeout(arg: &[u8]) -> Result<Option<Duration>, CommandError> {
    let not_float = || CommandError::err("timeout is not a float or out of range");
    let negative = || CommandError::err("timeout is negative");
    let s = std::str::from_utf8(arg).map_err(|_| not_float())?;
    // Plain decimals exactly, as precise as the long double Redis computes in (an f64
    // would round the largest values up to 2^63 ms).
    if let Some(ms) = decimal_ms(s) {
        if !(0..=i64::MAX as i128).contains(&ms) {
            return Err(negative());
        }
        return Ok((ms > 0).then(|| Duration::from_millis(ms as u64)));
    }
    let unsigned = s.trim_start_matches(['+', '-']);
    let secs = if unsigned.len() + 1 >= s.len()
        && (unsigned.starts_with("0x") || unsigned.starts_with("0X"))
    {
        // strtold reads hexadecimal too (integers are enough here).
        let v = u64::from_str_radix(&unsigned[2..], 16).map_err(|_| not_float())? as f64;
        if s.starts_with('-') {
            -v
        } else {
            v
        }
    } else {
        crate::args::parse_f64(arg).map_err(|_| not_float())?
    };
    let ms = secs * 1000.0;
    // C's (long long) cast: truncation toward zero; out of range becomes LLONG_MIN.
    if ms.is_nan() || ms <= -1.0 || ms >= i64::MAX as f64 {
        return Err(negative());
    }
    let ms = ms as u64;
    Ok((ms > 0).then(|| Duration::from_millis(ms)))
}

/// `[+-]digits[.digits]` seconds as milliseconds, truncated toward zero like C's cast;
/// None for any other form (exponents, hex, inf, junk: the float path decides).
fn decimal_ms(s: &str) -> Option<i128> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || int.len() > 30 {
        return None;
    }
    let whole: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut ms = whole * 1000;
    for (i, b) in frac.bytes().take(3).enumerate() {
        ms += i128::from(b - b'0') * [100, 10, 1][i];
    }
    Some(if negative { -ms } else { ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_like_redis() {
        assert_eq!(parse_timeout(b"0").unwrap(), None);
        assert_eq!(parse_timeout(b"-0.0001").unwrap(), None);
        assert_eq!(
            parse_timeout(b"0.5").unwrap(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_timeout(b"0x10").unwrap(),
            Some(Duration::from_secs(16))
        );
        assert_eq!(parse_timeout(b"1.").unwrap(), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_timeout(b".0019").unwrap(),
            Some(Duration::from_millis(1))
        );
        assert_eq!(
            parse_timeout(b"9223372036854775.5").unwrap(),
            Some(Duration::from_millis(9_223_372_036_854_775_500))
        );
        assert_eq!(
            parse_timeout(b"1e3").unwrap(),
            Some(Duration::from_secs(1000))
        );
        let neg = Err(CommandError::err("timeout is negative"));
        assert_eq!(parse_timeout(b"-1"), neg);
        assert_eq!(parse_timeout(b"inf"), neg);
        assert_eq!(parse_timeout(b"1e20"), neg);
        assert_eq!(parse_timeout(b"9223372036854775808"), neg);
        assert_eq!(
            parse_timeout(b"9223372036854775").unwrap(),
            Some(Duration::from_millis(9_223_372_036_854_775_000))
        );
        let nf = Err(CommandError::err("timeout is not a float or out of range"));
        assert_eq!(parse_timeout(b"abc"), nf);
        assert_eq!(parse_timeout(b" 1"), nf);
        assert_eq!(parse_timeout(b""), nf);
        assert_eq!(parse_timeout(b"nan"), nf);
        assert_eq!(parse_timeout(b"."), nf);
        assert_eq!(parse_timeout(b"1.2.3"), nf);
        assert_eq!(parse_timeout(b"-"), nf);
    }

    #[test]
    fn fifo_and_pass_on() {
        let b = Blocking::default();
        let k = Bytes::from_static(b"k");
        let w1 = b.register(1, None, 0, std::slice::from_ref(&k), None, true);
        let w2 = b.register(2, None, 0, &[k.clone(), k.clone()], None, false);
        assert_eq!(b.blocked_clients(), 2);
        assert_eq!(b.timed_clients(), 1);
        b.signal(0, b"k");
        assert!(w1.woken.load(Ordering::Relaxed));
        assert!(!w2.woken.load(Ordering::Relaxed));
        // w1 leaves after its wake-up: w2 gets it.
        b.remove(&w1);
        b.remove(&w1);
        assert_eq!(b.timed_clients(), 0);
        assert!(w2.woken.load(Ordering::Relaxed));
        assert!(Arc::ptr_eq(&b.first(0, b"k").unwrap(), &w2));
        assert!(b.unblock(2, Unblock::Error));
        assert!(b.first(0, b"k").is_none());
        assert_eq!(w2.unblocked(), Some(Unblock::Error));
        b.remove(&w2);
        assert_eq!(b.blocked_clients(), 0);
        assert!(!b.unblock(2, Unblock::Timeout));
        assert!(b.queues.lock().by_key.is_empty());
    }

    #[test]
    fn complete_hands_over_once() {
        let b = Blocking::default();
        let w = b.register(7, None, 0, &[Bytes::from_static(b"k")], None, true);
        assert!(b.complete(&w, Reply::Int(1)).is_ok());
        assert_eq!(b.blocked_clients(), 0);
        assert_eq!(b.timed_clients(), 0);
        assert_eq!(w.served.lock().take(), Some(Reply::Int(1)));
        // Gone: a second push must undo its pop.
        assert_eq!(b.complete(&w, Reply::Int(2)), Err(Reply::Int(2)));
    }
}
