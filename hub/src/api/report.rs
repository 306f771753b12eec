//! One line of the ledger (台账): what happened at one checkpoint of one county on one
//! day, China time. A row without a checkpoint is the county's own line: the tip-line
//! columns belong to a county, not to a road.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{CheckpointId, County, Outcome};

/// Incident kinds with their own column; every other kind counts in `other`.
pub const KIND_COLUMNS: [&str; 3] = ["suspected_loose_coal", "uncovered_load", "hotlist_hit"];

/// A ledger row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// The day in China time (UTC+8).
    pub day: NaiveDate,
    pub county: County,
    /// `None`: the county's line (tips and rewards).
    pub checkpoint: Option<CheckpointId>,
    pub passages: u64,
    pub incidents: u64,
    /// Incidents per kind, in the order of [`KIND_COLUMNS`], then `other`.
    pub by_kind: [u64; 4],
    /// Incidents with an outcome, by their last one, in the order of [`Outcome::ALL`];
    /// counted on the day the incident was raised, like `incidents`.
    pub outcomes: [u64; 7],
    pub tips: u64,
    pub rewards_due: u64,
    pub rewards_paid: u64,
}

impl ReportRow {
    pub fn new(day: NaiveDate, county: County, checkpoint: Option<CheckpointId>) -> ReportRow {
        ReportRow {
            day,
            county,
            checkpoint,
            passages: 0,
            incidents: 0,
            by_kind: [0; 4],
            outcomes: [0; 7],
            tips: 0,
            rewards_due: 0,
            rewards_paid: 0,
        }
    }

    /// The column of `kind` in `by_kind`.
    pub fn kind_column(kind: &str) -> usize {
        KIND_COLUMNS.iter().position(|k| *k == kind).unwrap_or(3)
    }

    /// The column of `o` in `outcomes`.
    pub fn outcome_column(o: Outcome) -> usize {
        Outcome::ALL.iter().position(|x| *x == o).unwrap_or(0)
    }

    /// CSV header matching [`ReportRow::csv_record`].
    pub fn csv_header() -> Vec<String> {
        let mut h: Vec<String> = ["day", "county", "checkpoint", "passages", "incidents"]
            .map(String::from)
            .into();
        h.extend(KIND_COLUMNS.iter().map(|k| format!("kind_{k}")));
        h.push("kind_other".into());
        h.extend(
            Outcome::ALL
                .iter()
                .map(|o| format!("outcome_{}", o.as_str())),
        );
        h.extend(["tips", "rewards_due", "rewards_paid"].map(String::from));
        h
    }

    pub fn csv_record(&self) -> Vec<String> {
        let mut r = vec![
            self.day.to_string(),
            self.county.to_string(),
            self.checkpoint
                .as_ref()
                .map_or(String::new(), |c| c.to_string()),
            self.passages.to_string(),
            self.incidents.to_string(),
        ];
        r.extend(self.by_kind.iter().map(u64::to_string));
        r.extend(self.outcomes.iter().map(u64::to_string));
        r.extend([self.tips, self.rewards_due, self.rewards_paid].map(|n| n.to_string()));
        r
    }
}
