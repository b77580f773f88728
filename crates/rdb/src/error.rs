//! The crate's one error type: what went wrong and at which byte offset of the input.

use std::io;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error with the byte offset (from the start of the stream or payload) where it was found.
#[derive(Debug, thiserror::Error)]
#[error("{kind} at byte offset {offset}")]
pub struct Error {
    /// Offset of the first byte of the construct that failed to decode.
    pub offset: u64,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// What went wrong while reading or writing RDB data.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("unexpected end of input")]
    UnexpectedEof,
    #[error("not an RDB file (bad magic)")]
    BadMagic,
    #[error("unsupported RDB version {0}")]
    UnsupportedVersion(u32),
    #[error("unknown value type {0}")]
    UnknownType(u8),
    #[error("module value of type {name} cannot be loaded (no modules)")]
    ModuleType { name: String },
    #[error("pre-GA function format is not supported")]
    PreGaFunction,
    #[error("checksum mismatch: file says {expected:#018x}, computed {computed:#018x}")]
    ChecksumMismatch { expected: u64, computed: u64 },
    #[error("invalid length encoding")]
    BadLength,
    #[error("length {0} is too large")]
    LengthTooLarge(u64),
    #[error("corrupt LZF data")]
    Lzf,
    #[error("corrupt {what}: {detail}")]
    Corrupt {
        what: &'static str,
        detail: &'static str,
    },
    #[error("corrupt {what} (at byte {offset} of the encoded blob): {detail}")]
    Blob {
        what: &'static str,
        offset: usize,
        detail: &'static str,
    },
    #[error("trailing data after the value")]
    TrailingData,
    #[error("DUMP payload version or checksum are wrong")]
    BadDumpPayload,
    #[error("value cannot be encoded: {0}")]
    Unencodable(&'static str),
}

impl Error {
    pub fn new(offset: u64, kind: ErrorKind) -> Self {
        Self { offset, kind }
    }

    pub(crate) fn corrupt(offset: u64, what: &'static str, detail: &'static str) -> Self {
        Self::new(offset, ErrorKind::Corrupt { what, detail })
    }
}

impl From<io::Error> for Error {
    /// Write-side I/O errors; the writer knows no useful input offset.
    fn from(e: io::Error) -> Self {
        Self::new(0, ErrorKind::Io(e))
    }
}

/// Error from a codec working on an in-memory blob (listpack, ziplist, intset, zipmap):
/// the offset is relative to the blob; the reader rebases it onto the file offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("corrupt {what} at blob offset {offset}: {detail}")]
pub struct CodecError {
    pub what: &'static str,
    pub offset: usize,
    pub detail: &'static str,
}

impl CodecError {
    pub(crate) fn new(what: &'static str, offset: usize, detail: &'static str) -> Self {
        Self {
            what,
            offset,
            detail,
        }
    }

    /// Attach to the input offset of the string holding the blob (the blob may have been
    /// LZF-compressed, so its inner offsets are not input offsets).
    pub(crate) fn at(self, blob_start: u64) -> Error {
        Error::new(
            blob_start,
            ErrorKind::Blob {
                what: self.what,
                offset: self.offset,
                detail: self.detail,
            },
        )
    }
}
