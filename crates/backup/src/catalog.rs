//! [`Catalog`]: backup operations over any [`BackupStore`] — create (object first,
//! manifest last), list, describe, verified download, copy, delete — and the check of a
//! plain RDB's own footer for objects without a manifest.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Arc;

use crate::manifest::{Digest, DigestReader, DigestWriter, Manifest, Status, MANIFEST_SUFFIX};
use crate::{BackupError, BackupStore, Result};

pub struct Catalog {
    store: Arc<dyn BackupStore>,
}

/// What a snapshot writer reports: keys written and keys per database.
pub type WriteResult = std::result::Result<(u64, BTreeMap<String, u64>), String>;

/// The end of [`Catalog::create`].
pub enum CreateOutcome {
    Available(Manifest),
    /// The manifest as recorded (`failed`, with the error).
    Failed(Manifest),
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Catalog {
    pub fn new(store: Arc<dyn BackupStore>) -> Catalog {
        Catalog { store }
    }

    pub fn store(&self) -> &Arc<dyn BackupStore> {
        &self.store
    }

    /// Every manifest in the store, any status, oldest first. An `available` manifest
    /// whose object is missing or has another size is reported `failed`.
    pub fn manifests(&self) -> Result<Vec<Manifest>> {
        let objects = self.store.list()?;
        let sizes: BTreeMap<&str, u64> = objects.iter().map(|o| (o.key.as_str(), o.size)).collect();
        let mut out = Vec::new();
        for o in &objects {
            if !o.key.ends_with(MANIFEST_SUFFIX) {
                continue;
            }
            let data = match self.store.get(&o.key) {
                Ok(d) => d,
                Err(BackupError::NotFound(_)) => continue, // deleted meanwhile
                Err(e) => return Err(e),
            };
            let mut m = match Manifest::from_json(&data) {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!("skipping backup manifest {}: {e}", o.key);
                    continue;
                }
            };
            if m.status == Status::Available && sizes.get(m.object.as_str()) != Some(&m.bytes) {
                m.status = Status::Failed;
                m.error = Some(format!(
                    "the object {} is missing or not {} bytes",
                    m.object, m.bytes
                ));
            }
            out.push(m);
        }
        out.sort_by(|a, b| (a.created_unix, &a.name).cmp(&(b.created_unix, &b.name)));
        Ok(out)
    }

    /// The backups that can be restored, oldest first.
    pub fn available(&self) -> Result<Vec<Manifest>> {
        Ok(self
            .manifests()?
            .into_iter()
            .filter(|m| m.status == Status::Available)
            .collect())
    }

    /// The manifest of `name` as stored.
    pub fn describe(&self, name: &str) -> Result<Manifest> {
        let data = self
            .store
            .get(&Manifest::manifest_key(name))
            .map_err(|e| match e {
                BackupError::NotFound(_) => {
                    BackupError::NotFound(format!("backup '{name}' in {}", self.store.location()))
                }
                e => e,
            })?;
        Manifest::from_json(&data).map_err(BackupError::Invalid)
    }

    fn put_manifest(&self, m: &Manifest) -> Result<()> {
        self.store
            .put(&Manifest::manifest_key(&m.name), &m.to_json())
    }

    /// Creates a backup: records `manifest` (status `creating`), streams the object
    /// through `write`, then writes the final manifest. On any failure the upload is
    /// aborted and the manifest says `failed` (when the store still takes it).
    pub fn create(
        &self,
        mut manifest: Manifest,
        write: impl FnOnce(&mut dyn Write) -> WriteResult,
    ) -> CreateOutcome {
        let result = (|| -> std::result::Result<(), String> {
            self.put_manifest(&manifest).map_err(|e| e.to_string())?;
            let object = self
                .store
                .create(&manifest.object)
                .map_err(|e| e.to_string())?;
            let mut w = DigestWriter {
                inner: object,
                digest: Digest::default(),
            };
            let written = write(&mut w);
            let flushed = w.flush();
            let DigestWriter { inner, digest } = w;
            let (keys, per_db) = match (written, flushed) {
                (Ok(k), Ok(())) => k,
                (Err(e), _) => {
                    inner.abort();
                    return Err(e);
                }
                (_, Err(e)) => {
                    inner.abort();
                    return Err(e.to_string());
                }
            };
            inner.finish().map_err(|e| e.to_string())?;
            manifest.keys = keys;
            manifest.keys_per_db = per_db;
            manifest.bytes = digest.bytes;
            manifest.crc64 = digest.crc64_hex();
            manifest.sha256 = digest.sha256_hex();
            manifest.status = Status::Available;
            manifest.completed_unix = Some(now_unix());
            self.put_manifest(&manifest).map_err(|e| e.to_string())
        })();
        match result {
            Ok(()) => CreateOutcome::Available(manifest),
            Err(e) => {
                manifest.status = Status::Failed;
                manifest.error = Some(e);
                manifest.completed_unix = Some(now_unix());
                if let Err(e) = self.put_manifest(&manifest) {
                    tracing::warn!("cannot record the failed backup {}: {e}", manifest.name);
                }
                let _ = self.store.delete(&manifest.object);
                CreateOutcome::Failed(manifest)
            }
        }
    }

    /// Streams available backup `name` to `out`, verifying size, CRC-64 and SHA-256.
    /// On a mismatch the error says so (and what was written to `out` must be dropped).
    pub fn download(
        &self,
        name: &str,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Manifest> {
        let m = self.describe(name)?;
        if m.status != Status::Available {
            return Err(BackupError::Invalid(format!(
                "backup '{name}' is {}, not available{}",
                m.status.as_str(),
                m.error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            )));
        }
        let digest = copy_digest(self.store.open(&m.object)?, out, &mut |n| {
            progress(n, m.bytes)
        })?;
        digest.check(&m).map_err(|e| {
            BackupError::Invalid(format!("backup '{name}' failed verification: {e}"))
        })?;
        Ok(m)
    }

    /// Reads the whole object of `name` and checks it against its manifest.
    pub fn verify(&self, name: &str, progress: &mut dyn FnMut(u64, u64)) -> Result<Manifest> {
        self.download(name, &mut std::io::sink(), progress)
    }

    /// Deletes `name`: the manifest says `deleting` first, then the object goes, then
    /// the manifest.
    pub fn delete(&self, name: &str) -> Result<()> {
        let mut m = self.describe(name)?;
        m.status = Status::Deleting;
        self.put_manifest(&m)?;
        self.store.delete(&m.object)?;
        self.store.delete(&Manifest::manifest_key(name))
    }

    /// Copies available backup `name` to `dst` as `dst_name`, verifying the bytes on the
    /// way; the copy's manifest is written last.
    pub fn copy_to(
        &self,
        name: &str,
        dst: &Catalog,
        dst_name: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Manifest> {
        crate::manifest::validate_name(dst_name).map_err(BackupError::Invalid)?;
        let src = self.describe(name)?;
        if src.status != Status::Available {
            return Err(BackupError::Invalid(format!(
                "backup '{name}' is {}, not available",
                src.status.as_str()
            )));
        }
        if let Ok(existing) = dst.describe(dst_name) {
            if existing.status != Status::Failed {
                return Err(BackupError::Invalid(format!(
                    "backup '{dst_name}' already exists in {}",
                    dst.store.location()
                )));
            }
        }
        let mut copy = src.clone();
        copy.name = dst_name.to_string();
        copy.object = Manifest::object_key(dst_name);
        let mut w = dst.store.create(&copy.object)?;
        let digest = match copy_digest(self.store.open(&src.object)?, &mut w, &mut |n| {
            progress(n, src.bytes)
        }) {
            Ok(d) => d,
            Err(e) => {
                w.abort();
                return Err(e);
            }
        };
        if let Err(e) = digest.check(&src) {
            w.abort();
            return Err(BackupError::Invalid(format!(
                "backup '{name}' failed verification while copying: {e}"
            )));
        }
        w.finish()?;
        copy.completed_unix = Some(now_unix());
        dst.put_manifest(&copy)?;
        Ok(copy)
    }
}

/// Copies `r` to `out`, digesting, 1 MiB at a time.
pub fn copy_digest(
    r: impl Read,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<Digest> {
    let mut r = DigestReader {
        inner: r,
        digest: Digest::default(),
    };
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])?;
        progress(r.digest.bytes);
    }
    out.flush()?;
    Ok(r.digest)
}

/// Checks a plain RDB file's framing and footer: the `REDIS` magic, the EOF opcode, and
/// the CRC-64 of everything before the checksum (a zero checksum means it was saved
/// with `rdbchecksum no`; then only the framing is checked).
pub fn verify_rdb_file(path: &std::path::Path) -> std::result::Result<(), String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    if len < 9 + 9 {
        return Err(format!("{}: too short to be an RDB file", path.display()));
    }
    let mut crc = snapkv_rdb::Crc64::new();
    let body = len - 8;
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    let mut head = [0u8; 5];
    let mut last = 0u8;
    while done < body {
        let want = ((body - done) as usize).min(buf.len());
        f.read_exact(&mut buf[..want]).map_err(|e| e.to_string())?;
        if done == 0 {
            head.copy_from_slice(&buf[..5]);
        }
        crc.update(&buf[..want]);
        last = buf[want - 1];
        done += want as u64;
    }
    let mut footer = [0u8; 8];
    f.read_exact(&mut footer).map_err(|e| e.to_string())?;
    if &head != b"REDIS" {
        return Err(format!(
            "{}: not an RDB file (no REDIS magic)",
            path.display()
        ));
    }
    if last != 0xFF {
        return Err(format!(
            "{}: truncated RDB file (no EOF opcode before the checksum)",
            path.display()
        ));
    }
    let expected = u64::from_le_bytes(footer);
    if expected != 0 && expected != crc.value() {
        return Err(format!(
            "{}: RDB checksum mismatch (footer {expected:016x}, computed {:016x})",
            path.display(),
            crc.value()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::LocalStore;
    use crate::manifest::{Kind, Source};

    fn catalog(dir: &std::path::Path) -> Catalog {
        Catalog::new(Arc::new(LocalStore::new(dir).unwrap()))
    }

    fn make(c: &Catalog, name: &str, data: &'static [u8]) -> CreateOutcome {
        let m = Manifest::new(name, Kind::Manual, Source::default(), "forkless", 1000);
        c.create(m, |w| {
            w.write_all(data).map_err(|e| e.to_string())?;
            Ok((3, BTreeMap::from([("0".into(), 3)])))
        })
    }

    #[test]
    fn create_list_download_copy_delete() {
        let dir = tempfile::tempdir().unwrap();
        let c = catalog(dir.path());
        let CreateOutcome::Available(m) = make(&c, "b1", b"payload") else {
            panic!("failed")
        };
        assert_eq!(m.bytes, 7);
        assert_eq!(c.available().unwrap(), vec![m.clone()]);
        let mut out = Vec::new();
        c.download("b1", &mut out, &mut |_, _| {}).unwrap();
        assert_eq!(out, b"payload");

        let other = catalog(&dir.path().join("other"));
        let copy = c.copy_to("b1", &other, "b1-copy", &mut |_, _| {}).unwrap();
        assert_eq!(copy.sha256, m.sha256);
        assert_eq!(other.available().unwrap().len(), 1);
        assert!(c.copy_to("b1", &other, "b1-copy", &mut |_, _| {}).is_err());

        // Corrupt the object: listed as failed (size), download refuses.
        std::fs::write(dir.path().join("b1.rdb"), b"payloaX").unwrap();
        let err = c.verify("b1", &mut |_, _| {}).unwrap_err().to_string();
        assert!(err.contains("failed verification"), "{err}");
        std::fs::write(dir.path().join("b1.rdb"), b"short").unwrap();
        assert!(c.available().unwrap().is_empty());

        c.delete("b1").unwrap();
        assert!(c.manifests().unwrap().is_empty());
        assert!(matches!(c.describe("b1"), Err(BackupError::NotFound(_))));
    }

    #[test]
    fn a_failed_writer_leaves_a_failed_manifest_and_no_object() {
        let dir = tempfile::tempdir().unwrap();
        let c = catalog(dir.path());
        let m = Manifest::new("bad", Kind::Manual, Source::default(), "forkless", 1000);
        let CreateOutcome::Failed(m) = c.create(m, |w| {
            w.write_all(b"partial").map_err(|e| e.to_string())?;
            Err("snapshot failed".into())
        }) else {
            panic!("should fail")
        };
        assert_eq!(m.status, Status::Failed);
        assert!(c.available().unwrap().is_empty());
        assert_eq!(c.manifests().unwrap()[0].status, Status::Failed);
        assert!(!dir.path().join("bad.rdb").exists());
    }

    #[test]
    fn rdb_footer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.rdb");
        let mut body = b"REDIS0011".to_vec();
        body.push(0xFF);
        let crc = snapkv_rdb::crc64(&body);
        let mut good = body.clone();
        good.extend_from_slice(&crc.to_le_bytes());
        std::fs::write(&p, &good).unwrap();
        verify_rdb_file(&p).unwrap();
        good[6] ^= 1;
        std::fs::write(&p, &good).unwrap();
        assert!(verify_rdb_file(&p).unwrap_err().contains("checksum"));
        std::fs::write(&p, b"garbage garbage garbage").unwrap();
        assert!(verify_rdb_file(&p).is_err());
    }
}
