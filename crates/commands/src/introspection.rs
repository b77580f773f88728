//! COMMAND (COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, HELP): the command table described to
//! clients. redis-cli asks COMMAND DOCS at start-up for its hints.

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::args::{is, lower};
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::object::help_reply;
use crate::spec::{flags, flags::*, CommandSpec, LockPlan};

pub static COMMANDS: &[CommandSpec] =
    &[
        CommandSpec::new("command", -1, LOADING | STALE, "server", all)
            .tips(&["nondeterministic_output_order"])
            .acl(&["@connection"])
            .lock(LockPlan::None)
            .subs(SUBCOMMANDS)
            .doc("Returns detailed information about all commands.", "2.8.13"),
    ];

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("command|count", 2, LOADING | STALE, "server", count)
        .acl(&["@connection"])
        .lock(LockPlan::None)
        .doc("Returns a count of commands.", "2.8.13"),
    CommandSpec::new("command|info", -2, LOADING | STALE, "server", info)
        .tips(&["nondeterministic_output_order"])
        .acl(&["@connection"])
        .lock(LockPlan::None)
        .doc(
            "Returns information about one, multiple or all commands.",
            "2.8.13",
        ),
    CommandSpec::new("command|docs", -2, LOADING | STALE, "server", docs)
        .tips(&["nondeterministic_output_order"])
        .acl(&["@connection"])
        .lock(LockPlan::None)
        .doc(
            "Returns documentary information about one, multiple or all commands.",
            "7.0.0",
        ),
    CommandSpec::new("command|list", -2, LOADING | STALE, "server", list)
        .tips(&["nondeterministic_output_order"])
        .acl(&["@connection"])
        .lock(LockPlan::None)
        .doc("Returns a list of command names.", "7.0.0"),
    CommandSpec::new("command|getkeys", -4, LOADING | STALE, "server", getkeys)
        .acl(&["@connection"])
        .lock(LockPlan::None)
        .doc(
            "Extracts the key names from an arbitrary command.",
            "2.8.13",
        ),
    CommandSpec::new(
        "command|getkeysandflags",
        -4,
        LOADING | STALE,
        "server",
        getkeysandflags,
    )
    .acl(&["@connection"])
    .lock(LockPlan::None)
    .doc(
        "Extracts the key names and access flags for an arbitrary command.",
        "7.0.0",
    ),
    CommandSpec::new("command|help", 2, LOADING | STALE, "server", help)
        .acl(&["@connection"])
        .lock(LockPlan::None)
        .doc(
            "Returns helpful text about the different subcommands.",
            "5.0.0",
        ),
];

const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(help_reply(HELP))
}

/// ACL categories: the row's own ([`CommandSpec::acl`], else its group's) plus those its
/// flags imply (Redis's `setImplicitACLCategories`), in Redis's `ACLCommandCategories`
/// order.
fn acl_categories(spec: &CommandSpec) -> Vec<&'static str> {
    let group: &[&str] = match spec.acl {
        Some(own) => own,
        // A container itself carries no category but @slow.
        None if !spec.subcommands.is_empty() => &[],
        None => match spec.group {
            "generic" => &["@keyspace"],
            "string" => &["@string"],
            "bitmap" => &["@bitmap"],
            "list" => &["@list"],
            "hash" => &["@hash"],
            "set" => &["@set"],
            "sorted-set" => &["@sortedset"],
            "hyperloglog" => &["@hyperloglog"],
            "geo" => &["@geo"],
            "stream" => &["@stream"],
            "pubsub" => &["@pubsub"],
            "connection" => &["@connection"],
            "transactions" => &["@transaction"],
            "scripting" => &["@scripting"],
            _ => &[],
        },
    };
    let own = |c: &str| group.contains(&c);
    let order: [(&'static str, bool); 21] = [
        ("@keyspace", own("@keyspace")),
        ("@read", spec.has(READONLY)),
        ("@write", spec.has(WRITE)),
        ("@set", own("@set")),
        ("@sortedset", own("@sortedset")),
        ("@list", own("@list")),
        ("@hash", own("@hash")),
        ("@string", own("@string")),
        ("@bitmap", own("@bitmap")),
        ("@hyperloglog", own("@hyperloglog")),
        ("@geo", own("@geo")),
        ("@stream", own("@stream")),
        ("@pubsub", spec.has(PUBSUB) || own("@pubsub")),
        ("@admin", spec.has(ADMIN) || own("@admin")),
        ("@fast", spec.has(FAST)),
        ("@slow", !spec.has(FAST)),
        ("@blocking", spec.has(BLOCKING)),
        ("@dangerous", spec.has(ADMIN) || own("@dangerous")),
        ("@connection", own("@connection")),
        ("@transaction", own("@transaction")),
        ("@scripting", own("@scripting")),
    ];
    order
        .iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| *name)
        .collect()
}

fn command_info(spec: &'static CommandSpec) -> Reply {
    let flag_names: Vec<Reply> = flags::NAMES
        .iter()
        .filter(|(f, _)| spec.has(*f))
        .map(|(_, n)| Reply::simple(n))
        .collect();
    let last = |k: i32| {
        if spec.last_key < 0 {
            spec.last_key
        } else {
            spec.last_key - k
        }
    };
    // Keys whose flags differ from the first key's get a spec of their own, as in Redis.
    let split = spec.flags_of_key(0) != spec.flags_of_key(1);
    let key_specs = match spec.lock {
        // numkeys, then that many keys; after a destination key when there is one.
        LockPlan::NumKeys { at, dest } => {
            let counted = key_spec(spec.flags_of_key(dest as usize), at as i32, keynum_keys());
            if dest {
                vec![key_spec(spec.flags_of_key(0), 1, range_keys(0, 1)), counted]
            } else {
                vec![counted]
            }
        }
        _ if spec.first_key <= 0 => vec![],
        // A first key (a destination, a source), then the others.
        _ if split && spec.last_key != spec.first_key => vec![
            key_spec(spec.flags_of_key(0), spec.first_key, range_keys(0, 1)),
            key_spec(
                spec.flags_of_key(1),
                spec.first_key + 1,
                range_keys(last(spec.first_key + 1), spec.step),
            ),
        ],
        _ => vec![key_spec(
            spec.flags_of_key(0),
            spec.first_key,
            range_keys(last(spec.first_key), spec.step),
        )],
    };
    Reply::Array(vec![
        Reply::bulk(spec.name),
        Reply::Int(spec.arity as i64),
        Reply::Set(flag_names),
        Reply::Int(spec.first_key as i64),
        Reply::Int(spec.last_key as i64),
        Reply::Int(spec.step as i64),
        Reply::Set(
            acl_categories(spec)
                .into_iter()
                .map(Reply::simple)
                .collect(),
        ),
        // Tips, key specs and subcommands are RESP3 sets in Redis 7.0.
        Reply::Set(spec.tips.iter().map(|t| Reply::bulk(*t)).collect()),
        Reply::Set(key_specs),
        Reply::Set(spec.subcommands.iter().map(command_info).collect()),
    ])
}

fn map(pairs: Vec<(&'static str, Reply)>) -> Reply {
    Reply::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (Reply::bulk(k), v))
            .collect(),
    )
}

/// One key spec: its keys are found from argument `index` by `find_keys`.
fn key_spec(flags: &[&'static str], index: i32, find_keys: Reply) -> Reply {
    map(vec![
        ("flags", flag_set(flags)),
        (
            "begin_search",
            map(vec![
                ("type", Reply::bulk("index")),
                ("spec", map(vec![("index", Reply::Int(index as i64))])),
            ]),
        ),
        ("find_keys", find_keys),
    ])
}

/// Keys up to `lastkey` (relative to the first, or from the end when negative), every
/// `step`th.
fn range_keys(lastkey: i32, step: i32) -> Reply {
    map(vec![
        ("type", Reply::bulk("range")),
        (
            "spec",
            map(vec![
                ("lastkey", Reply::Int(lastkey as i64)),
                ("keystep", Reply::Int(step as i64)),
                ("limit", Reply::Int(0)),
            ]),
        ),
    ])
}

/// A count at the first argument, then that many keys.
fn keynum_keys() -> Reply {
    map(vec![
        ("type", Reply::bulk("keynum")),
        (
            "spec",
            map(vec![
                ("keynumidx", Reply::Int(0)),
                ("firstkey", Reply::Int(1)),
                ("keystep", Reply::Int(1)),
            ]),
        ),
    ])
}

/// Key-spec access flags ([`CommandSpec::key_flags`]): exact for plain reads (RO access),
/// read-modify-writes (RW access update) and the commands whose rows name theirs; SET's and
/// BITFIELD's depend on their arguments in Redis and are given as the row says.
fn flag_set(names: &[&'static str]) -> Reply {
    Reply::Set(names.iter().map(|n| Reply::simple(n)).collect())
}

fn all(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(Reply::Array(
        ctx.shared.commands.top_level().map(command_info).collect(),
    ))
}

fn count(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(Reply::Int(ctx.shared.commands.count() as i64))
}

fn lookup(ctx: &Ctx, name: &[u8]) -> Option<&'static CommandSpec> {
    let n = lower(name);
    match n.split_once('|') {
        Some((container, sub)) => {
            let (_, c) = ctx.shared.commands.lookup(container.as_bytes())?;
            ctx.shared
                .commands
                .lookup_sub(c, sub.as_bytes())
                .map(|(_, s)| s)
        }
        None => ctx.shared.commands.lookup(name).map(|(_, s)| s),
    }
}

fn info(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() == 2 {
        return all(ctx, args);
    }
    Ok(Reply::Array(
        args[2..]
            .iter()
            .map(|n| lookup(ctx, n).map(command_info).unwrap_or(Reply::Nil))
            .collect(),
    ))
}

fn doc(spec: &'static CommandSpec) -> Reply {
    let mut fields = vec![
        (Reply::bulk("summary"), Reply::bulk(spec.summary)),
        (Reply::bulk("since"), Reply::bulk(spec.since)),
        (Reply::bulk("group"), Reply::bulk(spec.group)),
    ];
    if !spec.subcommands.is_empty() {
        fields.push((
            Reply::bulk("subcommands"),
            Reply::Map(
                spec.subcommands
                    .iter()
                    .map(|s| (Reply::bulk(s.name), doc(s)))
                    .collect(),
            ),
        ));
    }
    Reply::Map(fields)
}

fn docs(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let specs: Vec<&'static CommandSpec> = if args.len() == 2 {
        ctx.shared.commands.top_level().collect()
    } else {
        args[2..].iter().filter_map(|n| lookup(ctx, n)).collect()
    };
    Ok(Reply::Map(
        specs
            .into_iter()
            .map(|s| (Reply::bulk(s.name), doc(s)))
            .collect(),
    ))
}

fn list(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    // Subcommands are listed too (`config|get`), as in Redis.
    let specs = || {
        ctx.shared
            .commands
            .top_level()
            .flat_map(|s| std::iter::once(s).chain(s.subcommands.iter()))
    };
    let names = specs().map(|s| s.name);
    let filtered: Vec<&str> = match args.len() {
        2 => names.collect(),
        5 if is(&args[2], "filterby") => {
            let value = &args[4];
            if is(&args[3], "pattern") {
                names
                    .filter(|n| snapkv_keyspace::glob::matches(value, n.as_bytes(), true))
                    .collect()
            } else if is(&args[3], "aclcat") {
                let cat = format!("@{}", lower(value));
                specs()
                    .filter(|s| acl_categories(s).contains(&cat.as_str()))
                    .map(|s| s.name)
                    .collect()
            } else if is(&args[3], "module") {
                Vec::new()
            } else {
                return Err(CommandError::Syntax);
            }
        }
        _ => return Err(CommandError::Syntax),
    };
    Ok(Reply::Array(
        filtered.into_iter().map(Reply::bulk).collect(),
    ))
}

fn getkeys(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (_, keys) = keys_of(ctx, args)?;
    Ok(Reply::Array(keys))
}

fn getkeysandflags(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (spec, keys) = keys_of(ctx, args)?;
    Ok(Reply::Array(
        keys.into_iter()
            .enumerate()
            .map(|(nth, k)| Reply::Array(vec![k, flag_set(spec.flags_of_key(nth))]))
            .collect(),
    ))
}

/// The command in `args[2..]` and its key arguments, with Redis's GETKEYS errors.
fn keys_of(ctx: &Ctx, args: &[Bytes]) -> Result<(&'static CommandSpec, Vec<Reply>), CommandError> {
    let cmd = &args[2..];
    let Some((_, spec)) = ctx.shared.commands.lookup(&cmd[0]) else {
        return Err(CommandError::err("Invalid command specified"));
    };
    let spec = if !spec.subcommands.is_empty() && cmd.len() >= 2 {
        match ctx.shared.commands.lookup_sub(spec, &cmd[1]) {
            Some((_, s)) => s,
            None => return Err(CommandError::err("Invalid command specified")),
        }
    } else {
        spec
    };
    if !spec.arity_ok(cmd.len()) {
        return Err(CommandError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    let Some(indexes) = spec.key_args(cmd) else {
        return Err(CommandError::err("Invalid arguments specified for command"));
    };
    let keys: Vec<Reply> = indexes
        .into_iter()
        .map(|i| Reply::Bulk(cmd[i].clone()))
        .collect();
    if keys.is_empty() {
        return Err(CommandError::err("The command has no key arguments"));
    }
    Ok((spec, keys))
}
