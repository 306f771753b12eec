//! The ledger (台账): per county, checkpoint and China day, counted by scanning the
//! existing time-ordered indexes over the asked range only — `checkpoint_idx` for
//! passages (the key alone carries the time, no record is read) and `time_idx` for
//! incidents — never every record.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::api::{CheckpointId, County, ReportRow};

use super::{decode, keys, CheckpointRecord, IncidentRecord, Result, Store};

/// China keeps one time zone, UTC+8, and no daylight saving.
const CHINA: Duration = Duration::hours(8);

/// The China day of an instant.
pub fn china_day(t: DateTime<Utc>) -> NaiveDate {
    (t + CHINA).date_naive()
}

/// The instants `[start, end)` of the China days `from..=to`.
fn bounds(from: NaiveDate, to: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - CHINA;
    let end = to.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() + Duration::days(1) - CHINA;
    (start, end)
}

/// Tips, rewards due and rewards paid of one county on one China day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipColumns {
    pub day: NaiveDate,
    pub county: County,
    pub tips: u64,
    pub rewards_due: u64,
    pub rewards_paid: u64,
}

/// The tip-line columns of the ledger, per China day and county, from the tip
/// store's own day counts (tips received, rewards falling due, rewards paid).
pub fn tip_columns(store: &Store, from: NaiveDate, to: NaiveDate) -> Result<Vec<TipColumns>> {
    Ok(store
        .tip_day_counts(from, to)?
        .into_iter()
        .map(|c| TipColumns {
            day: c.day,
            county: c.county,
            tips: u64::from(c.tips),
            rewards_due: u64::from(c.rewards_due),
            rewards_paid: u64::from(c.rewards_paid),
        })
        .collect())
}

type RowKey = (NaiveDate, County, Option<CheckpointId>);

fn row<'a>(
    rows: &'a mut BTreeMap<RowKey, ReportRow>,
    day: NaiveDate,
    county: &County,
    cp: Option<&CheckpointId>,
) -> &'a mut ReportRow {
    rows.entry((day, county.clone(), cp.cloned()))
        .or_insert_with(|| ReportRow::new(day, county.clone(), cp.cloned()))
}

impl Store {
    /// Ledger rows for the China days `from..=to`, of `county` only when given, ordered
    /// by day, county, then checkpoint (the county's own line first).
    pub fn report(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        county: Option<&County>,
    ) -> Result<Vec<ReportRow>> {
        let (start, end) = bounds(from, to);
        let mut rows: BTreeMap<RowKey, ReportRow> = BTreeMap::new();
        let wanted = |c: &County| county.is_none_or(|w| w == c);

        for item in self.checkpoints.iter() {
            let (_, v) = item?;
            let cp: CheckpointRecord = decode("checkpoints", &v)?;
            if !wanted(&cp.county) {
                continue;
            }
            let prefix = keys::prefix(cp.id.as_str());
            let lo = [prefix.as_slice(), &keys::time(start)].concat();
            let hi = [prefix.as_slice(), &keys::time(end)].concat();
            for item in self.checkpoint_idx.range(lo..hi) {
                let (k, _) = item?;
                let Some(t) = k
                    .len()
                    .checked_sub(24)
                    .and_then(|at| keys::time_from(&k[at..at + 8]))
                else {
                    continue;
                };
                row(&mut rows, china_day(t), &cp.county, Some(&cp.id)).passages += 1;
            }
        }

        for item in self
            .time_idx
            .range(keys::time(start).to_vec()..keys::time(end).to_vec())
        {
            let (k, _) = item?;
            let Some(id) = keys::id_of(&k) else { continue };
            let Some(b) = self.incidents.get(id)? else {
                continue;
            };
            let rec: IncidentRecord = decode("incidents", &b)?;
            if !wanted(&rec.county) {
                continue;
            }
            let r = row(
                &mut rows,
                china_day(rec.incident.created_at),
                &rec.county,
                Some(&rec.incident.checkpoint_id),
            );
            r.incidents += 1;
            r.by_kind[ReportRow::kind_column(rec.incident.kind.as_str())] += 1;
            if let Some(o) = rec.history.iter().rev().find_map(|h| h.outcome) {
                r.outcomes[ReportRow::outcome_column(o)] += 1;
            }
        }

        // The county's own line: the sum of its checkpoints, plus the tip line.
        let per_cp: Vec<ReportRow> = rows.values().cloned().collect();
        for r in &per_cp {
            let total = row(&mut rows, r.day, &r.county, None);
            total.passages += r.passages;
            total.incidents += r.incidents;
            for (a, b) in total.by_kind.iter_mut().zip(r.by_kind) {
                *a += b;
            }
            for (a, b) in total.outcomes.iter_mut().zip(r.outcomes) {
                *a += b;
            }
        }
        for tc in tip_columns(self, from, to)? {
            if !wanted(&tc.county) {
                continue;
            }
            let total = row(&mut rows, tc.day, &tc.county, None);
            total.tips = tc.tips;
            total.rewards_due = tc.rewards_due;
            total.rewards_paid = tc.rewards_paid;
        }
        Ok(rows.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn china_days_start_at_sixteen_utc() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let (s, e) = bounds(d, d);
        assert_eq!(s, Utc.with_ymd_and_hms(2026, 11, 28, 16, 0, 0).unwrap());
        assert_eq!(e, Utc.with_ymd_and_hms(2026, 11, 29, 16, 0, 0).unwrap());
        assert_eq!(
            china_day(Utc.with_ymd_and_hms(2026, 11, 28, 16, 30, 0).unwrap()),
            d
        );
        assert_eq!(
            china_day(Utc.with_ymd_and_hms(2026, 11, 28, 15, 59, 0).unwrap()),
            d.pred_opt().unwrap()
        );
    }
}
