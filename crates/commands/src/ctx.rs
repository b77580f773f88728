//! [`Ctx`]: what a handler gets — the shared server state, its client, and the shards it
//! holds. Handlers reach keys only through `ctx.ks` (a [`Locked`]): locking shards any
//! other way from a handler could deadlock against the shards already held (an EXEC holds
//! them all).

use snapkv_config::Settings;
use snapkv_keyspace::{Limits, Locked};

use crate::client::ClientState;
use crate::shared::Shared;

pub struct Ctx<'a, 'l> {
    pub shared: &'a Shared,
    pub client: &'a mut ClientState,
    pub ks: &'a mut Locked<'l>,
}

impl Ctx<'_, '_> {
    /// The client's selected database.
    pub fn db(&self) -> usize {
        self.client.db
    }

    pub fn settings(&self) -> &Settings {
        &self.client.settings
    }

    pub fn now_ms(&self) -> u64 {
        self.ks.now_ms
    }

    /// The collection encoding thresholds in force.
    pub fn limits(&self) -> Limits {
        limits(self.settings())
    }
}

/// Collection encoding thresholds from the config (`hash-max-listpack-entries` & co.).
pub fn limits(s: &Settings) -> Limits {
    Limits {
        hash_entries: s.hash_max_listpack_entries as usize,
        hash_value: s.hash_max_listpack_value as usize,
        set_intset_entries: s.set_max_intset_entries as usize,
        zset_entries: s.zset_max_listpack_entries as usize,
        zset_value: s.zset_max_listpack_value as usize,
    }
}
