//! The fork engine: every shard is locked (by the caller, in global order) for the instant
//! of `fork()`; the child serialises the frozen copy-on-write image with the very guards
//! it inherited, writes `temp-<childpid>.rdb`, fsyncs, renames over `dbfilename`, reports
//! over a pipe and leaves with `_exit` — no logging, no allocator-unsafe work beyond what
//! jemalloc's fork handlers allow, no tokio. The parent releases the locks at once and
//! reaps the child on a thread.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::time::Instant;

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, pipe, ForkResult, Pid};
use snapkv_keyspace::Locked;
use snapkv_rdb::WriteOptions;

use crate::serialize::write_locked;
use crate::sink::FileSink;

/// A running fork child.
pub struct ForkChild {
    pub pid: Pid,
    /// How long `fork()` took (INFO's `latest_fork_usec`).
    pub fork_usec: u64,
    report: std::fs::File,
}

/// What the child did, as reported back (and from its exit status).
#[derive(Debug, Default, Clone)]
pub struct ForkReport {
    pub ok: bool,
    pub keys: u64,
    pub bytes: u64,
    /// Private_Dirty of the child at the end: the copy-on-write it caused.
    pub cow_bytes: u64,
    pub error: Option<String>,
}

/// Forks while `locked` holds every shard. Returns in the parent only.
pub fn start(
    locked: &mut Locked<'_>,
    sink: &FileSink,
    opts: WriteOptions,
    used_mem: u64,
) -> nix::Result<ForkChild> {
    let (rd, wr) = pipe()?;
    let t = Instant::now();
    // SAFETY: the child only touches memory it owns: the shards (whose locks this thread
    // holds, so no other thread was mid-update), its own buffers, and jemalloc, whose
    // fork handlers leave it usable. It exits with `_exit`, running no destructors.
    match unsafe { fork() }? {
        ForkResult::Child => {
            drop(rd);
            let code = child(locked, sink, opts, used_mem, wr);
            // SAFETY: `_exit` ends the child without running the parent's atexit/drops.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(wr);
            Ok(ForkChild {
                pid: child,
                fork_usec: t.elapsed().as_micros() as u64,
                report: std::fs::File::from(rd),
            })
        }
    }
}

/// Like [`start`], but the child streams the RDB into a pipe instead of a file: the
/// returned file is the pipe's read end, which the caller must read to the end (the
/// backup thread uploads it) before [`ForkChild::wait`]. Dropping it early makes the
/// child's writes fail, and the child reports the error.
pub fn start_stream(
    locked: &mut Locked<'_>,
    opts: WriteOptions,
    used_mem: u64,
) -> nix::Result<(ForkChild, std::fs::File)> {
    let (rd, wr) = pipe()?;
    let (data_rd, data_wr) = pipe()?;
    let t = Instant::now();
    // SAFETY: as in `start`.
    match unsafe { fork() }? {
        ForkResult::Child => {
            drop(rd);
            drop(data_rd);
            let mut report = std::fs::File::from(wr);
            let out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::from(data_wr));
            let result = write_locked(locked, out, opts, used_mem)
                .map_err(|e| e.to_string())
                .and_then(|(mut out, s)| out.flush().map(|_| s).map_err(|e| e.to_string()));
            let line = match &result {
                Ok(s) => format!("ok {} {} {}\n", s.keys, s.bytes, private_dirty()),
                Err(e) => format!("err 0 0 {} {e}\n", private_dirty()),
            };
            let _ = report.write_all(line.as_bytes());
            // SAFETY: as in `start`.
            unsafe { libc::_exit(i32::from(result.is_err())) }
        }
        ForkResult::Parent { child } => {
            drop(wr);
            drop(data_wr);
            Ok((
                ForkChild {
                    pid: child,
                    fork_usec: t.elapsed().as_micros() as u64,
                    report: std::fs::File::from(rd),
                },
                std::fs::File::from(data_rd),
            ))
        }
    }
}

fn child(
    locked: &mut Locked<'_>,
    sink: &FileSink,
    opts: WriteOptions,
    used_mem: u64,
    wr: OwnedFd,
) -> i32 {
    let mut report = std::fs::File::from(wr);
    let result = sink.write_with(|out| write_locked(locked, out, opts, used_mem));
    let cow = private_dirty();
    let (line, code) = match result {
        Ok(s) => (format!("ok {} {} {cow}\n", s.keys, s.bytes), 0),
        Err(e) => (format!("err 0 0 {cow} {e}\n"), 1),
    };
    let _ = report.write_all(line.as_bytes());
    code
}

/// Sum of `Private_Dirty` over this process's mappings, in bytes.
fn private_dirty() -> u64 {
    std::fs::read_to_string("/proc/self/smaps_rollup")
        .or_else(|_| std::fs::read_to_string("/proc/self/smaps"))
        .map(|t| {
            t.lines()
                .filter(|l| l.starts_with("Private_Dirty:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>()
                * 1024
        })
        .unwrap_or(0)
}

impl ForkChild {
    /// Waits for the child and collects its report. A child that died without reporting
    /// (kill -9) leaves its temp file behind: remove it, as Redis does.
    pub fn wait(mut self) -> ForkReport {
        let mut text = String::new();
        let _ = self.report.read_to_string(&mut text);
        let status = waitpid(self.pid, None);
        let exited_ok = matches!(status, Ok(WaitStatus::Exited(_, 0)));
        let mut words = text.split_whitespace();
        let head = words.next();
        let num = |w: Option<&str>| w.and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
        let keys = num(words.next());
        let bytes = num(words.next());
        let cow_bytes = num(words.next());
        let rest: Vec<&str> = words.collect();
        let ok = exited_ok && head == Some("ok");
        if !ok {
            let _ = std::fs::remove_file(format!("temp-{}.rdb", self.pid));
        }
        ForkReport {
            ok,
            keys,
            bytes,
            cow_bytes,
            error: (!ok).then(|| {
                if rest.is_empty() {
                    format!("child {} ended with {:?}", self.pid, status)
                } else {
                    rest.join(" ")
                }
            }),
        }
    }
}
