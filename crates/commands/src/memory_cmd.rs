//! MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP — what a key and the server
//! take, in Redis's reply shapes. A collection's size is estimated from sampled
//! elements, as Redis's `objectComputeSize` does (`SAMPLES`, default 5, 0 = all).

use bytes::Bytes;
use snapkv_keyspace::{memory, Entry};
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::info::{memory_figures, ratio};
use crate::object::help_reply;
use crate::spec::key_flags;
use crate::spec::{flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] = &[CommandSpec::new("memory", -2, 0, "server", help)
    .lock(LockPlan::None)
    .subs(SUBCOMMANDS)
    .doc("A container for memory diagnostics commands.", "4.0.0")];

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("memory|doctor", 2, 0, "server", doctor)
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .lock(LockPlan::None)
        .doc("Outputs a memory problems report.", "4.0.0"),
    CommandSpec::new("memory|help", 2, LOADING | STALE, "server", help)
        .lock(LockPlan::None)
        .doc(
            "Returns helpful text about the different subcommands.",
            "4.0.0",
        ),
    CommandSpec::new("memory|malloc-stats", 2, 0, "server", malloc_stats)
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .lock(LockPlan::None)
        .doc("Returns the allocator statistics.", "4.0.0"),
    CommandSpec::new("memory|purge", 2, 0, "server", purge)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .lock(LockPlan::None)
        .doc("Asks the allocator to release memory.", "4.0.0"),
    CommandSpec::new("memory|stats", 2, 0, "server", stats)
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .lock(LockPlan::Lazy)
        .doc("Returns details about memory usage.", "4.0.0"),
    CommandSpec::new("memory|usage", -3, READONLY, "server", usage)
        .key_flags(key_flags::RO)
        .keys(2, 2, 1)
        .doc("Estimates the memory usage of a key.", "4.0.0"),
];

const HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

/// Redis's `OBJ_COMPUTE_SIZE_DEF_SAMPLES`.
const DEFAULT_SAMPLES: usize = 5;

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(help_reply(HELP))
}

/// Bytes one key takes: its entry (which holds the TTL and short keys and values
/// inline), the key's heap part, and the value's heap part.
fn entry_usage(e: &Entry, samples: usize) -> u64 {
    (std::mem::size_of::<Entry>() + e.key.heap_size() + e.value.heap_size(samples)) as u64
}

fn usage(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut samples = DEFAULT_SAMPLES;
    let mut rest = args[3..].iter();
    while let Some(opt) = rest.next() {
        match (crate::args::is(opt, "samples"), rest.next()) {
            (true, Some(n)) => {
                let n = crate::args::parse_i64(n)?;
                if n < 0 {
                    return Err(CommandError::Syntax);
                }
                // 0: every element.
                samples = n as usize;
            }
            _ => return Err(CommandError::Syntax),
        }
    }
    let db = ctx.db();
    Ok(match ctx.ks.peek(db, &args[2]) {
        Some(e) => Reply::Int(entry_usage(e, samples) as i64),
        None => Reply::Nil,
    })
}

fn purge(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    memory::purge();
    Ok(Reply::Ok)
}

fn malloc_stats(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(Reply::Verbatim(Bytes::from(memory::allocator_report())))
}

/// Redis's `getMemoryDoctorReport`, reduced to what applies here: below 5 MB allocated
/// there is too little to judge; otherwise no issue is reported (snapkv has no replica
/// or AOF buffers, and the allocator's fragmentation is in MEMORY STATS).
fn doctor(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let (allocated, _, _) = memory::allocator_stats();
    let text = if allocated < 5 << 20 {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
    } else {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    };
    Ok(Reply::Verbatim(Bytes::from_static(text.as_bytes())))
}

/// MEMORY STATS, with Redis 7.0's fields in its order. The per-database "hashtable"
/// overhead is the entries' fixed part (an entry holds its key, TTL and short value
/// inline, so there is no separate expires table).
fn stats(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let s = ctx.shared;
    let m = memory_figures(s);
    let [alloc_frag, alloc_rss, rss_over, frag] = m.overheads();
    let entry = std::mem::size_of::<Entry>() as u64;
    let int = |n: u64| Reply::Int(n as i64);
    let key = |k: &str| Reply::bulk(Bytes::copy_from_slice(k.as_bytes()));
    let mut fields = vec![
        (key("peak.allocated"), int(m.peak)),
        (key("total.allocated"), int(m.allocated)),
        (key("startup.allocated"), int(m.startup)),
        (key("replication.backlog"), int(0)),
        (key("clients.slaves"), int(0)),
        (key("clients.normal"), int(0)),
        (key("cluster.links"), int(0)),
        (key("aof.buffer"), int(0)),
        (key("lua.caches"), int(0)),
        (key("functions.caches"), int(0)),
    ];
    let (mut keys, mut overhead) = (0u64, m.startup);
    for db in 0..s.keyspace.databases() {
        let mut n = 0u64;
        ctx.ks.for_each_shard(db, |v| n += v.shard.len() as u64);
        if n == 0 {
            continue;
        }
        keys += n;
        overhead += n * entry;
        fields.push((
            key(&format!("db.{db}")),
            Reply::Map(vec![
                (key("overhead.hashtable.main"), int(n * entry)),
                (key("overhead.hashtable.expires"), int(0)),
                (key("overhead.hashtable.slot-to-keys"), int(0)),
            ]),
        ));
    }
    let net = m.allocated.saturating_sub(m.startup);
    let dataset = m.allocated.saturating_sub(overhead);
    fields.extend([
        (key("overhead.total"), int(overhead)),
        (key("keys.count"), int(keys)),
        (
            key("keys.bytes-per-key"),
            int(net.checked_div(keys).unwrap_or(0)),
        ),
        (key("dataset.bytes"), int(dataset)),
        (
            key("dataset.percentage"),
            Reply::Double(ratio(dataset, net) * 100.0),
        ),
        (
            key("peak.percentage"),
            Reply::Double(ratio(m.allocated, m.peak) * 100.0),
        ),
        (key("allocator.allocated"), int(m.allocated)),
        (key("allocator.active"), int(m.active)),
        (key("allocator.resident"), int(m.resident)),
        (
            key("allocator-fragmentation.ratio"),
            Reply::Double(alloc_frag.0),
        ),
        (key("allocator-fragmentation.bytes"), int(alloc_frag.1)),
        (key("allocator-rss.ratio"), Reply::Double(alloc_rss.0)),
        (key("allocator-rss.bytes"), int(alloc_rss.1)),
        (key("rss-overhead.ratio"), Reply::Double(rss_over.0)),
        (key("rss-overhead.bytes"), int(rss_over.1)),
        (key("fragmentation"), Reply::Double(frag.0)),
        (key("fragmentation.bytes"), int(frag.1)),
    ]);
    Ok(Reply::Map(fields))
}
