//! Decoding one value of any RDB type code into the owned `Value` model, shared by the
//! file reader and DUMP payload parsing.

use std::io::Read;

use crate::consts::*;
use crate::error::{Error, ErrorKind, Result};
use crate::input::Input;
use crate::intset;
use crate::listpack::{self, LpValue};
use crate::num::{i64_to_vec, parse_f64};
use crate::stream;
use crate::value::Value;
use crate::ziplist;

/// Is `t` a value type code (as opposed to an opcode)?
pub(crate) fn is_value_type(t: u8) -> bool {
    matches!(t, 0..=7 | 9..=25)
}

/// Decode the value following type byte `ty`.
pub(crate) fn value<R: Read>(inp: &mut Input<R>, ty: u8) -> Result<Value> {
    let start = inp.offset();
    Ok(match ty {
        TYPE_STRING => Value::Str(inp.string()?),
        TYPE_LIST | TYPE_SET => {
            let (n, cap) = inp.count()?;
            let mut v = Vec::with_capacity(cap);
            for _ in 0..n {
                v.push(inp.string()?);
            }
            if ty == TYPE_LIST {
                Value::List(v)
            } else {
                Value::Set(v)
            }
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let (n, cap) = inp.count()?;
            let mut v = Vec::with_capacity(cap);
            for _ in 0..n {
                let m = inp.string()?;
                let at = inp.offset();
                let score = if ty == TYPE_ZSET_2 {
                    inp.f64_le()?
                } else {
                    old_score(inp).map_err(|_| Error::corrupt(at, "zset", "bad score"))?
                };
                if score.is_nan() {
                    return Err(Error::corrupt(at, "zset", "score is NaN"));
                }
                v.push((m, score));
            }
            Value::ZSet(v)
        }
        TYPE_HASH => {
            let (n, cap) = inp.count()?;
            let mut v = Vec::with_capacity(cap);
            for _ in 0..n {
                let f = inp.string()?;
                v.push((f, inp.string()?));
            }
            Value::Hash(v)
        }
        TYPE_MODULE_PRE_GA | TYPE_MODULE_2 => {
            let id = inp.len()?;
            return Err(Error::new(
                start,
                ErrorKind::ModuleType {
                    name: module_name(id),
                },
            ));
        }
        TYPE_HASH_ZIPMAP => {
            let blob = inp.string()?;
            Value::Hash(ziplist::decode_zipmap(&blob).map_err(|e| e.at(start))?)
        }
        TYPE_LIST_ZIPLIST => {
            let blob = inp.string()?;
            Value::List(ziplist::to_vecs(&blob).map_err(|e| e.at(start))?)
        }
        TYPE_SET_INTSET => {
            let blob = inp.string()?;
            let ints = intset::decode(&blob).map_err(|e| e.at(start))?;
            Value::Set(ints.into_iter().map(i64_to_vec).collect())
        }
        TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => {
            let blob = inp.string()?;
            let items = if ty == TYPE_ZSET_ZIPLIST {
                ziplist::decode(&blob).map_err(|e| e.at(start))?
            } else {
                lp_values(&blob).map_err(|e| e.at(start))?
            };
            if items.len() % 2 != 0 {
                return Err(Error::corrupt(start, "zset", "odd element count"));
            }
            let mut v = Vec::with_capacity(items.len() / 2);
            for pair in items.chunks_exact(2) {
                let score = match pair[1] {
                    LpValue::Int(i) => i as f64,
                    LpValue::Str(s) => match parse_f64(s) {
                        Some(x) if !x.is_nan() => x,
                        _ => return Err(Error::corrupt(start, "zset", "bad score")),
                    },
                };
                v.push((pair[0].to_vec(), score));
            }
            Value::ZSet(v)
        }
        TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => {
            let blob = inp.string()?;
            let items = if ty == TYPE_HASH_ZIPLIST {
                ziplist::decode(&blob).map_err(|e| e.at(start))?
            } else {
                lp_values(&blob).map_err(|e| e.at(start))?
            };
            if items.len() % 2 != 0 {
                return Err(Error::corrupt(start, "hash", "odd element count"));
            }
            Value::Hash(
                items
                    .chunks_exact(2)
                    .map(|p| (p[0].to_vec(), p[1].to_vec()))
                    .collect(),
            )
        }
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
            let (n, _) = inp.count()?;
            let mut v = Vec::new();
            for _ in 0..n {
                let at = inp.offset();
                let container = if ty == TYPE_LIST_QUICKLIST_2 {
                    inp.len()?
                } else {
                    QUICKLIST_NODE_PACKED
                };
                let blob = inp.string()?;
                match container {
                    QUICKLIST_NODE_PLAIN => v.push(blob),
                    QUICKLIST_NODE_PACKED if ty == TYPE_LIST_QUICKLIST => {
                        v.extend(ziplist::to_vecs(&blob).map_err(|e| e.at(at))?)
                    }
                    QUICKLIST_NODE_PACKED => {
                        v.extend(listpack::to_vecs(&blob).map_err(|e| e.at(at))?)
                    }
                    _ => return Err(Error::corrupt(at, "quicklist", "bad node container")),
                }
            }
            Value::List(v)
        }
        TYPE_SET_LISTPACK => {
            let blob = inp.string()?;
            Value::Set(listpack::to_vecs(&blob).map_err(|e| e.at(start))?)
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
            Value::Stream(Box::new(stream::decode(inp, ty)?))
        }
        TYPE_HASH_METADATA | TYPE_HASH_METADATA_PRE_GA => hash_metadata(inp, ty)?,
        TYPE_HASH_LISTPACK_EX | TYPE_HASH_LISTPACK_EX_PRE_GA => {
            if ty == TYPE_HASH_LISTPACK_EX {
                inp.i64_le()?; // minimum expiry: derivable from the fields
            }
            let at = inp.offset();
            let blob = inp.string()?;
            let items = lp_values(&blob).map_err(|e| e.at(at))?;
            if items.len() % 3 != 0 {
                return Err(Error::corrupt(
                    at,
                    "hash",
                    "listpack is not field/value/ttl triples",
                ));
            }
            let mut v = Vec::with_capacity(items.len() / 3);
            for t in items.chunks_exact(3) {
                let expire = match t[2] {
                    LpValue::Int(0) => None,
                    LpValue::Int(ms) => Some(ms),
                    LpValue::Str(_) => {
                        return Err(Error::corrupt(at, "hash", "field TTL is not an integer"))
                    }
                };
                v.push((t[0].to_vec(), t[1].to_vec(), expire));
            }
            Value::HashWithTtl(v)
        }
        _ => {
            return Err(Error::new(
                start.saturating_sub(1),
                ErrorKind::UnknownType(ty),
            ))
        }
    })
}

/// Hash with field TTLs, table form (7.4). GA files store each TTL relative to the hash's
/// minimum expiry, plus one (0 = no TTL); pre-GA files store absolute times.
fn hash_metadata<R: Read>(inp: &mut Input<R>, ty: u8) -> Result<Value> {
    let min_expire = if ty == TYPE_HASH_METADATA {
        Some(inp.i64_le()?)
    } else {
        None
    };
    let (n, cap) = inp.count()?;
    let mut v = Vec::with_capacity(cap);
    for _ in 0..n {
        let at = inp.offset();
        let ttl = inp.len()?;
        let bad = || Error::corrupt(at, "hash", "bad field TTL");
        let expire = match (ttl, min_expire) {
            (0, _) => None,
            (t, Some(min)) => Some(
                i64::try_from(t)
                    .ok()
                    .and_then(|t| t.checked_add(min.checked_sub(1)?))
                    .ok_or_else(bad)?,
            ),
            (t, None) => Some(i64::try_from(t).map_err(|_| bad())?),
        };
        let f = inp.string()?;
        v.push((f, inp.string()?, expire));
    }
    Ok(Value::HashWithTtl(v))
}

fn lp_values(blob: &[u8]) -> Result<Vec<LpValue<'_>>, crate::error::CodecError> {
    listpack::iter(blob)?.collect()
}

/// The pre-ZSET_2 score: a one-byte length then ASCII, with 253/254/255 for nan/inf/-inf.
fn old_score<R: Read>(inp: &mut Input<R>) -> Result<f64> {
    let at = inp.offset();
    match inp.u8()? {
        253 => Ok(f64::NAN),
        254 => Ok(f64::INFINITY),
        255 => Ok(f64::NEG_INFINITY),
        n => {
            let txt = inp.bytes(n as u64)?;
            parse_f64(&txt).ok_or_else(|| Error::corrupt(at, "zset", "bad score"))
        }
    }
}

/// The 9-character module type name packed in a module ID (`moduleTypeNameByID`).
pub(crate) fn module_name(id: u64) -> String {
    const CSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id = id >> 10;
    let mut name = [0u8; 9];
    for j in (0..9).rev() {
        name[j] = CSET[(id & 63) as usize];
        id >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}

/// Skip a module's serialised data (MODULE_AUX bodies): typed opcodes until EOF.
pub(crate) fn skip_module_data<R: Read>(inp: &mut Input<R>) -> Result<()> {
    loop {
        let at = inp.offset();
        match inp.len()? {
            MODULE_OPCODE_EOF => return Ok(()),
            MODULE_OPCODE_SINT | MODULE_OPCODE_UINT => {
                inp.len()?;
            }
            MODULE_OPCODE_FLOAT => inp.skip(4)?,
            MODULE_OPCODE_DOUBLE => inp.skip(8)?,
            MODULE_OPCODE_STRING => inp.skip_string()?,
            _ => return Err(Error::corrupt(at, "module data", "unknown opcode")),
        }
    }
}
