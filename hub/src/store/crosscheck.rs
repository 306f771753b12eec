//! The cross-check of a tip against what the checkpoints saw. A concrete plate (and
//! its one-swap confusable variants) is a handful of plate-index scans; a partial
//! plate cannot use the plate index, so it scans the time window of each checkpoint
//! in or next to the tip's county, at most `limit` passages per checkpoint.

use std::collections::{HashMap, HashSet};

use super::{PassageRecord, Result, Store, TipRecord};
use crate::api::{CaseId, CheckpointId, County, TipMatch};
use crate::tips::matcher::{confusable_variants, match_plate, patterns_overlap, rank};
use crate::tips::Neighbours;

impl Store {
    /// The passages that may be the truck of `tip`, ranked best first, at most `limit`.
    pub fn crosscheck(
        &self,
        tip: &TipRecord,
        neighbours: &Neighbours,
        limit: usize,
    ) -> Result<Vec<TipMatch>> {
        let near: HashMap<CheckpointId, County> = self
            .checkpoints()?
            .into_iter()
            .filter(|c| neighbours.area(&tip.county, &c.county).is_some())
            .map(|c| (c.id, c.county))
            .collect();
        let (from, to) = (tip.window_from, tip.window_to);
        let mut found: Vec<PassageRecord> = Vec::new();
        match tip.plate.concrete() {
            Some(plate) => {
                for p in std::iter::once(plate.clone()).chain(confusable_variants(&plate)) {
                    found.extend(self.plate_passages(&p, from, to, limit)?);
                }
            }
            None => {
                for cp in near.keys() {
                    found.extend(self.checkpoint_passages(cp, from, to, limit)?);
                }
            }
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for rec in found {
            let p = rec.passage;
            let (Some(read), Some(county)) = (&p.plate, near.get(&p.checkpoint_id)) else {
                continue;
            };
            let (Some(kind), Some(area)) = (
                match_plate(&tip.plate, read.text.as_str()),
                neighbours.area(&tip.county, county),
            ) else {
                continue;
            };
            if !seen.insert(p.id) {
                continue;
            }
            out.push(TipMatch {
                passage_id: p.id,
                checkpoint_id: p.checkpoint_id.clone(),
                county: county.clone(),
                seen_at: p.seen_at,
                plate: read.text.clone(),
                kind,
                area,
                cargo: p.cargo,
                evidence: p.evidence,
            });
        }
        rank(&mut out, (from, to));
        out.truncate(limit);
        Ok(out)
    }

    /// Open cases other than `tip`'s whose tips' plate and window overlap `tip`'s:
    /// probably the same truck, told by another caller.
    pub fn overlapping_cases(&self, tip: &TipRecord) -> Result<Vec<CaseId>> {
        let mut out = Vec::new();
        for case in self.open_cases()? {
            if case.id == tip.case_id {
                continue;
            }
            for id in &case.tips {
                let Some(other) = self.tip(id)? else { continue };
                let windows_meet =
                    other.window_from <= tip.window_to && tip.window_from <= other.window_to;
                if windows_meet && patterns_overlap(&other.plate, &tip.plate) {
                    out.push(case.id);
                    break;
                }
            }
        }
        Ok(out)
    }
}
