//! Blocking commands (BLPOP & co.): the per-(db, key) FIFO of waiting clients and the
//! contract between handlers and the connection task.
//!
//! A handler never waits. When a blocking command finds nothing to serve it calls
//! [`block`], which registers the client in the queue of every key it waits on (while the
//! handler still holds those keys' shards, so no push can slip in between the check and
//! the registration) and leaves a [`Blocked`] in the client state. The connection task
//! then awaits the waiter's [`Waiter::notify`], the deadline, the socket closing or CLIENT
//! UNBLOCK, and re-runs the command when woken. A re-run that finds nothing again keeps its
//! place in the queues. Writers that make a list key non-empty call [`signal`], which wakes
//! the first waiter of that key: the client that blocked first is served first. A waiter
//! that leaves after being woken (served, timed out, gone) passes the wake-up on to the
//! next one, so elements pushed for several waiters reach them all.

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
    /// Woken by [`signal`] and CLIENT UNBLOCK.
    pub notify: tokio::sync::Notify,
    /// A signal reached this waiter and it has not re-run since.
    woken: AtomicBool,
    /// 0: none, 1: CLIENT UNBLOCK … TIMEOUT, 2: … ERROR.
    unblock: AtomicU8,
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
    queues: Mutex<Queues>,
}

impl Blocking {
    /// INFO clients `blocked_clients`.
    pub fn blocked_clients(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    pub fn is_blocked(&self, client_id: u64) -> bool {
        self.blocked_clients() > 0 && self.queues.lock().by_client.contains_key(&client_id)
    }

    fn register(&self, client_id: u64, db: usize, keys: &[Bytes]) -> Arc<Waiter> {
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
        });
        let mut q = self.queues.lock();
        for k in &w.keys {
            q.by_key
                .entry((db, k.clone()))
                .or_default()
                .push_back(w.clone());
        }
        q.by_client.insert(client_id, w.clone());
        self.count.store(q.by_client.len(), Ordering::Relaxed);
        w
    }

    /// Takes `w` out of every queue. If a signal had reached it, the next waiter of each
    /// of its keys is woken instead (it re-checks and waits again if nothing is left).
    pub fn remove(&self, w: &Arc<Waiter>) {
        let mut q = self.queues.lock();
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
        }
        self.count.store(q.by_client.len(), Ordering::Relaxed);
        if w.woken.load(Ordering::Acquire) {
            for k in &w.keys {
                wake_first(&q, w.db, k);
            }
        }
    }

    /// `key` may now hold what waiters want: wakes the first of them.
    /// (Hot path for every push: one relaxed load when nobody is blocked. Callers hold the
    /// key's shard, as [`block`] does when registering, so the load cannot miss a waiter.)
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

/// A push made `key` (in the client's db) a non-empty list: wake its first waiter.
pub fn signal(ctx: &Ctx, key: &[u8]) {
    ctx.shared.blocking.signal(ctx.db(), key);
}

/// A generic write (RENAME, COPY, MOVE, RESTORE) stored a value at `key` in `db`: if it
/// is a list, its waiters may go on. (Waiters on a key that now holds another type stay
/// blocked, as in Redis.)
pub fn signal_if_list(ctx: &mut Ctx, db: usize, key: &[u8]) {
    if ctx.shared.blocking.blocked_clients() == 0 {
        return;
    }
    if ctx
        .ks
        .peek(db, key)
        .is_some_and(|e| e.value.value_type() == snapkv_keyspace::ValueType::List)
    {
        ctx.shared.blocking.signal(db, key);
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
        signal_if_list(ctx, db, &key);
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
    denied: Reply,
) -> CommandResult {
    if ctx.client.deny_blocking {
        return Ok(denied);
    }
    match ctx.client.blocked.as_mut() {
        Some(b) => b.again = true,
        None => {
            let waiter = ctx
                .shared
                .blocking
                .register(ctx.client.id(), ctx.db(), keys);
            ctx.client.info.blocked.store(true, Ordering::Relaxed);
            ctx.client.blocked = Some(Blocked {
                waiter,
                args: args.to_vec(),
                deadline: timeout.map(|t| Instant::now() + t),
                again: true,
            });
        }
    }
    Ok(Reply::NilArray)
}

/// Ends the client's wait (served, timed out, unblocked or disconnected).
pub fn finish(shared: &Shared, client: &mut crate::ClientState) {
    if let Some(b) = client.blocked.take() {
        shared.blocking.remove(&b.waiter);
        client.info.blocked.store(false, Ordering::Relaxed);
    }
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
    let s = std::str::from_utf8(arg).map_err(|_| not_float())?;
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
    if ms.is_nan() || ms <= -1.0 || ms >= 9.223_372_036_854_775e18 {
        return Err(CommandError::err("timeout is negative"));
    }
    let ms = ms as u64;
    Ok((ms > 0).then(|| Duration::from_millis(ms)))
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
        let neg = Err(CommandError::err("timeout is negative"));
        assert_eq!(parse_timeout(b"-1"), neg);
        assert_eq!(parse_timeout(b"inf"), neg);
        assert_eq!(parse_timeout(b"1e20"), neg);
        let nf = Err(CommandError::err("timeout is not a float or out of range"));
        assert_eq!(parse_timeout(b"abc"), nf);
        assert_eq!(parse_timeout(b" 1"), nf);
        assert_eq!(parse_timeout(b""), nf);
        assert_eq!(parse_timeout(b"nan"), nf);
    }

    #[test]
    fn fifo_and_pass_on() {
        let b = Blocking::default();
        let k = Bytes::from_static(b"k");
        let w1 = b.register(1, 0, std::slice::from_ref(&k));
        let w2 = b.register(2, 0, &[k.clone(), k.clone()]);
        assert_eq!(b.blocked_clients(), 2);
        b.signal(0, b"k");
        assert!(w1.woken.load(Ordering::Relaxed));
        assert!(!w2.woken.load(Ordering::Relaxed));
        // w1 leaves after its wake-up: w2 gets it.
        b.remove(&w1);
        assert!(w2.woken.load(Ordering::Relaxed));
        assert!(b.unblock(2, Unblock::Error));
        assert_eq!(w2.unblocked(), Some(Unblock::Error));
        b.remove(&w2);
        assert_eq!(b.blocked_clients(), 0);
        assert!(!b.unblock(2, Unblock::Timeout));
        assert!(b.queues.lock().by_key.is_empty());
    }
}
