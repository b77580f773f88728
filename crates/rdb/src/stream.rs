//! Streams in RDB (`STREAM_LISTPACKS` 1–3): listpacks of entries keyed by master ID, then
//! metadata and consumer groups with their PELs. Decoding to the owned model and encoding
//! as STREAM_LISTPACKS_2 (what RDB version 10 carries).
//!
//! Listpack layout (`t_stream.c`): master entry `count deleted nfields field.. 0`, then per
//! entry `flags ms-diff seq-diff [nfields field value.. | value..] lp-count`.

use std::io::{self, Read};

use crate::consts::*;
use crate::encode::{put_len, Encoder, Sink};
use crate::error::{Error, Result};
use crate::input::Input;
use crate::listpack::{self, ListpackBuilder, LpValue};
use crate::num::parse_i64_canonical;
use crate::value::{Consumer, ConsumerGroup, PendingEntry, Stream, StreamEntry, StreamId};

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;
const WHAT: &str = "stream";

fn lp_int(v: Option<&LpValue<'_>>) -> Option<i64> {
    match *v? {
        LpValue::Int(i) => Some(i),
        LpValue::Str(s) => parse_i64_canonical(s),
    }
}

fn id_pair<R: Read>(inp: &mut Input<R>) -> Result<StreamId> {
    let ms = inp.len()?;
    Ok(StreamId::new(ms, inp.len()?))
}

pub(crate) fn decode<R: Read>(inp: &mut Input<R>, ty: u8) -> Result<Stream> {
    let mut s = Stream::default();
    let (nodes, _) = inp.count()?;
    for _ in 0..nodes {
        let at = inp.offset();
        let key = inp.string()?;
        let key: &[u8; 16] = key
            .as_slice()
            .try_into()
            .map_err(|_| Error::corrupt(at, WHAT, "node key is not 16 bytes"))?;
        let master = StreamId::from_be_bytes(key);
        let lp_at = inp.offset();
        let blob = inp.string()?;
        let items: Vec<LpValue<'_>> = listpack::iter(&blob)
            .and_then(|it| it.collect())
            .map_err(|e| e.at(lp_at))?;
        decode_node(master, &items, &mut s.entries)
            .ok_or_else(|| Error::corrupt(lp_at, WHAT, "bad listpack node"))?;
    }
    s.length = inp.len()?;
    s.last_id = id_pair(inp)?;
    if ty >= TYPE_STREAM_LISTPACKS_2 {
        s.first_id = id_pair(inp)?;
        s.max_deleted_id = id_pair(inp)?;
        s.entries_added = inp.len()?;
    } else {
        s.first_id = s.entries.first().map(|e| e.id).unwrap_or_default();
        s.entries_added = s.length;
    }
    let (groups, cap) = inp.count()?;
    s.groups.reserve(cap);
    for _ in 0..groups {
        let mut g = ConsumerGroup {
            name: inp.string()?,
            last_id: id_pair(inp)?,
            entries_read: -1,
            ..Default::default()
        };
        if ty >= TYPE_STREAM_LISTPACKS_2 {
            g.entries_read = inp.len()? as i64;
        }
        let (n, cap) = inp.count()?;
        g.pel.reserve(cap);
        for _ in 0..n {
            let id = StreamId::from_be_bytes(&inp.array()?);
            let delivery_time = inp.i64_le()?;
            let delivery_count = inp.len()?;
            g.pel.push(PendingEntry {
                id,
                delivery_time,
                delivery_count,
            });
        }
        let (n, cap) = inp.count()?;
        g.consumers.reserve(cap);
        for _ in 0..n {
            let name = inp.string()?;
            let seen_time = inp.i64_le()?;
            let active_time = if ty >= TYPE_STREAM_LISTPACKS_3 {
                inp.i64_le()?
            } else {
                seen_time
            };
            let (k, cap) = inp.count()?;
            let mut pel = Vec::with_capacity(cap);
            for _ in 0..k {
                pel.push(StreamId::from_be_bytes(&inp.array()?));
            }
            g.consumers.push(Consumer {
                name,
                seen_time,
                active_time,
                pel,
            });
        }
        s.groups.push(g);
    }
    Ok(s)
}

/// Decode one listpack node; `None` on any structural inconsistency.
fn decode_node(master: StreamId, items: &[LpValue<'_>], out: &mut Vec<StreamEntry>) -> Option<()> {
    let mut it = items.iter();
    let _count = lp_int(it.next())?;
    let _deleted = lp_int(it.next())?;
    let nmaster = usize::try_from(lp_int(it.next())?).ok()?;
    if nmaster > items.len() {
        return None;
    }
    let fields: Vec<&LpValue<'_>> = (0..nmaster).map(|_| it.next()).collect::<Option<_>>()?;
    if lp_int(it.next())? != 0 {
        return None;
    }
    while it.len() > 0 {
        let flags = lp_int(it.next())?;
        let ms = master.ms.checked_add_signed(lp_int(it.next())?)?;
        let seq = master.seq.checked_add_signed(lp_int(it.next())?)?;
        let mut e = StreamEntry {
            id: StreamId::new(ms, seq),
            fields: Vec::new(),
        };
        if flags & FLAG_SAMEFIELDS != 0 {
            for f in &fields {
                e.fields.push((f.to_vec(), it.next()?.to_vec()));
            }
        } else {
            let n = usize::try_from(lp_int(it.next())?).ok()?;
            if n > items.len() {
                return None;
            }
            for _ in 0..n {
                let f = it.next()?.to_vec();
                e.fields.push((f, it.next()?.to_vec()));
            }
        }
        lp_int(it.next())?; // lp-count, only used to walk backwards
        if flags & FLAG_DELETED == 0 {
            out.push(e);
        }
    }
    Some(())
}

impl Encoder {
    /// A stream as STREAM_LISTPACKS_2.
    pub(crate) fn stream<S: Sink>(
        &mut self,
        sink: &mut S,
        key: Option<&[u8]>,
        s: &Stream,
    ) -> io::Result<()> {
        sink.buf().push(TYPE_STREAM_LISTPACKS_2);
        if let Some(k) = key {
            self.put_string(sink.buf(), k);
        }
        let max_entries = self.opts.stream_node_max_entries.max(1);
        let max_bytes = self.opts.stream_node_max_bytes.max(1);
        // Node boundaries are decided first: the node count precedes the nodes.
        let mut bounds = Vec::new();
        let mut lp = ListpackBuilder::new();
        let mut start = 0;
        while start < s.entries.len() {
            let mut end = start;
            lp.clear();
            build_node(
                &mut lp,
                &s.entries[start..],
                max_entries,
                max_bytes,
                &mut end,
            );
            bounds.push((start, start + end));
            start += end;
        }
        put_len(sink.buf(), bounds.len() as u64);
        for (a, b) in bounds {
            let chunk = &s.entries[a..b];
            lp.clear();
            let mut n = 0;
            build_node(&mut lp, chunk, usize::MAX, usize::MAX, &mut n);
            let master = chunk[0].id.to_be_bytes();
            self.put_string(sink.buf(), &master);
            self.put_string(sink.buf(), lp.finish());
            sink.spill()?;
        }
        let buf = sink.buf();
        put_len(buf, s.length);
        for id in [s.last_id, s.first_id, s.max_deleted_id] {
            put_len(buf, id.ms);
            put_len(buf, id.seq);
        }
        put_len(buf, s.entries_added);
        put_len(buf, s.groups.len() as u64);
        for g in &s.groups {
            self.put_string(sink.buf(), &g.name);
            let buf = sink.buf();
            put_len(buf, g.last_id.ms);
            put_len(buf, g.last_id.seq);
            put_len(buf, g.entries_read as u64);
            put_len(buf, g.pel.len() as u64);
            for p in &g.pel {
                buf.extend_from_slice(&p.id.to_be_bytes());
                buf.extend_from_slice(&p.delivery_time.to_le_bytes());
                put_len(buf, p.delivery_count);
            }
            put_len(buf, g.consumers.len() as u64);
            for c in &g.consumers {
                self.put_string(sink.buf(), &c.name);
                let buf = sink.buf();
                buf.extend_from_slice(&c.seen_time.to_le_bytes());
                put_len(buf, c.pel.len() as u64);
                for id in &c.pel {
                    buf.extend_from_slice(&id.to_be_bytes());
                }
            }
            sink.spill()?;
        }
        Ok(())
    }
}

/// Append entries to a node listpack until a limit is reached; `taken` = entries used.
fn build_node(
    lp: &mut ListpackBuilder,
    entries: &[StreamEntry],
    max_entries: usize,
    max_bytes: usize,
    taken: &mut usize,
) {
    let Some(first) = entries.first() else {
        return;
    };
    let master = first.id;
    let count = entries.len().min(max_entries);
    // The count is patched below once known; reserve it as the widest form is not needed
    // because the listpack is rebuilt for the final chunk with the exact count.
    lp.push_int(count as i64);
    lp.push_int(0);
    lp.push_int(first.fields.len() as i64);
    for (f, _) in &first.fields {
        lp.push(f);
    }
    lp.push_int(0);
    let mut n = 0;
    for e in entries.iter().take(max_entries) {
        if n > 0 && (lp.bytes() >= max_bytes || e.id.ms < master.ms) {
            break;
        }
        let same = e.fields.len() == first.fields.len()
            && e.fields.iter().zip(&first.fields).all(|(a, b)| a.0 == b.0);
        lp.push_int(if same { FLAG_SAMEFIELDS } else { 0 });
        lp.push_int(e.id.ms.wrapping_sub(master.ms) as i64);
        lp.push_int(e.id.seq.wrapping_sub(master.seq) as i64);
        if same {
            for (_, v) in &e.fields {
                lp.push(v);
            }
        } else {
            lp.push_int(e.fields.len() as i64);
            for (f, v) in &e.fields {
                lp.push(f);
                lp.push(v);
            }
        }
        let nf = e.fields.len() as i64;
        lp.push_int(if same { nf + 3 } else { 2 * nf + 4 });
        n += 1;
    }
    *taken = n;
}
