//! Buffered, offset-tracking, checksumming input for the reader: a bounded window over any
//! `io::Read`, primitive RDB decodes (lengths, strings with int/LZF encodings) and
//! allocation that grows only as bytes actually arrive.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::consts::*;
use crate::crc64::Crc64;
use crate::error::{Error, ErrorKind, Result};
use crate::lzf;
use crate::num::i64_to_vec;

const BUF_SIZE: usize = 64 * 1024;
/// Largest single preallocation made on the word of a length field.
const PREALLOC_CAP: usize = 64 * 1024;
/// LZF cannot expand more than 88x (a 3-byte back reference yields 264 bytes).
const LZF_MAX_RATIO: u64 = 90;

/// Load progress, readable from another thread while the load runs (INFO `loading_*`).
#[derive(Debug, Default)]
pub struct Progress {
    pub bytes_read: AtomicU64,
    pub keys_loaded: AtomicU64,
}

impl Progress {
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }
    pub fn keys_loaded(&self) -> u64 {
        self.keys_loaded.load(Ordering::Relaxed)
    }
}

/// Decoded length: either a plain length or one of the special string encodings.
pub(crate) enum Len {
    Plain(u64),
    Encoded(u8),
}

pub(crate) struct Input<R> {
    r: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    crc: Crc64,
    /// Bytes of `buf` before this index are already in `crc`.
    crc_pos: usize,
    pub(crate) progress: Arc<Progress>,
}

impl<R: Read> Input<R> {
    pub(crate) fn new(r: R, progress: Arc<Progress>) -> Self {
        Self {
            r,
            buf: vec![0u8; BUF_SIZE].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            crc: Crc64::new(),
            crc_pos: 0,
            progress,
        }
    }

    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub(crate) fn err(&self, at: u64, kind: ErrorKind) -> Error {
        Error::new(at, kind)
    }

    /// CRC-64 of everything consumed so far.
    pub(crate) fn crc(&mut self) -> u64 {
        self.crc.update(&self.buf[self.crc_pos..self.pos]);
        self.crc_pos = self.pos;
        self.crc.value()
    }

    /// Make at least one unread byte available; false at end of input.
    fn fill(&mut self) -> Result<bool> {
        if self.pos < self.end {
            return Ok(true);
        }
        self.crc.update(&self.buf[self.crc_pos..self.pos]);
        self.base += self.pos as u64;
        self.pos = 0;
        self.end = 0;
        self.crc_pos = 0;
        loop {
            match self.r.read(&mut self.buf) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end = n;
                    self.progress
                        .bytes_read
                        .fetch_add(n as u64, Ordering::Relaxed);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::new(self.offset(), ErrorKind::Io(e))),
            }
        }
    }

    /// True when no byte is left.
    pub(crate) fn at_end(&mut self) -> Result<bool> {
        Ok(!self.fill()?)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        if !self.fill()? {
            return Err(self.err(self.offset(), ErrorKind::UnexpectedEof));
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn read_into(&mut self, out: &mut [u8]) -> Result<()> {
        let start = self.offset();
        let mut done = 0;
        while done < out.len() {
            if !self.fill()? {
                return Err(self.err(start, ErrorKind::UnexpectedEof));
            }
            let n = (self.end - self.pos).min(out.len() - done);
            out[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            done += n;
        }
        Ok(())
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        self.read_into(&mut a)?;
        Ok(a)
    }

    /// Read `n` bytes; the allocation grows with the data actually read, so a hostile
    /// length on a short input costs at most `PREALLOC_CAP`.
    pub(crate) fn bytes(&mut self, n: u64) -> Result<Vec<u8>> {
        let start = self.offset();
        let n = usize::try_from(n).map_err(|_| self.err(start, ErrorKind::LengthTooLarge(n)))?;
        let mut out = Vec::with_capacity(n.min(PREALLOC_CAP));
        while out.len() < n {
            if !self.fill()? {
                return Err(self.err(start, ErrorKind::UnexpectedEof));
            }
            let k = (self.end - self.pos).min(n - out.len());
            out.extend_from_slice(&self.buf[self.pos..self.pos + k]);
            self.pos += k;
        }
        Ok(out)
    }

    pub(crate) fn skip(&mut self, mut n: u64) -> Result<()> {
        let start = self.offset();
        while n > 0 {
            if !self.fill()? {
                return Err(self.err(start, ErrorKind::UnexpectedEof));
            }
            let k = ((self.end - self.pos) as u64).min(n) as usize;
            self.pos += k;
            n -= k as u64;
        }
        Ok(())
    }

    pub(crate) fn len_or_enc(&mut self) -> Result<Len> {
        let start = self.offset();
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => Len::Plain((b & 0x3f) as u64),
            1 => Len::Plain((((b & 0x3f) as u64) << 8) | self.u8()? as u64),
            3 => Len::Encoded(b & 0x3f),
            _ => match b {
                LEN_32BIT => Len::Plain(u32::from_be_bytes(self.array()?) as u64),
                LEN_64BIT => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return Err(self.err(start, ErrorKind::BadLength)),
            },
        })
    }

    pub(crate) fn len(&mut self) -> Result<u64> {
        let start = self.offset();
        match self.len_or_enc()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => Err(self.err(start, ErrorKind::BadLength)),
        }
    }

    /// A length used as an element count: also a preallocation hint, capped.
    pub(crate) fn count(&mut self) -> Result<(u64, usize)> {
        let n = self.len()?;
        Ok((n, (n as usize).min(1024)))
    }

    /// An RDB string in any of its encodings, as bytes.
    pub(crate) fn string(&mut self) -> Result<Vec<u8>> {
        let start = self.offset();
        match self.len_or_enc()? {
            Len::Plain(n) => self.bytes(n),
            Len::Encoded(ENC_INT8) => Ok(i64_to_vec(self.u8()? as i8 as i64)),
            Len::Encoded(ENC_INT16) => Ok(i64_to_vec(i16::from_le_bytes(self.array()?) as i64)),
            Len::Encoded(ENC_INT32) => Ok(i64_to_vec(i32::from_le_bytes(self.array()?) as i64)),
            Len::Encoded(ENC_LZF) => {
                let clen = self.len()?;
                let ulen = self.len()?;
                if ulen > clen.saturating_mul(LZF_MAX_RATIO).saturating_add(64) {
                    return Err(self.err(start, ErrorKind::Lzf));
                }
                let compressed = self.bytes(clen)?;
                let mut out = Vec::new();
                if !lzf::decompress(&compressed, ulen as usize, &mut out) {
                    return Err(self.err(start, ErrorKind::Lzf));
                }
                Ok(out)
            }
            Len::Encoded(_) => Err(self.err(start, ErrorKind::BadLength)),
        }
    }

    /// Skip a string without materialising it (except LZF, which is only skipped).
    pub(crate) fn skip_string(&mut self) -> Result<()> {
        let start = self.offset();
        match self.len_or_enc()? {
            Len::Plain(n) => self.skip(n),
            Len::Encoded(ENC_INT8) => self.skip(1),
            Len::Encoded(ENC_INT16) => self.skip(2),
            Len::Encoded(ENC_INT32) => self.skip(4),
            Len::Encoded(ENC_LZF) => {
                let clen = self.len()?;
                self.len()?;
                self.skip(clen)
            }
            Len::Encoded(_) => Err(self.err(start, ErrorKind::BadLength)),
        }
    }

    pub(crate) fn i64_le(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    pub(crate) fn f64_le(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }
}
