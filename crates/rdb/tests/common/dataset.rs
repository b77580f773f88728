//! A deterministic dataset holding every type in every encoding Redis 7.0 uses (small and
//! large), with TTLs, over several databases; plus the commands that build it in Redis.
#![allow(dead_code)]

use snapkv_rdb::Value;

pub struct Item {
    pub db: u64,
    pub key: Vec<u8>,
    pub value: Value,
    pub expire_ms: Option<i64>,
    /// `OBJECT ENCODING` Redis 7.0 reports for it.
    pub encoding: &'static str,
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// xorshift bytes: incompressible, deterministic.
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub fn dataset() -> Vec<Item> {
    let ttl = now_ms() + 3_600_000;
    let mut v = Vec::new();
    let mut add = |db, key: &str, value, expire_ms, encoding| {
        v.push(Item {
            db,
            key: b(key),
            value,
            expire_ms,
            encoding,
        })
    };
    add(0, "s:small", Value::Str(b("hello")), None, "embstr");
    add(0, "s:int", Value::Str(b("12345")), Some(ttl), "int");
    add(0, "s:neg", Value::Str(b("-7")), None, "int");
    add(
        0,
        "s:bigint",
        Value::Str(b("9223372036854775807")),
        None,
        "int",
    );
    add(0, "s:notint", Value::Str(b("007")), None, "embstr");
    add(0, "s:empty", Value::Str(b("")), None, "embstr");
    add(0, "s:long", Value::Str(vec![b'a'; 5000]), None, "raw");
    add(
        0,
        "s:noise",
        Value::Str(noise(3000, 1)),
        Some(ttl + 5),
        "raw",
    );
    add(
        0,
        "s:mixed",
        Value::Str(b("abcabcabcabcabcabcabcabcabcabcabcabc-xyz")),
        None,
        "raw",
    );
    add(
        0,
        "l:small",
        Value::List(vec![b("a"), b("1"), b("-200"), b(""), b("hello world")]),
        None,
        "quicklist",
    );
    add(
        0,
        "l:big",
        Value::List(
            (0..3000)
                .map(|i| format!("item-{i}-{}", "x".repeat(i % 40)).into_bytes())
                .collect(),
        ),
        Some(ttl),
        "quicklist",
    );
    add(
        1,
        "l:ints",
        Value::List(
            (0..1000i64)
                .map(|i| (i * 7919 - 500_000).to_string().into_bytes())
                .collect(),
        ),
        None,
        "quicklist",
    );
    add(
        1,
        "l:huge-elem",
        Value::List(vec![b("x"), noise(20_000, 2), b("y")]),
        None,
        "quicklist",
    );
    add(
        0,
        "set:intset",
        Value::Set(vec![b("1"), b("2"), b("3"), b("-4")]),
        None,
        "intset",
    );
    add(
        0,
        "set:intset64",
        Value::Set(vec![
            b("9223372036854775807"),
            b("-9223372036854775808"),
            b("0"),
        ]),
        None,
        "intset",
    );
    add(
        0,
        "set:strs",
        Value::Set(vec![b("apple"), b("banana"), b("7"), b("")]),
        Some(ttl),
        "hashtable",
    );
    add(
        1,
        "set:bigints",
        Value::Set((0..600).map(|i| i.to_string().into_bytes()).collect()),
        None,
        "hashtable",
    );
    add(
        0,
        "h:small",
        Value::Hash(vec![(b("f1"), b("v1")), (b("n"), b("42")), (b("e"), b(""))]),
        None,
        "listpack",
    );
    add(
        0,
        "h:big",
        Value::Hash(
            (0..300)
                .map(|i| {
                    (
                        format!("field{i}").into_bytes(),
                        format!("{}", i * 3).into_bytes(),
                    )
                })
                .collect(),
        ),
        None,
        "hashtable",
    );
    add(
        5,
        "h:longval",
        Value::Hash(vec![(b("k"), vec![b'v'; 100]), (b("k2"), b("x"))]),
        Some(ttl),
        "hashtable",
    );
    add(
        0,
        "z:small",
        Value::ZSet(vec![
            (b("a"), 1.0),
            (b("b"), -2.5),
            (b("c"), 1e100),
            (b("d"), f64::INFINITY),
            (b("e"), 0.1),
        ]),
        None,
        "listpack",
    );
    add(
        0,
        "z:big",
        Value::ZSet(
            (0..400)
                .map(|i| (format!("m{i}").into_bytes(), i as f64 * 1.25 - 100.0))
                .collect(),
        ),
        None,
        "skiplist",
    );
    add(
        5,
        "z:longmember",
        Value::ZSet(vec![(vec![b'm'; 80], 3.0), (b("x"), f64::NEG_INFINITY)]),
        None,
        "skiplist",
    );
    v
}

/// Redis commands that build `item` (after a SELECT of its db).
pub fn build_commands(item: &Item) -> Vec<Vec<Vec<u8>>> {
    let k = item.key.clone();
    let mut cmds = vec![vec![b("DEL"), k.clone()]];
    let with = |name: &str, rest: Vec<Vec<u8>>| {
        let mut c = vec![b(name), k.clone()];
        c.extend(rest);
        c
    };
    match &item.value {
        Value::Str(s) => cmds.push(with("SET", vec![s.clone()])),
        Value::List(l) => {
            for chunk in l.chunks(100) {
                cmds.push(with("RPUSH", chunk.to_vec()));
            }
        }
        Value::Set(s) => {
            for chunk in s.chunks(100) {
                cmds.push(with("SADD", chunk.to_vec()));
            }
        }
        Value::Hash(h) => {
            for chunk in h.chunks(100) {
                cmds.push(with(
                    "HSET",
                    chunk
                        .iter()
                        .flat_map(|(f, v)| [f.clone(), v.clone()])
                        .collect(),
                ));
            }
        }
        Value::ZSet(z) => {
            for chunk in z.chunks(100) {
                let parts = chunk
                    .iter()
                    .flat_map(|(m, s)| {
                        let score = if s.is_infinite() {
                            if *s > 0.0 {
                                b("+inf")
                            } else {
                                b("-inf")
                            }
                        } else {
                            format!("{s:?}").into_bytes()
                        };
                        [score, m.clone()]
                    })
                    .collect();
                cmds.push(with("ZADD", parts));
            }
        }
        Value::Stream(_) | Value::HashWithTtl(_) => unreachable!("built by dedicated tests"),
    }
    if let Some(ms) = item.expire_ms {
        cmds.push(with("PEXPIREAT", vec![ms.to_string().into_bytes()]));
    }
    cmds
}
