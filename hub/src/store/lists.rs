//! What checkpoints are served of the lists, and bulk edits. An entry past its
//! `expires_at` stays stored (the lists page shows it, marked) but is no longer
//! served: a checkpoint must not stop trucks on a watch that has run out.

use chrono::{DateTime, Utc};
use sled_gate::Gated;

use crate::api::{ListEntry, ListName, Lists};

use super::{bump, encode, flatten, list_byte, Result, Store};

/// Lists as served at one instant, and how many entries had expired by then.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    pub lists: Lists,
    /// Grows as entries expire, so a tag built from it changes when the served lists
    /// do even though nobody edited them.
    pub expired: usize,
}

fn live(e: &ListEntry, now: DateTime<Utc>) -> bool {
    e.expires_at.is_none_or(|t| t > now)
}

impl Store {
    /// The lists without the entries expired at `now`.
    pub fn served_lists(&self, now: DateTime<Utc>) -> Result<Served> {
        let mut lists = self.lists()?;
        let before = lists.whitelist.len() + lists.hotlist.len();
        lists.whitelist.retain(|e| live(e, now));
        lists.hotlist.retain(|e| live(e, now));
        let expired = before - lists.whitelist.len() - lists.hotlist.len();
        Ok(Served { lists, expired })
    }

    /// The entries of one list, expired ones included, in plate order.
    pub fn list_entries(&self, list: ListName) -> Result<Vec<ListEntry>> {
        let lists = self.lists()?;
        Ok(match list {
            ListName::Whitelist => lists.whitelist,
            ListName::Hotlist => lists.hotlist,
        })
    }

    /// Adds or replaces every entry of `entries` in one transaction with one version
    /// bump; the new version (unchanged when `entries` is empty).
    pub fn put_list_entries(&self, list: ListName, entries: &[ListEntry]) -> Result<u64> {
        if entries.is_empty() {
            return self.lists_version();
        }
        let rows: Vec<(Vec<u8>, Vec<u8>)> = entries
            .iter()
            .map(|e| {
                (
                    [&[list_byte(list)][..], e.plate.as_str().as_bytes()].concat(),
                    encode(e),
                )
            })
            .collect();
        let res = (&self.lists, &self.meta).transact(|(lists, meta)| {
            for (k, v) in &rows {
                lists.insert(k.as_slice(), v.as_slice())?;
            }
            bump(meta)
        });
        flatten(res)
    }
}
