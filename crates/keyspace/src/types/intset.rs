//! [`IntSet`]: a sorted array of distinct integers in the narrowest width that holds
//! them all (2, 4 or 8 bytes), in one right-sized allocation — Redis's `intset`, the
//! encoding of small all-integer sets. Layout: one width byte, then the values.

#[derive(Clone, Debug, PartialEq)]
pub struct IntSet(Box<[u8]>);

impl Default for IntSet {
    fn default() -> Self {
        IntSet(vec![2u8].into_boxed_slice())
    }
}

fn width_for(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

impl IntSet {
    pub fn new() -> IntSet {
        IntSet::default()
    }

    fn width(&self) -> usize {
        self.0[0] as usize
    }

    pub fn len(&self) -> usize {
        (self.0.len() - 1) / self.width()
    }

    pub fn is_empty(&self) -> bool {
        self.0.len() == 1
    }

    pub fn bytes(&self) -> usize {
        self.0.len()
    }

    pub fn get(&self, i: usize) -> i64 {
        let w = self.width();
        let b = &self.0[1 + i * w..1 + (i + 1) * w];
        match w {
            2 => i16::from_le_bytes([b[0], b[1]]) as i64,
            4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            _ => i64::from_le_bytes(b.try_into().expect("8 bytes")),
        }
    }

    /// `Ok(index)` if present, else `Err(insertion point)`.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + ExactSizeIterator + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    fn rebuild(width: usize, values: impl Iterator<Item = i64>, n: usize) -> Box<[u8]> {
        let mut v = Vec::with_capacity(1 + n * width);
        v.push(width as u8);
        for x in values {
            match width {
                2 => v.extend_from_slice(&(x as i16).to_le_bytes()),
                4 => v.extend_from_slice(&(x as i32).to_le_bytes()),
                _ => v.extend_from_slice(&x.to_le_bytes()),
            }
        }
        v.into_boxed_slice()
    }

    /// Adds `v`; false if it was there.
    pub fn insert(&mut self, v: i64) -> bool {
        let at = match self.search(v) {
            Ok(_) => return false,
            Err(at) => at,
        };
        let n = self.len();
        let width = self.width().max(width_for(v));
        let values = self
            .iter()
            .take(at)
            .chain(std::iter::once(v))
            .chain(self.iter().skip(at));
        self.0 = Self::rebuild(width, values, n + 1);
        true
    }

    /// Removes `v`; false if it was not there. The width never shrinks (as in Redis).
    pub fn remove(&mut self, v: i64) -> bool {
        let Ok(at) = self.search(v) else {
            return false;
        };
        let w = self.width();
        let mut b = std::mem::take(&mut self.0).into_vec();
        b.drain(1 + at * w..1 + (at + 1) * w);
        self.0 = b.into_boxed_slice();
        true
    }

    pub fn from_sorted(values: &[i64]) -> IntSet {
        let width = values.iter().map(|&v| width_for(v)).max().unwrap_or(2);
        IntSet(Self::rebuild(width, values.iter().copied(), values.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(ops in proptest::collection::vec((any::<bool>(), prop_oneof![-300i64..300, any::<i64>()]), 0..200)) {
            let mut s = IntSet::new();
            let mut model = std::collections::BTreeSet::new();
            for (add, v) in ops {
                if add {
                    prop_assert_eq!(s.insert(v), model.insert(v));
                } else {
                    prop_assert_eq!(s.remove(v), model.remove(&v));
                }
                prop_assert_eq!(s.len(), model.len());
            }
            let got: Vec<i64> = s.iter().collect();
            let want: Vec<i64> = model.into_iter().collect();
            prop_assert_eq!(got, want);
        }
    }
}
