//! Tips from the 12315 hotline, the online platform or walk-ins, and what the hub
//! makes of them: cross-check matches, verdicts, cases and rewards.
//!
//! The tipster's identity ([`Tipster`]) appears in exactly one answer, [`TipDetail`],
//! and only for investigators and admins; every other type here leaves it out by
//! construction, so a list, an export or an audit line cannot leak it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    invalid, CargoRead, CaseId, CheckpointId, County, EvidenceRef, IncidentId, InvalidValue,
    PassageId, PlateText, TipId, PROVINCES,
};

/// How the tip came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TipChannel {
    #[serde(rename = "hotline_12315")]
    Hotline12315,
    Online,
    WalkIn,
}

impl TipChannel {
    pub const ALL: [TipChannel; 3] = [
        TipChannel::Hotline12315,
        TipChannel::Online,
        TipChannel::WalkIn,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            TipChannel::Hotline12315 => "hotline_12315",
            TipChannel::Online => "online",
            TipChannel::WalkIn => "walk_in",
        }
    }
}

impl FromStr for TipChannel {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        TipChannel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or(invalid(
                "channel",
                "must be hotline_12315, online or walk_in",
            ))
    }
}

/// A plate as heard: GA 36 characters plus `?` (exactly one character) and `*` (any
/// run, also none), e.g. `晋A?23*` or `*5678`. Canonical like [`PlateText`]: no
/// spaces or dots, ASCII upper case, full-width wildcards made ASCII, runs of `*`
/// collapsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlatePattern(String);

/// Characters a plate can end in besides A-Z and 0-9 (GA 36 special plates).
const SPECIAL: &str = "挂学警港澳使领";

impl PlatePattern {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let mut canon = String::with_capacity(raw.len());
        for c in raw.chars() {
            let c = match c {
                '？' => '?',
                '＊' => '*',
                c if c.is_whitespace() || c == '·' || c == '•' || c == '.' => continue,
                c => c.to_ascii_uppercase(),
            };
            if c == '*' && canon.ends_with('*') {
                continue;
            }
            let ok = c == '?'
                || c == '*'
                || c.is_ascii_uppercase()
                || c.is_ascii_digit()
                || PROVINCES.contains(c)
                || SPECIAL.contains(c);
            if !ok {
                return Err(invalid(
                    "plate",
                    "only plate characters and the wildcards ? and * are allowed",
                ));
            }
            canon.push(c);
        }
        let concrete = canon.chars().filter(|c| *c != '?' && *c != '*').count();
        if concrete < 2 {
            return Err(invalid(
                "plate",
                "give at least two characters of the plate besides wildcards",
            ));
        }
        if canon.chars().count() > 16 {
            return Err(invalid("plate", "longer than 16 characters"));
        }
        // Without wildcards it can only match itself: it must then be a whole plate,
        // or a half-heard "晋A1234" would silently match nothing.
        if !canon.contains(['?', '*']) && PlateText::parse(&canon).is_err() {
            return Err(invalid(
                "plate",
                "not a whole GA 36 plate: write ? or * for what was not heard",
            ));
        }
        Ok(PlatePattern(canon))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The plate itself when the pattern has no wildcards and is a GA 36 plate.
    pub fn concrete(&self) -> Option<PlateText> {
        if self.0.contains(['?', '*']) {
            return None;
        }
        PlateText::parse(&self.0).ok()
    }
}

impl TryFrom<String> for PlatePattern {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        PlatePattern::parse(&s)
    }
}

impl From<PlatePattern> for String {
    fn from(p: PlatePattern) -> String {
        p.0
    }
}

impl fmt::Display for PlatePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who called, as far as they said. Confidential: investigators and admins only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tipster {
    pub name: Option<String>,
    pub phone: Option<String>,
}

impl Tipster {
    /// A reporter who gave a name: only they can be rewarded (DOMAIN.md "Tips").
    pub fn is_real_name(&self) -> bool {
        self.name.as_deref().is_some_and(|n| !n.trim().is_empty())
    }
}

/// `POST /api/v1/tips`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTip {
    pub channel: TipChannel,
    /// When the hotline or platform took it; default: now.
    #[serde(default)]
    pub received_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub tipster_name: Option<String>,
    #[serde(default)]
    pub tipster_phone: Option<String>,
    pub plate: PlatePattern,
    pub county: County,
    /// Free text: the road, village or landmark.
    #[serde(default)]
    pub place: String,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    /// What the tipster said.
    #[serde(default)]
    pub said: String,
}

/// Where a tip or a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TipStatus {
    Open,
    Verified,
    Unfounded,
}

impl TipStatus {
    pub const ALL: [TipStatus; 3] = [TipStatus::Open, TipStatus::Verified, TipStatus::Unfounded];
    pub fn as_str(self) -> &'static str {
        match self {
            TipStatus::Open => "open",
            TipStatus::Verified => "verified",
            TipStatus::Unfounded => "unfounded",
        }
    }
}

impl FromStr for TipStatus {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        TipStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or(invalid("status", "must be open, verified or unfounded"))
    }
}

/// Where an open tip stands against its investigation deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueMark {
    /// Has a verdict.
    Done,
    /// Open, deadline not near.
    Open,
    /// Open, deadline within the configured warning time.
    DueSoon,
    /// Open past its deadline.
    Overdue,
}

/// A tip as lists show it: no tipster identity, only whether there is a name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TipView {
    pub id: TipId,
    pub case_id: CaseId,
    pub county: County,
    pub channel: TipChannel,
    pub received_at: DateTime<Utc>,
    pub plate: PlatePattern,
    pub place: String,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    pub status: TipStatus,
    pub deadline: DateTime<Utc>,
    pub due: DueMark,
    /// The tipster gave a name (may be rewarded).
    pub real_name: bool,
}

/// How a passage's plate matched the plate as heard, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    Exact,
    Wildcard,
    /// One confusable character swapped (0/D/Q, 8/B, ...).
    Confusable,
}

/// Where the passage's checkpoint is relative to the tip's county, nearest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    InCounty,
    Neighbour,
}

/// One passage the cross-check found, with its photos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TipMatch {
    pub passage_id: PassageId,
    pub checkpoint_id: CheckpointId,
    pub county: County,
    pub seen_at: DateTime<Utc>,
    pub plate: PlateText,
    pub kind: MatchKind,
    pub area: Area,
    pub cargo: Option<CargoRead>,
    pub evidence: Vec<EvidenceRef>,
}

/// Verified or unfounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Verified,
    Unfounded,
}

/// `POST /api/v1/tips/{id}/verdict`: applies to the tip's whole case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictRequest {
    pub verdict: VerdictKind,
    /// The plate proven; default: the plate of the first passage named.
    #[serde(default)]
    pub plate: Option<PlateText>,
    #[serde(default)]
    pub passages: Vec<PassageId>,
    #[serde(default)]
    pub incidents: Vec<IncidentId>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A recorded verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub verdict: VerdictKind,
    pub plate: Option<PlateText>,
    pub passages: Vec<PassageId>,
    pub incidents: Vec<IncidentId>,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
    pub by: String,
}

/// `GET /api/v1/tips/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TipDetail {
    #[serde(flatten)]
    pub view: TipView,
    pub said: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    /// Investigators and admins only; absent for everyone else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tipster: Option<Tipster>,
    pub verdict: Option<Verdict>,
    /// Ranked: exact > wildcard > confusable, in-county > neighbour, closer in time.
    pub matches: Vec<TipMatch>,
    /// Open cases whose tips' plate and window overlap this one's.
    pub suggested_cases: Vec<CaseId>,
}

/// `POST /api/v1/tips/{id}/case`: group the tip with an open case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRequest {
    pub case_id: CaseId,
}

/// One reward: 1000 yuan per verified case to its first real-name reporter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reward {
    pub case_id: CaseId,
    /// The rewardee's tip (investigators find the name there).
    pub tip_id: TipId,
    pub county: County,
    pub yuan: u32,
    pub verified_at: DateTime<Utc>,
    pub due_by: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub paid_by: Option<String>,
}

/// A reward with its overdue mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RewardView {
    #[serde(flatten)]
    pub reward: Reward,
    /// Unpaid past `due_by`.
    pub overdue: bool,
}

/// `GET /api/v1/cases/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    pub id: CaseId,
    pub county: County,
    pub opened_at: DateTime<Utc>,
    pub status: TipStatus,
    pub tips: Vec<TipView>,
    pub verdict: Option<Verdict>,
    /// Only verified cases with a real-name reporter have one.
    pub reward: Option<RewardView>,
    /// The verified plate is on the hotlist because of this case.
    pub hotlisted: bool,
}
