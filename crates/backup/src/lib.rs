//! Backups: RDB snapshots written to durable storage, managed (manual and automatic,
//! limits, retention), and read back to seed a new server.
//!
//! # Layout
//! - `lib.rs`: the [`BackupStore`] trait (objects under one prefix: streaming create,
//!   streaming open, list, delete) and [`Target`] parsing (`s3://bucket/prefix` or a path).
//! - [`local`]: a directory — the embedded default, so nothing needs S3.
//! - [`s3`]: S3 through `aws-sdk-s3` — the only code that knows AWS. Multipart uploads with
//!   bounded memory and concurrent parts; failed uploads are aborted.
//! - [`manifest`]: the JSON manifest written next to each RDB object, and the streaming
//!   CRC-64 + SHA-256 digest.
//! - [`catalog`]: backup operations over any store: create (manifest last), list, describe,
//!   download with verification, copy, delete.
//! - [`restore`]: fetching a restore source (name, `s3://` object, path) verified.
//! - [`retention`]: the backup window, retention pruning, the manual limit per 24 hours.
//!
//! Invariants: a backup is listed as available only when its manifest (written after the
//! object completed) says so and the object exists with the manifest's size; the store API
//! is blocking and must only be called off the command-serving threads.

pub mod catalog;
pub mod local;
pub mod manifest;
pub mod restore;
pub mod retention;
pub mod s3;

use std::io::{Read, Write};
use std::sync::Arc;

pub use catalog::{Catalog, CreateOutcome};
pub use manifest::{Digest, Kind, Manifest, Source, Status};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("backup store error: {0}")]
    Store(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, BackupError>;

/// One object under a store's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The key relative to the store's prefix.
    pub key: String,
    pub size: u64,
}

/// An object being written. Bytes go in through `Write`; only `finish` makes the object
/// exist. Dropping it unfinished (or `abort`) discards everything written.
pub trait ObjectWriter: Write + Send {
    /// Completes the object; returns its size.
    fn finish(self: Box<Self>) -> Result<u64>;
    /// Discards the object (a multipart upload is aborted).
    fn abort(self: Box<Self>);
}

/// Where backups live: objects under one prefix. Blocking calls; see the crate invariants.
pub trait BackupStore: Send + Sync {
    /// The store as a target string (`s3://bucket/prefix` or a directory path).
    fn location(&self) -> String;
    /// Starts writing `key`.
    fn create(&self, key: &str) -> Result<Box<dyn ObjectWriter>>;
    /// Opens `key` for streaming reads; [`BackupError::NotFound`] when missing.
    fn open(&self, key: &str) -> Result<Box<dyn Read + Send>>;
    /// Every object under the prefix.
    fn list(&self) -> Result<Vec<ObjectInfo>>;
    /// Removes `key` (missing is not an error).
    fn delete(&self, key: &str) -> Result<()>;

    /// Writes a small object in one go.
    fn put(&self, key: &str, data: &[u8]) -> Result<()> {
        let mut w = self.create(key)?;
        if let Err(e) = w.write_all(data) {
            w.abort();
            return Err(e.into());
        }
        w.finish().map(|_| ())
    }

    /// Reads a small object whole.
    fn get(&self, key: &str) -> Result<Vec<u8>> {
        let mut r = self.open(key)?;
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }
}

/// A parsed `backup-target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Local(std::path::PathBuf),
    S3 { bucket: String, prefix: String },
}

impl Target {
    /// `s3://bucket[/prefix]` or a directory path.
    pub fn parse(s: &str) -> Result<Target> {
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(BackupError::Invalid(format!(
                    "'{s}': an S3 target needs a bucket (s3://bucket/prefix)"
                )));
            }
            Ok(Target::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
            })
        } else if s.is_empty() {
            Err(BackupError::Invalid("empty backup target".into()))
        } else {
            Ok(Target::Local(s.into()))
        }
    }
}

/// Opens the store for `target` (S3 settings from `s3`).
pub fn open_store(target: &str, s3: &s3::S3Options) -> Result<Arc<dyn BackupStore>> {
    Ok(match Target::parse(target)? {
        Target::Local(dir) => Arc::new(local::LocalStore::new(dir)?),
        Target::S3 { bucket, prefix } => Arc::new(s3::S3Store::new(&bucket, &prefix, s3)?),
    })
}

/// Copies an object between stores, streaming (`progress` gets the bytes copied so far).
pub fn copy_object(
    src: &dyn BackupStore,
    src_key: &str,
    dst: &dyn BackupStore,
    dst_key: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let mut r = src.open(src_key)?;
    let mut w = dst.create(dst_key)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    let result = (|| -> Result<()> {
        loop {
            let k = r.read(&mut buf)?;
            if k == 0 {
                return Ok(());
            }
            w.write_all(&buf[..k])?;
            n += k as u64;
            progress(n);
        }
    })();
    match result {
        Ok(()) => w.finish(),
        Err(e) => {
            w.abort();
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(
            Target::parse("s3://b/x/y/").unwrap(),
            Target::S3 {
                bucket: "b".into(),
                prefix: "x/y".into()
            }
        );
        assert_eq!(
            Target::parse("s3://b").unwrap(),
            Target::S3 {
                bucket: "b".into(),
                prefix: "".into()
            }
        );
        assert!(Target::parse("s3:///x").is_err());
        assert_eq!(
            Target::parse("/tmp/b").unwrap(),
            Target::Local("/tmp/b".into())
        );
    }
}
