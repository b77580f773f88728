//! The manifest: a JSON document next to each RDB object (`<name>.manifest.json`),
//! written after the object is complete, so its `available` status vouches for the
//! object. Also [`Digest`], the streaming CRC-64 (Redis's) + SHA-256 of an object.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Manual,
    Automatic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Available,
    Failed,
    Deleting,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Manual => "manual",
            Kind::Automatic => "automatic",
        }
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Available => "available",
            Status::Failed => "failed",
            Status::Deleting => "deleting",
        }
    }
}

/// The server a backup came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub run_id: String,
    pub version: String,
    pub host: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub name: String,
    /// RFC 3339, UTC.
    pub created: String,
    pub created_unix: u64,
    pub source: Source,
    /// `fork`, `forkless`, or `import` (a copy of an existing RDB).
    pub engine: String,
    /// Keys written, in all databases.
    pub keys: u64,
    /// Keys per database at the snapshot's cut ("0" → n); empty databases left out.
    pub keys_per_db: BTreeMap<String, u64>,
    pub bytes: u64,
    /// CRC-64 (Redis's Jones polynomial) of the object up to its last 8 bytes, 16 hex
    /// digits: the RDB footer's own checksum when the RDB was written with `rdbchecksum
    /// yes` (the CRC of a whole checksummed RDB is always 0, so that would prove nothing).
    pub crc64: String,
    pub sha256: String,
    pub kind: Kind,
    pub status: Status,
    /// The RDB object's key, next to this manifest.
    pub object: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_unix: Option<u64>,
}

pub const MANIFEST_SUFFIX: &str = ".manifest.json";
pub const OBJECT_SUFFIX: &str = ".rdb";

/// Names: 1–128 of `[A-Za-z0-9._-]`, not starting with `.` or `-`.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid backup name '{name}': use 1-128 letters, digits, '.', '_' or '-'"
        ))
    }
}

impl Manifest {
    pub fn manifest_key(name: &str) -> String {
        format!("{name}{MANIFEST_SUFFIX}")
    }

    pub fn object_key(name: &str) -> String {
        format!("{name}{OBJECT_SUFFIX}")
    }

    /// A `creating` manifest for a new backup made now.
    pub fn new(name: &str, kind: Kind, source: Source, engine: &str, now_unix: u64) -> Manifest {
        Manifest {
            format: 1,
            name: name.to_string(),
            created: rfc3339(now_unix),
            created_unix: now_unix,
            source,
            engine: engine.to_string(),
            keys: 0,
            keys_per_db: BTreeMap::new(),
            bytes: 0,
            crc64: String::new(),
            sha256: String::new(),
            kind,
            status: Status::Creating,
            object: Manifest::object_key(name),
            error: None,
            completed_unix: None,
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("manifest serialises");
        v.push(b'\n');
        v
    }

    pub fn from_json(data: &[u8]) -> Result<Manifest, String> {
        serde_json::from_slice(data).map_err(|e| format!("unreadable manifest: {e}"))
    }
}

/// Streaming SHA-256 + length of a byte stream, and the CRC-64 of all but its last 8
/// bytes (see [`Manifest::crc64`]).
#[derive(Clone, Default)]
pub struct Digest {
    crc: snapkv_rdb::Crc64,
    sha: sha2::Sha256,
    /// The last (up to) 8 bytes seen, not yet in `crc`.
    tail: [u8; 8],
    tail_len: usize,
    pub bytes: u64,
}

impl Digest {
    pub fn update(&mut self, data: &[u8]) {
        self.sha.update(data);
        self.bytes += data.len() as u64;
        if data.len() >= 8 {
            self.crc.update(&self.tail[..self.tail_len]);
            let (body, last) = data.split_at(data.len() - 8);
            self.crc.update(body);
            self.tail.copy_from_slice(last);
            self.tail_len = 8;
        } else {
            let mut both = [0u8; 16];
            both[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
            both[self.tail_len..self.tail_len + data.len()].copy_from_slice(data);
            let n = self.tail_len + data.len();
            let keep = n.min(8);
            self.crc.update(&both[..n - keep]);
            self.tail[..keep].copy_from_slice(&both[n - keep..n]);
            self.tail_len = keep;
        }
    }

    pub fn crc64_hex(&self) -> String {
        format!("{:016x}", self.crc.value())
    }

    pub fn sha256_hex(&self) -> String {
        let out = self.sha.clone().finalize();
        out.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether this digest matches the manifest's size and checksums; the error says what
    /// differs.
    pub fn check(&self, m: &Manifest) -> Result<(), String> {
        if self.bytes != m.bytes {
            return Err(format!(
                "size mismatch: the object has {} bytes, the manifest says {}",
                self.bytes, m.bytes
            ));
        }
        if self.crc64_hex() != m.crc64 {
            return Err(format!(
                "CRC-64 mismatch: object {}, manifest {}",
                self.crc64_hex(),
                m.crc64
            ));
        }
        if self.sha256_hex() != m.sha256 {
            return Err(format!(
                "SHA-256 mismatch: object {}, manifest {}",
                self.sha256_hex(),
                m.sha256
            ));
        }
        Ok(())
    }
}

/// A writer that digests what passes through it.
pub struct DigestWriter<W> {
    pub inner: W,
    pub digest: Digest,
}

impl<W: Write> Write for DigestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that digests what passes through it.
pub struct DigestReader<R> {
    pub inner: R,
    pub digest: Digest,
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
}

/// `2026-11-24T19:57:18Z` for Unix seconds (UTC; civil-from-days, Howard Hinnant).
pub fn rfc3339(unix: u64) -> String {
    let days = (unix / 86400) as i64;
    let secs = unix % 86400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `20261124-195718`, for default backup names.
pub fn compact_time(unix: u64) -> String {
    let (y, m, d) = civil_from_days((unix / 86400) as i64);
    let secs = unix % 86400;
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_550_238), "2026-11-24T19:57:18Z");
        assert_eq!(compact_time(951_782_400), "20000229-000000");
    }

    #[test]
    fn digest_and_roundtrip() {
        // The CRC covers all but the last 8 bytes, however the stream is cut.
        let data = b"123456789abcdefgh";
        for cut in [0, 1, 3, 8, 9, 12, 17] {
            let mut d = Digest::default();
            for piece in data[..cut].chunks(2).chain(std::iter::once(&data[cut..])) {
                d.update(piece);
            }
            assert_eq!(d.crc64_hex(), "e9c6d914c4b8d9ca", "cut {cut}");
            assert_eq!(d.bytes, 17);
        }
        let mut d = Digest::default();
        d.update(b"1234");
        d.update(b"56789");
        assert_eq!(
            d.sha256_hex(),
            "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"
        );
        let mut m = Manifest::new("b1", Kind::Manual, Source::default(), "forkless", 7);
        m.bytes = 9;
        m.crc64 = d.crc64_hex();
        m.sha256 = d.sha256_hex();
        assert!(d.check(&m).is_ok());
        m.sha256.replace_range(0..1, "0");
        assert!(d.check(&m).unwrap_err().contains("SHA-256"));
        let back = Manifest::from_json(&m.to_json()).unwrap();
        assert_eq!(back, m);
        assert!(String::from_utf8(m.to_json())
            .unwrap()
            .contains("\"manual\""));
    }

    #[test]
    fn names() {
        assert!(validate_name("auto-20261124-0300").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("a/b").is_err());
        assert!(validate_name(".x").is_err());
    }
}
