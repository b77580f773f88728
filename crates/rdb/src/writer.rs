//! Streaming RDB file writer (version 10): header, AUX fields, database selectors, entries
//! from borrowed data, EOF and the CRC-64 footer. Memory stays bounded by the output
//! buffer plus one listpack, whatever the dataset size.

use std::io::{self, Write};

use crate::consts::*;
use crate::crc64::Crc64;
use crate::encode::{put_len, Encoder, Sink, WriteOptions};
use crate::error::Result;
use crate::value::{Stream, Value};

/// Flush threshold for the output buffer.
const FLUSH_AT: usize = 64 * 1024;

struct Out<W> {
    w: W,
    buf: Vec<u8>,
    crc: Crc64,
    written: u64,
}

impl<W: Write> Out<W> {
    fn flush_buf(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.crc.update(&self.buf);
            self.w.write_all(&self.buf)?;
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }
}

impl<W: Write> Sink for Out<W> {
    fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf()?;
        }
        Ok(())
    }
}

/// Writes one RDB stream. Call `write_*` for each key (after `select_db`), then `finish`.
///
/// A `raw` writer (see `new_raw`) writes neither header nor footer: it produces a chunk of
/// entries that another writer splices in with `write_raw` (the forkless snapshot encodes
/// segments on several threads and concatenates them).
pub struct Writer<W: Write> {
    out: Out<W>,
    enc: Encoder,
}

impl<W: Write> Writer<W> {
    /// Start a file: writes `REDIS0010`.
    pub fn new(w: W, opts: WriteOptions) -> Result<Self> {
        let mut me = Self::new_raw(w, opts);
        me.out.buf.extend_from_slice(b"REDIS0010");
        Ok(me)
    }

    /// A headerless writer for chunks of entries.
    pub fn new_raw(w: W, opts: WriteOptions) -> Self {
        Self {
            out: Out {
                w,
                buf: Vec::with_capacity(FLUSH_AT + 4096),
                crc: Crc64::new(),
                written: 0,
            },
            enc: Encoder::new(opts),
        }
    }

    pub fn options(&self) -> &WriteOptions {
        self.enc.options()
    }

    /// Bytes produced so far (flushed or buffered).
    pub fn bytes_written(&self) -> u64 {
        self.out.written + self.out.buf.len() as u64
    }

    fn done_entry(&mut self) -> Result<()> {
        Ok(self.out.spill()?)
    }

    /// The AUX fields Redis 7.0 writes: redis-ver, redis-bits, ctime, used-mem, aof-base.
    pub fn write_default_aux(&mut self, ctime_s: i64, used_mem: u64) -> Result<()> {
        self.write_aux(b"redis-ver", b"7.0.15")?;
        self.write_aux(b"redis-bits", b"64")?;
        self.write_aux(b"ctime", ctime_s.to_string().as_bytes())?;
        self.write_aux(b"used-mem", used_mem.to_string().as_bytes())?;
        self.write_aux(b"aof-base", b"0")
    }

    pub fn write_aux(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.out.buf.push(OPCODE_AUX);
        self.enc.put_string(&mut self.out.buf, key);
        self.enc.put_string(&mut self.out.buf, value);
        self.done_entry()
    }

    pub fn select_db(&mut self, db: u64) -> Result<()> {
        self.out.buf.push(OPCODE_SELECTDB);
        put_len(&mut self.out.buf, db);
        self.done_entry()
    }

    /// Hash table size hints for the database just selected.
    pub fn resize_db(&mut self, db_size: u64, expires_size: u64) -> Result<()> {
        self.out.buf.push(OPCODE_RESIZEDB);
        put_len(&mut self.out.buf, db_size);
        put_len(&mut self.out.buf, expires_size);
        self.done_entry()
    }

    /// A function library (FUNCTION2 opcode) with its source code.
    pub fn write_function(&mut self, code: &[u8]) -> Result<()> {
        self.out.buf.push(OPCODE_FUNCTION2);
        self.enc.put_string(&mut self.out.buf, code);
        self.done_entry()
    }

    fn expire(&mut self, expire_ms: Option<i64>) {
        if let Some(ms) = expire_ms {
            self.out.buf.push(OPCODE_EXPIRETIME_MS);
            self.out.buf.extend_from_slice(&ms.to_le_bytes());
        }
    }

    pub fn write_string_entry(
        &mut self,
        key: &[u8],
        expire_ms: Option<i64>,
        value: &[u8],
    ) -> Result<()> {
        self.expire(expire_ms);
        self.enc.string(&mut self.out, Some(key), value);
        self.done_entry()
    }

    /// A string value held as an integer.
    pub fn write_int_string(
        &mut self,
        key: &[u8],
        expire_ms: Option<i64>,
        value: i64,
    ) -> Result<()> {
        self.expire(expire_ms);
        self.enc.int_string(&mut self.out, Some(key), value);
        self.done_entry()
    }

    /// A list; `items` is walked twice (node count first), so it must be cheap to clone.
    pub fn write_list<I>(&mut self, key: &[u8], expire_ms: Option<i64>, items: I) -> Result<()>
    where
        I: Iterator + Clone,
        I::Item: AsRef<[u8]>,
    {
        self.expire(expire_ms);
        self.enc.list(&mut self.out, Some(key), items)?;
        self.done_entry()
    }

    /// A set; intset when every member is a canonical integer and there are few enough.
    pub fn write_set<I>(&mut self, key: &[u8], expire_ms: Option<i64>, members: I) -> Result<()>
    where
        I: Iterator + Clone,
        I::Item: AsRef<[u8]>,
    {
        self.expire(expire_ms);
        self.enc.set(&mut self.out, Some(key), members)?;
        self.done_entry()
    }

    pub fn write_hash<I, F, V>(
        &mut self,
        key: &[u8],
        expire_ms: Option<i64>,
        pairs: I,
    ) -> Result<()>
    where
        I: Iterator<Item = (F, V)> + Clone,
        F: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        self.expire(expire_ms);
        self.enc.hash(&mut self.out, Some(key), pairs)?;
        self.done_entry()
    }

    pub fn write_zset<I, M>(&mut self, key: &[u8], expire_ms: Option<i64>, members: I) -> Result<()>
    where
        I: Iterator<Item = (M, f64)> + Clone,
        M: AsRef<[u8]>,
    {
        self.expire(expire_ms);
        self.enc.zset(&mut self.out, Some(key), members)?;
        self.done_entry()
    }

    pub fn write_stream(
        &mut self,
        key: &[u8],
        expire_ms: Option<i64>,
        stream: &Stream,
    ) -> Result<()> {
        self.expire(expire_ms);
        self.enc.stream(&mut self.out, Some(key), stream)?;
        self.done_entry()
    }

    /// Any owned value.
    pub fn write_entry(&mut self, key: &[u8], expire_ms: Option<i64>, value: &Value) -> Result<()> {
        match value {
            Value::Str(s) => self.write_string_entry(key, expire_ms, s),
            Value::List(v) => self.write_list(key, expire_ms, v.iter()),
            Value::Set(v) => self.write_set(key, expire_ms, v.iter()),
            Value::Hash(v) => self.write_hash(key, expire_ms, v.iter().map(|(f, v)| (f, v))),
            Value::HashWithTtl(v) => {
                self.write_hash(key, expire_ms, v.iter().map(|(f, v, _)| (f, v)))
            }
            Value::ZSet(v) => self.write_zset(key, expire_ms, v.iter().map(|(m, s)| (m, *s))),
            Value::Stream(s) => self.write_stream(key, expire_ms, s),
        }
    }

    /// Splice bytes produced by a raw writer (whole entries / opcodes only).
    pub fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.flush_buf()?;
        self.out.crc.update(bytes);
        self.out.w.write_all(bytes)?;
        self.out.written += bytes.len() as u64;
        Ok(())
    }

    /// Flush buffered bytes to the underlying writer (does not flush the writer itself).
    pub fn flush(&mut self) -> Result<()> {
        Ok(self.out.flush_buf()?)
    }

    /// Write EOF and the checksum (0 when disabled); return the inner writer, flushed.
    pub fn finish(mut self) -> Result<W> {
        self.out.buf.push(OPCODE_EOF);
        self.out.flush_buf()?;
        let crc = if self.enc.opts.checksum {
            self.out.crc.value()
        } else {
            0
        };
        self.out.w.write_all(&crc.to_le_bytes())?;
        self.out.w.flush()?;
        Ok(self.out.w)
    }

    /// For raw writers: flush and return the inner writer without a footer.
    pub fn into_inner(mut self) -> Result<W> {
        self.out.flush_buf()?;
        Ok(self.out.w)
    }
}
