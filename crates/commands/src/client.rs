//! Connection state: [`ClientState`] (owned by the connection task) and [`ClientInfo`]
//! (the part other connections see through the [`ClientRegistry`]: CLIENT LIST, KILL,
//! PAUSE, INFO clients).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use snapkv_config::Settings;
use snapkv_protocol::RespVersion;

/// CLIENT REPLY's modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the next command's reply only.
    Skip,
    /// Set by `CLIENT REPLY SKIP`: the skip applies from the next command on.
    SkipNext,
}

/// A queued MULTI transaction.
#[derive(Debug, Default)]
pub struct MultiState {
    pub queue: Vec<Vec<Bytes>>,
    /// A queued command was rejected: EXEC answers EXECABORT.
    pub dirty: bool,
}

/// WATCHed keys of one client and the flag writers set when one changes.
#[derive(Debug)]
pub struct WatchState {
    pub flag: Arc<AtomicBool>,
    /// (db, key, expired-at-watch-time)
    pub keys: Vec<(usize, Bytes)>,
}

/// What others may see of a connection.
#[derive(Debug)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub created_ms: u64,
    pub name: Mutex<Option<Bytes>>,
    pub db: AtomicUsize,
    pub last_interaction_ms: AtomicU64,
    /// Command table index of the last command run (usize::MAX before the first).
    pub last_cmd: AtomicUsize,
    pub resp: AtomicUsize,
    /// Set by CLIENT KILL (or maxclients, output limits); the connection closes asap.
    pub killed: AtomicBool,
    pub kill_notify: tokio::sync::Notify,
    pub in_multi: AtomicBool,
    /// Commands queued in the open MULTI (CLIENT LIST's multi=).
    pub queued: AtomicUsize,
    pub watching: AtomicUsize,
    pub monitor: AtomicBool,
    pub no_evict: AtomicBool,
    /// Waiting in a blocking command (CLIENT LIST flag `b`).
    pub blocked: AtomicBool,
    pub qbuf: AtomicUsize,
    pub omem: AtomicUsize,
    pub fd: i64,
}

impl ClientInfo {
    pub fn new(id: u64, addr: String, laddr: String, fd: i64, now_ms: u64) -> ClientInfo {
        ClientInfo {
            id,
            addr,
            laddr,
            created_ms: now_ms,
            name: Mutex::new(None),
            db: AtomicUsize::new(0),
            last_interaction_ms: AtomicU64::new(now_ms),
            last_cmd: AtomicUsize::new(usize::MAX),
            resp: AtomicUsize::new(2),
            killed: AtomicBool::new(false),
            kill_notify: tokio::sync::Notify::new(),
            in_multi: AtomicBool::new(false),
            queued: AtomicUsize::new(0),
            watching: AtomicUsize::new(0),
            monitor: AtomicBool::new(false),
            no_evict: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
            qbuf: AtomicUsize::new(0),
            omem: AtomicUsize::new(0),
            fd,
        }
    }

    /// Marks the connection killed and shuts its socket down, which wakes its task out
    /// of any read. Only called under the registry lock (see [`ClientRegistry::kill`]),
    /// and the connection unregisters before closing its socket, so `fd` is still ours.
    fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.kill_notify.notify_one();
        // SAFETY: shutdown(2) takes no pointers; the descriptor is this client's live socket.
        unsafe {
            libc::shutdown(self.fd as i32, libc::SHUT_RDWR);
        }
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }
}

/// Everything one connection knows about itself.
pub struct ClientState {
    pub info: Arc<ClientInfo>,
    pub db: usize,
    pub resp: RespVersion,
    pub authenticated: bool,
    pub multi: Option<MultiState>,
    pub watch: Option<WatchState>,
    pub reply_mode: ReplyMode,
    /// QUIT, or a fatal error: close once this reply is written.
    pub close_after_reply: bool,
    /// Settings snapshot and the config generation it came from.
    pub settings: Arc<Settings>,
    pub settings_gen: u64,
    /// Set while this client is a MONITOR: the connection forwards the feed.
    pub monitor: Option<tokio::sync::mpsc::Receiver<Bytes>>,
    /// The wait of a blocking command (BLPOP …) the connection task must await.
    pub blocked: Option<crate::blocking::Blocked>,
    /// Inside EXEC: blocking commands answer at once instead of waiting.
    pub deny_blocking: bool,
    /// Keys that got list elements inside EXEC: their waiters are served when it ends.
    pub ready_keys: Vec<(usize, Bytes)>,
}

impl ClientState {
    pub fn new(info: Arc<ClientInfo>, settings: Arc<Settings>, settings_gen: u64) -> ClientState {
        let authenticated = settings.requirepass.is_empty();
        ClientState {
            info,
            db: 0,
            resp: RespVersion::Resp2,
            authenticated,
            multi: None,
            watch: None,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            settings,
            settings_gen,
            monitor: None,
            blocked: None,
            deny_blocking: false,
            ready_keys: Vec::new(),
        }
    }

    pub fn id(&self) -> u64 {
        self.info.id
    }

    /// Connected over loopback (Redis's `islocalClient`, what the `local` setting of
    /// `enable-debug-command` and `enable-protected-configs` allows).
    pub fn is_local(&self) -> bool {
        let addr = &self.info.addr;
        addr.starts_with("127.") || addr.starts_with("[::1]")
    }
}

/// All live connections.
#[derive(Default)]
pub struct ClientRegistry {
    clients: Mutex<Vec<Arc<ClientInfo>>>,
    next_id: AtomicU64,
    pub total_connections: AtomicU64,
    pub rejected_connections: AtomicU64,
}

impl ClientRegistry {
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn register(&self, c: Arc<ClientInfo>) {
        self.total_connections.fetch_add(1, Ordering::Relaxed);
        self.clients.lock().push(c);
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().retain(|c| c.id != id);
    }

    pub fn count(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        self.clients.lock().clone()
    }

    /// Kills every client matching `pred`; returns how many.
    pub fn kill(&self, mut pred: impl FnMut(&ClientInfo) -> bool) -> usize {
        let mut clients = self.clients.lock();
        let before = clients.len();
        // Killed clients leave the registry at once (as Redis frees them), so a second
        // KILL or CLIENT LIST no longer sees them while their tasks wind down.
        clients.retain(|c| {
            if pred(c) {
                c.kill();
                false
            } else {
                true
            }
        });
        before - clients.len()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.clients.lock().iter().find(|c| c.id == id).cloned()
    }
}
