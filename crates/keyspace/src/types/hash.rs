//! Hashes: a [`Pack`] of field, value, field, value … in insertion order (as Redis's
//! listpack), or a [`HashTable`] once a field or value is longer than
//! `hash-max-listpack-value` or there are more than `hash-max-listpack-entries` fields.

use std::sync::Arc;

use indexmap::IndexMap;

use super::pack::{Item, Pack};
use super::{scan_range, Hasher, Limits};
use crate::bytes::SmallBytes;
use crate::value::Value;

pub type HashTable = IndexMap<SmallBytes, SmallBytes, Hasher>;

/// A read view of a hash value.
#[derive(Clone, Copy)]
pub enum HashRef<'a> {
    Pack(&'a Pack),
    Table(&'a HashTable),
}

impl<'a> HashRef<'a> {
    pub fn len(self) -> usize {
        match self {
            HashRef::Pack(p) => p.len() / 2,
            HashRef::Table(t) => t.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    pub fn encoding(self) -> &'static str {
        match self {
            HashRef::Pack(_) => "listpack",
            HashRef::Table(_) => "hashtable",
        }
    }

    /// Field, value pairs: insertion order for packs, table order otherwise.
    pub fn iter(self) -> Box<dyn Iterator<Item = (Item<'a>, Item<'a>)> + 'a> {
        match self {
            HashRef::Pack(p) => {
                let mut it = p.iter();
                Box::new(std::iter::from_fn(move || Some((it.next()?, it.next()?))))
            }
            HashRef::Table(t) => Box::new(
                t.iter()
                    .map(|(k, v)| (Item::Str(k.as_slice()), Item::Str(v.as_slice()))),
            ),
        }
    }

    pub fn get(self, field: &[u8]) -> Option<Item<'a>> {
        match self {
            HashRef::Pack(_) => self.iter().find(|(f, _)| f.eq_bytes(field)).map(|(_, v)| v),
            HashRef::Table(t) => t.get(field).map(|v| Item::Str(v.as_slice())),
        }
    }

    /// The `i`-th pair (HRANDFIELD): O(1) for tables.
    pub fn nth(self, i: usize) -> Option<(Item<'a>, Item<'a>)> {
        match self {
            HashRef::Pack(_) => self.iter().nth(i),
            HashRef::Table(t) => t
                .get_index(i)
                .map(|(k, v)| (Item::Str(k.as_slice()), Item::Str(v.as_slice()))),
        }
    }

    /// One HSCAN page: small hashes answer whole with cursor 0, as Redis does.
    pub fn scan(self, cursor: u64, count: usize) -> (Vec<(Item<'a>, Item<'a>)>, u64) {
        match self {
            HashRef::Pack(_) => (self.iter().collect(), 0),
            HashRef::Table(t) => {
                let (r, next) = scan_range(t.len(), cursor, count);
                let page = r
                    .rev()
                    .filter_map(|i| t.get_index(i))
                    .map(|(k, v)| (Item::Str(k.as_slice()), Item::Str(v.as_slice())))
                    .collect();
                (page, next)
            }
        }
    }

    /// Heap bytes, elements estimated from `samples` of them (see [`super::sampled_sum`]).
    pub fn heap_size(self, samples: usize) -> usize {
        match self {
            HashRef::Pack(p) => p.bytes(),
            HashRef::Table(t) => {
                t.capacity() * 56
                    + super::sampled_sum(
                        t.len(),
                        samples,
                        t.iter().map(|(k, v)| k.heap_size() + v.heap_size()),
                    )
            }
        }
    }
}

/// A write view: `Value` is known to be a hash.
pub struct HashMut<'a>(pub(crate) &'a mut Value);

impl<'a> HashMut<'a> {
    pub fn view(&self) -> HashRef<'_> {
        self.0.as_hash().expect("HashMut holds a hash")
    }

    pub fn len(&self) -> usize {
        self.view().len()
    }

    pub fn is_empty(&self) -> bool {
        self.view().is_empty()
    }

    fn convert_to_table(&mut self) {
        if let Value::HashPack(p) = &*self.0 {
            let mut t = HashTable::with_capacity_and_hasher(p.len() / 2 + 1, Hasher::default());
            let mut it = p.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                t.insert(f.with_bytes(SmallBytes::new), v.with_bytes(SmallBytes::new));
            }
            *self.0 = Value::HashTable(Arc::new(t));
        }
    }

    /// Converts to a table if any of `lens` exceeds the value limit (Redis's
    /// `hashTypeTryConversion`, run on a command's arguments before it writes).
    pub fn check_lengths(&mut self, lens: impl IntoIterator<Item = usize>, limits: &Limits) {
        if matches!(self.0, Value::HashPack(_)) && lens.into_iter().any(|l| l > limits.hash_value) {
            self.convert_to_table();
        }
    }

    /// Sets `field` to `value`; true if the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &Limits) -> bool {
        self.check_lengths([field.len(), value.len()], limits);
        let added = match self.0 {
            Value::HashPack(p) => {
                let mut found = None;
                let mut it = p.iter_at();
                while let (Some((_, f)), Some((vr, _))) = (it.next(), it.next()) {
                    if f.eq_bytes(field) {
                        found = Some(vr);
                        break;
                    }
                }
                drop(it);
                match found {
                    Some(vr) => {
                        p.splice(vr, 1, &[Item::from_bytes(value)]);
                        false
                    }
                    None => {
                        p.push(&[Item::from_bytes(field), Item::from_bytes(value)]);
                        true
                    }
                }
            }
            Value::HashTable(t) => Arc::make_mut(t)
                .insert(SmallBytes::new(field), SmallBytes::new(value))
                .is_none(),
            _ => unreachable!("HashMut holds a hash"),
        };
        if added && self.len() > limits.hash_entries {
            self.convert_to_table();
        }
        added
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.0 {
            Value::HashPack(p) => {
                let mut found = None;
                let mut it = p.iter_at();
                while let (Some((fr, f)), Some((vr, _))) = (it.next(), it.next()) {
                    if f.eq_bytes(field) {
                        found = Some(fr.start..vr.end);
                        break;
                    }
                }
                drop(it);
                match found {
                    Some(r) => {
                        p.splice(r, 2, &[]);
                        true
                    }
                    None => false,
                }
            }
            Value::HashTable(t) => {
                if t.contains_key(field) {
                    Arc::make_mut(t).swap_remove(field);
                    true
                } else {
                    false
                }
            }
            _ => unreachable!("HashMut holds a hash"),
        }
    }
}

/// A new hash holding `pairs`, in the encoding Redis would pick.
pub fn build<'a>(pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>, limits: &Limits) -> Value {
    let mut v = Value::HashPack(Pack::new());
    let mut h = HashMut(&mut v);
    for (f, val) in pairs {
        h.set(f, val, limits);
    }
    v
}
