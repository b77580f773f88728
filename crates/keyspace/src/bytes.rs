//! [`SmallBytes`]: the byte string a key (or a short string value) is stored as.
//! Up to 22 bytes live inline in the 24-byte value itself; longer ones in one shared
//! right-sized heap allocation, so cloning for a snapshot is a reference-count bump and
//! nothing pins a connection's read buffer.

use std::borrow::Borrow;
use std::ops::Deref;
use std::sync::Arc;

use bytes::Bytes;

pub const INLINE_CAP: usize = 22;

#[derive(Clone)]
pub enum SmallBytes {
    Inline { len: u8, buf: [u8; INLINE_CAP] },
    Heap(Arc<[u8]>),
}

const _: () = assert!(std::mem::size_of::<SmallBytes>() == 24);

impl SmallBytes {
    pub fn new(data: &[u8]) -> Self {
        if data.len() <= INLINE_CAP {
            let mut buf = [0u8; INLINE_CAP];
            buf[..data.len()].copy_from_slice(data);
            SmallBytes::Inline {
                len: data.len() as u8,
                buf,
            }
        } else {
            SmallBytes::Heap(Arc::from(data))
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, buf } => &buf[..*len as usize],
            SmallBytes::Heap(h) => h,
        }
    }

    /// A `Bytes` for a reply: shares the heap allocation, copies inline data.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            SmallBytes::Inline { .. } => Bytes::copy_from_slice(self.as_slice()),
            SmallBytes::Heap(h) => Bytes::from_owner(ArcBytes(h.clone())),
        }
    }

    /// Heap bytes owned beyond the 24 bytes of `self` (for MEMORY USAGE).
    pub fn heap_size(&self) -> usize {
        match self {
            SmallBytes::Inline { .. } => 0,
            SmallBytes::Heap(h) => 16 + h.len(),
        }
    }
}

struct ArcBytes(Arc<[u8]>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Deref for SmallBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for SmallBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(d: &[u8]) -> Self {
        SmallBytes::new(d)
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SmallBytes {}

impl PartialOrd for SmallBytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Byte order (memcmp), as Redis orders zset members with equal scores.
impl Ord for SmallBytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl std::hash::Hash for SmallBytes {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl std::fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap() {
        for len in [0, 1, 22, 23, 1000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let s = SmallBytes::new(&data);
            assert_eq!(&*s, &data[..]);
            assert_eq!(&s.to_bytes()[..], &data[..]);
            assert_eq!(matches!(s, SmallBytes::Inline { .. }), len <= 22);
        }
    }
}
