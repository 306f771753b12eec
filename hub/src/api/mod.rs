//! The hub's wire contract: what checkpoints and people send and receive, as JSON.
//!
//! Every identifier is a validating newtype, parsed once when the JSON is read; code
//! behind this module never re-checks them. This module builds without the server
//! (`default-features = false`), so the checkpoint depends on it for the contract.

mod outcome;
mod plate;
mod report;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use outcome::{check_fields, FieldError, OutcomeDetails, Papers, FINE_RANGE};
pub use plate::{PlateError, PlateText, PROVINCES};
pub use report::{ReportRow, KIND_COLUMNS};

/// A value that failed validation at the boundary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {why}")]
pub struct InvalidValue {
    pub what: &'static str,
    pub why: &'static str,
}

fn invalid(what: &'static str, why: &'static str) -> InvalidValue {
    InvalidValue { what, why }
}

macro_rules! string_newtype {
    ($(#[$m:meta])* $name:ident, $check:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, InvalidValue> {
                let check: fn(&str) -> Result<(), InvalidValue> = $check;
                check(s)?;
                Ok($name(s.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, InvalidValue> {
                let check: fn(&str) -> Result<(), InvalidValue> = $check;
                check(&s)?;
                Ok($name(s))
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, InvalidValue> {
                $name::parse(s)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_newtype!(
    /// A checkpoint's id, e.g. `luanping-01`: 1-64 of a-z, 0-9, `-`, `_`.
    CheckpointId,
    |s| {
        if s.is_empty() || s.len() > 64 {
            return Err(invalid("checkpoint id", "must be 1-64 characters"));
        }
        if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
            return Err(invalid("checkpoint id", "only a-z, 0-9, '-' and '_' are allowed"));
        }
        Ok(())
    }
);

string_newtype!(
    /// A county (the scope of a team and of a checkpoint), e.g. `滦平县`.
    County,
    |s| {
        if s.trim().is_empty() || s.chars().count() > 64 {
            return Err(invalid("county", "must be 1-64 characters"));
        }
        if s.chars().any(|c| c.is_control()) {
            return Err(invalid("county", "control characters are not allowed"));
        }
        Ok(())
    }
);

string_newtype!(
    /// A person's login name: 1-64 characters, no spaces or control characters.
    UserName,
    |s| {
        if s.is_empty() || s.chars().count() > 64 {
            return Err(invalid("user name", "must be 1-64 characters"));
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid("user name", "spaces and control characters are not allowed"));
        }
        Ok(())
    }
);

string_newtype!(
    /// An incident kind in snake_case, e.g. `suspected_loose_coal`; new kinds may
    /// appear as the checkpoint's rules grow, so this is open but well-formed.
    IncidentKind,
    |s| {
        if s.is_empty() || s.len() > 48 {
            return Err(invalid("incident kind", "must be 1-48 characters"));
        }
        if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(invalid("incident kind", "must be snake_case"));
        }
        Ok(())
    }
);

impl IncidentKind {
    pub const SUSPECTED_LOOSE_COAL: &'static str = "suspected_loose_coal";
    pub const UNCOVERED_LOAD: &'static str = "uncovered_load";
    pub const HOTLIST_HIT: &'static str = "hotlist_hit";
}

macro_rules! uuid_newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh time-ordered (v7) id.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }
        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }
        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, InvalidValue> {
                Uuid::parse_str(s).map($name).map_err(|_| invalid(stringify!($name), "not a UUID"))
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_newtype!(
    /// A passage's id, chosen by the checkpoint (UUID v7); the idempotency key.
    PassageId
);
uuid_newtype!(
    /// An incident's id, chosen by the checkpoint (UUID v7); the idempotency key.
    IncidentId
);
uuid_newtype!(
    /// A tip's id, chosen by the hub (UUID v7).
    TipId
);
uuid_newtype!(
    /// A case's id: the tips about one truck and trip, grouped (UUID v7).
    CaseId
);

// Declared after the id macros, which it uses.
mod tips;
pub use tips::*;

/// The SHA-256 of an evidence JPEG: its content address. 64 hex digits on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Sha256(sha2::Sha256::digest(bytes).into())
    }
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl FromStr for Sha256 {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        if s.len() != 64 {
            return Err(invalid("sha256", "must be 64 hex digits"));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)
            .map_err(|_| invalid("sha256", "must be 64 hex digits"))?;
        Ok(Sha256(out))
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.to_hex())
    }
}

impl Serialize for Sha256 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------
// Passages and incidents, as the checkpoint sends them.

/// Plate colour (GA 36).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateColor {
    Blue,
    Yellow,
    Green,
    YellowGreen,
    White,
    Black,
    Unknown,
}

/// Single-row (440x140) or double-row (440x220) plate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateLayout {
    Single,
    Double,
}

/// Travel direction relative to the area the checkpoint protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
    Unknown,
}

/// The plate as read at the checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateRead {
    pub text: PlateText,
    pub color: PlateColor,
    pub layout: PlateLayout,
    /// Reader confidence in [0, 1].
    pub confidence: f32,
}

/// Cover state of the load (Air Pollution Law art. 70).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cover {
    Empty,
    Open,
    Partial,
    Tarped,
    Enclosed,
}

/// What the visible load looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Material {
    Coal,
    Briquette,
    OtherBulk,
    None,
}

/// The load as classified at the checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CargoRead {
    pub cover: Cover,
    pub material: Material,
    pub confidence: f32,
}

/// What an evidence image shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// The full frame.
    Frame,
    /// The plate crop.
    Plate,
    /// The load crop.
    Load,
}

/// A reference to an evidence JPEG by content address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub sha256: Sha256,
    pub kind: EvidenceKind,
}

/// One vehicle passing one checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    pub id: PassageId,
    pub checkpoint_id: CheckpointId,
    pub seen_at: DateTime<Utc>,
    pub lane: u8,
    pub direction: Direction,
    /// `None`: no plate read (无车牌).
    pub plate: Option<PlateRead>,
    /// `None`: no load seen.
    pub cargo: Option<CargoRead>,
    #[serde(default)]
    pub evidence: Vec<EvidenceRef>,
}

/// How urgent an incident is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

/// A passage that matters, as judged at the checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub passage_id: PassageId,
    pub checkpoint_id: CheckpointId,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub created_at: DateTime<Utc>,
}

/// The answer to an ingest request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResponse {
    /// Records stored by this request.
    pub accepted: u64,
    /// Records already stored (replays); stored nothing.
    pub duplicates: u64,
}

// ---------------------------------------------------------------------------------
// Lists synced to checkpoints.

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListName {
    /// Licensed supply fleets: coal-like loads are not incidents.
    Whitelist,
    /// Plates to alert on.
    Hotlist,
}

impl ListName {
    pub fn as_str(self) -> &'static str {
        match self {
            ListName::Whitelist => "whitelist",
            ListName::Hotlist => "hotlist",
        }
    }
}

impl FromStr for ListName {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        match s {
            "whitelist" => Ok(ListName::Whitelist),
            "hotlist" => Ok(ListName::Hotlist),
            _ => Err(invalid("list", "must be whitelist or hotlist")),
        }
    }
}

/// One list entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListEntry {
    pub plate: PlateText,
    pub reason: String,
    /// The licensed supply company a whitelisted fleet belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
}

/// Both lists at one version; the version changes on every edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lists {
    pub version: u64,
    pub whitelist: Vec<ListEntry>,
    pub hotlist: Vec<ListEntry>,
}

/// An admin's request to add a list entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewListEntry {
    pub plate: PlateText,
    pub reason: String,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

// ---------------------------------------------------------------------------------
// People.

/// What a person may do; every role but admin and auditor is scoped to a county.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Dispatcher,
    Officer,
    Investigator,
    Auditor,
}

impl Role {
    /// Sees every county.
    pub fn all_counties(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }
    /// May change incidents (claim, dispatch, outcome, note).
    pub fn may_act(self) -> bool {
        !matches!(self, Role::Auditor)
    }
}

impl FromStr for Role {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
            invalid(
                "role",
                "must be admin, dispatcher, officer, investigator or auditor",
            )
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    pub name: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
}

/// Where an incident is in its life: new → claimed → dispatched → closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    New,
    Claimed,
    Dispatched,
    Closed,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 4] = [
        IncidentStatus::New,
        IncidentStatus::Claimed,
        IncidentStatus::Dispatched,
        IncidentStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::New => "new",
            IncidentStatus::Claimed => "claimed",
            IncidentStatus::Dispatched => "dispatched",
            IncidentStatus::Closed => "closed",
        }
    }
}

impl FromStr for IncidentStatus {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        IncidentStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or(invalid(
                "status",
                "must be new, claimed, dispatched or closed",
            ))
    }
}

/// What the team did with the truck (DOMAIN.md "Enforcement teams").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Stopped,
    TurnedBack,
    Sampled,
    Seized,
    Fined,
    ReleasedWithPapers,
    FalseAlarm,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Stopped,
        Outcome::TurnedBack,
        Outcome::Sampled,
        Outcome::Seized,
        Outcome::Fined,
        Outcome::ReleasedWithPapers,
        Outcome::FalseAlarm,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Stopped => "stopped",
            Outcome::TurnedBack => "turned_back",
            Outcome::Sampled => "sampled",
            Outcome::Seized => "seized",
            Outcome::Fined => "fined",
            Outcome::ReleasedWithPapers => "released_with_papers",
            Outcome::FalseAlarm => "false_alarm",
        }
    }
}

/// The kind of action on an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Claim,
    Dispatch,
    Outcome,
    Note,
}

/// `POST /api/v1/incidents/{id}/actions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest {
    pub action: ActionKind,
    /// Free text; required for `note`.
    #[serde(default)]
    pub note: Option<String>,
    /// Required for `outcome`.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// Coal seized, tonnes (outcome `seized`).
    #[serde(default)]
    pub tonnes: Option<f64>,
    /// Fine, yuan (outcome `fined`).
    #[serde(default)]
    pub fine_yuan: Option<u32>,
    /// Who is sent (dispatch).
    #[serde(default)]
    pub team: Option<String>,
    /// The other outcomes' fields, flat on the wire beside these.
    #[serde(flatten)]
    pub details: OutcomeDetails,
}

impl ActionRequest {
    /// `action` with no fields yet.
    pub fn new(action: ActionKind) -> ActionRequest {
        ActionRequest {
            action,
            note: None,
            outcome: None,
            tonnes: None,
            fine_yuan: None,
            team: None,
            details: OutcomeDetails::default(),
        }
    }
}

/// One entry of an incident's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub by: String,
    pub action: ActionKind,
    pub from: IncidentStatus,
    pub to: IncidentStatus,
    pub note: Option<String>,
    pub outcome: Option<Outcome>,
    pub tonnes: Option<f64>,
    pub fine_yuan: Option<u32>,
    pub team: Option<String>,
    #[serde(flatten)]
    pub details: OutcomeDetails,
}

impl HistoryEntry {
    /// The entry `req` leaves when it moves an incident from `from` to `to`.
    pub fn of(
        req: &ActionRequest,
        by: &str,
        at: DateTime<Utc>,
        from: IncidentStatus,
        to: IncidentStatus,
    ) -> HistoryEntry {
        HistoryEntry {
            at,
            by: by.to_owned(),
            action: req.action,
            from,
            to,
            note: req.note.clone(),
            outcome: req.outcome,
            tonnes: req.tonnes,
            fine_yuan: req.fine_yuan,
            team: req.team.clone(),
            details: req.details.clone(),
        }
    }
}

/// An incident as people see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentView {
    #[serde(flatten)]
    pub incident: Incident,
    pub county: County,
    pub status: IncidentStatus,
    pub received_at: DateTime<Utc>,
    /// The plate of its passage, once the passage has arrived.
    pub plate: Option<PlateText>,
    /// The frame evidence of its passage, for thumbnails.
    pub frame: Option<Sha256>,
}

/// A page of incidents, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentPage {
    pub items: Vec<IncidentView>,
    /// Pass as `before=` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// `GET /api/v1/incidents/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub view: IncidentView,
    pub passage: Option<Passage>,
    pub evidence: Vec<EvidenceRef>,
    pub history: Vec<HistoryEntry>,
}

/// `GET /api/v1/plates/{plate}/passages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateTimeline {
    pub plate: PlateText,
    pub passages: Vec<Passage>,
}

/// Every error answer: `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passage_example_from_the_issue_parses() {
        let sha = "ab".repeat(32);
        let json = format!(
            r#"{{"id": "0193a1c2-7f3e-7a51-9c1e-2b5d8e4f6a10", "checkpoint_id": "luanping-01",
 "seen_at": "2026-11-29T03:12:45.120Z", "lane": 1, "direction": "inbound",
 "plate": {{"text": "晋H93513", "color": "yellow", "layout": "single", "confidence": 0.97}},
 "cargo": {{"cover": "open", "material": "coal", "confidence": 0.91}},
 "evidence": [{{"sha256": "{sha}", "kind": "frame"}}, {{"sha256": "{sha}", "kind": "plate"}}]}}"#
        );
        let p: Passage = serde_json::from_str(&json).unwrap();
        assert_eq!(p.plate.unwrap().text.as_str(), "晋H93513");
        assert_eq!(p.evidence.len(), 2);
    }

    #[test]
    fn ids_are_validated() {
        assert!(CheckpointId::parse("luanping-01").is_ok());
        assert!(CheckpointId::parse("Luanping 01").is_err());
        assert!(CheckpointId::parse("").is_err());
        assert!("zz".repeat(32).parse::<Sha256>().is_err());
        assert!("ab".repeat(31).parse::<Sha256>().is_err());
        assert!("AB".repeat(32).parse::<Sha256>().is_ok());
        assert_eq!("admin".parse::<Role>().unwrap(), Role::Admin);
        assert!("root".parse::<Role>().is_err());
    }
}
