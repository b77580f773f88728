//! CRC-64 as Redis computes it (Jones polynomial, reflected, init 0), used for the RDB
//! footer and DUMP payloads.

use crc::{Crc, Table, CRC_64_REDIS};

// Slice-by-16 tables: about 5x faster than the default single table on large buffers.
static CRC: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// CRC-64 of one buffer.
pub fn crc64(data: &[u8]) -> u64 {
    CRC.checksum(data)
}

/// Incremental CRC-64 for streamed data.
#[derive(Clone)]
pub struct Crc64 {
    digest: crc::Digest<'static, u64, Table<16>>,
}

impl Default for Crc64 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc64 {
    pub fn new() -> Self {
        Self {
            digest: CRC.digest(),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.digest.update(data);
    }

    /// The CRC of everything fed so far (does not consume the state).
    pub fn value(&self) -> u64 {
        self.digest.clone().finalize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_matches_redis() {
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
        let mut c = Crc64::new();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.value(), 0xe9c6d914c4b8d9ca);
    }
}
