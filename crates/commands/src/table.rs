//! [`CommandTable`]: every family's rows in one lookup table, with per-command statistics
//! (INFO commandstats). Adding a family = one line in [`FAMILIES`].

use std::collections::HashMap;

use crate::sharded::CmdStats;
use crate::spec::CommandSpec;

/// Each family's `COMMANDS` rows.
const FAMILIES: &[&[CommandSpec]] = &[
    crate::string::COMMANDS,
    crate::counter::COMMANDS,
    crate::bits::COMMANDS,
    crate::bitfield::COMMANDS,
    crate::hash::COMMANDS,
    crate::set::COMMANDS,
    crate::zset::COMMANDS,
    crate::sort::COMMANDS,
    crate::list::COMMANDS,
    crate::keys::COMMANDS,
    crate::object::COMMANDS,
    crate::memory_cmd::COMMANDS,
    crate::expire::COMMANDS,
    crate::dump::COMMANDS,
    crate::connection::COMMANDS,
    crate::transaction::COMMANDS,
    crate::server::COMMANDS,
    crate::persistence::COMMANDS,
    crate::backup::COMMANDS,
    crate::info::COMMANDS,
    crate::config_cmd::COMMANDS,
    crate::latency::COMMANDS,
    crate::introspection::COMMANDS,
];

pub struct CommandTable {
    by_name: HashMap<&'static str, usize, foldhash::fast::RandomState>,
    specs: Vec<&'static CommandSpec>,
    stats: Vec<CmdStats>,
}

impl CommandTable {
    pub fn build() -> CommandTable {
        let mut t = CommandTable {
            by_name: HashMap::default(),
            specs: Vec::new(),
            stats: Vec::new(),
        };
        for family in FAMILIES {
            for spec in family.iter() {
                t.add(spec);
                for sub in spec.subcommands {
                    t.add(sub);
                }
            }
        }
        t
    }

    fn add(&mut self, spec: &'static CommandSpec) {
        debug_assert!(
            !self.by_name.contains_key(spec.name),
            "duplicate {}",
            spec.name
        );
        self.by_name.insert(spec.name, self.specs.len());
        self.specs.push(spec);
        self.stats.push(CmdStats::default());
    }

    /// Looks up a command name case-insensitively. (Hot path: once per command.)
    pub fn lookup(&self, name: &[u8]) -> Option<(usize, &'static CommandSpec)> {
        let mut buf = [0u8; 64];
        if name.len() > buf.len() {
            return None;
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let lower = std::str::from_utf8(&buf[..name.len()]).ok()?;
        let &i = self.by_name.get(lower)?;
        Some((i, self.specs[i]))
    }

    /// A container's subcommand (`config`, `get` → `config|get`).
    pub fn lookup_sub(
        &self,
        container: &CommandSpec,
        sub: &[u8],
    ) -> Option<(usize, &'static CommandSpec)> {
        let want = String::from_utf8_lossy(sub).to_ascii_lowercase();
        let full = format!("{}|{}", container.name, want);
        let &i = self.by_name.get(full.as_str())?;
        Some((i, self.specs[i]))
    }

    /// Top-level commands (not subcommands).
    pub fn top_level(&self) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        self.specs.iter().copied().filter(|s| !s.name.contains('|'))
    }

    /// The row at index `i` (as stored in `ClientInfo::last_cmd`).
    pub fn spec(&self, i: usize) -> Option<&'static CommandSpec> {
        self.specs.get(i).copied()
    }

    pub fn stats(&self, i: usize) -> &CmdStats {
        &self.stats[i]
    }

    /// The statistics of a row of this table.
    pub fn stats_of(&self, spec: &CommandSpec) -> Option<&CmdStats> {
        self.by_name.get(spec.name).map(|&i| &self.stats[i])
    }

    pub fn all_with_stats(&self) -> impl Iterator<Item = (&'static CommandSpec, &CmdStats)> {
        self.specs.iter().copied().zip(self.stats.iter())
    }

    pub fn reset_stats(&self) {
        for s in &self.stats {
            s.reset();
        }
    }

    pub fn count(&self) -> usize {
        self.top_level().count()
    }
}
