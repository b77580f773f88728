//! Streaming RDB reader (versions 1–12): walks opcodes and yields one `Event` at a time
//! from a bounded buffer, so memory is that of the largest single value, never the file.

use std::io::Read;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::consts::*;
use crate::decode::{self, is_value_type};
use crate::error::{Error, ErrorKind, Result};
use crate::input::{Input, Progress};
use crate::value::Value;

/// One key with its value and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub db: u64,
    pub key: Vec<u8>,
    /// Absolute expiry, Unix milliseconds.
    pub expire_ms: Option<i64>,
    /// LRU idle seconds (IDLE opcode).
    pub idle: Option<u64>,
    /// LFU counter (FREQ opcode).
    pub freq: Option<u8>,
    pub value: Value,
}

/// Checksum status at end of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// Footer matched the computed CRC-64.
    Verified(u64),
    /// Footer was 0 (written with `rdbchecksum no`): nothing to check.
    NotChecked,
    /// RDB version < 5 has no footer.
    Absent,
}

/// What the reader found next.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Aux {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    SelectDb(u64),
    ResizeDb {
        db_size: u64,
        expires_size: u64,
    },
    SlotInfo {
        slot: u64,
        size: u64,
        expires_size: u64,
    },
    Entry(Entry),
    /// A function library (FUNCTION2): its source code.
    Function(Vec<u8>),
    /// Module auxiliary data, skipped.
    ModuleAux {
        module: String,
    },
    Eof {
        checksum: Checksum,
    },
}

/// Reader settings.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Drop keys whose expiry is before this Unix-ms time instead of yielding them.
    pub drop_expired_before: Option<i64>,
    /// Do not fail on a checksum mismatch (`Checksum::Verified` is then not reported).
    pub skip_checksum: bool,
}

pub struct Reader<R> {
    inp: Input<R>,
    version: u32,
    db: u64,
    done: bool,
    opts: ReadOptions,
    expired_dropped: u64,
}

impl<R: Read> Reader<R> {
    /// Read and check the `REDIS000N` header.
    pub fn new(r: R) -> Result<Self> {
        Self::with_options(r, ReadOptions::default())
    }

    pub fn with_options(r: R, opts: ReadOptions) -> Result<Self> {
        let mut inp = Input::new(r, Arc::new(Progress::default()));
        let magic: [u8; 9] = inp.array().map_err(|e| match e.kind {
            ErrorKind::UnexpectedEof => Error::new(0, ErrorKind::BadMagic),
            _ => e,
        })?;
        if &magic[..5] != b"REDIS" {
            return Err(Error::new(0, ErrorKind::BadMagic));
        }
        let version = std::str::from_utf8(&magic[5..])
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or(Error::new(5, ErrorKind::BadMagic))?;
        if !(1..=RDB_VERSION_MAX_READ).contains(&version) {
            return Err(Error::new(5, ErrorKind::UnsupportedVersion(version)));
        }
        Ok(Self {
            inp,
            version,
            db: 0,
            done: false,
            opts,
            expired_dropped: 0,
        })
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Counters shared with other threads (bytes read, keys loaded).
    pub fn progress(&self) -> Arc<Progress> {
        self.inp.progress.clone()
    }

    /// Offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.inp.offset()
    }

    /// Keys skipped because they had expired (see `ReadOptions::drop_expired_before`).
    pub fn expired_dropped(&self) -> u64 {
        self.expired_dropped
    }

    /// Drop keys that expired before `now_ms` instead of yielding them.
    pub fn drop_expired_before(&mut self, now_ms: i64) {
        self.opts.drop_expired_before = Some(now_ms);
    }

    /// The next event; `None` after `Eof`. After an error the reader stays finished.
    pub fn next_event(&mut self) -> Result<Option<Event>> {
        if self.done {
            return Ok(None);
        }
        let r = self.step();
        if r.is_err() || matches!(r, Ok(Event::Eof { .. })) {
            self.done = true;
        }
        r.map(Some)
    }

    fn step(&mut self) -> Result<Event> {
        let mut expire_ms = None;
        let mut idle = None;
        let mut freq = None;
        loop {
            let at = self.inp.offset();
            let op = self.inp.u8()?;
            match op {
                OPCODE_EOF => return self.eof(),
                OPCODE_SELECTDB => {
                    self.db = self.inp.len()?;
                    return Ok(Event::SelectDb(self.db));
                }
                OPCODE_RESIZEDB => {
                    let db_size = self.inp.len()?;
                    let expires_size = self.inp.len()?;
                    return Ok(Event::ResizeDb {
                        db_size,
                        expires_size,
                    });
                }
                OPCODE_SLOT_INFO => {
                    let slot = self.inp.len()?;
                    let size = self.inp.len()?;
                    let expires_size = self.inp.len()?;
                    return Ok(Event::SlotInfo {
                        slot,
                        size,
                        expires_size,
                    });
                }
                OPCODE_AUX => {
                    let key = self.inp.string()?;
                    let value = self.inp.string()?;
                    return Ok(Event::Aux { key, value });
                }
                OPCODE_MODULE_AUX => {
                    let id = self.inp.len()?;
                    let when_at = self.inp.offset();
                    if self.inp.len()? != MODULE_OPCODE_UINT {
                        return Err(Error::corrupt(when_at, "module aux", "bad when opcode"));
                    }
                    self.inp.len()?;
                    decode::skip_module_data(&mut self.inp)?;
                    return Ok(Event::ModuleAux {
                        module: decode::module_name(id),
                    });
                }
                OPCODE_FUNCTION2 => return Ok(Event::Function(self.inp.string()?)),
                OPCODE_FUNCTION_PRE_GA => return Err(Error::new(at, ErrorKind::PreGaFunction)),
                OPCODE_EXPIRETIME_MS => expire_ms = Some(self.inp.i64_le()?),
                OPCODE_EXPIRETIME => {
                    let secs = i32::from_le_bytes(self.inp.array()?);
                    expire_ms = Some(secs as i64 * 1000);
                }
                OPCODE_IDLE => idle = Some(self.inp.len()?),
                OPCODE_FREQ => freq = Some(self.inp.u8()?),
                t if is_value_type(t) => {
                    let key = self.inp.string()?;
                    let value = decode::value(&mut self.inp, t)?;
                    if let (Some(now), Some(exp)) = (self.opts.drop_expired_before, expire_ms) {
                        if exp < now {
                            self.expired_dropped += 1;
                            expire_ms = None;
                            idle = None;
                            freq = None;
                            continue;
                        }
                    }
                    self.inp
                        .progress
                        .keys_loaded
                        .fetch_add(1, Ordering::Relaxed);
                    return Ok(Event::Entry(Entry {
                        db: self.db,
                        key,
                        expire_ms,
                        idle,
                        freq,
                        value,
                    }));
                }
                t => return Err(Error::new(at, ErrorKind::UnknownType(t))),
            }
        }
    }

    fn eof(&mut self) -> Result<Event> {
        if self.version < 5 {
            return Ok(Event::Eof {
                checksum: Checksum::Absent,
            });
        }
        let computed = self.inp.crc();
        let at = self.inp.offset();
        let expected = u64::from_le_bytes(self.inp.array()?);
        let checksum = if expected == 0 {
            Checksum::NotChecked
        } else if expected == computed {
            Checksum::Verified(computed)
        } else if self.opts.skip_checksum {
            Checksum::NotChecked
        } else {
            return Err(Error::new(
                at,
                ErrorKind::ChecksumMismatch { expected, computed },
            ));
        };
        Ok(Event::Eof { checksum })
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event().transpose()
    }
}

/// Convenience: read a whole file's entries (tests, tools; the server should stream).
pub fn read_entries<R: Read>(r: R) -> Result<(Vec<Entry>, Checksum)> {
    let mut rd = Reader::new(r)?;
    let mut out = Vec::new();
    while let Some(ev) = rd.next_event()? {
        match ev {
            Event::Entry(e) => out.push(e),
            Event::Eof { checksum } => return Ok((out, checksum)),
            _ => {}
        }
    }
    Err(Error::new(rd.offset(), ErrorKind::UnexpectedEof))
}
