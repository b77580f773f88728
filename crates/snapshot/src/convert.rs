//! Keyspace values ↔ the RDB model: one place that knows both, used by snapshots (write),
//! start-up loading (read) and DUMP/RESTORE. Writing borrows straight from the live
//! value (no intermediate copy); the rdb encoder picks the on-disk encodings with the
//! same thresholds as the config.

use std::io::Write;

use snapkv_keyspace::types::{hash, set, zset, Item, Limits};
use snapkv_keyspace::{StrValue, Value};
use snapkv_rdb::Writer;

/// Writes one key. `expire_ms` is absolute Unix ms.
pub fn write_value<W: Write>(
    w: &mut Writer<W>,
    key: &[u8],
    expire_ms: Option<i64>,
    value: &Value,
) -> snapkv_rdb::Result<()> {
    match value {
        Value::Str(s) => s.with_bytes(|b| w.write_string_entry(key, expire_ms, b)),
        Value::List(l) => w.write_list(key, expire_ms, l.iter().map(|e| e.as_slice())),
        // The rdb writer walks a collection twice (counts first), so it takes cloneable
        // iterators: `CloneIter` restarts a view's iteration when cloned.
        Value::HashPack(_) | Value::HashTable(_) => {
            let h = value.as_hash().expect("a hash");
            let pairs = CloneIter::new(move || h.iter().map(|(f, v)| (f.as_buf(), v.as_buf())));
            w.write_hash(key, expire_ms, pairs)
        }
        Value::SetInts(_) | Value::SetTable(_) => {
            let s = value.as_set().expect("a set");
            w.write_set(
                key,
                expire_ms,
                CloneIter::new(move || s.iter().map(Item::as_buf)),
            )
        }
        Value::ZSetPack(_) | Value::ZSetSkip(_) => {
            let z = value.as_zset().expect("a zset");
            let members = CloneIter::new(move || z.iter().map(|(m, s)| (m.as_buf(), s)));
            w.write_zset(key, expire_ms, members)
        }
    }
}

/// An iterator that restarts from its factory when cloned (boxed view iterators are
/// not `Clone`, but a view can always iterate again).
struct CloneIter<F, I> {
    make: F,
    it: I,
}

impl<F: Fn() -> I + Clone, I: Iterator> CloneIter<F, I> {
    fn new(make: F) -> Self {
        let it = make();
        CloneIter { make, it }
    }
}

impl<F: Fn() -> I + Clone, I: Iterator> Clone for CloneIter<F, I> {
    /// Only ever cloned before iteration starts (the writer counts, then writes).
    fn clone(&self) -> Self {
        CloneIter::new(self.make.clone())
    }
}

impl<F: Fn() -> I + Clone, I: Iterator> Iterator for CloneIter<F, I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        self.it.next()
    }
}

/// The owned RDB model of a value (DUMP).
pub fn to_rdb(value: &Value) -> snapkv_rdb::Value {
    match value {
        Value::Str(s) => snapkv_rdb::Value::Str(s.to_vec()),
        Value::List(l) => snapkv_rdb::Value::List(l.iter().map(|e| e.to_vec()).collect()),
        Value::HashPack(_) | Value::HashTable(_) => snapkv_rdb::Value::Hash(
            value
                .as_hash()
                .expect("a hash")
                .iter()
                .map(|(f, v)| (f.to_vec(), v.to_vec()))
                .collect(),
        ),
        Value::SetInts(_) | Value::SetTable(_) => snapkv_rdb::Value::Set(
            value
                .as_set()
                .expect("a set")
                .iter()
                .map(Item::to_vec)
                .collect(),
        ),
        Value::ZSetPack(_) | Value::ZSetSkip(_) => snapkv_rdb::Value::ZSet(
            value
                .as_zset()
                .expect("a zset")
                .iter()
                .map(|(m, s)| (m.to_vec(), s))
                .collect(),
        ),
    }
}

/// A keyspace value from the RDB model, in the encoding the config calls for. Streams
/// are not held by snapkv: `Err(type name)`.
pub fn from_rdb(v: snapkv_rdb::Value, limits: &Limits) -> Result<Value, &'static str> {
    Ok(match v {
        snapkv_rdb::Value::Str(s) => Value::Str(StrValue::from_bytes(&s)),
        snapkv_rdb::Value::List(items) => {
            let mut l = Value::new_list();
            let list = l.as_list_mut().expect("a list");
            list.extend(items.iter().map(|i| snapkv_keyspace::SmallBytes::new(i)));
            l
        }
        snapkv_rdb::Value::Set(members) => set::build(members.iter().map(|m| &m[..]), limits),
        snapkv_rdb::Value::Hash(pairs) => {
            hash::build(pairs.iter().map(|(f, v)| (&f[..], &v[..])), limits)
        }
        // RDB 12 (Redis 7.4) field TTLs: the keyspace has no per-field TTL, so fields
        // already expired are dropped and the rest are kept without one.
        snapkv_rdb::Value::HashWithTtl(fields) => {
            let now = snapkv_keyspace::clock::now_ms() as i64;
            hash::build(
                fields
                    .iter()
                    .filter(|(_, _, ttl)| ttl.is_none_or(|t| t > now))
                    .map(|(f, v, _)| (&f[..], &v[..])),
                limits,
            )
        }
        snapkv_rdb::Value::ZSet(members) => {
            zset::build(members.iter().map(|(m, s)| (&m[..], *s)), limits)
        }
        snapkv_rdb::Value::Stream(_) => return Err("stream"),
    })
}
