//! The owned value model the reader produces and `Writer::write_entry` / DUMP accept.
//! The snapshot engine should prefer the borrowed `Writer::write_*` calls instead.

/// A key's value, decoded. Collections keep the order found in the file (intsets are
/// sorted, hash tables are in their table order).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    ZSet(Vec<(Vec<u8>, f64)>),
    Stream(Box<Stream>),
    /// A hash with per-field expiry (Redis 7.4+, RDB 12): `(field, value, expire_ms)`.
    /// RDB 10 cannot carry field TTLs: writing one stores a plain hash, and the caller
    /// decides what to do with the TTLs (e.g. drop already-expired fields first).
    HashWithTtl(Vec<(Vec<u8>, Vec<u8>, Option<i64>)>),
}

impl Value {
    /// The name `TYPE` returns for this value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Hash(_) | Value::HashWithTtl(_) => "hash",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// Number of elements (1 for strings, entries for streams).
    pub fn len(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::List(v) | Value::Set(v) => v.len(),
            Value::Hash(v) => v.len(),
            Value::HashWithTtl(v) => v.len(),
            Value::ZSet(v) => v.len(),
            Value::Stream(s) => s.entries.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A stream entry ID `ms-seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub fn new(ms: u64, seq: u64) -> Self {
        Self { ms, seq }
    }

    /// The 16-byte big-endian form used as rax keys and in PELs.
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn from_be_bytes(b: &[u8; 16]) -> Self {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        Self::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A stream with its metadata and consumer groups.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    /// Live (not deleted) entries in ID order.
    pub entries: Vec<StreamEntry>,
    /// Number of live entries as recorded in the file.
    pub length: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    pub groups: Vec<ConsumerGroup>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamEntry {
    pub id: StreamId,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConsumerGroup {
    pub name: Vec<u8>,
    pub last_id: StreamId,
    /// Entries read counter (7.0+); -1 when unknown (older files).
    pub entries_read: i64,
    pub pel: Vec<PendingEntry>,
    pub consumers: Vec<Consumer>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PendingEntry {
    pub id: StreamId,
    /// Unix time in milliseconds of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Consumer {
    pub name: Vec<u8>,
    pub seen_time: i64,
    /// 7.2+; equal to `seen_time` for older files.
    pub active_time: i64,
    /// IDs of the group PEL entries owned by this consumer.
    pub pel: Vec<StreamId>,
}
