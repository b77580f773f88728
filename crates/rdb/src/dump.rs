//! DUMP / RESTORE payloads: `<type><value> <RDB version u16 LE> <CRC-64 LE of all before>`,
//! byte-compatible with Redis 7.0.

use crate::consts::*;
use crate::crc64::crc64;
use crate::decode;
use crate::encode::{Encoder, WriteOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::input::{Input, Progress};
use crate::value::Value;
use std::sync::Arc;

/// Serialise a value as DUMP does (default encoding options, compression on).
pub fn dump_payload(value: &Value) -> Vec<u8> {
    dump_payload_with(value, &mut Encoder::new(WriteOptions::default()))
}

/// Serialise with a caller-held encoder (reuses its LZF table and options).
pub fn dump_payload_with(value: &Value, enc: &mut Encoder) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = match value {
        Value::Str(s) => {
            enc.string(&mut out, None, s);
            Ok(())
        }
        Value::List(v) => enc.list(&mut out, None, v.iter()),
        Value::Set(v) => enc.set(&mut out, None, v.iter()),
        Value::Hash(v) => enc.hash(&mut out, None, v.iter().map(|(f, v)| (f, v))),
        Value::HashWithTtl(v) => enc.hash(&mut out, None, v.iter().map(|(f, v, _)| (f, v))),
        Value::ZSet(v) => enc.zset(&mut out, None, v.iter().map(|(m, s)| (m, *s))),
        Value::Stream(s) => enc.stream(&mut out, None, s),
    };
    finish_dump(&mut out);
    out
}

/// Append the version and CRC footer to a value payload.
pub fn finish_dump(out: &mut Vec<u8>) {
    out.extend_from_slice(&RDB_VERSION_WRITTEN.to_le_bytes());
    let crc = crc64(out);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Check a payload's footer (`verifyDumpPayload`): version ≤ 12 and matching CRC.
/// Returns the RDB version.
pub fn verify_dump_payload(payload: &[u8]) -> Result<u16> {
    if payload.len() < 10 {
        return Err(Error::new(0, ErrorKind::BadDumpPayload));
    }
    let n = payload.len();
    let version = u16::from_le_bytes([payload[n - 10], payload[n - 9]]);
    if version as u32 > RDB_VERSION_MAX_READ {
        return Err(Error::new((n - 10) as u64, ErrorKind::BadDumpPayload));
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&payload[n - 8..]);
    let crc = u64::from_le_bytes(crc);
    // Redis skips the check when the checksum is 0 (rdbchecksum no on the source).
    if crc != 0 && crc != crate::crc64::crc64(&payload[..n - 8]) {
        return Err(Error::new((n - 8) as u64, ErrorKind::BadDumpPayload));
    }
    Ok(version)
}

/// Parse a RESTORE payload into a value, after verifying its footer.
pub fn parse_dump_payload(payload: &[u8]) -> Result<Value> {
    verify_dump_payload(payload)?;
    let body = &payload[..payload.len() - 10];
    let mut inp = Input::new(body, Arc::new(Progress::default()));
    let ty = inp.u8()?;
    if !decode::is_value_type(ty) {
        return Err(Error::new(0, ErrorKind::UnknownType(ty)));
    }
    let v = decode::value(&mut inp, ty)?;
    if !inp.at_end()? {
        return Err(Error::new(inp.offset(), ErrorKind::TrailingData));
    }
    Ok(v)
}

/// Building DUMP payloads from borrowed data (no owned `Value`): each call appends the
/// type byte and the value, then `finish_dump` appends the footer.
///
/// ```
/// use snapkv_rdb::{dump::ValueEncoder, Encoder, WriteOptions, parse_dump_payload, Value};
/// let mut enc = Encoder::new(WriteOptions::default());
/// let mut out = Vec::new();
/// enc.dump_hash(&mut out, [(&b"f"[..], &b"v"[..])].into_iter());
/// snapkv_rdb::dump::finish_dump(&mut out);
/// assert_eq!(parse_dump_payload(&out).unwrap(), Value::Hash(vec![(b"f".to_vec(), b"v".to_vec())]));
/// ```
pub trait ValueEncoder {
    fn dump_string(&mut self, out: &mut Vec<u8>, v: &[u8]);
    fn dump_int_string(&mut self, out: &mut Vec<u8>, v: i64);
    fn dump_list<I>(&mut self, out: &mut Vec<u8>, items: I)
    where
        I: Iterator + Clone,
        I::Item: AsRef<[u8]>;
    fn dump_set<I>(&mut self, out: &mut Vec<u8>, members: I)
    where
        I: Iterator + Clone,
        I::Item: AsRef<[u8]>;
    fn dump_hash<I, F, V>(&mut self, out: &mut Vec<u8>, pairs: I)
    where
        I: Iterator<Item = (F, V)> + Clone,
        F: AsRef<[u8]>,
        V: AsRef<[u8]>;
    fn dump_zset<I, M>(&mut self, out: &mut Vec<u8>, members: I)
    where
        I: Iterator<Item = (M, f64)> + Clone,
        M: AsRef<[u8]>;
    fn dump_stream(&mut self, out: &mut Vec<u8>, stream: &crate::value::Stream);
}

// Writing into a Vec cannot fail, so the io::Result of the shared encoders is dropped.
impl ValueEncoder for Encoder {
    fn dump_string(&mut self, out: &mut Vec<u8>, v: &[u8]) {
        self.string(out, None, v);
    }
    fn dump_int_string(&mut self, out: &mut Vec<u8>, v: i64) {
        self.int_string(out, None, v);
    }
    fn dump_list<I>(&mut self, out: &mut Vec<u8>, items: I)
    where
        I: Iterator + Clone,
        I::Item: AsRef<[u8]>,
    {
        let _ = self.list(out, None, items);
    }
    fn dump_set<I>(&mut self, out: &mut Vec<u8>, members: I)
    where
        I: Iterator + Clone,
        I::Item: AsRef<[u8]>,
    {
        let _ = self.set(out, None, members);
    }
    fn dump_hash<I, F, V>(&mut self, out: &mut Vec<u8>, pairs: I)
    where
        I: Iterator<Item = (F, V)> + Clone,
        F: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        let _ = self.hash(out, None, pairs);
    }
    fn dump_zset<I, M>(&mut self, out: &mut Vec<u8>, members: I)
    where
        I: Iterator<Item = (M, f64)> + Clone,
        M: AsRef<[u8]>,
    {
        let _ = self.zset(out, None, members);
    }
    fn dump_stream(&mut self, out: &mut Vec<u8>, stream: &crate::value::Stream) {
        let _ = self.stream(out, None, stream);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_dump_of_small_string() {
        // `SET k hello` then `DUMP k` on Redis 7.0.
        let want = b"\x00\x05hello\x0a\x00";
        let p = dump_payload(&Value::Str(b"hello".to_vec()));
        assert_eq!(&p[..want.len()], want);
        assert_eq!(
            parse_dump_payload(&p).unwrap(),
            Value::Str(b"hello".to_vec())
        );
        let mut bad = p.clone();
        bad[2] ^= 1;
        assert!(parse_dump_payload(&bad).is_err());
        assert!(parse_dump_payload(&p[..5]).is_err());
    }
}
