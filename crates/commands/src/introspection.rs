//! COMMAND (no args, COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS, HELP): the
//! command table described to clients in Redis 7.0's shapes. ACL categories are derived
//! from flags and group the way Redis's `setImplicitACLCategories` does; key specs are
//! derived from the legacy (first, last, step) triple.

use bytes::Bytes;
use snapkv_protocol::Reply;

use crate::args::is;
use crate::ctx::Ctx;
use crate::error::{CommandError, CommandResult};
use crate::spec::{flags, flags::*, CommandSpec, LockPlan};

const RO: u32 = LOADING | STALE;

pub static COMMANDS: &[CommandSpec] = &[CommandSpec::new("command", -1, RO, "server", all)
    .lock(LockPlan::None)
    .subs(SUBCOMMANDS)
    .doc("Returns detailed information about all commands.", "2.8.13")];

static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("command|count", 2, RO, "server", count)
        .lock(LockPlan::None)
        .doc("Returns a count of commands.", "2.8.13"),
    CommandSpec::new("command|info", -2, RO, "server", info)
        .lock(LockPlan::None)
        .doc(
            "Returns information about one, multiple or all commands.",
            "2.8.13",
        ),
    CommandSpec::new("command|docs", -2, RO, "server", docs)
        .lock(LockPlan::None)
        .doc(
            "Returns documentary information about one, multiple or all commands.",
            "7.0.0",
        ),
    CommandSpec::new("command|list", -2, RO, "server", list)
        .lock(LockPlan::None)
        .doc("Returns a list of command names.", "7.0.0"),
    CommandSpec::new("command|getkeys", -4, RO, "server", getkeys)
        .lock(LockPlan::None)
        .doc(
            "Extracts the key names from an arbitrary command.",
            "2.8.13",
        ),
    CommandSpec::new("command|getkeysandflags", -4, RO, "server", getkeysandflags)
        .lock(LockPlan::None)
        .doc(
            "Extracts the key names and access flags for an arbitrary command.",
            "7.0.0",
        ),
    CommandSpec::new("command|help", 2, RO, "server", help)
        .lock(LockPlan::None)
        .doc(
            "Returns helpful text about the different subcommands.",
            "5.0.0",
        ),
];

fn status(s: &str) -> Reply {
    Reply::Simple(Bytes::copy_from_slice(s.as_bytes()))
}

/// ACL categories, in Redis's `ACLCommandCategories` order.
pub fn acl_categories(spec: &CommandSpec) -> Vec<&'static str> {
    let mut group = match spec.group {
        "generic" => Some("keyspace"),
        "string" => Some("string"),
        "bitmap" => Some("bitmap"),
        "list" => Some("list"),
        "hash" => Some("hash"),
        "set" => Some("set"),
        "sorted-set" => Some("sortedset"),
        "hyperloglog" => Some("hyperloglog"),
        "geo" => Some("geo"),
        "stream" => Some("stream"),
        "pubsub" => Some("pubsub"),
        "connection" => Some("connection"),
        "transactions" => Some("transaction"),
        "scripting" => Some("scripting"),
        _ => None,
    };
    // A container itself carries no category but @slow.
    if !spec.subcommands.is_empty() {
        group = None;
    }
    let has = |f| spec.has(f);
    let order: &[(&str, bool)] = &[
        ("keyspace", group == Some("keyspace")),
        ("read", has(flags::READONLY)),
        ("write", has(flags::WRITE)),
        ("set", group == Some("set")),
        ("sortedset", group == Some("sortedset")),
        ("list", group == Some("list")),
        ("hash", group == Some("hash")),
        ("string", group == Some("string")),
        ("bitmap", group == Some("bitmap")),
        ("hyperloglog", group == Some("hyperloglog")),
        ("geo", group == Some("geo")),
        ("stream", group == Some("stream")),
        ("pubsub", has(flags::PUBSUB) || group == Some("pubsub")),
        ("admin", has(flags::ADMIN)),
        ("fast", has(flags::FAST)),
        ("slow", !has(flags::FAST)),
        ("blocking", has(flags::BLOCKING)),
        ("dangerous", has(flags::ADMIN)),
        ("connection", group == Some("connection")),
        ("transaction", group == Some("transaction")),
        ("scripting", group == Some("scripting")),
    ];
    order
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| match *n {
            "keyspace" => "@keyspace",
            "read" => "@read",
            "write" => "@write",
            "set" => "@set",
            "sortedset" => "@sortedset",
            "list" => "@list",
            "hash" => "@hash",
            "string" => "@string",
            "bitmap" => "@bitmap",
            "hyperloglog" => "@hyperloglog",
            "geo" => "@geo",
            "stream" => "@stream",
            "pubsub" => "@pubsub",
            "admin" => "@admin",
            "fast" => "@fast",
            "slow" => "@slow",
            "blocking" => "@blocking",
            "dangerous" => "@dangerous",
            "connection" => "@connection",
            "transaction" => "@transaction",
            _ => "@scripting",
        })
        .collect()
}

fn flag_names(spec: &CommandSpec) -> Vec<Reply> {
    let mut out: Vec<Reply> = flags::NAMES
        .iter()
        .filter(|(f, _)| spec.has(*f) && *f != flags::ALLOW_BUSY && *f != flags::NO_MULTI)
        .map(|(_, n)| status(n))
        .collect();
    if spec.has(flags::NO_MULTI) {
        out.push(status("no_multi"));
    }
    if matches!(spec.lock, LockPlan::Custom(_)) {
        out.push(status("movablekeys"));
    }
    if spec.has(flags::ALLOW_BUSY) {
        out.push(status("allow_busy"));
    }
    out
}

/// Key-spec access flags, approximated from the command's flags.
fn key_flags(spec: &CommandSpec) -> &'static [&'static str] {
    if spec.has(flags::WRITE) {
        &["RW", "access", "update"]
    } else {
        &["RO", "access"]
    }
}

fn key_specs(spec: &CommandSpec) -> Reply {
    if spec.first_key <= 0 {
        return Reply::Set(vec![]);
    }
    let lastkey = if spec.last_key < 0 {
        spec.last_key as i64
    } else {
        (spec.last_key - spec.first_key) as i64
    };
    let b = |s: &str| Reply::bulk(s.to_string());
    Reply::Set(vec![Reply::Map(vec![
        (
            b("flags"),
            Reply::Set(key_flags(spec).iter().map(|f| status(f)).collect()),
        ),
        (
            b("begin_search"),
            Reply::Map(vec![
                (b("type"), b("index")),
                (
                    b("spec"),
                    Reply::Map(vec![(b("index"), Reply::Int(spec.first_key as i64))]),
                ),
            ]),
        ),
        (
            b("find_keys"),
            Reply::Map(vec![
                (b("type"), b("range")),
                (
                    b("spec"),
                    Reply::Map(vec![
                        (b("lastkey"), Reply::Int(lastkey)),
                        (b("keystep"), Reply::Int(spec.step.max(1) as i64)),
                        (b("limit"), Reply::Int(0)),
                    ]),
                ),
            ]),
        ),
    ])])
}

/// One COMMAND INFO entry: [name, arity, flags, first, last, step, categories, tips,
/// key specs, subcommands].
fn entry(spec: &CommandSpec) -> Reply {
    Reply::Array(vec![
        Reply::bulk(spec.name),
        Reply::Int(spec.arity as i64),
        Reply::Set(flag_names(spec)),
        Reply::Int(spec.first_key as i64),
        Reply::Int(spec.last_key as i64),
        Reply::Int(spec.step as i64),
        Reply::Set(acl_categories(spec).into_iter().map(status).collect()),
        Reply::Set(vec![]),
        key_specs(spec),
        Reply::Set(spec.subcommands.iter().map(entry).collect()),
    ])
}

/// The spec a name (`get`, `config|get`) refers to.
fn find(ctx: &Ctx, name: &[u8]) -> Option<&'static CommandSpec> {
    ctx.shared.commands.lookup(name).map(|(_, s)| s)
}

fn all(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(Reply::Array(
        ctx.shared.commands.top_level().map(entry).collect(),
    ))
}

fn count(ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(Reply::Int(ctx.shared.commands.count() as i64))
}

fn info(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    if args.len() == 2 {
        return all(ctx, args);
    }
    Ok(Reply::Array(
        args[2..]
            .iter()
            .map(|n| find(ctx, n).map(entry).unwrap_or(Reply::NilArray))
            .collect(),
    ))
}

fn doc(spec: &CommandSpec) -> Reply {
    let b = |s: &str| Reply::bulk(s.to_string());
    let mut fields = vec![
        (b("summary"), b(spec.summary)),
        (b("since"), b(spec.since)),
        (b("group"), b(spec.group)),
    ];
    if !spec.subcommands.is_empty() {
        fields.push((
            b("subcommands"),
            Reply::Map(
                spec.subcommands
                    .iter()
                    .map(|s| (b(s.name), doc(s)))
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
        args[2..].iter().filter_map(|n| find(ctx, n)).collect()
    };
    Ok(Reply::Map(
        specs
            .into_iter()
            .map(|s| (Reply::bulk(s.name), doc(s)))
            .collect(),
    ))
}

fn list(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let all = ctx
        .shared
        .commands
        .top_level()
        .flat_map(|s| std::iter::once(s).chain(s.subcommands.iter()));
    let names: Vec<&'static str> = match args.len() {
        2 => all.map(|s| s.name).collect(),
        5 if is(&args[2], "filterby") => {
            let v = &args[4];
            if is(&args[3], "module") {
                Vec::new()
            } else if is(&args[3], "aclcat") {
                let want = format!("@{}", crate::args::lower(v));
                all.filter(|s| acl_categories(s).contains(&want.as_str()))
                    .map(|s| s.name)
                    .collect()
            } else if is(&args[3], "pattern") {
                all.filter(|s| snapkv_keyspace::glob::matches(v, s.name.as_bytes(), true))
                    .map(|s| s.name)
                    .collect()
            } else {
                return Err(CommandError::Syntax);
            }
        }
        _ => return Err(CommandError::Syntax),
    };
    Ok(Reply::Array(names.into_iter().map(Reply::bulk).collect()))
}

/// The spec and key indexes of the command in `args[2..]`, with Redis's errors.
fn keys_of(ctx: &Ctx, args: &[Bytes]) -> Result<(&'static CommandSpec, Vec<usize>), CommandError> {
    let cmd = &args[2..];
    let Some(mut spec) = find(ctx, &cmd[0]) else {
        return Err(CommandError::err("Invalid command specified"));
    };
    if !spec.subcommands.is_empty() && cmd.len() >= 2 {
        match ctx.shared.commands.lookup_sub(spec, &cmd[1]) {
            Some((_, s)) => spec = s,
            None => return Err(CommandError::err("Invalid command specified")),
        }
    }
    if spec.first_key <= 0 && !matches!(spec.lock, LockPlan::Custom(_)) {
        return Err(CommandError::err("The command has no key arguments"));
    }
    if !spec.arity_ok(cmd.len()) {
        return Err(CommandError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    let keys: Vec<usize> = spec.key_indexes(cmd.len()).collect();
    if keys.is_empty() {
        return Err(CommandError::err("Invalid arguments specified for command"));
    }
    Ok((spec, keys))
}

fn getkeys(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (_, keys) = keys_of(ctx, args)?;
    Ok(Reply::Array(
        keys.into_iter()
            .map(|i| Reply::Bulk(args[2 + i].clone()))
            .collect(),
    ))
}

fn getkeysandflags(ctx: &mut Ctx, args: &[Bytes]) -> CommandResult {
    let (spec, keys) = keys_of(ctx, args)?;
    Ok(Reply::Array(
        keys.into_iter()
            .map(|i| {
                Reply::Array(vec![
                    Reply::Bulk(args[2 + i].clone()),
                    Reply::Set(key_flags(spec).iter().map(|f| status(f)).collect()),
                ])
            })
            .collect(),
    ))
}

fn help(_ctx: &mut Ctx, _args: &[Bytes]) -> CommandResult {
    Ok(crate::server::help_reply(
        "COMMAND",
        &[
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
        ],
    ))
}
