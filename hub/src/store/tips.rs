//! Tips, the cases that group them, and the reward ledger (invariant 9 of the store).
//!
//! Tips are few next to passages (a county gets a handful a day), so lists scan the
//! `tips` tree instead of keeping more indexes; the cross-check's passage reads go
//! through the passage indexes (see `crosscheck`).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Tree;
use sled_gate::Gated;

use super::{
    bump, decode, encode, flatten, list_byte, AuditEntry, CheckpointRecord, Result, Store,
    StoreError,
};
use crate::api::{
    CaseId, County, ListEntry, ListName, PlatePattern, Reward, TipChannel, TipId, TipStatus,
    Tipster, Verdict, VerdictKind,
};
use crate::tips::{china_day, rewardee, Reporter, Rules};

/// The trees of the tip line, opened with the store.
#[derive(Clone)]
pub(super) struct TipTrees {
    /// `TipId` (v7, so in recording order) → [`TipRecord`].
    tips: Tree,
    /// `CaseId` → [`CaseRecord`].
    cases: Tree,
    /// `CaseId` → [`Reward`]: the key makes "one reward per case" structural.
    rewards: Tree,
}

impl TipTrees {
    pub(super) fn open(db: &sled::Db) -> sled::Result<TipTrees> {
        Ok(TipTrees {
            tips: db.open_tree("tips")?,
            cases: db.open_tree("cases")?,
            rewards: db.open_tree("rewards")?,
        })
    }
}

/// A tip as stored. `tipster` is the confidential part: never copy it into an audit
/// line, a log field or a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TipRecord {
    pub id: TipId,
    pub case_id: CaseId,
    pub county: County,
    pub channel: TipChannel,
    pub received_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    pub tipster: Tipster,
    pub plate: PlatePattern,
    pub place: String,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    pub said: String,
    pub status: TipStatus,
    /// `received_at` plus the investigation time in force when it was filed.
    pub deadline: DateTime<Utc>,
}

/// Tips about one truck and trip. A tip opens its own case; an investigator may move
/// it into another open case. The verdict is the case's and closes all its tips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub id: CaseId,
    pub county: County,
    pub opened_at: DateTime<Utc>,
    pub status: TipStatus,
    /// In the order they joined.
    pub tips: Vec<TipId>,
    pub verdict: Option<Verdict>,
    pub hotlisted: bool,
}

/// One row of the 台账: a county's tips and rewards on one day (China time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TipDayCount {
    pub day: NaiveDate,
    pub county: County,
    /// Tips received that day.
    pub tips: u32,
    /// Rewards whose payment deadline falls on that day.
    pub rewards_due: u32,
    /// Rewards paid that day.
    pub rewards_paid: u32,
}

type Tx<T> = sled::transaction::ConflictableTransactionResult<T, StoreError>;

fn abort<T>(e: StoreError) -> Tx<T> {
    Err(ConflictableTransactionError::Abort(e))
}

fn get<T: serde::de::DeserializeOwned>(
    tree: &TransactionalTree,
    name: &'static str,
    key: &[u8],
    what: impl FnOnce() -> String,
) -> Tx<T> {
    match tree.get(key)? {
        Some(b) => decode(name, &b).map_err(ConflictableTransactionError::Abort),
        None => abort(StoreError::NotFound(what())),
    }
}

fn scan<T: serde::de::DeserializeOwned>(tree: &Tree, name: &'static str) -> Result<Vec<T>> {
    tree.iter()
        .map(|r| {
            r.map_err(StoreError::from)
                .and_then(|(_, v)| decode(name, &v))
        })
        .collect()
}

impl Store {
    /// Files a tip in a new case of its own, with its audit line, in one transaction.
    pub fn insert_tip(&self, tip: &TipRecord, audit: &AuditEntry) -> Result<()> {
        let case = CaseRecord {
            id: tip.case_id,
            county: tip.county.clone(),
            opened_at: tip.recorded_at,
            status: TipStatus::Open,
            tips: vec![tip.id],
            verdict: None,
            hotlisted: false,
        };
        let audit_key = self.db.generate_id()?.to_be_bytes();
        let t = &self.tip_trees;
        let res = (&t.tips, &t.cases, &self.audit).transact(|(tips, cases, log)| {
            tips.insert(&tip.id.as_bytes()[..], encode(tip))?;
            cases.insert(&case.id.as_bytes()[..], encode(&case))?;
            log.insert(&audit_key[..], encode(audit))?;
            Ok(())
        });
        flatten(res)
    }

    pub fn tip(&self, id: &TipId) -> Result<Option<TipRecord>> {
        self.tip_trees
            .tips
            .get(id.as_bytes())?
            .map(|b| decode("tips", &b))
            .transpose()
    }

    pub fn case(&self, id: &CaseId) -> Result<Option<CaseRecord>> {
        self.tip_trees
            .cases
            .get(id.as_bytes())?
            .map(|b| decode("cases", &b))
            .transpose()
    }

    /// Tips newest first (by when they were filed), every one passing `keep`.
    pub fn tips_where(&self, mut keep: impl FnMut(&TipRecord) -> bool) -> Result<Vec<TipRecord>> {
        let mut out = Vec::new();
        for item in self.tip_trees.tips.iter().rev() {
            let (_, v) = item?;
            let tip: TipRecord = decode("tips", &v)?;
            if keep(&tip) {
                out.push(tip);
            }
        }
        Ok(out)
    }

    /// Cases without a verdict.
    pub fn open_cases(&self) -> Result<Vec<CaseRecord>> {
        let all: Vec<CaseRecord> = scan(&self.tip_trees.cases, "cases")?;
        Ok(all
            .into_iter()
            .filter(|c| c.status == TipStatus::Open)
            .collect())
    }

    /// Every checkpoint, revoked ones included (their passages still count).
    pub fn checkpoints(&self) -> Result<Vec<CheckpointRecord>> {
        scan(&self.checkpoints, "checkpoints")
    }

    /// Moves an open tip into another open case; its old case goes when it is left
    /// empty. One transaction with the audit line.
    pub fn link_tip(&self, id: &TipId, to: &CaseId, audit: &AuditEntry) -> Result<CaseRecord> {
        let audit_key = self.db.generate_id()?.to_be_bytes();
        let t = &self.tip_trees;
        let res = (&t.tips, &t.cases, &self.audit).transact(|(tips, cases, log)| {
            let mut tip: TipRecord = get(tips, "tips", id.as_bytes(), || format!("tip {id}"))?;
            if tip.status != TipStatus::Open {
                return abort(StoreError::InvalidAction(
                    "the tip already has a verdict".into(),
                ));
            }
            if tip.case_id == *to {
                return abort(StoreError::InvalidAction(
                    "the tip is in that case already".into(),
                ));
            }
            let mut target: CaseRecord =
                get(cases, "cases", to.as_bytes(), || format!("case {to}"))?;
            if target.status != TipStatus::Open {
                return abort(StoreError::InvalidAction(
                    "that case already has a verdict".into(),
                ));
            }
            let from = tip.case_id;
            let mut old: CaseRecord =
                get(cases, "cases", from.as_bytes(), || format!("case {from}"))?;
            old.tips.retain(|x| x != id);
            if old.tips.is_empty() {
                cases.remove(&from.as_bytes()[..])?;
            } else {
                cases.insert(&from.as_bytes()[..], encode(&old))?;
            }
            target.tips.push(*id);
            cases.insert(&to.as_bytes()[..], encode(&target))?;
            tip.case_id = *to;
            tips.insert(&id.as_bytes()[..], encode(&tip))?;
            log.insert(&audit_key[..], encode(audit))?;
            Ok(target)
        });
        flatten(res)
    }

    /// Records the verdict of `tip`'s case on the case and every tip in it; a verified
    /// case with a real-name reporter gets its one reward. One transaction with the
    /// audit line; a case that has a verdict already is an error.
    pub fn record_verdict(
        &self,
        tip: &TipId,
        verdict: &Verdict,
        rules: &Rules,
        audit: &AuditEntry,
    ) -> Result<CaseRecord> {
        let audit_key = self.db.generate_id()?.to_be_bytes();
        let t = &self.tip_trees;
        let res =
            (&t.tips, &t.cases, &t.rewards, &self.audit).transact(|(tips, cases, rewards, log)| {
                let first: TipRecord = get(tips, "tips", tip.as_bytes(), || format!("tip {tip}"))?;
                let cid = first.case_id;
                let mut case: CaseRecord =
                    get(cases, "cases", cid.as_bytes(), || format!("case {cid}"))?;
                if case.status != TipStatus::Open {
                    return abort(StoreError::InvalidAction(
                        "the case already has a verdict".into(),
                    ));
                }
                let status = match verdict.verdict {
                    VerdictKind::Verified => TipStatus::Verified,
                    VerdictKind::Unfounded => TipStatus::Unfounded,
                };
                let mut reporters = Vec::with_capacity(case.tips.len());
                for id in &case.tips {
                    let mut t: TipRecord =
                        get(tips, "tips", id.as_bytes(), || format!("tip {id}"))?;
                    t.status = status;
                    tips.insert(&id.as_bytes()[..], encode(&t))?;
                    reporters.push(Reporter {
                        tip: t.id,
                        received_at: t.received_at,
                        real_name: t.tipster.is_real_name(),
                    });
                }
                case.status = status;
                case.verdict = Some(verdict.clone());
                cases.insert(&cid.as_bytes()[..], encode(&case))?;
                let winner = rewardee(&reporters).filter(|_| status == TipStatus::Verified);
                if let (Some(tip_id), None) = (winner, rewards.get(cid.as_bytes())?) {
                    let reward = Reward {
                        case_id: cid,
                        tip_id,
                        county: case.county.clone(),
                        yuan: rules.reward_yuan,
                        verified_at: verdict.at,
                        due_by: verdict.at + rules.pay_within,
                        paid_at: None,
                        paid_by: None,
                    };
                    rewards.insert(&cid.as_bytes()[..], encode(&reward))?;
                }
                log.insert(&audit_key[..], encode(audit))?;
                Ok(case)
            });
        flatten(res)
    }

    pub fn reward(&self, case: &CaseId) -> Result<Option<Reward>> {
        self.tip_trees
            .rewards
            .get(case.as_bytes())?
            .map(|b| decode("rewards", &b))
            .transpose()
    }

    /// Every reward, oldest case first.
    pub fn rewards(&self) -> Result<Vec<Reward>> {
        scan(&self.tip_trees.rewards, "rewards")
    }

    /// Marks a case's reward paid; paying twice is an error.
    pub fn mark_reward_paid(
        &self,
        case: &CaseId,
        by: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<Reward> {
        let audit_key = self.db.generate_id()?.to_be_bytes();
        let res = (&self.tip_trees.rewards, &self.audit).transact(|(rewards, log)| {
            let mut r: Reward = get(rewards, "rewards", case.as_bytes(), || {
                format!("reward of case {case}")
            })?;
            if r.paid_at.is_some() {
                return abort(StoreError::InvalidAction(
                    "the reward is paid already".into(),
                ));
            }
            r.paid_at = Some(at);
            r.paid_by = Some(by.to_owned());
            rewards.insert(&case.as_bytes()[..], encode(&r))?;
            log.insert(&audit_key[..], encode(audit))?;
            Ok(r)
        });
        flatten(res)
    }

    /// Puts a verified case's plate on the hotlist: the entry, the lists version, the
    /// case's mark and the audit line in one transaction. The new lists version.
    pub fn hotlist_case(
        &self,
        case: &CaseId,
        entry: &ListEntry,
        audit: &AuditEntry,
    ) -> Result<u64> {
        let audit_key = self.db.generate_id()?.to_be_bytes();
        let key = [
            &[list_byte(ListName::Hotlist)][..],
            entry.plate.as_str().as_bytes(),
        ]
        .concat();
        let res = (&self.tip_trees.cases, &self.lists, &self.meta, &self.audit).transact(
            |(cases, lists, meta, log)| {
                let mut c: CaseRecord =
                    get(cases, "cases", case.as_bytes(), || format!("case {case}"))?;
                let plate = c.verdict.as_ref().and_then(|v| v.plate.as_ref());
                if c.status != TipStatus::Verified || plate != Some(&entry.plate) {
                    return abort(StoreError::InvalidAction(
                        "only a verified case's plate goes on the hotlist".into(),
                    ));
                }
                lists.insert(key.as_slice(), encode(entry))?;
                c.hotlisted = true;
                cases.insert(&case.as_bytes()[..], encode(&c))?;
                log.insert(&audit_key[..], encode(audit))?;
                bump(meta)
            },
        );
        flatten(res)
    }

    /// Per day (China time, UTC+8) and county in `[from, to]`: tips received, rewards
    /// falling due and rewards paid. Only days with something to count, by day then
    /// county.
    pub fn tip_day_counts(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<TipDayCount>> {
        let mut rows: BTreeMap<(NaiveDate, County), TipDayCount> = BTreeMap::new();
        let mut count =
            |at: DateTime<Utc>, county: &County, field: fn(&mut TipDayCount) -> &mut u32| {
                let day = china_day(at);
                if day < from || day > to {
                    return;
                }
                let row = rows
                    .entry((day, county.clone()))
                    .or_insert_with(|| TipDayCount {
                        day,
                        county: county.clone(),
                        tips: 0,
                        rewards_due: 0,
                        rewards_paid: 0,
                    });
                *field(row) += 1;
            };
        for item in self.tip_trees.tips.iter() {
            let (_, v) = item?;
            let tip: TipRecord = decode("tips", &v)?;
            count(tip.received_at, &tip.county, |r| &mut r.tips);
        }
        for r in self.rewards()? {
            count(r.due_by, &r.county, |r| &mut r.rewards_due);
            if let Some(paid) = r.paid_at {
                count(paid, &r.county, |r| &mut r.rewards_paid);
            }
        }
        Ok(rows.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn tip(at: DateTime<Utc>, county: &str, name: Option<&str>) -> TipRecord {
        TipRecord {
            id: TipId::new(),
            case_id: CaseId::new(),
            county: County::parse(county).unwrap(),
            channel: TipChannel::Hotline12315,
            received_at: at,
            recorded_at: at,
            recorded_by: "inv".into(),
            tipster: Tipster {
                name: name.map(str::to_owned),
                phone: None,
            },
            plate: PlatePattern::parse("晋H93513").unwrap(),
            place: String::new(),
            window_from: at - Duration::hours(2),
            window_to: at,
            said: String::new(),
            status: TipStatus::Open,
            deadline: at + Duration::days(2),
        }
    }

    fn line() -> AuditEntry {
        AuditEntry {
            at: Utc::now(),
            who: "inv".into(),
            what: "tip.test".into(),
            reason: None,
            detail: serde_json::Value::Null,
        }
    }

    #[test]
    fn day_counts_are_per_china_day_and_county() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 16 << 20).unwrap();
        let rules = Rules {
            investigate: Duration::days(2),
            warn: Duration::hours(12),
            reward_yuan: 1000,
            pay_within: Duration::days(10),
        };
        // 23:30 Beijing time on Nov 1 and 00:30 on Nov 2.
        let late = Utc.with_ymd_and_hms(2026, 11, 1, 15, 30, 0).unwrap();
        let early = Utc.with_ymd_and_hms(2026, 11, 1, 16, 30, 0).unwrap();
        let a = tip(late, "滦平县", Some("张三"));
        let b = tip(early, "滦平县", None);
        let c = tip(early, "承德县", None);
        for t in [&a, &b, &c] {
            store.insert_tip(t, &line()).unwrap();
        }
        let verdict = Verdict {
            verdict: VerdictKind::Verified,
            plate: None,
            passages: Vec::new(),
            incidents: Vec::new(),
            note: None,
            at: early,
            by: "inv".into(),
        };
        store
            .record_verdict(&a.id, &verdict, &rules, &line())
            .unwrap();
        let paid_at = early + Duration::days(3);
        store
            .mark_reward_paid(&a.case_id, "inv", paid_at, &line())
            .unwrap();
        let d = |day| NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        let rows = store.tip_day_counts(d(1), d(30)).unwrap();
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.day.to_string(),
                    r.county.to_string(),
                    r.tips,
                    r.rewards_due,
                    r.rewards_paid,
                )
            })
            .collect();
        let want = vec![
            ("2026-11-01".to_string(), "滦平县".to_string(), 1, 0, 0),
            ("2026-11-02".into(), "承德县".into(), 1, 0, 0),
            ("2026-11-02".into(), "滦平县".into(), 1, 0, 0),
            ("2026-11-05".into(), "滦平县".into(), 0, 0, 1),
            ("2026-11-12".into(), "滦平县".into(), 0, 1, 0),
        ];
        assert_eq!(got, want);
        assert!(store.tip_day_counts(d(3), d(4)).unwrap().is_empty());
    }
}
