//! Lists: a deque of elements (short ones inline). Redis 7.0 reports every list as
//! `quicklist`; so do we. O(1) push/pop at both ends and O(1) LINDEX.

use std::collections::VecDeque;

use crate::bytes::SmallBytes;

pub type List = VecDeque<SmallBytes>;

/// Heap bytes, elements estimated from `samples` of them (see [`super::sampled_sum`]).
pub fn heap_size(l: &List, samples: usize) -> usize {
    l.capacity() * 24 + super::sampled_sum(l.len(), samples, l.iter().map(|e| e.heap_size()))
}
