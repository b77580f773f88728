//! [`Value`]: what a key holds. Strings are [`StrValue`]s; collections live in
//! [`crate::types`] with their compact encodings.

use std::sync::Arc;

use bytes::Bytes;

use crate::bytes::SmallBytes;
use crate::types::{
    HashMut, HashRef, HashTable, IntSet, List, Pack, SetMut, SetRef, SetTable, ZSetMut, ZSetRef,
    ZSetTable,
};

/// A string value. Integers that Redis would store as `int` stay integers; short strings
/// are inline; `Raw` is a growable buffer for strings built with APPEND/SETRANGE/SETBIT
/// (what Redis calls the `raw` encoding), so repeated appends are amortised O(1).
#[derive(Clone, Debug)]
pub enum StrValue {
    Int(i64),
    Bytes(SmallBytes),
    Raw(Box<Vec<u8>>),
}

/// Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`.
const EMBSTR_LIMIT: usize = 44;

impl StrValue {
    /// A value as SET stores it: canonical integers (what `string2ll` accepts, ≤ 20
    /// chars) become `Int`, like Redis's `tryObjectEncoding`.
    pub fn from_bytes(data: &[u8]) -> StrValue {
        match parse_canonical_i64(data) {
            Some(i) => StrValue::Int(i),
            None => StrValue::Bytes(SmallBytes::new(data)),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(i) => itoa::Buffer::new().format(*i).len(),
            StrValue::Bytes(b) => b.len(),
            StrValue::Raw(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with the string's bytes (integers are formatted on the stack).
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            StrValue::Int(i) => f(itoa::Buffer::new().format(*i).as_bytes()),
            StrValue::Bytes(b) => f(b),
            StrValue::Raw(v) => f(v),
        }
    }

    pub fn to_bytes(&self) -> Bytes {
        match self {
            StrValue::Int(i) => Bytes::copy_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
            StrValue::Bytes(b) => b.to_bytes(),
            StrValue::Raw(v) => Bytes::copy_from_slice(v),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }

    /// The growable buffer, converting to the `raw` encoding first (as APPEND does).
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, StrValue::Raw(_)) {
            *self = StrValue::Raw(Box::new(self.to_vec()));
        }
        match self {
            StrValue::Raw(v) => v,
            _ => unreachable!("converted to Raw above"),
        }
    }

    /// The integer value, if the string is one (INCR's view).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            StrValue::Int(i) => Some(*i),
            other => other.with_bytes(parse_canonical_i64),
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
        match self {
            StrValue::Int(_) => "int",
            StrValue::Bytes(b) if b.len() <= EMBSTR_LIMIT => "embstr",
            _ => "raw",
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            StrValue::Int(_) => 0,
            StrValue::Bytes(b) => b.heap_size(),
            StrValue::Raw(v) => 24 + v.capacity(),
        }
    }
}

/// Redis's `string2ll`: no leading `+`, no leading zeros, no spaces, fits an i64.
pub fn parse_canonical_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let digits = if s[0] == b'-' { &s[1..] } else { s };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || s[0] == b'-') {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Elements from which copying a collection's table takes long enough (about 0.2 ms at
/// 50 ns an element) to be worth a detour: see [`Value::is_big_table`].
pub const BIG_TABLE_ELEMENTS: usize = 4096;

/// The value a key holds. Collection encodings are variants of their own (not a
/// nested enum) so the value stays 24 bytes and an [`crate::Entry`] 64; commands reach
/// collections through the views in [`crate::types`], which hide the encoding.
#[derive(Clone, Debug)]
pub enum Value {
    Str(StrValue),
    List(Arc<List>),
    HashPack(Pack),
    HashTable(Arc<HashTable>),
    SetInts(IntSet),
    SetTable(Arc<SetTable>),
    ZSetPack(Pack),
    ZSetSkip(Arc<ZSetTable>),
}

/// TYPE's answer, and what SCAN's TYPE filter compares against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    String,
    List,
    Set,
    ZSet,
    Hash,
    Stream,
}

impl ValueType {
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::List => "list",
            ValueType::Set => "set",
            ValueType::ZSet => "zset",
            ValueType::Hash => "hash",
            ValueType::Stream => "stream",
        }
    }

    pub fn from_name(name: &[u8]) -> Option<ValueType> {
        let all = [
            ValueType::String,
            ValueType::List,
            ValueType::Set,
            ValueType::ZSet,
            ValueType::Hash,
            ValueType::Stream,
        ];
        all.into_iter()
            .find(|t| t.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

impl Value {
    /// Where this value's own heap allocation starts (its `Arc` counts, if shared) and how
    /// long it is, as far as that is known without reading it; `None` for inline values
    /// and for those reached through a second pointer.
    #[inline]
    pub(crate) fn heap_span(&self) -> Option<(*const u8, usize)> {
        // Arc's strong and weak counts sit just before the data.
        const ARC_HEADER: usize = 16;
        fn arc<T>(a: &Arc<T>) -> Option<(*const u8, usize)> {
            let p = Arc::as_ptr(a).cast::<u8>().wrapping_sub(ARC_HEADER);
            Some((p, ARC_HEADER + std::mem::size_of::<T>()))
        }
        match self {
            Value::Str(StrValue::Bytes(SmallBytes::Heap(h))) => {
                Some((h.as_ptr().wrapping_sub(ARC_HEADER), ARC_HEADER + h.len()))
            }
            Value::List(a) => arc(a),
            Value::HashTable(a) => arc(a),
            Value::SetTable(a) => arc(a),
            Value::ZSetSkip(a) => arc(a),
            _ => None,
        }
    }
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Str(_) => ValueType::String,
            Value::List(_) => ValueType::List,
            Value::HashPack(_) | Value::HashTable(_) => ValueType::Hash,
            Value::SetInts(_) | Value::SetTable(_) => ValueType::Set,
            Value::ZSetPack(_) | Value::ZSetSkip(_) => ValueType::ZSet,
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(_) => "quicklist",
            Value::HashPack(_) | Value::ZSetPack(_) => "listpack",
            Value::HashTable(_) | Value::SetTable(_) => "hashtable",
            Value::SetInts(_) => "intset",
            Value::ZSetSkip(_) => "skiplist",
        }
    }

    pub fn as_str(&self) -> Option<&StrValue> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str_mut(&mut self) -> Option<&mut StrValue> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn new_list() -> Value {
        Value::List(Arc::new(List::new()))
    }

    pub fn new_hash() -> Value {
        Value::HashPack(Pack::new())
    }

    pub fn new_zset() -> Value {
        Value::ZSetPack(Pack::new())
    }

    pub fn as_list(&self) -> Option<&List> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The list for writing (copied first if a snapshot still shares it).
    pub fn as_list_mut(&mut self) -> Option<&mut List> {
        match self {
            Value::List(l) => Some(Arc::make_mut(l)),
            _ => None,
        }
    }

    pub fn as_hash(&self) -> Option<HashRef<'_>> {
        match self {
            Value::HashPack(p) => Some(HashRef::Pack(p)),
            Value::HashTable(t) => Some(HashRef::Table(t)),
            _ => None,
        }
    }

    pub fn as_hash_mut(&mut self) -> Option<HashMut<'_>> {
        matches!(self, Value::HashPack(_) | Value::HashTable(_)).then(|| HashMut(self))
    }

    pub fn as_set(&self) -> Option<SetRef<'_>> {
        match self {
            Value::SetInts(s) => Some(SetRef::Ints(s)),
            Value::SetTable(t) => Some(SetRef::Table(t)),
            _ => None,
        }
    }

    pub fn as_set_mut(&mut self) -> Option<SetMut<'_>> {
        matches!(self, Value::SetInts(_) | Value::SetTable(_)).then(|| SetMut(self))
    }

    pub fn as_zset(&self) -> Option<ZSetRef<'_>> {
        match self {
            Value::ZSetPack(p) => Some(ZSetRef::Pack(p)),
            Value::ZSetSkip(t) => Some(ZSetRef::Table(t)),
            _ => None,
        }
    }

    pub fn as_zset_mut(&mut self) -> Option<ZSetMut<'_>> {
        matches!(self, Value::ZSetPack(_) | Value::ZSetSkip(_)).then(|| ZSetMut(self))
    }

    /// Elements in a collection (1 for strings): what "empty" means for deletion.
    pub fn len(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::List(l) => l.len(),
            Value::HashPack(_) | Value::HashTable(_) => self.as_hash().map_or(0, |h| h.len()),
            Value::SetInts(_) | Value::SetTable(_) => self.as_set().map_or(0, |s| s.len()),
            Value::ZSetPack(_) | Value::ZSetSkip(_) => self.as_zset().map_or(0, |z| z.len()),
        }
    }

    /// A collection whose table a snapshot shares by reference count and that is too big
    /// to copy under a shard lock (at [`BIG_TABLE_ELEMENTS`] elements or more).
    pub fn is_big_table(&self) -> bool {
        matches!(
            self,
            Value::List(_) | Value::HashTable(_) | Value::SetTable(_) | Value::ZSetSkip(_)
        ) && self.len() >= BIG_TABLE_ELEMENTS
    }

    /// An empty collection: its key must go (Redis never keeps empty collections).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Approximate heap bytes held by the value. A collection's elements are estimated
    /// from its first `samples` (0: all of them), as Redis's MEMORY USAGE does: exact
    /// sizing walks the whole collection, which a caller holding a shard lock cannot
    /// afford for a big one.
    pub fn heap_size(&self, samples: usize) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
            Value::List(l) => 16 + crate::types::list::heap_size(l, samples),
            Value::HashPack(_) | Value::HashTable(_) => {
                self.as_hash().map_or(0, |h| h.heap_size(samples))
            }
            Value::SetInts(_) | Value::SetTable(_) => {
                self.as_set().map_or(0, |s| s.heap_size(samples))
            }
            Value::ZSetPack(_) | Value::ZSetSkip(_) => {
                self.as_zset().map_or(0, |z| z.heap_size(samples))
            }
        }
    }

    /// Bytes a snapshot copies when it captures this value: inline and reference-
    /// counted parts are shared; packs and intsets (one small buffer each) are copied.
    pub fn capture_copy_size(&self) -> usize {
        match self {
            Value::Str(StrValue::Raw(v)) => v.capacity(),
            Value::HashPack(p) | Value::ZSetPack(p) => p.bytes(),
            Value::SetInts(s) => s.bytes(),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers() {
        assert_eq!(parse_canonical_i64(b"123"), Some(123));
        assert_eq!(parse_canonical_i64(b"-5"), Some(-5));
        assert_eq!(parse_canonical_i64(b"0"), Some(0));
        for bad in [
            &b"0123"[..],
            b"+1",
            b"-0",
            b" 1",
            b"",
            b"-",
            b"99999999999999999999",
        ] {
            assert_eq!(parse_canonical_i64(bad), None, "{bad:?}");
        }
        assert_eq!(parse_canonical_i64(b"-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(StrValue::from_bytes(b"12").encoding(), "int");
        assert_eq!(StrValue::from_bytes(b"012").encoding(), "embstr");
        assert_eq!(StrValue::from_bytes(&[b'a'; 45]).encoding(), "raw");
        let mut v = StrValue::from_bytes(b"ab");
        v.make_raw().push(b'c');
        assert_eq!(v.encoding(), "raw");
        assert_eq!(v.to_vec(), b"abc");
        assert!(std::mem::size_of::<Value>() <= 24);
    }
}
