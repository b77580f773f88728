//! Sets: an [`IntSet`] while every member is an integer and there are at most
//! `set-max-intset-entries`, else a [`SetTable`] (Redis 7.0 has no listpack sets).

use std::sync::Arc;

use indexmap::IndexSet;

use super::intset::IntSet;
use super::pack::Item;
use super::{scan_range, Hasher, Limits};
use crate::bytes::SmallBytes;
use crate::value::{parse_canonical_i64, Value};

pub type SetTable = IndexSet<SmallBytes, Hasher>;

#[derive(Clone, Copy)]
pub enum SetRef<'a> {
    Ints(&'a IntSet),
    Table(&'a SetTable),
}

impl<'a> SetRef<'a> {
    pub fn len(self) -> usize {
        match self {
            SetRef::Ints(s) => s.len(),
            SetRef::Table(t) => t.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    pub fn encoding(self) -> &'static str {
        match self {
            SetRef::Ints(_) => "intset",
            SetRef::Table(_) => "hashtable",
        }
    }

    pub fn contains(self, m: &[u8]) -> bool {
        match self {
            SetRef::Ints(s) => parse_canonical_i64(m).is_some_and(|i| s.contains(i)),
            SetRef::Table(t) => t.contains(m),
        }
    }

    pub fn iter(self) -> Box<dyn Iterator<Item = Item<'a>> + 'a> {
        match self {
            SetRef::Ints(s) => Box::new(s.iter().map(Item::Int)),
            SetRef::Table(t) => Box::new(t.iter().map(|m| Item::Str(m.as_slice()))),
        }
    }

    /// The `i`-th member (random picks), O(1).
    pub fn nth(self, i: usize) -> Option<Item<'a>> {
        match self {
            SetRef::Ints(s) => (i < s.len()).then(|| Item::Int(s.get(i))),
            SetRef::Table(t) => t.get_index(i).map(|m| Item::Str(m.as_slice())),
        }
    }

    pub fn scan(self, cursor: u64, count: usize) -> (Vec<Item<'a>>, u64) {
        match self {
            SetRef::Ints(_) => (self.iter().collect(), 0),
            SetRef::Table(t) => {
                let (r, next) = scan_range(t.len(), cursor, count);
                let page = r
                    .rev()
                    .filter_map(|i| t.get_index(i))
                    .map(|m| Item::Str(m.as_slice()))
                    .collect();
                (page, next)
            }
        }
    }

    /// Heap bytes, members estimated from `samples` of them (see [`super::sampled_sum`]).
    pub fn heap_size(self, samples: usize) -> usize {
        match self {
            SetRef::Ints(s) => s.bytes(),
            SetRef::Table(t) => {
                t.capacity() * 40
                    + super::sampled_sum(t.len(), samples, t.iter().map(|m| m.heap_size()))
            }
        }
    }
}

pub struct SetMut<'a>(pub(crate) &'a mut Value);

impl<'a> SetMut<'a> {
    pub fn view(&self) -> SetRef<'_> {
        self.0.as_set().expect("SetMut holds a set")
    }

    pub fn len(&self) -> usize {
        self.view().len()
    }

    pub fn is_empty(&self) -> bool {
        self.view().is_empty()
    }

    fn convert_to_table(&mut self) {
        if let Value::SetInts(s) = &*self.0 {
            let mut t = SetTable::with_capacity_and_hasher(s.len() + 1, Hasher::default());
            for i in s.iter() {
                t.insert(SmallBytes::new(itoa::Buffer::new().format(i).as_bytes()));
            }
            *self.0 = Value::SetTable(Arc::new(t));
        }
    }

    /// Adds `m`; true if it is new.
    pub fn insert(&mut self, m: &[u8], limits: &Limits) -> bool {
        if let Value::SetInts(s) = self.0 {
            match parse_canonical_i64(m) {
                Some(i) => {
                    if !s.insert(i) {
                        return false;
                    }
                    if s.len() > limits.set_intset_entries {
                        self.convert_to_table();
                    }
                    return true;
                }
                None => self.convert_to_table(),
            }
        }
        match self.0 {
            Value::SetTable(t) => {
                if t.contains(m) {
                    false
                } else {
                    Arc::make_mut(t).insert(SmallBytes::new(m))
                }
            }
            _ => unreachable!("SetMut holds a set"),
        }
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.0 {
            Value::SetInts(s) => parse_canonical_i64(m).is_some_and(|i| s.remove(i)),
            Value::SetTable(t) => {
                if t.contains(m) {
                    Arc::make_mut(t).swap_remove(m)
                } else {
                    false
                }
            }
            _ => unreachable!("SetMut holds a set"),
        }
    }

    /// Removes and returns the `i`-th member (SPOP).
    pub fn remove_nth(&mut self, i: usize) -> Option<Vec<u8>> {
        let m = self.view().nth(i)?.to_vec();
        self.remove(&m);
        Some(m)
    }
}

/// An empty set in the encoding its first member calls for (`setTypeCreate`).
pub fn new_for(first: &[u8]) -> Value {
    if parse_canonical_i64(first).is_some() {
        Value::SetInts(IntSet::new())
    } else {
        Value::SetTable(Arc::new(SetTable::default()))
    }
}

/// A set holding `members` (duplicates collapse), encoded as Redis would.
pub fn build<'a>(members: impl IntoIterator<Item = &'a [u8]>, limits: &Limits) -> Value {
    let mut v = Value::SetInts(IntSet::new());
    let mut s = SetMut(&mut v);
    for m in members {
        s.insert(m, limits);
    }
    v
}
