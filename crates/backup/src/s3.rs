//! [`S3Store`]: backups in an S3 bucket under a prefix, through `aws-sdk-s3` — the only
//! code in snapkv that knows AWS. Standard credential chain and region (with
//! `us-east-1` when none is configured); `endpoint` and path-style addressing for MinIO,
//! moto and other S3-compatible stores; optional SSE.
//!
//! Uploads: bytes fill a part buffer of `part_size`; each full part is uploaded by a task
//! on this store's own runtime while the writer keeps filling the next one, at most
//! `concurrency` parts in flight — memory stays under `(concurrency + 1) × part_size`.
//! An object smaller than one part is a single PUT. Any failure (or dropping the writer
//! unfinished) aborts the multipart upload.
//!
//! The blocking facade (`block_on` on the store's runtime) must never be called from a
//! tokio worker thread; snapkv calls it only from its backup thread and the CLI.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use aws_sdk_s3::Client;
use bytes::Bytes;
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::{BackupError, BackupStore, ObjectInfo, ObjectWriter, Result};

/// S3 settings (from `backup-s3-*`).
#[derive(Debug, Clone)]
pub struct S3Options {
    /// Endpoint URL override (`http://127.0.0.1:9000`); implies path-style addressing.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Server-side encryption header value (`AES256`, `aws:kms`).
    pub sse: Option<String>,
    /// Multipart part size, bytes (S3 needs ≥ 5 MiB for all parts but the last).
    pub part_size: usize,
    /// Parts uploaded at once.
    pub concurrency: usize,
    /// Per-attempt timeout of one request.
    pub timeout: Duration,
}

impl Default for S3Options {
    fn default() -> S3Options {
        S3Options {
            endpoint: None,
            region: None,
            sse: None,
            part_size: 8 << 20,
            concurrency: 4,
            timeout: Duration::from_secs(60),
        }
    }
}

pub struct S3Store {
    rt: Arc<Runtime>,
    client: Client,
    bucket: String,
    prefix: String,
    opts: S3Options,
}

fn store_err(what: &str, e: impl std::error::Error) -> BackupError {
    BackupError::Store(format!("{what}: {}", DisplayErrorContext(e)))
}

fn io_err(e: BackupError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl S3Store {
    pub fn new(bucket: &str, prefix: &str, opts: &S3Options) -> Result<S3Store> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("snapkv-s3")
            .enable_all()
            .build()?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(r) = &opts.region {
            loader = loader.region(Region::new(r.clone()));
        }
        let sdk = rt.block_on(loader.load());
        let mut b = aws_sdk_s3::config::Builder::from(&sdk)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .read_timeout(opts.timeout)
                    .operation_attempt_timeout(opts.timeout)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            // S3-compatible stores differ in the newer default checksums; ours are in the
            // manifest.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if sdk.region().is_none() {
            b = b.region(Region::new("us-east-1"));
        }
        if let Some(ep) = &opts.endpoint {
            b = b.endpoint_url(ep).force_path_style(true);
        }
        Ok(S3Store {
            rt: Arc::new(rt),
            client: Client::from_conf(b.build()),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            opts: S3Options {
                part_size: opts.part_size.max(1 << 20),
                concurrency: opts.concurrency.max(1),
                ..opts.clone()
            },
        })
    }

    fn full_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    fn sse(&self) -> Option<ServerSideEncryption> {
        self.opts
            .sse
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(ServerSideEncryption::from)
    }

    /// Creates the bucket (tests and first-time set-up); an existing one is fine.
    pub fn create_bucket(&self) -> Result<()> {
        let r = self
            .rt
            .block_on(self.client.create_bucket().bucket(&self.bucket).send());
        match r {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(store_err("create bucket", e)),
        }
    }

    /// Multipart uploads still open under the prefix (to check that failures abort).
    pub fn open_uploads(&self) -> Result<Vec<String>> {
        let out = self
            .rt
            .block_on(
                self.client
                    .list_multipart_uploads()
                    .bucket(&self.bucket)
                    .prefix(&self.prefix)
                    .send(),
            )
            .map_err(|e| store_err("list multipart uploads", e))?;
        Ok(out
            .uploads()
            .iter()
            .filter_map(|u| u.key().map(str::to_string))
            .collect())
    }
}

struct S3Writer {
    rt: Arc<Runtime>,
    client: Client,
    bucket: String,
    key: String,
    sse: Option<ServerSideEncryption>,
    part_size: usize,
    buf: Vec<u8>,
    upload_id: Option<String>,
    next_part: i32,
    inflight: Vec<JoinHandle<std::result::Result<CompletedPart, String>>>,
    permits: Arc<Semaphore>,
    written: u64,
    done: bool,
}

impl S3Writer {
    fn upload_id(&mut self) -> Result<String> {
        if let Some(id) = &self.upload_id {
            return Ok(id.clone());
        }
        let out = self
            .rt
            .block_on(
                self.client
                    .create_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .set_server_side_encryption(self.sse.clone())
                    .send(),
            )
            .map_err(|e| store_err("create multipart upload", e))?;
        let id = out
            .upload_id()
            .ok_or_else(|| BackupError::Store("no upload id in the reply".into()))?
            .to_string();
        self.upload_id = Some(id.clone());
        Ok(id)
    }

    /// Fails fast when an earlier part already failed.
    fn check_finished_parts(&mut self) -> Result<()> {
        let mut i = 0;
        while i < self.inflight.len() {
            if self.inflight[i].is_finished() {
                let h = self.inflight.remove(i);
                let part = self
                    .rt
                    .block_on(h)
                    .map_err(|e| BackupError::Store(e.to_string()))?
                    .map_err(BackupError::Store)?;
                // Keep the finished part as an already-completed task.
                self.inflight
                    .insert(i, self.rt.spawn(async move { Ok(part) }));
            }
            i += 1;
        }
        Ok(())
    }

    /// Hands the buffer to an upload task (waiting for a free slot).
    fn send_part(&mut self) -> Result<()> {
        let id = self.upload_id()?;
        self.check_finished_parts()?;
        let permit = self
            .rt
            .block_on(self.permits.clone().acquire_owned())
            .map_err(|e| BackupError::Store(e.to_string()))?;
        let n = self.next_part;
        self.next_part += 1;
        let body = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(self.part_size),
        ));
        let req = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(id)
            .part_number(n)
            .body(ByteStream::from(body));
        self.inflight.push(self.rt.spawn(async move {
            let out = req
                .send()
                .await
                .map_err(|e| format!("upload part {n}: {}", DisplayErrorContext(e)))?;
            drop(permit);
            Ok(CompletedPart::builder()
                .set_e_tag(out.e_tag().map(str::to_string))
                .part_number(n)
                .build())
        }));
        Ok(())
    }

    fn complete(&mut self) -> Result<()> {
        if self.upload_id.is_none() {
            let body = ByteStream::from(Bytes::from(std::mem::take(&mut self.buf)));
            self.rt
                .block_on(
                    self.client
                        .put_object()
                        .bucket(&self.bucket)
                        .key(&self.key)
                        .set_server_side_encryption(self.sse.clone())
                        .body(body)
                        .send(),
                )
                .map_err(|e| store_err("put object", e))?;
            return Ok(());
        }
        if !self.buf.is_empty() {
            self.send_part()?;
        }
        let mut parts = Vec::new();
        let mut first_err = None;
        for h in std::mem::take(&mut self.inflight) {
            match self.rt.block_on(h) {
                Ok(Ok(p)) => parts.push(p),
                Ok(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                Err(e) => {
                    first_err.get_or_insert(e.to_string());
                }
            }
        }
        if let Some(e) = first_err {
            return Err(BackupError::Store(e));
        }
        parts.sort_by_key(|p| p.part_number());
        self.rt
            .block_on(
                self.client
                    .complete_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .upload_id(self.upload_id.clone().unwrap_or_default())
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(parts))
                            .build(),
                    )
                    .send(),
            )
            .map_err(|e| store_err("complete multipart upload", e))?;
        Ok(())
    }

    fn abort_upload(&mut self) {
        self.done = true;
        for h in std::mem::take(&mut self.inflight) {
            h.abort();
        }
        if let Some(id) = self.upload_id.take() {
            let r = self.rt.block_on(
                self.client
                    .abort_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .upload_id(&id)
                    .send(),
            );
            match r {
                Ok(_) => tracing::info!("aborted the multipart upload of {}", self.key),
                Err(e) => tracing::warn!(
                    "cannot abort the multipart upload {id} of {}: {}",
                    self.key,
                    DisplayErrorContext(e)
                ),
            }
        }
    }
}

impl Write for S3Writer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.part_size - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        self.written += n as u64;
        if self.buf.len() >= self.part_size {
            self.send_part().map_err(io_err)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl ObjectWriter for S3Writer {
    fn finish(mut self: Box<Self>) -> Result<u64> {
        match self.complete() {
            Ok(()) => {
                self.done = true;
                Ok(self.written)
            }
            Err(e) => {
                self.abort_upload();
                Err(e)
            }
        }
    }

    fn abort(mut self: Box<Self>) {
        self.abort_upload();
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        if !self.done {
            self.abort_upload();
        }
    }
}

/// A streaming GET body as `io::Read`.
struct S3Reader {
    rt: Arc<Runtime>,
    body: ByteStream,
    chunk: Bytes,
}

impl Read for S3Reader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rt.block_on(self.body.try_next()) {
                Ok(Some(c)) => self.chunk = c,
                Ok(None) => return Ok(0),
                Err(e) => return Err(std::io::Error::other(e)),
            }
        }
        let n = out.len().min(self.chunk.len());
        out[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

impl BackupStore for S3Store {
    fn location(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    fn create(&self, key: &str) -> Result<Box<dyn ObjectWriter>> {
        Ok(Box::new(S3Writer {
            rt: self.rt.clone(),
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: self.full_key(key),
            sse: self.sse(),
            part_size: self.opts.part_size,
            buf: Vec::new(),
            upload_id: None,
            next_part: 1,
            inflight: Vec::new(),
            permits: Arc::new(Semaphore::new(self.opts.concurrency)),
            written: 0,
            done: false,
        }))
    }

    fn open(&self, key: &str) -> Result<Box<dyn Read + Send>> {
        let full = self.full_key(key);
        let r = self.rt.block_on(
            self.client
                .get_object()
                .bucket(&self.bucket)
                .key(&full)
                .send(),
        );
        match r {
            Ok(out) => Ok(Box::new(S3Reader {
                rt: self.rt.clone(),
                body: out.body,
                chunk: Bytes::new(),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Err(
                BackupError::NotFound(format!("s3://{}/{full}", self.bucket)),
            ),
            Err(e) => Err(store_err(&format!("get s3://{}/{full}", self.bucket), e)),
        }
    }

    fn list(&self) -> Result<Vec<ObjectInfo>> {
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .rt
                .block_on(
                    self.client
                        .list_objects_v2()
                        .bucket(&self.bucket)
                        .prefix(&prefix)
                        .set_continuation_token(token.take())
                        .send(),
                )
                .map_err(|e| store_err(&format!("list s3://{}/{prefix}", self.bucket), e))?;
            for o in page.contents() {
                let Some(key) = o.key().and_then(|k| k.strip_prefix(&prefix)) else {
                    continue;
                };
                // Only this level: deeper keys belong to other prefixes.
                if key.is_empty() || key.contains('/') {
                    continue;
                }
                out.push(ObjectInfo {
                    key: key.to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                });
            }
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.rt
            .block_on(
                self.client
                    .delete_object()
                    .bucket(&self.bucket)
                    .key(self.full_key(key))
                    .send(),
            )
            .map_err(|e| store_err("delete object", e))?;
        Ok(())
    }
}
