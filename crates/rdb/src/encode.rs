//! Value serialisation shared by the file writer and DUMP: length and string encodings,
//! and the choice of compact encoding per value (Redis 7.0 thresholds, configurable).
//!
//! Everything writes into a `Sink`'s buffer; `spill` between collection items lets the
//! file writer flush, so one large value never has to sit whole in memory.

use std::io;

use crate::consts::*;
use crate::intset;
use crate::listpack::{self, ListpackBuilder};
use crate::lzf::Lzf;
use crate::num::{parse_i64_canonical, push_i64, push_score};

/// Encoding and framing options (the `rdbcompression`, `rdbchecksum` and
/// `*-max-listpack-*` settings of redis.conf).
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// LZF-compress strings longer than 20 bytes when it pays (`rdbcompression`).
    pub compression: bool,
    /// Write the CRC-64 footer, else 0 (`rdbchecksum`).
    pub checksum: bool,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    /// Negative: node size limit -1..-5 = 4..64 KiB; positive: entries per node.
    pub list_max_listpack_size: i64,
    pub stream_node_max_entries: usize,
    pub stream_node_max_bytes: usize,
    /// `rdb-key-save-delay`, for the snapshot writer's per-key loop (this crate never
    /// sleeps): µs after each key, or with -N, 1 µs every N keys.
    pub key_save_delay: i64,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            compression: true,
            checksum: true,
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
            stream_node_max_entries: 100,
            stream_node_max_bytes: 4096,
            key_save_delay: 0,
        }
    }
}

/// Where encoded bytes go: a buffer, drained by `spill` when its owner wants to.
pub(crate) trait Sink {
    fn buf(&mut self) -> &mut Vec<u8>;
    /// Called between collection items; may write out and clear the buffer.
    fn spill(&mut self) -> io::Result<()>;
}

impl Sink for Vec<u8> {
    fn buf(&mut self) -> &mut Vec<u8> {
        self
    }
    fn spill(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Append an RDB length.
pub(crate) fn put_len(buf: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        buf.push(len as u8);
    } else if len < 1 << 14 {
        buf.push(((len >> 8) as u8) | (LEN_14BIT << 6));
        buf.push(len as u8);
    } else if len <= u32::MAX as u64 {
        buf.push(LEN_32BIT);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        buf.push(LEN_64BIT);
        buf.extend_from_slice(&len.to_be_bytes());
    }
}

/// Append an integer with the special string encodings when it fits 32 bits, else as
/// decimal text.
pub(crate) fn put_int(buf: &mut Vec<u8>, v: i64) {
    let enc = LEN_ENCVAL << 6;
    if let Ok(x) = i8::try_from(v) {
        buf.extend_from_slice(&[enc | ENC_INT8, x as u8]);
    } else if let Ok(x) = i16::try_from(v) {
        buf.push(enc | ENC_INT16);
        buf.extend_from_slice(&x.to_le_bytes());
    } else if let Ok(x) = i32::try_from(v) {
        buf.push(enc | ENC_INT32);
        buf.extend_from_slice(&x.to_le_bytes());
    } else {
        let mut tmp = Vec::with_capacity(20);
        push_i64(&mut tmp, v);
        put_len(buf, tmp.len() as u64);
        buf.extend_from_slice(&tmp);
    }
}

/// Strings at least this long count toward a run of incompressible values; shorter ones
/// cost little to try.
const LZF_PROBE_MIN: usize = 64;
/// Incompressible strings in a row before the encoder starts skipping LZF attempts.
const LZF_STREAK: u32 = 32;
/// At most this many strings go uncompressed between two attempts.
const LZF_MAX_SKIP: u32 = 63;

/// The value encoder: options plus reusable scratch space (LZF table, listpack builder).
pub struct Encoder {
    pub(crate) opts: WriteOptions,
    lzf: Lzf,
    /// Long strings LZF failed to shrink, in a row.
    lzf_misses: u32,
    /// Long strings still to store without trying LZF, and the gap the last miss set.
    lzf_skip: u32,
    lzf_gap: u32,
    scratch: Vec<u8>,
    lp: ListpackBuilder,
    ints: Vec<i64>,
}

impl Encoder {
    pub fn new(opts: WriteOptions) -> Self {
        Self {
            opts,
            lzf: Lzf::new(),
            lzf_misses: 0,
            lzf_skip: 0,
            lzf_gap: 0,
            scratch: Vec::new(),
            lp: ListpackBuilder::new(),
            ints: Vec::new(),
        }
    }

    pub fn options(&self) -> &WriteOptions {
        &self.opts
    }

    /// Append a string: integer encoding for short canonical integers, LZF when enabled,
    /// longer than 20 bytes and smaller (as `rdbSaveRawString` does), else raw.
    ///
    /// Unlike Redis, a run of incompressible long strings (already-compressed or random
    /// payloads, common in caches) makes the encoder stop trying on every one: after
    /// [`LZF_STREAK`] misses in a row it tries once per growing gap, up to one string in
    /// [`LZF_MAX_SKIP`]` + 1`, and any success goes back to trying them all. A failed
    /// attempt scans the whole string, and on such data it was the largest part of a
    /// snapshot's CPU; the file is at most a few skipped strings larger than Redis's.
    pub(crate) fn put_string(&mut self, buf: &mut Vec<u8>, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(v) = parse_i64_canonical(s) {
                if i32::try_from(v).is_ok() {
                    put_int(buf, v);
                    return;
                }
            }
        }
        if self.opts.compression && s.len() > 20 && !self.skip_lzf(s.len()) {
            self.scratch.clear();
            if let Some(clen) = self.lzf.compress(s, &mut self.scratch, s.len() - 4) {
                (self.lzf_misses, self.lzf_gap) = (0, 0);
                buf.push((LEN_ENCVAL << 6) | ENC_LZF);
                put_len(buf, clen as u64);
                put_len(buf, s.len() as u64);
                buf.extend_from_slice(&self.scratch);
                return;
            }
            if s.len() >= LZF_PROBE_MIN {
                self.lzf_misses += 1;
                if self.lzf_misses >= LZF_STREAK {
                    self.lzf_gap = (self.lzf_gap * 2 + 1).min(LZF_MAX_SKIP);
                    self.lzf_skip = self.lzf_gap;
                }
            }
        }
        put_len(buf, s.len() as u64);
        buf.extend_from_slice(s);
    }

    /// Whether this string goes uncompressed without an attempt (see `put_string`).
    fn skip_lzf(&mut self, len: usize) -> bool {
        if len < LZF_PROBE_MIN || self.lzf_skip == 0 {
            return false;
        }
        self.lzf_skip -= 1;
        true
    }

    fn head<S: Sink>(&mut self, sink: &mut S, ty: u8, key: Option<&[u8]>) {
        sink.buf().push(ty);
        if let Some(k) = key {
            self.put_string(sink.buf(), k);
        }
    }

    pub(crate) fn string<S: Sink>(&mut self, sink: &mut S, key: Option<&[u8]>, v: &[u8]) {
        self.head(sink, TYPE_STRING, key);
        self.put_string(sink.buf(), v);
    }

    pub(crate) fn int_string<S: Sink>(&mut self, sink: &mut S, key: Option<&[u8]>, v: i64) {
        self.head(sink, TYPE_STRING, key);
        put_int(sink.buf(), v);
    }

    fn node_full(&self, bytes: usize, count: usize, add: usize) -> bool {
        if count == 0 {
            return false;
        }
        let fill = self.opts.list_max_listpack_size;
        if fill < 0 {
            let limit = 4096usize << (fill.unsigned_abs().min(5) - 1);
            bytes + add > limit
        } else {
            count as i64 >= fill || bytes + add > 8192
        }
    }

    /// A list as QUICKLIST_2 of packed listpack nodes. Two passes over `items`: the node
    /// count precedes the nodes.
    pub(crate) fn list<S, I>(
        &mut self,
        sink: &mut S,
        key: Option<&[u8]>,
        items: I,
    ) -> io::Result<()>
    where
        S: Sink,
        I: Iterator + Clone,
        I::Item: AsRef<[u8]>,
    {
        let empty = 7; // header + terminator
        let (mut nodes, mut bytes, mut count) = (0u64, empty, 0usize);
        for it in items.clone() {
            let add = listpack::entry_size(it.as_ref());
            if self.node_full(bytes, count, add) {
                nodes += 1;
                bytes = empty;
                count = 0;
            }
            bytes += add;
            count += 1;
        }
        if count > 0 {
            nodes += 1;
        }
        self.head(sink, TYPE_LIST_QUICKLIST_2, key);
        put_len(sink.buf(), nodes);
        let mut lp = std::mem::take(&mut self.lp);
        lp.clear();
        let mut bytes = empty;
        for it in items {
            let s = it.as_ref();
            let add = listpack::entry_size(s);
            if self.node_full(bytes, lp.len(), add) {
                self.put_node(sink, &mut lp)?;
                bytes = empty;
            }
            lp.push(s);
            bytes += add;
        }
        if !lp.is_empty() {
            self.put_node(sink, &mut lp)?;
        }
        self.lp = lp;
        Ok(())
    }

    fn put_node<S: Sink>(&mut self, sink: &mut S, lp: &mut ListpackBuilder) -> io::Result<()> {
        put_len(sink.buf(), QUICKLIST_NODE_PACKED);
        self.put_string(sink.buf(), lp.finish());
        lp.clear();
        sink.spill()
    }

    /// A set as an intset (all canonical integers, few enough) or a hash table (SET).
    pub(crate) fn set<S, I>(
        &mut self,
        sink: &mut S,
        key: Option<&[u8]>,
        members: I,
    ) -> io::Result<()>
    where
        S: Sink,
        I: Iterator + Clone,
        I::Item: AsRef<[u8]>,
    {
        let max = self.opts.set_max_intset_entries;
        self.ints.clear();
        let mut all_ints = true;
        let mut n = 0u64;
        for m in members.clone() {
            n += 1;
            if all_ints {
                match parse_i64_canonical(m.as_ref()) {
                    Some(v) if self.ints.len() < max => self.ints.push(v),
                    _ => {
                        all_ints = false;
                        self.ints.clear();
                    }
                }
            }
        }
        if all_ints {
            self.head(sink, TYPE_SET_INTSET, key);
            let mut ints = std::mem::take(&mut self.ints);
            self.scratch.clear();
            let mut blob = std::mem::take(&mut self.scratch);
            intset::encode(&mut ints, &mut blob);
            self.put_string(sink.buf(), &blob);
            self.scratch = blob;
            self.ints = ints;
            return Ok(());
        }
        self.head(sink, TYPE_SET, key);
        put_len(sink.buf(), n);
        for m in members {
            self.put_string(sink.buf(), m.as_ref());
            sink.spill()?;
        }
        Ok(())
    }

    /// A hash as a listpack (few, short fields) or a hash table (HASH).
    pub(crate) fn hash<S, I, F, V>(
        &mut self,
        sink: &mut S,
        key: Option<&[u8]>,
        pairs: I,
    ) -> io::Result<()>
    where
        S: Sink,
        I: Iterator<Item = (F, V)> + Clone,
        F: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        let (max_n, max_len) = (
            self.opts.hash_max_listpack_entries,
            self.opts.hash_max_listpack_value,
        );
        let mut n = 0u64;
        let mut small = true;
        for (f, v) in pairs.clone() {
            n += 1;
            small &= f.as_ref().len() <= max_len && v.as_ref().len() <= max_len;
        }
        if small && n as usize <= max_n {
            self.head(sink, TYPE_HASH_LISTPACK, key);
            let mut lp = std::mem::take(&mut self.lp);
            lp.clear();
            for (f, v) in pairs {
                lp.push(f.as_ref());
                lp.push(v.as_ref());
            }
            self.put_string(sink.buf(), lp.finish());
            self.lp = lp;
            return Ok(());
        }
        self.head(sink, TYPE_HASH, key);
        put_len(sink.buf(), n);
        for (f, v) in pairs {
            self.put_string(sink.buf(), f.as_ref());
            self.put_string(sink.buf(), v.as_ref());
            sink.spill()?;
        }
        Ok(())
    }

    /// A sorted set as a listpack sorted by (score, member) or a skiplist (ZSET_2).
    pub(crate) fn zset<S, I, M>(
        &mut self,
        sink: &mut S,
        key: Option<&[u8]>,
        members: I,
    ) -> io::Result<()>
    where
        S: Sink,
        I: Iterator<Item = (M, f64)> + Clone,
        M: AsRef<[u8]>,
    {
        let (max_n, max_len) = (
            self.opts.zset_max_listpack_entries,
            self.opts.zset_max_listpack_value,
        );
        let mut n = 0u64;
        let mut small = true;
        for (m, _) in members.clone() {
            n += 1;
            small &= m.as_ref().len() <= max_len;
        }
        if small && n as usize <= max_n {
            // Listpack zsets must be in rank order: ZRANGE walks them as stored. Compare as
            // Redis does (-0 == 0, ties by member).
            let mut sorted: Vec<(M, f64)> = members.collect();
            sorted.sort_by(|a, b| {
                a.1.partial_cmp(&b.1)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.0.as_ref().cmp(b.0.as_ref()))
            });
            self.head(sink, TYPE_ZSET_LISTPACK, key);
            let mut lp = std::mem::take(&mut self.lp);
            lp.clear();
            let mut txt = Vec::with_capacity(32);
            for (m, score) in &sorted {
                lp.push(m.as_ref());
                txt.clear();
                push_score(&mut txt, *score);
                lp.push(&txt);
            }
            self.put_string(sink.buf(), lp.finish());
            self.lp = lp;
            return Ok(());
        }
        self.head(sink, TYPE_ZSET_2, key);
        put_len(sink.buf(), n);
        for (m, score) in members {
            self.put_string(sink.buf(), m.as_ref());
            sink.buf().extend_from_slice(&score.to_le_bytes());
            sink.spill()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        let cases: [(u64, &[u8]); 5] = [
            (0, &[0]),
            (63, &[63]),
            (64, &[0x40, 64]),
            (16384, &[0x80, 0, 0, 0x40, 0]),
            (1 << 32, &[0x81, 0, 0, 0, 1, 0, 0, 0, 0]),
        ];
        for (n, want) in cases {
            let mut b = Vec::new();
            put_len(&mut b, n);
            assert_eq!(b, want, "{n}");
        }
    }

    #[test]
    fn strings() {
        let mut e = Encoder::new(WriteOptions::default());
        let mut b = Vec::new();
        e.put_string(&mut b, b"12");
        assert_eq!(b, [0xC0, 12]);
        b.clear();
        e.put_string(&mut b, b"-300");
        assert_eq!(b, [0xC1, 0xD4, 0xFE]);
        b.clear();
        e.put_string(&mut b, b"100000");
        assert_eq!(b, [0xC2, 0xA0, 0x86, 0x01, 0]);
        b.clear();
        e.put_string(&mut b, b"012");
        assert_eq!(b, [3, b'0', b'1', b'2']);
        b.clear();
        e.put_string(&mut b, &[b'a'; 40]);
        assert_eq!(b[0], 0xC3);
        b.clear();
        e.opts.compression = false;
        e.put_string(&mut b, &[b'a'; 40]);
        assert_eq!(b[0], 40);
    }

    fn noise(seed: &mut u64, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (*seed >> 56) as u8
            })
            .collect()
    }

    fn is_lzf(e: &mut Encoder, s: &[u8]) -> bool {
        let mut b = Vec::new();
        e.put_string(&mut b, s);
        b[0] == 0xC3
    }

    #[test]
    fn incompressible_runs_skip_lzf_until_data_compresses_again() {
        let mut e = Encoder::new(WriteOptions::default());
        let mut seed = 1;
        let text = b"the same words again and again, the same words again and again".repeat(4);
        // Mixed data never trips the skipping: every compressible string is compressed.
        for i in 0..500 {
            if i % 5 == 0 {
                assert!(is_lzf(&mut e, &text), "mixed, string {i}");
            } else {
                assert!(!is_lzf(&mut e, &noise(&mut seed, 300)));
            }
        }
        // A long incompressible run: compressible data after it is found again within
        // one gap, and from then on every string is tried.
        for _ in 0..10_000 {
            assert!(!is_lzf(&mut e, &noise(&mut seed, 500)));
        }
        let late = (0..1000).position(|_| is_lzf(&mut e, &text)).unwrap();
        assert!(late <= LZF_MAX_SKIP as usize, "found after {late} strings");
        for i in 0..100 {
            assert!(is_lzf(&mut e, &text), "after recovery, string {i}");
        }
        // Short strings are always tried, even mid-run.
        for _ in 0..1000 {
            is_lzf(&mut e, &noise(&mut seed, 500));
        }
        assert!(is_lzf(&mut e, &[b'z'; 40]));
    }
}
