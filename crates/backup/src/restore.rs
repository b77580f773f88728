//! Fetching a restore source to a local file, verified: a backup NAME in the target, an
//! `s3://bucket/key.rdb` object, or a path — with its manifest when one sits next to it
//! (size, CRC-64, SHA-256), and always the RDB's own footer (magic, EOF, CRC-64) — so an
//! RDB made by real Redis restores too. Nothing is left at `dest` unless all checks pass.

use std::path::{Path, PathBuf};

use crate::catalog::{copy_digest, verify_rdb_file, Catalog};
use crate::manifest::{Manifest, MANIFEST_SUFFIX, OBJECT_SUFFIX};
use crate::s3::{S3Options, S3Store};
use crate::{open_store, BackupError, Target};

/// Where a restore came from and what verified it.
#[derive(Debug)]
pub struct Fetched {
    pub source: String,
    pub bytes: u64,
    /// The manifest it was verified against, if there was one.
    pub manifest: Option<Manifest>,
}

/// Splits `dir/name.rdb` into (dir, name.rdb).
fn split_key(key: &str) -> (&str, &str) {
    key.rsplit_once('/').unwrap_or(("", key))
}

/// Fetches `source` into `dest` (via a temp file next to it), verified.
pub fn fetch(
    source: &str,
    default_target: &str,
    s3: &S3Options,
    dest: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Fetched, String> {
    let temp = PathBuf::from(format!("{}.restore-{}", dest.display(), std::process::id()));
    let result = fetch_to(source, default_target, s3, &temp, progress).and_then(|f| {
        verify_rdb_file(&temp)?;
        std::fs::rename(&temp, dest).map_err(|e| format!("{}: {e}", dest.display()))?;
        Ok(f)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

fn fetch_to(
    source: &str,
    default_target: &str,
    s3: &S3Options,
    temp: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Fetched, String> {
    let mut out = std::fs::File::create(temp).map_err(|e| format!("{}: {e}", temp.display()))?;
    let fail = |e: BackupError| e.to_string();
    // s3://bucket/dir/object.rdb
    if let Some(rest) = source.strip_prefix("s3://") {
        let (bucket, key) = rest
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| format!("'{source}': expected s3://bucket/key.rdb"))?;
        let (dir, object) = split_key(key);
        let store = std::sync::Arc::new(S3Store::new(bucket, dir, s3).map_err(fail)?);
        let catalog = Catalog::new(store.clone());
        if let Some(name) = object.strip_suffix(OBJECT_SUFFIX) {
            if catalog.describe(name).is_ok() {
                let m = catalog.download(name, &mut out, progress).map_err(fail)?;
                return Ok(Fetched {
                    source: source.into(),
                    bytes: m.bytes,
                    manifest: Some(m),
                });
            }
        }
        let r = crate::BackupStore::open(&*store, object).map_err(fail)?;
        let d = copy_digest(r, &mut out, &mut |n| progress(n, 0)).map_err(fail)?;
        return Ok(Fetched {
            source: source.into(),
            bytes: d.bytes,
            manifest: None,
        });
    }
    let path = Path::new(source);
    if source.contains('/') || path.is_file() {
        let f = std::fs::File::open(path).map_err(|e| format!("{source}: {e}"))?;
        let total = f.metadata().map(|m| m.len()).unwrap_or(0);
        let d = copy_digest(f, &mut out, &mut |n| progress(n, total)).map_err(fail)?;
        // A manifest next to the file (a backup in a local directory) is checked too.
        let manifest = source
            .strip_suffix(OBJECT_SUFFIX)
            .map(|stem| format!("{stem}{MANIFEST_SUFFIX}"))
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|data| Manifest::from_json(&data).ok());
        if let Some(m) = &manifest {
            d.check(m)
                .map_err(|e| format!("{source} failed verification: {e}"))?;
        }
        return Ok(Fetched {
            source: source.into(),
            bytes: d.bytes,
            manifest,
        });
    }
    // A backup name in the configured target.
    Target::parse(default_target).map_err(fail)?;
    let store = open_store(default_target, s3).map_err(fail)?;
    let catalog = Catalog::new(store);
    let m = catalog.download(source, &mut out, progress).map_err(fail)?;
    Ok(Fetched {
        source: format!("{source} in {default_target}"),
        bytes: m.bytes,
        manifest: Some(m),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Kind, Source};
    use std::collections::BTreeMap;

    fn rdb() -> Vec<u8> {
        let mut body = b"REDIS0011".to_vec();
        body.push(0xFF);
        let crc = snapkv_rdb::crc64(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        body
    }

    #[test]
    fn by_name_and_path_with_verification() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("backups");
        let c = Catalog::new(open_store(target.to_str().unwrap(), &S3Options::default()).unwrap());
        let m = Manifest::new("b", Kind::Manual, Source::default(), "forkless", 5);
        let data = rdb();
        let _ = c.create(m, |w| {
            w.write_all(&data).map_err(|e| e.to_string())?;
            Ok((0, BTreeMap::new()))
        });
        let dest = dir.path().join("dump.rdb");
        let t = target.to_str().unwrap();
        let f = fetch("b", t, &S3Options::default(), &dest, &mut |_, _| {}).unwrap();
        assert!(f.manifest.is_some());
        assert_eq!(std::fs::read(&dest).unwrap(), data);

        let e = fetch("nope", t, &S3Options::default(), &dest, &mut |_, _| {}).unwrap_err();
        assert!(e.contains("not found"), "{e}");

        // Corrupt the object: by name and by path, refused; nothing replaces dest.
        let obj = target.join("b.rdb");
        let mut bad = data.clone();
        bad[7] ^= 1;
        std::fs::write(&obj, &bad).unwrap();
        let e = fetch("b", t, &S3Options::default(), &dest, &mut |_, _| {}).unwrap_err();
        assert!(e.contains("verification"), "{e}");
        let e = fetch(
            obj.to_str().unwrap(),
            t,
            &S3Options::default(),
            &dest,
            &mut |_, _| {},
        )
        .unwrap_err();
        assert!(e.contains("verification"), "{e}");
        assert_eq!(std::fs::read(&dest).unwrap(), data);

        // A plain RDB without a manifest: its footer is checked.
        let plain = dir.path().join("plain.rdb");
        std::fs::write(&plain, &bad).unwrap();
        let e = fetch(
            plain.to_str().unwrap(),
            t,
            &S3Options::default(),
            &dest,
            &mut |_, _| {},
        )
        .unwrap_err();
        assert!(e.contains("checksum"), "{e}");
    }
}
