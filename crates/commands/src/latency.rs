//! The latency monitor: events slower than `latency-monitor-threshold` ms, kept per event
//! name (LATEST, HISTORY, RESET, DOCTOR, GRAPH, HELP), like Redis's latency.c.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use parking_lot::Mutex;
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::object::help_reply;
use crate::spec::{flags::*, CommandSpec, LockPlan};

/// Redis's `LATENCY_TS_LEN`.
const HISTORY: usize = 160;

#[derive(Default)]
struct Series {
    samples: VecDeque<(u64, u64)>,
    max: u64,
}

#[derive(Default)]
pub struct LatencyMonitor {
    events: Mutex<BTreeMap<&'static str, Series>>,
}

impl LatencyMonitor {
    /// Records `ms` for `event` now (one sample per second, keeping the max).
    pub fn record(&self, event: &'static str, ms: u64) {
        let now = snapkv_keyspace::clock::now_ms() / 1000;
        let mut events = self.events.lock();
        let s = events.entry(event).or_default();
        match s.samples.back_mut() {
            Some(last) if last.0 == now => last.1 = last.1.max(ms),
            _ => s.samples.push_back((now, ms)),
        }
        while s.samples.len() > HISTORY {
            s.samples.pop_front();
        }
        s.max = s.max.max(ms);
    }
}

pub static COMMANDS: &[CommandSpec] = &[CommandSpec::new("latency", -2, 0, "server", help)
    .lock(LockPlan::None)
    .subs(SUBCOMMANDS)
    .doc("A container for latency diagnostics commands.", "2.8.13")];

/// The tips Redis gives the reporting subcommands: each node answers for itself.
const PER_NODE: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_nodes",
    "response_policy:special",
];

/// An admin subcommand row (all but HELP).
const fn sub(
    name: &'static str,
    arity: i32,
    handler: crate::spec::Handler,
    tips: &'static [&'static str],
    summary: &'static str,
    since: &'static str,
) -> CommandSpec {
    CommandSpec::new(
        name,
        arity,
        ADMIN | NOSCRIPT | LOADING | STALE,
        "server",
        handler,
    )
    .tips(tips)
    .lock(LockPlan::None)
    .doc(summary, since)
}

static SUBCOMMANDS: &[CommandSpec] = &[
    sub(
        "latency|latest",
        2,
        latest,
        PER_NODE,
        "Returns the latest latency samples for all events.",
        "2.8.13",
    ),
    sub(
        "latency|history",
        3,
        history,
        PER_NODE,
        "Returns timestamp-latency samples for an event.",
        "2.8.13",
    ),
    sub(
        "latency|reset",
        -2,
        reset,
        &["request_policy:all_nodes", "response_policy:all_succeeded"],
        "Resets the latency data for one or more events.",
        "2.8.13",
    ),
    sub(
        "latency|doctor",
        2,
        doctor,
        PER_NODE,
        "Returns a human-readable latency analysis report.",
        "2.8.13",
    ),
    sub(
        "latency|graph",
        3,
        graph,
        PER_NODE,
        "Returns a latency graph for an event.",
        "2.8.13",
    ),
    sub(
        "latency|histogram",
        -2,
        histogram,
        PER_NODE,
        "Returns the cumulative distribution of latencies of a subset of commands or all commands.",
        "7.0.0",
    ),
    CommandSpec::new("latency|help", 2, LOADING | STALE, "server", help)
        .lock(LockPlan::None)
        .doc(
            "Returns helpful text about the different subcommands.",
            "2.8.13",
        ),
];

const HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
];

/// LATENCY HISTOGRAM [command …]: per command (a container also gives its subcommands'),
/// the calls and their cumulative distribution; commands never called, or unknown, are
/// left out, as in Redis.
fn histogram(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let table = &ctx.shared.commands;
    let mut wanted: Vec<&'static CommandSpec> = Vec::new();
    if args.len() == 2 {
        wanted.extend(table.all_with_stats().map(|(spec, _)| spec));
    } else {
        for name in &args[2..] {
            // Full names too: `config|get`.
            if let Some((_, spec)) = table.lookup(name) {
                wanted.push(spec);
                wanted.extend(spec.subcommands.iter());
            }
        }
    }
    let mut out = Vec::new();
    for spec in wanted {
        let Some(counts) = table.stats_of(spec).and_then(|st| st.latency.counts()) else {
            continue;
        };
        let cdf = counts
            .log_cdf()
            .into_iter()
            .map(|(us, calls)| (Reply::Int(us as i64), Reply::Int(calls as i64)))
            .collect();
        out.push((
            Reply::bulk(spec.name),
            Reply::Map(vec![
                (Reply::bulk("calls"), Reply::Int(counts.total as i64)),
                (Reply::bulk("histogram_usec"), Reply::Map(cdf)),
            ]),
        ));
    }
    Ok(Reply::Map(out))
}

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(help_reply(HELP))
}

fn latest(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let events = ctx.shared.latency.events.lock();
    Ok(Reply::Array(
        events
            .iter()
            .filter_map(|(name, s)| {
                let (t, ms) = s.samples.back()?;
                Some(Reply::Array(vec![
                    Reply::bulk(*name),
                    Reply::Int(*t as i64),
                    Reply::Int(*ms as i64),
                    Reply::Int(s.max as i64),
                ]))
            })
            .collect(),
    ))
}

fn history(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let name = String::from_utf8_lossy(&args[2]);
    let events = ctx.shared.latency.events.lock();
    let Some(s) = events.iter().find(|(n, _)| **n == name).map(|(_, s)| s) else {
        return Ok(Reply::Array(vec![]));
    };
    Ok(Reply::Array(
        s.samples
            .iter()
            .map(|(t, ms)| Reply::Array(vec![Reply::Int(*t as i64), Reply::Int(*ms as i64)]))
            .collect(),
    ))
}

fn reset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let mut events = ctx.shared.latency.events.lock();
    let n = if args.len() == 2 {
        let n = events.len();
        events.clear();
        n
    } else {
        let before = events.len();
        let names: Vec<String> = args[2..]
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        events.retain(|n, _| !names.iter().any(|x| x == n));
        before - events.len()
    };
    Ok(Reply::Int(n as i64))
}

fn doctor(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    if ctx.settings().latency_monitor_threshold == 0 {
        return Ok(Reply::Verbatim(Bytes::from_static(
            b"I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n",
        )));
    }
    let events = ctx.shared.latency.events.lock();
    let text = if events.is_empty() {
        "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n".to_string()
    } else {
        let mut t = String::from("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        for (i, (name, s)) in events.iter().enumerate() {
            let avg = s.samples.iter().map(|x| x.1).sum::<u64>() / s.samples.len().max(1) as u64;
            t.push_str(&format!(
                "{}. {name}: {} latency spikes (average {avg}ms, worst {}ms).\n",
                i + 1,
                s.samples.len(),
                s.max
            ));
        }
        t
    };
    Ok(Reply::Verbatim(Bytes::from(text)))
}

/// LATENCY GRAPH: the samples as text (a plain listing, not Redis's ASCII-art chart).
fn graph(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let name = String::from_utf8_lossy(&args[2]);
    let events = ctx.shared.latency.events.lock();
    let Some(s) = events.iter().find(|(n, _)| **n == name).map(|(_, s)| s) else {
        return Err(CommandError::err(format!(
            "No samples available for event '{name}'"
        )));
    };
    let high = s.samples.iter().map(|x| x.1).max().unwrap_or(0);
    let low = s.samples.iter().map(|x| x.1).min().unwrap_or(0);
    let mut out = format!(
        "{name} - high {high} ms, low {low} ms (all time high {} ms)\n{}\n",
        s.max,
        "-".repeat(80)
    );
    for (t, ms) in &s.samples {
        out.push_str(&format!("{t} {ms}ms\n"));
    }
    Ok(Reply::Verbatim(Bytes::from(out)))
}
