//! LATENCY (LATEST, HISTORY, RESET, DOCTOR, GRAPH, HISTOGRAM, HELP) and the
//! [`LatencyMonitor`] it reads: per event, the last 160 one-second samples slower than
//! `latency-monitor-threshold`, like Redis's latency.c.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use parking_lot::Mutex;
use snapkv_protocol::Reply;

use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags::*, CommandSpec, LockPlan};

/// Redis's `LATENCY_TS_LEN`.
const HISTORY_LEN: usize = 160;

#[derive(Default)]
struct EventSeries {
    /// (unix seconds, milliseconds), oldest first.
    samples: VecDeque<(u64, u64)>,
    max: u64,
}

#[derive(Default)]
pub struct LatencyMonitor {
    events: Mutex<BTreeMap<String, EventSeries>>,
}

impl LatencyMonitor {
    /// Records `ms` for `event` (one sample per second, keeping the worst).
    pub fn add(&self, event: &str, ms: u64) {
        let now = snapkv_keyspace::clock::now_ms() / 1000;
        let mut events = self.events.lock();
        let series = events.entry(event.to_string()).or_default();
        series.max = series.max.max(ms);
        match series.samples.back_mut() {
            Some(last) if last.0 == now => last.1 = last.1.max(ms),
            _ => {
                series.samples.push_back((now, ms));
                if series.samples.len() > HISTORY_LEN {
                    series.samples.pop_front();
                }
            }
        }
    }

    /// After each command: a `command` / `fast-command` event when over the threshold
    /// (milliseconds; 0 = monitoring off). (Hot path: one comparison when off.)
    pub fn record_command(&self, threshold_ms: u64, us: u64, fast: bool) {
        if threshold_ms == 0 || us / 1000 < threshold_ms {
            return;
        }
        self.add(if fast { "fast-command" } else { "command" }, us / 1000);
    }

    fn reset(&self, names: &[Bytes]) -> usize {
        let mut events = self.events.lock();
        if names.is_empty() {
            let n = events.len();
            events.clear();
            return n;
        }
        names
            .iter()
            .filter(|n| events.remove(&*String::from_utf8_lossy(n)).is_some())
            .count()
    }
}

const RO: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

pub static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("latency|latest", 2, RO, "server", latest)
        .lock(LockPlan::None)
        .doc(
            "Returns the latest latency samples for all events.",
            "2.8.13",
        ),
    CommandSpec::new("latency|history", 3, RO, "server", history)
        .lock(LockPlan::None)
        .doc("Returns timestamp-latency samples for an event.", "2.8.13"),
    CommandSpec::new("latency|reset", -2, RO, "server", reset)
        .lock(LockPlan::None)
        .doc("Resets the latency data for one or more events.", "2.8.13"),
    CommandSpec::new("latency|doctor", 2, RO, "server", doctor)
        .lock(LockPlan::None)
        .doc(
            "Returns a human-readable latency analysis report.",
            "2.8.13",
        ),
    CommandSpec::new("latency|graph", 3, RO, "server", graph)
        .lock(LockPlan::None)
        .doc("Returns a latency graph for an event.", "2.8.13"),
    CommandSpec::new("latency|histogram", -2, RO, "server", histogram)
        .lock(LockPlan::None)
        .doc(
            "Returns the cumulative distribution of latencies of a subset or all commands.",
            "7.0.0",
        ),
    CommandSpec::new("latency|help", 2, LOADING | STALE, "server", help)
        .lock(LockPlan::None)
        .doc(
            "Returns helpful text about the different subcommands.",
            "2.8.13",
        ),
];

fn latest(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let events = ctx.shared.latency.events.lock();
    Ok(Reply::Array(
        events
            .iter()
            .filter_map(|(name, s)| {
                let &(t, ms) = s.samples.back()?;
                Some(Reply::Array(vec![
                    Reply::bulk(name.clone()),
                    Reply::Int(t as i64),
                    Reply::Int(ms as i64),
                    Reply::Int(s.max as i64),
                ]))
            })
            .collect(),
    ))
}

fn history(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let events = ctx.shared.latency.events.lock();
    let Some(s) = events.get(&*String::from_utf8_lossy(&args[2])) else {
        return Ok(Reply::Array(vec![]));
    };
    Ok(Reply::Array(
        s.samples
            .iter()
            .map(|&(t, ms)| Reply::Array(vec![Reply::Int(t as i64), Reply::Int(ms as i64)]))
            .collect(),
    ))
}

fn reset(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    Ok(Reply::Int(ctx.shared.latency.reset(&args[2..]) as i64))
}

fn doctor(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    let text = if ctx.settings().latency_monitor_threshold == 0 {
        "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_string()
    } else {
        let events = ctx.shared.latency.events.lock();
        if events.is_empty() {
            "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep a little longer.\n".to_string()
        } else {
            let mut t = String::from("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
            for (i, (name, s)) in events.iter().enumerate() {
                let avg =
                    s.samples.iter().map(|x| x.1).sum::<u64>() / s.samples.len().max(1) as u64;
                t.push_str(&format!(
                    "{}. {name}: {} latency spikes (average {avg}ms, mean deviation 0ms, period 0 sec). Worst all time event {}ms.\n",
                    i + 1,
                    s.samples.len(),
                    s.max
                ));
            }
            t.push_str("\nI have a few advices for you:\n\n- Check your system for slow commands (SLOWLOG GET) and avoid O(N) commands on big values.\n");
            t
        }
    };
    Ok(Reply::Verbatim(Bytes::from(text)))
}

fn graph(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let name = String::from_utf8_lossy(&args[2]).into_owned();
    let events = ctx.shared.latency.events.lock();
    let Some(s) = events.get(&name) else {
        return Err(CommandError::err(format!(
            "No samples available for event '{name}'"
        )));
    };
    let mut out = format!(
        "{name} - high {} ms, low {} ms (all time high {} ms)\n",
        s.samples.iter().map(|x| x.1).max().unwrap_or(0),
        s.samples.iter().map(|x| x.1).min().unwrap_or(0),
        s.max
    );
    out.push_str(&"-".repeat(80));
    out.push('\n');
    for &(t, ms) in &s.samples {
        out.push_str(&format!("{t} {ms}ms\n"));
    }
    Ok(Reply::Verbatim(Bytes::from(out)))
}

/// Per-command latency histograms are not tracked: an empty map, as Redis answers with
/// `latency-tracking no`.
fn histogram(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(Reply::Map(vec![]))
}

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(crate::server::help_reply(
        "LATENCY",
        &[
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
        ],
    ))
}
