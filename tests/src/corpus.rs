//! The differential corpus: files of commands run against snapkv and a real
//! redis-server, reply by reply.
//!
//! Format, one command per line, split like redis-cli (quotes and `\x` escapes):
//! ```text
//! # comment
//! SET k v
//! sort> KEYS *          # compare with array elements sorted (unordered replies)
//! type> RANDOMKEY       # compare only the reply's type
//! approx> PTTL k        # integers may differ by up to 100 (time passes)
//! skip> DEBUG SLEEP 0   # run on both, compare nothing
//! conn 2                # switch to connection #2 (for WATCH, blocking ops); `conn 1` back
//! ```
//! Between files both servers get FLUSHALL.

use crate::{Conn, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Exact,
    Sorted,
    TypeOnly,
    Approx,
    Skip,
}

/// One mismatch, for the failure report.
#[derive(Debug)]
pub struct Mismatch {
    pub file: String,
    pub line: usize,
    pub command: String,
    pub snapkv: Value,
    pub redis: Value,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}\n    snapkv: {}\n    redis:  {}",
            self.file, self.line, self.command, self.snapkv, self.redis
        )
    }
}

/// Sorts arrays (recursively: SCAN's key list sits inside its reply) and maps.
fn sorted(v: Value) -> Value {
    match v {
        Value::Array(items) | Value::Set(items) => {
            let mut items: Vec<Value> = items.into_iter().map(sorted).collect();
            items.sort_by_key(|x| format!("{x}"));
            Value::Array(items)
        }
        Value::Map(mut pairs) => {
            pairs.sort_by_key(|(k, _)| format!("{k}"));
            Value::Map(pairs)
        }
        other => other,
    }
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn approx(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => (x - y).abs() <= 100,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| approx(p, q))
        }
        _ => a == b,
    }
}

/// Counts the command lines of a corpus text.
pub fn count_commands(text: &str) -> usize {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("conn "))
        .count()
}

/// Runs `text` on both servers (`conns_*[i]` is connection #i+1) and returns mismatches.
pub fn run(file: &str, text: &str, snapkv: &mut [Conn], redis: &mut [Conn]) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut cur = 0usize;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(n) = line.strip_prefix("conn ") {
            cur = n.trim().parse::<usize>().expect("conn N").saturating_sub(1);
            assert!(
                cur < snapkv.len() && cur < redis.len(),
                "{file}:{}: no connection {n}",
                i + 1
            );
            continue;
        }
        let (mode, cmd) = match line.split_once("> ") {
            Some(("sort", rest)) => (Mode::Sorted, rest),
            Some(("type", rest)) => (Mode::TypeOnly, rest),
            Some(("approx", rest)) => (Mode::Approx, rest),
            Some(("skip", rest)) => (Mode::Skip, rest),
            _ => (Mode::Exact, line),
        };
        let args = snapkv_protocol::request::split_args(cmd.as_bytes())
            .unwrap_or_else(|| panic!("{file}:{}: unbalanced quotes", i + 1));
        let a = snapkv[cur].cmd(&args);
        let b = redis[cur].cmd(&args);
        let ok = match mode {
            // The null types too, which `Value` does not keep apart.
            Mode::Exact => a == b && snapkv[cur].last_nulls == redis[cur].last_nulls,
            Mode::Sorted => sorted(a.clone()) == sorted(b.clone()),
            Mode::TypeOnly => same_type(&a, &b),
            Mode::Approx => approx(&a, &b),
            Mode::Skip => true,
        };
        if !ok {
            out.push(Mismatch {
                file: file.to_string(),
                line: i + 1,
                command: cmd.to_string(),
                snapkv: a,
                redis: b,
            });
        }
    }
    out
}
