//! The baseline for `benches/backup-compare.py`: uploads a file to S3 with `aws-sdk-s3`
//! directly — multipart, the same part size and concurrency as snapkv's backups, no
//! snapkv code — and prints `bytes seconds MB/s`.
//!
//! `cargo run --release -p snapkv-backup --example raw_upload -- FILE s3://bucket/key
//!  [--endpoint URL] [--part-mb 8] [--concurrency 4]`

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_s3::config::{Region, RequestChecksumCalculation};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let (Some(file), Some(url)) = (args.first(), args.get(1)) else {
        eprintln!("usage: raw_upload FILE s3://bucket/key [--endpoint URL] [--part-mb 8] [--concurrency 4]");
        std::process::exit(2);
    };
    let part = opt("--part-mb")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(8)
        << 20;
    let concurrency = opt("--concurrency")
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let (bucket, key) = url
        .strip_prefix("s3://")
        .and_then(|r| r.split_once('/'))
        .expect("s3://bucket/key");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .load()
        .await;
    let mut b = aws_sdk_s3::config::Builder::from(&sdk)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
    if let Some(ep) = opt("--endpoint") {
        b = b.endpoint_url(ep).force_path_style(true);
    }
    let client = aws_sdk_s3::Client::from_conf(b.build());
    let started = Instant::now();
    let id = client
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("create multipart upload")
        .upload_id()
        .expect("upload id")
        .to_string();
    let mut f = std::fs::File::open(file).expect("open file");
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = Vec::new();
    let mut total = 0u64;
    for n in 1.. {
        let mut buf = vec![0u8; part];
        let mut got = 0;
        while got < part {
            let k = f.read(&mut buf[got..]).expect("read");
            if k == 0 {
                break;
            }
            got += k;
        }
        if got == 0 {
            break;
        }
        buf.truncate(got);
        total += got as u64;
        let permit = permits.clone().acquire_owned().await.expect("permit");
        let req = client
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(buf));
        tasks.push(tokio::spawn(async move {
            let out = req.send().await.expect("upload part");
            drop(permit);
            CompletedPart::builder()
                .set_e_tag(out.e_tag().map(str::to_string))
                .part_number(n)
                .build()
        }));
        if got < part {
            break;
        }
    }
    let mut parts = Vec::new();
    for t in tasks {
        parts.push(t.await.expect("join"));
    }
    client
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    let secs = started.elapsed().as_secs_f64();
    println!("{total} {secs:.3} {:.1}", total as f64 / secs / 1e6);
}
