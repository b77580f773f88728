//! Sorted sets: a [`Pack`] of member, score pairs kept in (score, member) order while
//! small (Redis's listpack), else a [`ZSetTable`]: a member → score map plus an ordered
//! tree of (score, member) (Redis's dict + skiplist). Order: score, then member bytes.
//!
//! Known cost: ranks in the tree are counted (O(rank)), where Redis's skiplist spans make
//! them O(log n).

use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

use indexmap::IndexMap;

use super::pack::{Item, Pack};
use super::{scan_range, Hasher, Limits};
use crate::bytes::SmallBytes;
use crate::value::Value;

/// A score with a total order (scores are never NaN; -0 equals 0 as in Redis).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score(pub f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .partial_cmp(&other.0)
            .unwrap_or(std::cmp::Ordering::Equal)
    }
}

#[derive(Clone, Debug, Default)]
pub struct ZSetTable {
    pub dict: IndexMap<SmallBytes, f64, Hasher>,
    pub tree: BTreeSet<(Score, SmallBytes)>,
}

/// An ordered-iteration item: member and score.
pub type Scored<'a> = (Item<'a>, f64);

#[derive(Clone, Copy)]
pub enum ZSetRef<'a> {
    Pack(&'a Pack),
    Table(&'a ZSetTable),
}

fn pairs(p: &Pack) -> impl Iterator<Item = Scored<'_>> {
    let mut it = p.iter();
    std::iter::from_fn(move || Some((it.next()?, it.next()?.as_f64())))
}

fn cmp_member(a: Item<'_>, b: &[u8]) -> std::cmp::Ordering {
    a.with_bytes(|a| a.cmp(b))
}

impl<'a> ZSetRef<'a> {
    pub fn len(self) -> usize {
        match self {
            ZSetRef::Pack(p) => p.len() / 2,
            ZSetRef::Table(t) => t.dict.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    pub fn encoding(self) -> &'static str {
        match self {
            ZSetRef::Pack(_) => "listpack",
            ZSetRef::Table(_) => "skiplist",
        }
    }

    pub fn score(self, m: &[u8]) -> Option<f64> {
        match self {
            ZSetRef::Pack(p) => pairs(p).find(|(x, _)| x.eq_bytes(m)).map(|(_, s)| s),
            ZSetRef::Table(t) => t.dict.get(m).copied(),
        }
    }

    /// Ascending (score, member) order; `.rev()` for descending.
    pub fn iter(self) -> Box<dyn DoubleEndedIterator<Item = Scored<'a>> + 'a> {
        match self {
            ZSetRef::Pack(p) => Box::new(pairs(p).collect::<Vec<_>>().into_iter()),
            ZSetRef::Table(t) => {
                Box::new(t.tree.iter().map(|(s, m)| (Item::Str(m.as_slice()), s.0)))
            }
        }
    }

    /// Ascending from the first element with score ≥ `min` (a tree seeks there).
    pub fn iter_from(self, min: f64) -> Box<dyn Iterator<Item = Scored<'a>> + 'a> {
        match self {
            ZSetRef::Pack(p) => Box::new(pairs(p).skip_while(move |(_, s)| *s < min)),
            ZSetRef::Table(t) => Box::new(
                t.tree
                    .range((
                        Bound::Included((Score(min), SmallBytes::new(b""))),
                        Bound::Unbounded,
                    ))
                    .map(|(s, m)| (Item::Str(m.as_slice()), s.0)),
            ),
        }
    }

    /// Descending from the last element with score ≤ `max`.
    pub fn iter_rev_from(self, max: f64) -> Box<dyn Iterator<Item = Scored<'a>> + 'a> {
        match self {
            ZSetRef::Pack(_) => Box::new(self.iter().rev().skip_while(move |(_, s)| *s > max)),
            ZSetRef::Table(t) => Box::new(
                t.tree
                    .iter()
                    .rev()
                    .skip_while(move |(s, _)| s.0 > max)
                    .map(|(s, m)| (Item::Str(m.as_slice()), s.0)),
            ),
        }
    }

    /// 0-based ascending rank of `m`.
    pub fn rank(self, m: &[u8]) -> Option<usize> {
        match self {
            ZSetRef::Pack(p) => pairs(p).position(|(x, _)| x.eq_bytes(m)),
            ZSetRef::Table(t) => {
                let s = *t.dict.get(m)?;
                Some(t.tree.range(..(Score(s), SmallBytes::new(m))).count())
            }
        }
    }

    /// The `i`-th member in table order (random picks), O(1) for tables.
    pub fn nth_any(self, i: usize) -> Option<Scored<'a>> {
        match self {
            ZSetRef::Pack(p) => pairs(p).nth(i),
            ZSetRef::Table(t) => t
                .dict
                .get_index(i)
                .map(|(m, s)| (Item::Str(m.as_slice()), *s)),
        }
    }

    /// One ZSCAN page: (member, score item). A pack answers its stored score items
    /// (integers stay integers, as Redis answers the listpack's own strings).
    pub fn scan(self, cursor: u64, count: usize) -> (Vec<(Item<'a>, Item<'a>)>, u64) {
        match self {
            ZSetRef::Pack(p) => {
                let mut it = p.iter();
                (
                    std::iter::from_fn(move || Some((it.next()?, it.next()?))).collect(),
                    0,
                )
            }
            ZSetRef::Table(t) => {
                let (r, next) = scan_range(t.dict.len(), cursor, count);
                let page = r
                    .rev()
                    .filter_map(|i| t.dict.get_index(i))
                    .map(|(m, s)| (Item::Str(m.as_slice()), Item::Float(*s)))
                    .collect();
                (page, next)
            }
        }
    }

    /// Heap bytes, members estimated from `samples` of them (see [`super::sampled_sum`]).
    pub fn heap_size(self, samples: usize) -> usize {
        match self {
            ZSetRef::Pack(p) => p.bytes(),
            ZSetRef::Table(t) => {
                t.dict.capacity() * 48
                    + t.tree.len() * 48
                    + super::sampled_sum(
                        t.dict.len(),
                        samples,
                        t.dict.keys().map(|m| 2 * m.heap_size()),
                    )
            }
        }
    }
}

pub struct ZSetMut<'a>(pub(crate) &'a mut Value);

impl<'a> ZSetMut<'a> {
    pub fn view(&self) -> ZSetRef<'_> {
        self.0.as_zset().expect("ZSetMut holds a zset")
    }

    pub fn len(&self) -> usize {
        self.view().len()
    }

    pub fn is_empty(&self) -> bool {
        self.view().is_empty()
    }

    fn convert_to_table(&mut self) {
        if let Value::ZSetPack(p) = &*self.0 {
            let mut t = ZSetTable::default();
            for (m, s) in pairs(p) {
                let m = m.with_bytes(SmallBytes::new);
                t.dict.insert(m.clone(), s);
                t.tree.insert((Score(s), m));
            }
            *self.0 = Value::ZSetSkip(Arc::new(t));
        }
    }

    /// Sets `m`'s score; returns the previous score (None if `m` is new).
    pub fn insert(&mut self, m: &[u8], score: f64, limits: &Limits) -> Option<f64> {
        if matches!(self.0, Value::ZSetPack(_)) && m.len() > limits.zset_value {
            self.convert_to_table();
        }
        let old = match self.0 {
            Value::ZSetPack(p) => {
                let mut old = None;
                let mut it = p.iter_at();
                while let (Some((mr, x)), Some((sr, s))) = (it.next(), it.next()) {
                    if x.eq_bytes(m) {
                        old = Some((mr.start..sr.end, s.as_f64()));
                        break;
                    }
                }
                drop(it);
                if let Some((r, s)) = &old {
                    if *s == score {
                        return Some(*s);
                    }
                    p.splice(r.clone(), 2, &[]);
                }
                // Insert before the first pair that sorts after (score, m).
                let mut at = p.end();
                let mut it = p.iter_at();
                while let (Some((mr, x)), Some((_, s))) = (it.next(), it.next()) {
                    let s = s.as_f64();
                    if s > score || (s == score && cmp_member(x, m).is_gt()) {
                        at = mr.start;
                        break;
                    }
                }
                drop(it);
                p.splice(at..at, 0, &[Item::from_bytes(m), Item::from_score(score)]);
                old.map(|(_, s)| s)
            }
            Value::ZSetSkip(t) => {
                let t = Arc::make_mut(t);
                match t.dict.get_mut(m) {
                    Some(s) => {
                        let old = *s;
                        if old != score {
                            *s = score;
                            let key = SmallBytes::new(m);
                            t.tree.remove(&(Score(old), key.clone()));
                            t.tree.insert((Score(score), key));
                        }
                        Some(old)
                    }
                    None => {
                        let key = SmallBytes::new(m);
                        t.dict.insert(key.clone(), score);
                        t.tree.insert((Score(score), key));
                        None
                    }
                }
            }
            _ => unreachable!("ZSetMut holds a zset"),
        };
        if old.is_none() && self.len() > limits.zset_entries {
            self.convert_to_table();
        }
        old
    }

    /// Removes `m`; returns its score.
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        match self.0 {
            Value::ZSetPack(p) => {
                let mut found = None;
                let mut it = p.iter_at();
                while let (Some((mr, x)), Some((sr, s))) = (it.next(), it.next()) {
                    if x.eq_bytes(m) {
                        found = Some((mr.start..sr.end, s.as_f64()));
                        break;
                    }
                }
                drop(it);
                let (r, s) = found?;
                p.splice(r, 2, &[]);
                Some(s)
            }
            Value::ZSetSkip(t) => {
                let s = *t.dict.get(m)?;
                let t = Arc::make_mut(t);
                t.dict.swap_remove(m);
                t.tree.remove(&(Score(s), SmallBytes::new(m)));
                Some(s)
            }
            _ => unreachable!("ZSetMut holds a zset"),
        }
    }
}

/// A zset holding `members` (later duplicates win), encoded as Redis would pick for a
/// result of this size (ZUNIONSTORE & co. convert small results to listpack).
pub fn build<'a>(members: impl IntoIterator<Item = (&'a [u8], f64)>, limits: &Limits) -> Value {
    let members: Vec<(&[u8], f64)> = members.into_iter().collect();
    let small = members.len() <= limits.zset_entries
        && members.iter().all(|(m, _)| m.len() <= limits.zset_value);
    let mut v = if small {
        Value::ZSetPack(Pack::new())
    } else {
        Value::ZSetSkip(Arc::new(ZSetTable::default()))
    };
    let mut z = ZSetMut(&mut v);
    for (m, s) in members {
        z.insert(m, s, limits);
    }
    v
}
