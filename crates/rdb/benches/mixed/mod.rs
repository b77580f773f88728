//! The mixed dataset shared by the codec benchmark and the Redis comparison example:
//! word-like strings, integers, small hashes/lists/sets/zsets, a few large hashes, TTLs.
#![allow(dead_code)]

use snapkv_rdb::Value;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn text(&mut self, n: usize) -> Vec<u8> {
        // Word-like text: compressible roughly like real cache values.
        const WORDS: [&str; 8] = [
            "user", "session", "token", "cart", "id", "data", "value", "item",
        ];
        let mut s = Vec::with_capacity(n + 8);
        while s.len() < n {
            s.extend_from_slice(WORDS[(self.next() % 8) as usize].as_bytes());
            s.extend_from_slice((self.next() % 1000).to_string().as_bytes());
            s.push(b':');
        }
        s.truncate(n);
        s
    }
}

pub fn mixed_dataset(bytes: usize) -> Vec<(Vec<u8>, Option<i64>, Value)> {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut out = Vec::new();
    let mut size = 0;
    let mut i = 0u64;
    while size < bytes {
        let key = format!("key:{i}").into_bytes();
        let ttl = i.is_multiple_of(5).then_some(1_900_000_000_000 + i as i64);
        let v = match i % 10 {
            0..=3 => {
                let n = 16 + (rng.next() % 200) as usize;
                Value::Str(rng.text(n))
            }
            4 => Value::Str((rng.next() as i64 % 1_000_000).to_string().into_bytes()),
            5 => Value::Hash(
                (0..10)
                    .map(|j| (format!("f{j}").into_bytes(), rng.text(12)))
                    .collect(),
            ),
            6 => Value::List((0..20).map(|_| rng.text(10)).collect()),
            7 => Value::Set(
                (0..15)
                    .map(|j| (j * 7 + i).to_string().into_bytes())
                    .collect(),
            ),
            8 => Value::ZSet(
                (0..10)
                    .map(|j| (rng.text(8 + j), (rng.next() % 10_000) as f64 / 7.0))
                    .collect(),
            ),
            _ if i % 1000 == 9 => Value::Hash(
                (0..500)
                    .map(|j| (format!("field:{j}").into_bytes(), rng.text(30)))
                    .collect(),
            ),
            _ => Value::Set(
                (0..12)
                    .map(|j| [rng.text(9), format!("#{j}").into_bytes()].concat())
                    .collect(),
            ),
        };
        size += key.len() + approx(&v);
        out.push((key, ttl, v));
        i += 1;
    }
    out
}

pub fn approx(v: &Value) -> usize {
    match v {
        Value::Str(s) => s.len(),
        Value::List(l) | Value::Set(l) => l.iter().map(|x| x.len() + 1).sum(),
        Value::Hash(h) => h.iter().map(|(a, b)| a.len() + b.len() + 2).sum(),
        Value::ZSet(z) => z.iter().map(|(m, _)| m.len() + 8).sum(),
        Value::Stream(_) | Value::HashWithTtl(_) => 0,
    }
}
