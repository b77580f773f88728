//! [`LocalStore`]: backups in a directory. Objects are written to a hidden temp file,
//! fsynced and renamed into place by `finish`, so a partial object never has its name.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{BackupError, BackupStore, ObjectInfo, ObjectWriter, Result};

pub struct LocalStore {
    dir: PathBuf,
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

impl LocalStore {
    /// The store in `dir`; the directory is created by the first write.
    pub fn new(dir: impl Into<PathBuf>) -> Result<LocalStore> {
        Ok(LocalStore { dir: dir.into() })
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        if key.is_empty() || key.contains('/') || key.starts_with('.') {
            return Err(BackupError::Invalid(format!("invalid object key '{key}'")));
        }
        Ok(self.dir.join(key))
    }
}

struct LocalWriter {
    out: Option<BufWriter<File>>,
    temp: PathBuf,
    target: PathBuf,
    written: u64,
}

impl Write for LocalWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.as_mut().expect("open writer").write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.as_mut().expect("open writer").flush()
    }
}

impl ObjectWriter for LocalWriter {
    fn finish(mut self: Box<Self>) -> Result<u64> {
        let out = self.out.take().expect("open writer");
        let result = (|| -> std::io::Result<()> {
            let f = out.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            fs::rename(&self.temp, &self.target)?;
            if let Some(dir) = self.target.parent() {
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(self.written),
            Err(e) => {
                let _ = fs::remove_file(&self.temp);
                Err(e.into())
            }
        }
    }

    fn abort(self: Box<Self>) {
        // Drop removes the temp file.
    }
}

impl Drop for LocalWriter {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

impl BackupStore for LocalStore {
    fn location(&self) -> String {
        self.dir.display().to_string()
    }

    fn create(&self, key: &str) -> Result<Box<dyn ObjectWriter>> {
        let target = self.path(key)?;
        let temp = self.dir.join(format!(
            ".{key}.tmp-{}-{}",
            std::process::id(),
            TEMP_SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&self.dir).map_err(|e| {
            BackupError::Store(format!(
                "cannot create directory {}: {e}",
                self.dir.display()
            ))
        })?;
        let f = File::create(&temp)?;
        Ok(Box::new(LocalWriter {
            out: Some(BufWriter::with_capacity(1 << 20, f)),
            temp,
            target,
            written: 0,
        }))
    }

    fn open(&self, key: &str) -> Result<Box<dyn std::io::Read + Send>> {
        let path = self.path(key)?;
        match File::open(&path) {
            Ok(f) => Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, f))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(BackupError::NotFound(path.display().to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn list(&self) -> Result<Vec<ObjectInfo>> {
        let mut out = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            r => r?,
        };
        for e in entries {
            let e = e?;
            let key = e.file_name().to_string_lossy().into_owned();
            let meta = e.metadata()?;
            if key.starts_with('.') || !meta.is_file() {
                continue;
            }
            out.push(ObjectInfo {
                key,
                size: meta.len(),
            });
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn delete(&self, key: &str) -> Result<()> {
        match fs::remove_file(self.path(key)?) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_list_read_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalStore::new(dir.path().join("b")).unwrap();
        assert!(s.list().unwrap().is_empty());
        let mut w = s.create("a.rdb").unwrap();
        w.write_all(b"hello").unwrap();
        // Not visible before finish.
        assert!(s.list().unwrap().is_empty());
        assert_eq!(w.finish().unwrap(), 5);
        assert_eq!(
            s.list().unwrap(),
            vec![ObjectInfo {
                key: "a.rdb".into(),
                size: 5
            }]
        );
        assert_eq!(s.get("a.rdb").unwrap(), b"hello");
        let mut w = s.create("b.rdb").unwrap();
        w.write_all(b"x").unwrap();
        w.abort();
        assert_eq!(s.list().unwrap().len(), 1);
        s.delete("a.rdb").unwrap();
        s.delete("a.rdb").unwrap();
        assert!(matches!(s.open("a.rdb"), Err(BackupError::NotFound(_))));
        assert!(s.create("../x").is_err());
    }
}
