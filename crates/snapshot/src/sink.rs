//! [`FileSink`]: where a snapshot lands on disk, crash-safely. The stream goes to
//! `temp-<pid>.rdb` in the data directory; only a complete, fsynced file is renamed over
//! `dbfilename` (and the directory fsynced), so a crash or an error at any point leaves
//! the previous dump intact. The temp file is removed on failure. The file is a
//! [`DirectFile`]: written around the page cache where the file system allows.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::direct::DirectFile;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error(
        "Failed opening the temp RDB file {path} (in server root dir {dir}) for saving: {err}"
    )]
    Open {
        path: String,
        dir: String,
        err: std::io::Error,
    },
    #[error("Write error saving DB on disk: {0}")]
    Write(std::io::Error),
    #[error("Error moving temp DB file {from} on the final destination {to}: {err}")]
    Rename {
        from: String,
        to: String,
        err: std::io::Error,
    },
}

#[derive(Clone, Debug)]
pub struct FileSink {
    dir: PathBuf,
    target: PathBuf,
    autosync: bool,
    background: bool,
}

impl FileSink {
    /// A sink for `dir/dbfilename`, staging in `dir/temp-<pid>.rdb`.
    pub fn new(dir: &Path, dbfilename: &str) -> FileSink {
        FileSink {
            dir: dir.to_path_buf(),
            target: dir.join(dbfilename),
            autosync: true,
            background: false,
        }
    }

    /// Stages in `temp-bg-<pid>.rdb` instead: a forkless save runs in the server's own
    /// process, beside any synchronous save (DEBUG RELOAD, SHUTDOWN, FLUSHALL), which
    /// must never open — and truncate — the same temp file.
    pub fn background(mut self) -> FileSink {
        self.background = true;
        self
    }

    /// `rdb-save-incremental-fsync` (on by default, as in Redis).
    pub fn incremental_fsync(mut self, on: bool) -> FileSink {
        self.autosync = on;
        self
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// `temp-<pid>.rdb` of the process that writes: a fork child stages in its own, which
    /// the parent removes if the child dies (as Redis's `rdbRemoveTempFile`).
    fn temp(&self) -> PathBuf {
        let bg = if self.background { "bg-" } else { "" };
        self.dir
            .join(format!("temp-{bg}{}.rdb", std::process::id()))
    }

    /// Opens the temp file for writing.
    pub fn open(&self) -> Result<DirectFile, SinkError> {
        let temp = self.temp();
        DirectFile::create(&temp, self.autosync).map_err(|err| SinkError::Open {
            path: temp.display().to_string(),
            dir: self.dir.display().to_string(),
            err,
        })
    }

    /// Makes the written temp file the dump: flush, fsync, rename, fsync the directory.
    pub fn commit(&self, w: DirectFile) -> Result<(), SinkError> {
        let result = (|| {
            let f = w.finish().map_err(SinkError::Write)?;
            f.sync_all().map_err(SinkError::Write)?;
            drop(f);
            let temp = self.temp();
            std::fs::rename(&temp, &self.target).map_err(|err| SinkError::Rename {
                from: temp.display().to_string(),
                to: self.target.display().to_string(),
                err,
            })?;
            if let Ok(d) = File::open(&self.dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            self.abort();
        }
        result
    }

    /// Writes a snapshot through the temp file: `write` gets the open file and returns it
    /// with its result; success commits, any failure removes the temp file.
    pub fn write_with<T, E: std::fmt::Display>(
        &self,
        write: impl FnOnce(DirectFile) -> Result<(DirectFile, T), E>,
    ) -> Result<T, String> {
        self.write_guarded(write, || Ok(()))
    }

    /// [`FileSink::write_with`], with a last say before the rename: `guard` runs once the
    /// file is written, and what it returns is held through the commit. An error from it
    /// drops the file instead (a save cancelled meanwhile must never replace the dump).
    pub fn write_guarded<T, G, E: std::fmt::Display>(
        &self,
        write: impl FnOnce(DirectFile) -> Result<(DirectFile, T), E>,
        guard: impl FnOnce() -> Result<G, String>,
    ) -> Result<T, String> {
        let out = self.open().map_err(|e| e.to_string())?;
        match write(out) {
            Ok((out, value)) => {
                let _held = guard().inspect_err(|_| self.abort())?;
                self.commit(out).map(|_| value).map_err(|e| e.to_string())
            }
            Err(e) => {
                self.abort();
                Err(format!("Write error saving DB on disk: {e}"))
            }
        }
    }

    /// Drops a failed attempt: the temp file goes, the previous dump stays.
    pub fn abort(&self) {
        let _ = std::fs::remove_file(self.temp());
    }
}
