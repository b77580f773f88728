//! [`Pack`]: the compact encoding of small hashes and sorted sets (what Redis calls a
//! listpack): one right-sized allocation holding a 2-byte count and a sequence of
//! self-delimiting items. Integers that a string would round-trip to are stored as
//! integers (1 byte for 0..=127), short strings carry a 1-byte header, scores that are
//! not integers are 8-byte floats. Operations walk the items; the configured
//! `*-max-listpack-*` limits keep packs small enough for that to beat a hash table.
//!
//! Item encoding (first byte):
//! - `0x00..=0x7f`: the integer itself
//! - `0x80..=0xbf`: a string of `b & 0x3f` bytes follows
//! - `0xc0` i16, `0xc1` i32, `0xc2` i64 (little endian), `0xc3` f64
//! - `0xc4` u16 length + string, `0xc5` u32 length + string

use std::ops::Range;

use crate::value::parse_canonical_i64;

/// One decoded item.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Item<'a> {
    Int(i64),
    Str(&'a [u8]),
    Float(f64),
}

impl<'a> Item<'a> {
    /// The item a string argument is stored as (canonical integers become `Int`).
    pub fn from_bytes(b: &'a [u8]) -> Item<'a> {
        match parse_canonical_i64(b) {
            Some(i) => Item::Int(i),
            None => Item::Str(b),
        }
    }

    /// A score as stored: integral values in i64 range as integers (Redis's listpack
    /// stores `d2string`'s integer form; -0 becomes 0 there too).
    pub fn from_score(f: f64) -> Item<'static> {
        if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
            Item::Int(f as i64)
        } else {
            Item::Float(f)
        }
    }

    /// Calls `f` with the item's string form (numbers formatted on the stack).
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Item::Int(i) => f(itoa::Buffer::new().format(i).as_bytes()),
            Item::Str(s) => f(s),
            // Only scores are floats; commands format them for replies themselves.
            Item::Float(x) => f(x.to_string().as_bytes()),
        }
    }

    /// The item's string form as a value that derefs to bytes (borrowed strings stay
    /// borrowed; numbers are formatted into an inline buffer).
    pub fn as_buf(self) -> ItemBuf<'a> {
        match self {
            Item::Str(s) => ItemBuf::Slice(s),
            Item::Int(i) => {
                let mut b = [0u8; 20];
                let f = itoa::Buffer::new();
                let mut f = f;
                let s = f.format(i).as_bytes();
                b[..s.len()].copy_from_slice(s);
                ItemBuf::Num(b, s.len() as u8)
            }
            Item::Float(x) => ItemBuf::Owned(x.to_string().into_bytes()),
        }
    }

    pub fn to_vec(self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Item::Int(i) => i as f64,
            Item::Float(f) => f,
            // Never stored for scores; strings compare as 0 rather than panic.
            Item::Str(_) => 0.0,
        }
    }

    /// Byte equality with a string (the way Redis compares listpack entries).
    pub fn eq_bytes(self, b: &[u8]) -> bool {
        match self {
            Item::Str(s) => s == b,
            // Cheap rejections before parsing: an i64 has at most 20 characters.
            Item::Int(_) if b.is_empty() || b.len() > 20 => false,
            Item::Int(i) => parse_canonical_i64(b) == Some(i),
            Item::Float(_) => self.with_bytes(|s| s == b),
        }
    }

    fn encoded_len(self) -> usize {
        match self {
            Item::Int(0..=127) => 1,
            Item::Int(i) if i16::try_from(i).is_ok() => 3,
            Item::Int(i) if i32::try_from(i).is_ok() => 5,
            Item::Int(_) | Item::Float(_) => 9,
            Item::Str(s) if s.len() < 64 => 1 + s.len(),
            Item::Str(s) if s.len() <= u16::MAX as usize => 3 + s.len(),
            Item::Str(s) => 5 + s.len(),
        }
    }

    fn encode(self, out: &mut Vec<u8>) {
        match self {
            Item::Int(i @ 0..=127) => out.push(i as u8),
            Item::Int(i) if i16::try_from(i).is_ok() => {
                out.push(0xc0);
                out.extend_from_slice(&(i as i16).to_le_bytes());
            }
            Item::Int(i) if i32::try_from(i).is_ok() => {
                out.push(0xc1);
                out.extend_from_slice(&(i as i32).to_le_bytes());
            }
            Item::Int(i) => {
                out.push(0xc2);
                out.extend_from_slice(&i.to_le_bytes());
            }
            Item::Float(f) => {
                out.push(0xc3);
                out.extend_from_slice(&f.to_le_bytes());
            }
            Item::Str(s) if s.len() < 64 => {
                out.push(0x80 | s.len() as u8);
                out.extend_from_slice(s);
            }
            Item::Str(s) if s.len() <= u16::MAX as usize => {
                out.push(0xc4);
                out.extend_from_slice(&(s.len() as u16).to_le_bytes());
                out.extend_from_slice(s);
            }
            Item::Str(s) => {
                out.push(0xc5);
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s);
            }
        }
    }
}

/// See [`Item::as_buf`].
#[derive(Clone, Debug)]
pub enum ItemBuf<'a> {
    Slice(&'a [u8]),
    Num([u8; 20], u8),
    Owned(Vec<u8>),
}

impl AsRef<[u8]> for ItemBuf<'_> {
    fn as_ref(&self) -> &[u8] {
        match self {
            ItemBuf::Slice(s) => s,
            ItemBuf::Num(b, n) => &b[..*n as usize],
            ItemBuf::Owned(v) => v,
        }
    }
}

impl std::ops::Deref for ItemBuf<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_ref()
    }
}

/// Decodes the item at `pos`; returns it and the offset after it. `buf` was built by
/// this module, so it is well formed.
fn decode(buf: &[u8], pos: usize) -> (Item<'_>, usize) {
    let b = buf[pos];
    let le = |n: usize| -> [u8; 8] {
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(&buf[pos + 1..pos + 1 + n]);
        a
    };
    match b {
        0x00..=0x7f => (Item::Int(b as i64), pos + 1),
        0x80..=0xbf => {
            let n = (b & 0x3f) as usize;
            (Item::Str(&buf[pos + 1..pos + 1 + n]), pos + 1 + n)
        }
        0xc0 => (
            Item::Int(i16::from_le_bytes([buf[pos + 1], buf[pos + 2]]) as i64),
            pos + 3,
        ),
        0xc1 => {
            let a = le(4);
            (
                Item::Int(i32::from_le_bytes([a[0], a[1], a[2], a[3]]) as i64),
                pos + 5,
            )
        }
        0xc2 => (Item::Int(i64::from_le_bytes(le(8))), pos + 9),
        0xc3 => (Item::Float(f64::from_le_bytes(le(8))), pos + 9),
        0xc4 => {
            let n = u16::from_le_bytes([buf[pos + 1], buf[pos + 2]]) as usize;
            (Item::Str(&buf[pos + 3..pos + 3 + n]), pos + 3 + n)
        }
        _ => {
            let a = le(4);
            let n = u32::from_le_bytes([a[0], a[1], a[2], a[3]]) as usize;
            (Item::Str(&buf[pos + 5..pos + 5 + n]), pos + 5 + n)
        }
    }
}

const HEADER: usize = 2;

/// A compact item sequence (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Pack(Box<[u8]>);

impl Default for Pack {
    fn default() -> Self {
        Pack(vec![0u8; HEADER].into_boxed_slice())
    }
}

impl Pack {
    pub fn new() -> Pack {
        Pack::default()
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        let n = u16::from_le_bytes([self.0[0], self.0[1]]) as usize;
        if n < u16::MAX as usize {
            n
        } else {
            self.iter().count()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.len() == HEADER
    }

    /// Bytes of the allocation (MEMORY USAGE).
    pub fn bytes(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> PackIter<'_> {
        PackIter {
            buf: &self.0,
            pos: HEADER,
        }
    }

    /// Items with their byte ranges (for in-place edits).
    pub fn iter_at(&self) -> impl Iterator<Item = (Range<usize>, Item<'_>)> + '_ {
        let buf = &self.0;
        let mut pos = HEADER;
        std::iter::from_fn(move || {
            if pos >= buf.len() {
                return None;
            }
            let (item, next) = decode(buf, pos);
            let r = pos..next;
            pos = next;
            Some((r, item))
        })
    }

    /// The offset past the last item (where `push` appends).
    pub fn end(&self) -> usize {
        self.0.len()
    }

    fn set_count(buf: &mut [u8], n: usize) {
        let c = n.min(u16::MAX as usize) as u16;
        buf[..2].copy_from_slice(&c.to_le_bytes());
    }

    /// Replaces the bytes in `range` with `items`, adjusting the count by `removed` items
    /// out and `items.len()` in. The one edit primitive: a realloc of one right-sized
    /// buffer, like Redis's listpack.
    pub fn splice(&mut self, range: Range<usize>, removed: usize, items: &[Item<'_>]) {
        let n = self.len() + items.len() - removed;
        let add: usize = items.iter().map(|i| i.encoded_len()).sum();
        let mut v = Vec::with_capacity(self.0.len() - range.len() + add);
        v.extend_from_slice(&self.0[..range.start]);
        for i in items {
            i.encode(&mut v);
        }
        v.extend_from_slice(&self.0[range.end..]);
        Self::set_count(&mut v, n);
        self.0 = v.into_boxed_slice();
    }

    pub fn push(&mut self, items: &[Item<'_>]) {
        let end = self.end();
        self.splice(end..end, 0, items);
    }

    /// Builds a pack from items in order.
    pub fn from_items<'a>(items: impl IntoIterator<Item = Item<'a>>) -> Pack {
        let mut v = vec![0u8; HEADER];
        let mut n = 0;
        for i in items {
            i.encode(&mut v);
            n += 1;
        }
        Self::set_count(&mut v, n);
        Pack(v.into_boxed_slice())
    }
}

pub struct PackIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = Item<'a>;
    fn next(&mut self) -> Option<Item<'a>> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let (item, next) = decode(self.buf, self.pos);
        self.pos = next;
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_item() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            any::<i64>().prop_map(|i| i.to_string().into_bytes()),
            (0i64..200).prop_map(|i| i.to_string().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..70),
            proptest::collection::vec(any::<u8>(), 60..300),
        ]
    }

    proptest! {
        #[test]
        fn items_round_trip(items in proptest::collection::vec(arb_item(), 0..40)) {
            let p = Pack::from_items(items.iter().map(|b| Item::from_bytes(b)));
            prop_assert_eq!(p.len(), items.len());
            let back: Vec<Vec<u8>> = p.iter().map(|i| i.to_vec()).collect();
            prop_assert_eq!(&back, &items);
            for (b, i) in items.iter().zip(p.iter()) {
                prop_assert!(i.eq_bytes(b));
            }
        }

        #[test]
        fn splice_matches_vec(items in proptest::collection::vec(arb_item(), 1..20),
                              at in 0usize..20, ins in arb_item()) {
            let mut p = Pack::from_items(items.iter().map(|b| Item::from_bytes(b)));
            let at = at % items.len();
            let r = p.iter_at().nth(at).unwrap().0;
            p.splice(r, 1, &[Item::from_bytes(&ins), Item::from_bytes(&ins)]);
            let mut want = items.clone();
            want.splice(at..at + 1, [ins.clone(), ins.clone()]);
            let back: Vec<Vec<u8>> = p.iter().map(|i| i.to_vec()).collect();
            prop_assert_eq!(p.len(), want.len());
            prop_assert_eq!(back, want);
        }
    }

    #[test]
    fn scores_keep_their_value() {
        for f in [
            0.0,
            1.5,
            3.0,
            -7.0,
            1e300,
            1.2e17,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let p = Pack::from_items([Item::from_score(f)]);
            let back = p.iter().next().unwrap().as_f64();
            assert!(back == f && back.is_sign_negative() == f.is_sign_negative());
        }
        assert_eq!(Item::from_score(-0.0), Item::Int(0));
    }
}
