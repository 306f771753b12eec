//! Tip-line rules that need no store or HTTP, so they are tested on their own:
//! which counties are near each other, where a tip stands against its deadline,
//! who is rewarded for a case, and the plate matcher of the cross-check.

pub mod matcher;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::api::{Area, County, DueMark, Reward, TipId, TipStatus};

/// Which counties border which, from the config's `[neighbours]` table. Symmetric:
/// a county listed as A's neighbour has A as its neighbour, so the table need not
/// repeat each pair.
#[derive(Debug, Clone, Default)]
pub struct Neighbours(BTreeMap<String, BTreeSet<String>>);

impl Neighbours {
    pub fn new(table: &BTreeMap<String, Vec<String>>) -> Neighbours {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, list) in table {
            for b in list.iter().filter(|b| *b != a) {
                m.entry(a.clone()).or_default().insert(b.clone());
                m.entry(b.clone()).or_default().insert(a.clone());
            }
        }
        Neighbours(m)
    }

    /// Where `other` lies seen from a tip in `county`; `None` when neither in it nor
    /// next to it.
    pub fn area(&self, county: &County, other: &County) -> Option<Area> {
        if county == other {
            return Some(Area::InCounty);
        }
        self.0
            .get(county.as_str())
            .is_some_and(|s| s.contains(other.as_str()))
            .then_some(Area::Neighbour)
    }
}

/// The deadlines and amounts of the tip line (config `tip_*`, `reward_*`).
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Time to investigate a tip from when it was received.
    pub investigate: Duration,
    /// How long before its deadline an open tip is marked due soon.
    pub warn: Duration,
    pub reward_yuan: u32,
    /// Time to pay a reward from the verdict.
    pub pay_within: Duration,
}

impl Rules {
    /// An open tip's mark at `now`.
    pub fn due_mark(
        &self,
        status: TipStatus,
        deadline: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DueMark {
        match status {
            TipStatus::Verified | TipStatus::Unfounded => DueMark::Done,
            TipStatus::Open if now > deadline => DueMark::Overdue,
            TipStatus::Open if now > deadline - self.warn => DueMark::DueSoon,
            TipStatus::Open => DueMark::Open,
        }
    }
}

/// Whether a reward is unpaid past its due date at `now`.
pub fn reward_overdue(r: &Reward, now: DateTime<Utc>) -> bool {
    r.paid_at.is_none() && now > r.due_by
}

/// A tip as the reward rule sees it.
#[derive(Debug, Clone, Copy)]
pub struct Reporter {
    pub tip: TipId,
    pub received_at: DateTime<Utc>,
    pub real_name: bool,
}

/// The case's rewardee: its first real-name reporter (earliest received; the earlier
/// recorded on a tie). Anonymous tips are never rewarded.
pub fn rewardee(reporters: &[Reporter]) -> Option<TipId> {
    reporters
        .iter()
        .filter(|r| r.real_name)
        .min_by_key(|r| (r.received_at, r.tip))
        .map(|r| r.tip)
}

/// The calendar day in China (UTC+8, no daylight saving) of an instant: the day the
/// 台账 counts it under.
pub fn china_day(at: DateTime<Utc>) -> NaiveDate {
    (at + Duration::hours(8)).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn rules() -> Rules {
        Rules {
            investigate: Duration::days(2),
            warn: Duration::hours(12),
            reward_yuan: 1000,
            pay_within: Duration::days(10),
        }
    }

    #[test]
    fn neighbours_are_symmetric() {
        let mut t = BTreeMap::new();
        t.insert("滦平县".to_string(), vec!["承德县".to_string()]);
        let n = Neighbours::new(&t);
        let (a, b, c) = (
            County::parse("滦平县").unwrap(),
            County::parse("承德县").unwrap(),
            County::parse("兴隆县").unwrap(),
        );
        assert_eq!(n.area(&a, &a), Some(Area::InCounty));
        assert_eq!(n.area(&a, &b), Some(Area::Neighbour));
        assert_eq!(n.area(&b, &a), Some(Area::Neighbour));
        assert_eq!(n.area(&a, &c), None);
    }

    #[test]
    fn deadline_marks() {
        let r = rules();
        let received = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap();
        let deadline = received + r.investigate;
        let at = |h: i64| received + Duration::hours(h);
        for (status, hours, mark) in [
            (TipStatus::Open, 1, DueMark::Open),
            (TipStatus::Open, 36, DueMark::Open),
            (TipStatus::Open, 37, DueMark::DueSoon),
            (TipStatus::Open, 48, DueMark::DueSoon),
            (TipStatus::Open, 49, DueMark::Overdue),
            (TipStatus::Verified, 49, DueMark::Done),
        ] {
            assert_eq!(r.due_mark(status, deadline, at(hours)), mark, "{hours} h");
        }
    }

    #[test]
    fn first_real_name_reporter_is_rewarded() {
        let t0 = Utc::now();
        let (a, b, c) = (TipId::new(), TipId::new(), TipId::new());
        let rep = |tip, mins, real_name| Reporter {
            tip,
            received_at: t0 + Duration::minutes(mins),
            real_name,
        };
        // The anonymous caller was first; the first named one gets the reward.
        assert_eq!(
            rewardee(&[rep(a, 0, false), rep(b, 20, true), rep(c, 10, true)]),
            Some(c)
        );
        assert_eq!(rewardee(&[rep(a, 0, false)]), None);
    }

    #[test]
    fn china_days_start_at_midnight_beijing_time() {
        let late_utc = Utc.with_ymd_and_hms(2026, 11, 1, 16, 30, 0).unwrap();
        assert_eq!(
            china_day(late_utc),
            NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()
        );
        let early = Utc.with_ymd_and_hms(2026, 11, 1, 15, 59, 0).unwrap();
        assert_eq!(
            china_day(early),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
        );
    }

    #[test]
    fn rewards_fall_overdue_unpaid_only() {
        let t0 = Utc::now();
        let mut r = Reward {
            case_id: crate::api::CaseId::new(),
            tip_id: TipId::new(),
            county: County::parse("滦平县").unwrap(),
            yuan: 1000,
            verified_at: t0,
            due_by: t0 + Duration::days(10),
            paid_at: None,
            paid_by: None,
        };
        assert!(!reward_overdue(&r, t0 + Duration::days(10)));
        assert!(reward_overdue(&r, t0 + Duration::days(11)));
        r.paid_at = Some(t0 + Duration::days(12));
        assert!(!reward_overdue(&r, t0 + Duration::days(13)));
    }
}
