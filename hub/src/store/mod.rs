//! The hub's store: passages, incidents, evidence, people, lists and the audit log, in
//! one embedded sled database.
//!
//! # Invariants
//!
//! 1. **A record is stored once.** `passages` and `incidents` are keyed by the
//!    checkpoint-chosen id; a record and all its index keys are written in *one* sled
//!    transaction that first checks the primary key, so concurrent replays of the same
//!    id store it exactly once and indexes never point at nothing.
//! 2. **Indexes are prefix scans in time order.** Index keys are
//!    `prefix ++ time(8, big-endian) ++ id(16)` (see [`keys`]): `plate_idx`
//!    (plate → passages), `checkpoint_idx` (checkpoint → passages), `time_idx`
//!    (all incidents), `county_idx` (county → incidents), `status_idx`
//!    (status → incidents). Values are empty (the record lives in its primary tree),
//!    except in `plate_idx`, a covering index: its value is the passage record itself,
//!    written in the same transaction, so a plate's timeline is one contiguous scan
//!    instead of a random lookup per passage. Passages are never rewritten, so the
//!    copy cannot go stale.
//! 3. **`status_idx` follows the record.** A status change removes the old key and
//!    inserts the new one in the same transaction that rewrites the incident.
//! 4. **Evidence is content-addressed.** `evidence` maps a SHA-256 to the JPEG whose
//!    digest it is (checked by the caller before [`Store::put_evidence`]); a second
//!    put of the same bytes is a no-op. Thumbnails are a cache derived from it.
//! 5. **Durable before acknowledged.** Writers call [`Store::flush`] once per request,
//!    after all its records and before answering.
//! 6. **The audit log is append-only.** Keys are `generate_id()` big-endian, so the log
//!    reads in order; nothing deletes from it.
//! 7. **Secrets are stored hashed.** Checkpoint and session tokens as SHA-256,
//!    passwords as argon2 PHC strings.
//! 8. **The lists' version changes with every list edit**, in the same transaction.
//! 9. **A tip line change is one transaction with its audit line** (see `tips`):
//!    a tip and its new case; a verdict on the case, its tips and its reward;
//!    `rewards` is keyed by case id, so a case has at most one reward. Audit lines
//!    name tips by id and never hold the tipster's identity.
//! 10. **Evidence is seen through its passages.** `evidence_scope` holds
//!     `sha256 ++ county` for every evidence reference of a stored passage, written in
//!     the passage's transaction; a person may fetch a JPEG only when one of its
//!     counties is theirs (see `evidence_scope`).

mod audit_read;
mod crosscheck;
mod evidence_scope;
pub mod keys;
mod lists;
mod reports;
mod tips;

pub use audit_read::AuditFilter;
pub use lists::Served;
pub use reports::{china_day, tip_columns, TipColumns};
pub use tips::{CaseRecord, TipDayCount, TipRecord};

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Tree;
use sled_gate::Gated;

use crate::api::{
    ActionKind, ActionRequest, CheckpointId, County, HistoryEntry, Incident, IncidentId,
    IncidentKind, IncidentStatus, ListEntry, ListName, Lists, Passage, PassageId, PlateText, Role,
    Sha256, UserName,
};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Sled(#[from] sled::Error),
    #[error("corrupt record in {tree}: {source}")]
    Corrupt {
        tree: &'static str,
        source: serde_json::Error,
    },
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The action does not fit the incident's status (or lacks what it needs).
    #[error("{0}")]
    InvalidAction(String),
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A registered checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointRecord {
    pub id: CheckpointId,
    pub name: String,
    pub county: County,
    /// SHA-256 of the current token.
    pub token_sha256: Sha256,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
}

/// A person who can log in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub name: UserName,
    pub role: Role,
    pub county: County,
    /// argon2 PHC string.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

/// A login session, keyed by the SHA-256 of its token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub user: UserName,
    pub expires_at: DateTime<Utc>,
}

/// A passage as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassageRecord {
    pub passage: Passage,
    pub received_at: DateTime<Utc>,
}

/// An incident as stored: what the checkpoint sent plus its life at the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    pub incident: Incident,
    /// The county of the checkpoint that raised it.
    pub county: County,
    pub status: IncidentStatus,
    pub received_at: DateTime<Utc>,
    pub history: Vec<HistoryEntry>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// Who: a user name, `checkpoint:<id>` or `cli`.
    pub who: String,
    /// What, e.g. `plate.search`, `incident.claim`, `list.add`.
    pub what: String,
    /// Why, where the person had to say (plate searches).
    pub reason: Option<String>,
    /// Details (ids, plate, ...).
    pub detail: serde_json::Value,
}

/// How many records a batch stored and how many were replays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ingested {
    pub accepted: u64,
    pub duplicates: u64,
}

/// A position in a newest-first incident listing: `time ++ id` of the last item seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub [u8; 24]);

impl Cursor {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    pub fn from_hex(s: &str) -> Option<Cursor> {
        let mut b = [0u8; 24];
        hex::decode_to_slice(s, &mut b).ok()?;
        Some(Cursor(b))
    }
}

/// A filter over incidents, newest first.
#[derive(Debug, Clone, Default)]
pub struct IncidentQuery {
    pub county: Option<County>,
    pub status: Option<IncidentStatus>,
    pub kind: Option<IncidentKind>,
    pub limit: usize,
    pub before: Option<Cursor>,
}

fn status_byte(s: IncidentStatus) -> u8 {
    match s {
        IncidentStatus::New => 0,
        IncidentStatus::Claimed => 1,
        IncidentStatus::Dispatched => 2,
        IncidentStatus::Closed => 3,
    }
}

fn list_byte(l: ListName) -> u8 {
    match l {
        ListName::Whitelist => 0,
        ListName::Hotlist => 1,
    }
}

const LISTS_VERSION: &[u8] = b"lists_version";

fn decode<T: serde::de::DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { tree, source })
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("store records always serialise")
}

/// Where an incident goes next under `action` (new → claimed → dispatched → closed;
/// notes change nothing).
pub fn transition(from: IncidentStatus, req: &ActionRequest) -> Result<IncidentStatus> {
    use IncidentStatus::*;
    let bad = |why: &str| {
        Err(StoreError::InvalidAction(format!(
            "cannot {:?} an incident that is {}: {why}",
            req.action,
            from.as_str()
        )))
    };
    match req.action {
        ActionKind::Note => match req.note.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => Ok(from),
            _ => Err(StoreError::InvalidAction("a note needs text".into())),
        },
        ActionKind::Claim => match from {
            New => Ok(Claimed),
            _ => bad("only new incidents can be claimed"),
        },
        ActionKind::Dispatch => match from {
            New | Claimed => Ok(Dispatched),
            _ => bad("only new or claimed incidents can be dispatched"),
        },
        ActionKind::Outcome => {
            if req.outcome.is_none() {
                return Err(StoreError::InvalidAction(
                    "an outcome action needs an outcome".into(),
                ));
            }
            match from {
                Closed => bad("it is already closed"),
                _ => Ok(Closed),
            }
        }
    }
}

/// The hub's store. Cheap to clone (every handle shares the one database).
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    passages: Tree,
    plate_idx: Tree,
    checkpoint_idx: Tree,
    incidents: Tree,
    time_idx: Tree,
    county_idx: Tree,
    status_idx: Tree,
    evidence: Tree,
    evidence_scope: Tree,
    thumbs: Tree,
    checkpoints: Tree,
    tokens: Tree,
    users: Tree,
    sessions: Tree,
    audit: Tree,
    lists: Tree,
    meta: Tree,
    tip_trees: tips::TipTrees,
}

impl Store {
    /// Opens (or creates) the store under `dir`, with a page cache of `cache_bytes`.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Store> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()?;
        let t = |name: &str| db.open_tree(name);
        let store = Store {
            passages: t("passages")?,
            plate_idx: t("plate_idx")?,
            checkpoint_idx: t("checkpoint_idx")?,
            incidents: t("incidents")?,
            time_idx: t("time_idx")?,
            county_idx: t("county_idx")?,
            status_idx: t("status_idx")?,
            evidence: t("evidence")?,
            evidence_scope: t("evidence_scope")?,
            thumbs: t("thumbs")?,
            checkpoints: t("checkpoints")?,
            tokens: t("tokens")?,
            users: t("users")?,
            sessions: t("sessions")?,
            audit: t("audit")?,
            lists: t("lists")?,
            meta: t("meta")?,
            tip_trees: tips::TipTrees::open(&db)?,
            db,
        };
        store.backfill_evidence_scope()?;
        Ok(store)
    }

    /// Makes everything written so far durable.
    ///
    /// On tokio's blocking pool, not sled's `flush_async`: that one parks the flush
    /// on sled's own small I/O pool, whose threads then wait for a log write queued
    /// behind them (see `sled_gate`).
    pub async fn flush(&self) -> Result<()> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || sled_gate::flush(&db))
            .await
            .map_err(|e| sled::Error::Io(std::io::Error::other(e)))??;
        Ok(())
    }

    /// [`Store::flush`] for synchronous callers (CLI, shutdown).
    pub fn flush_blocking(&self) -> Result<()> {
        sled_gate::flush(&self.db)?;
        Ok(())
    }

    /// Bytes the database takes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    // ----- checkpoints -------------------------------------------------------------

    /// Registers a checkpoint (or re-enables a revoked one) with the hash of its new
    /// token. An active checkpoint with this id is an error.
    pub fn add_checkpoint(
        &self,
        id: &CheckpointId,
        name: &str,
        county: &County,
        token: Sha256,
    ) -> Result<()> {
        let rec = CheckpointRecord {
            id: id.clone(),
            name: name.to_owned(),
            county: county.clone(),
            token_sha256: token,
            revoked: false,
            created_at: Utc::now(),
        };
        let bytes = encode(&rec);
        let res = (&self.checkpoints, &self.tokens).transact(|(cps, tokens)| {
            if let Some(old) = cps.get(id.as_str())? {
                let old: CheckpointRecord =
                    decode("checkpoints", &old).map_err(ConflictableTransactionError::Abort)?;
                if !old.revoked {
                    return Err(ConflictableTransactionError::Abort(
                        StoreError::AlreadyExists(format!("checkpoint {id}")),
                    ));
                }
                tokens.remove(&old.token_sha256.0[..])?;
            }
            cps.insert(id.as_str(), bytes.as_slice())?;
            tokens.insert(&token.0[..], id.as_str())?;
            Ok(())
        });
        flatten(res)
    }

    /// Revokes a checkpoint's token; `false` when there is no such checkpoint.
    pub fn revoke_checkpoint(&self, id: &CheckpointId) -> Result<bool> {
        let res = (&self.checkpoints, &self.tokens).transact(|(cps, tokens)| {
            let Some(old) = cps.get(id.as_str())? else {
                return Ok(false);
            };
            let mut rec: CheckpointRecord =
                decode("checkpoints", &old).map_err(ConflictableTransactionError::Abort)?;
            tokens.remove(&rec.token_sha256.0[..])?;
            rec.revoked = true;
            cps.insert(id.as_str(), encode(&rec))?;
            Ok(true)
        });
        flatten(res)
    }

    pub fn checkpoint(&self, id: &CheckpointId) -> Result<Option<CheckpointRecord>> {
        self.checkpoints
            .get(id.as_str())?
            .map(|b| decode("checkpoints", &b))
            .transpose()
    }

    /// The active checkpoint whose token hashes to `token`.
    pub fn checkpoint_by_token(&self, token: &Sha256) -> Result<Option<CheckpointRecord>> {
        let Some(id) = self.tokens.get(token.0)? else {
            return Ok(None);
        };
        let Some(b) = self.checkpoints.get(id)? else {
            return Ok(None);
        };
        let rec: CheckpointRecord = decode("checkpoints", &b)?;
        Ok((!rec.revoked && rec.token_sha256 == *token).then_some(rec))
    }

    // ----- people ------------------------------------------------------------------

    pub fn add_user(&self, rec: &UserRecord) -> Result<()> {
        match self.users.compare_and_swap(
            rec.name.as_str(),
            None as Option<&[u8]>,
            Some(encode(rec)),
        )? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::AlreadyExists(format!("user {}", rec.name))),
        }
    }

    pub fn user(&self, name: &str) -> Result<Option<UserRecord>> {
        self.users
            .get(name)?
            .map(|b| decode("users", &b))
            .transpose()
    }

    pub fn add_session(&self, token: &Sha256, rec: &SessionRecord) -> Result<()> {
        self.sessions.insert(token.0, encode(rec))?;
        Ok(())
    }

    /// The unexpired session of `token`, with its user.
    pub fn session(&self, token: &Sha256, now: DateTime<Utc>) -> Result<Option<UserRecord>> {
        let Some(b) = self.sessions.get(token.0)? else {
            return Ok(None);
        };
        let s: SessionRecord = decode("sessions", &b)?;
        if s.expires_at <= now {
            self.sessions.remove(token.0)?;
            return Ok(None);
        }
        self.user(s.user.as_str())
    }

    pub fn remove_session(&self, token: &Sha256) -> Result<()> {
        self.sessions.remove(token.0)?;
        Ok(())
    }

    // ----- passages ----------------------------------------------------------------

    /// Stores each passage not stored yet, with its plate and checkpoint index keys
    /// and the county scope of its evidence. Not durable until [`Store::flush`].
    pub fn insert_passages(
        &self,
        batch: &[Passage],
        county: &County,
        received_at: DateTime<Utc>,
    ) -> Result<Ingested> {
        let mut seen = HashSet::with_capacity(batch.len());
        let mut dup_in_batch = 0;
        let mut rows = Vec::with_capacity(batch.len());
        for p in batch {
            if !seen.insert(p.id) {
                dup_in_batch += 1;
                continue;
            }
            let id = *p.id.as_bytes();
            let plate_key = p
                .plate
                .as_ref()
                .map(|pl| keys::timed(&keys::prefix(pl.text.as_str()), p.seen_at, &id));
            let cp_key = keys::timed(&keys::prefix(p.checkpoint_id.as_str()), p.seen_at, &id);
            let rec = PassageRecord {
                passage: p.clone(),
                received_at,
            };
            let scope = evidence_scope::keys(&p.evidence, county);
            rows.push((id, encode(&rec), plate_key, cp_key, scope));
        }
        let res = (
            &self.passages,
            &self.plate_idx,
            &self.checkpoint_idx,
            &self.evidence_scope,
        )
            .transact(|(passages, plates, cps, scopes)| {
                let mut n = Ingested {
                    accepted: 0,
                    duplicates: dup_in_batch,
                };
                for (id, bytes, plate_key, cp_key, scope) in &rows {
                    if passages.get(id)?.is_some() {
                        n.duplicates += 1;
                        continue;
                    }
                    passages.insert(&id[..], bytes.as_slice())?;
                    if let Some(k) = plate_key {
                        plates.insert(k.as_slice(), bytes.as_slice())?;
                    }
                    cps.insert(cp_key.as_slice(), &[][..])?;
                    for k in scope {
                        scopes.insert(k.as_slice(), &[][..])?;
                    }
                    n.accepted += 1;
                }
                Ok(n)
            });
        flatten(res)
    }

    pub fn passage(&self, id: &PassageId) -> Result<Option<PassageRecord>> {
        self.passages
            .get(id.as_bytes())?
            .map(|b| decode("passages", &b))
            .transpose()
    }

    /// A plate's passages in `[from, to]`, oldest first, at most `limit`.
    pub fn plate_passages(
        &self,
        plate: &PlateText,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<PassageRecord>> {
        self.timed_scan(
            &self.plate_idx,
            &keys::prefix(plate.as_str()),
            from,
            to,
            limit,
        )
    }

    /// A checkpoint's passages in `[from, to]`, oldest first, at most `limit`.
    pub fn checkpoint_passages(
        &self,
        cp: &CheckpointId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<PassageRecord>> {
        self.timed_scan(
            &self.checkpoint_idx,
            &keys::prefix(cp.as_str()),
            from,
            to,
            limit,
        )
    }

    fn timed_scan(
        &self,
        idx: &Tree,
        prefix: &[u8],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<PassageRecord>> {
        let mut lo = prefix.to_vec();
        lo.extend_from_slice(&keys::time(from));
        let mut hi = prefix.to_vec();
        hi.extend_from_slice(&keys::time(to));
        hi.extend_from_slice(&[0xFF; 17]);
        let mut out = Vec::new();
        for item in idx.range(lo..hi).take(limit) {
            let (k, v) = item?;
            if !v.is_empty() {
                // Covering index (plate_idx): the record is the value.
                out.push(decode("plate_idx", &v)?);
                continue;
            }
            let Some(id) = keys::id_of(&k) else { continue };
            if let Some(b) = self.passages.get(id)? {
                out.push(decode("passages", &b)?);
            }
        }
        Ok(out)
    }

    // ----- incidents ---------------------------------------------------------------

    /// Stores each incident not stored yet (status new, county of its checkpoint) with
    /// its time, county and status index keys. Not durable until [`Store::flush`].
    pub fn insert_incidents(
        &self,
        batch: &[Incident],
        county: &County,
        received_at: DateTime<Utc>,
    ) -> Result<Ingested> {
        let mut seen = HashSet::with_capacity(batch.len());
        let mut dup_in_batch = 0;
        let county_prefix = keys::prefix(county.as_str());
        let mut rows = Vec::with_capacity(batch.len());
        for i in batch {
            if !seen.insert(i.id) {
                dup_in_batch += 1;
                continue;
            }
            let id = *i.id.as_bytes();
            let rec = IncidentRecord {
                incident: i.clone(),
                county: county.clone(),
                status: IncidentStatus::New,
                received_at,
                history: Vec::new(),
            };
            let time_key = keys::timed(&[], i.created_at, &id);
            let county_key = keys::timed(&county_prefix, i.created_at, &id);
            let status_key = keys::timed(&[status_byte(IncidentStatus::New)], i.created_at, &id);
            rows.push((id, encode(&rec), time_key, county_key, status_key));
        }
        let res = (
            &self.incidents,
            &self.time_idx,
            &self.county_idx,
            &self.status_idx,
        )
            .transact(|(incidents, times, counties, statuses)| {
                let mut n = Ingested {
                    accepted: 0,
                    duplicates: dup_in_batch,
                };
                for (id, bytes, tk, ck, sk) in &rows {
                    if incidents.get(id)?.is_some() {
                        n.duplicates += 1;
                        continue;
                    }
                    incidents.insert(&id[..], bytes.as_slice())?;
                    times.insert(tk.as_slice(), &[][..])?;
                    counties.insert(ck.as_slice(), &[][..])?;
                    statuses.insert(sk.as_slice(), &[][..])?;
                    n.accepted += 1;
                }
                Ok(n)
            });
        flatten(res)
    }

    pub fn incident(&self, id: &IncidentId) -> Result<Option<IncidentRecord>> {
        self.incidents
            .get(id.as_bytes())?
            .map(|b| decode("incidents", &b))
            .transpose()
    }

    /// Incidents matching `q`, newest first, and the cursor of the next page.
    pub fn list_incidents(
        &self,
        q: &IncidentQuery,
    ) -> Result<(Vec<IncidentRecord>, Option<Cursor>)> {
        let (idx, prefix) = match (&q.county, q.status) {
            (Some(c), _) => (&self.county_idx, keys::prefix(c.as_str())),
            (None, Some(s)) => (&self.status_idx, vec![status_byte(s)]),
            (None, None) => (&self.time_idx, Vec::new()),
        };
        let end = match q.before {
            Some(c) => [prefix.as_slice(), &c.0].concat(),
            None => keys::prefix_end(&prefix),
        };
        let limit = q.limit.max(1);
        let mut out: Vec<([u8; 24], IncidentRecord)> = Vec::new();
        let mut next = None;
        for item in idx.range(prefix.clone()..end).rev() {
            let (k, _) = item?;
            let (Some(id), Some(tail)) = (keys::id_of(&k), keys::tail_of(&k)) else {
                continue;
            };
            let Some(b) = self.incidents.get(id)? else {
                continue;
            };
            let rec: IncidentRecord = decode("incidents", &b)?;
            if q.status.is_some_and(|s| s != rec.status)
                || q.kind.as_ref().is_some_and(|k| *k != rec.incident.kind)
            {
                continue;
            }
            if out.len() == limit {
                next = out.last().map(|(t, _)| Cursor(*t));
                break;
            }
            out.push((tail, rec));
        }
        Ok((out.into_iter().map(|(_, r)| r).collect(), next))
    }

    /// Applies a person's action to an incident: checks the transition, appends to its
    /// history, moves its status key and writes the audit line, all in one transaction.
    pub fn apply_action(
        &self,
        id: &IncidentId,
        by: &str,
        req: &ActionRequest,
        at: DateTime<Utc>,
    ) -> Result<IncidentRecord> {
        let audit_key = self.db.generate_id()?.to_be_bytes();
        let res = (&self.incidents, &self.status_idx, &self.audit).transact(|(incidents, statuses, audit)| {
            let abort = ConflictableTransactionError::Abort;
            let Some(b) = incidents.get(id.as_bytes())? else {
                return Err(abort(StoreError::NotFound(format!("incident {id}"))));
            };
            let mut rec: IncidentRecord = decode("incidents", &b).map_err(abort)?;
            let from = rec.status;
            let to = transition(from, req).map_err(abort)?;
            rec.history.push(HistoryEntry::of(req, by, at, from, to));
            if to != from {
                let idb = *id.as_bytes();
                statuses.remove(keys::timed(&[status_byte(from)], rec.incident.created_at, &idb))?;
                statuses.insert(keys::timed(&[status_byte(to)], rec.incident.created_at, &idb), &[][..])?;
                rec.status = to;
            }
            incidents.insert(&id.as_bytes()[..], encode(&rec))?;
            let line = AuditEntry {
                at,
                who: by.to_owned(),
                what: format!("incident.{}", serde_json::to_value(req.action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()),
                reason: None,
                detail: serde_json::json!({"incident": id, "from": from, "to": to, "note": req.note, "outcome": req.outcome, "request": req}),
            };
            audit.insert(&audit_key[..], encode(&line))?;
            Ok(rec)
        });
        flatten(res)
    }

    // ----- evidence ----------------------------------------------------------------

    /// Stores a JPEG under its digest; `false` when it was already there. The caller
    /// has checked that `sha` is the digest of `jpeg`.
    pub fn put_evidence(&self, sha: &Sha256, jpeg: &[u8]) -> Result<bool> {
        Ok(self
            .evidence
            .compare_and_swap(sha.0, None as Option<&[u8]>, Some(jpeg))?
            .is_ok())
    }

    pub fn evidence(&self, sha: &Sha256) -> Result<Option<sled::IVec>> {
        Ok(self.evidence.get(sha.0)?)
    }

    pub fn thumb(&self, sha: &Sha256) -> Result<Option<sled::IVec>> {
        Ok(self.thumbs.get(sha.0)?)
    }

    pub fn put_thumb(&self, sha: &Sha256, jpeg: &[u8]) -> Result<()> {
        self.thumbs.insert(sha.0, jpeg)?;
        Ok(())
    }

    // ----- audit -------------------------------------------------------------------

    /// Appends a line to the audit log.
    pub fn audit(&self, entry: &AuditEntry) -> Result<()> {
        let key = self.db.generate_id()?.to_be_bytes();
        self.audit.insert(key, encode(entry))?;
        Ok(())
    }

    /// The last `n` audit lines, oldest first.
    pub fn audit_tail(&self, n: usize) -> Result<Vec<AuditEntry>> {
        let mut out = self
            .audit
            .iter()
            .rev()
            .take(n)
            .map(|r| {
                r.map_err(StoreError::from)
                    .and_then(|(_, v)| decode("audit", &v))
            })
            .collect::<Result<Vec<AuditEntry>>>()?;
        out.reverse();
        Ok(out)
    }

    // ----- lists -------------------------------------------------------------------

    pub fn lists_version(&self) -> Result<u64> {
        Ok(self
            .meta
            .get(LISTS_VERSION)?
            .and_then(|v| v.as_ref().try_into().ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    /// Both lists with their version.
    pub fn lists(&self) -> Result<Lists> {
        // Read the version before and after, so a concurrent edit cannot give an old
        // version with new entries (a checkpoint would then miss the next change).
        loop {
            let version = self.lists_version()?;
            let mut lists = Lists {
                version,
                whitelist: Vec::new(),
                hotlist: Vec::new(),
            };
            for item in self.lists.iter() {
                let (k, v) = item?;
                let entry: ListEntry = decode("lists", &v)?;
                match k.first() {
                    Some(0) => lists.whitelist.push(entry),
                    _ => lists.hotlist.push(entry),
                }
            }
            if self.lists_version()? == version {
                return Ok(lists);
            }
        }
    }

    /// Adds or replaces an entry; returns the new lists version.
    pub fn put_list_entry(&self, list: ListName, entry: &ListEntry) -> Result<u64> {
        let key = [&[list_byte(list)][..], entry.plate.as_str().as_bytes()].concat();
        let bytes = encode(entry);
        let res = (&self.lists, &self.meta).transact(|(lists, meta)| {
            lists.insert(key.as_slice(), bytes.as_slice())?;
            bump(meta)
        });
        flatten(res)
    }

    /// Removes an entry; the new version, or `None` when there was no such entry.
    pub fn remove_list_entry(&self, list: ListName, plate: &PlateText) -> Result<Option<u64>> {
        let key = [&[list_byte(list)][..], plate.as_str().as_bytes()].concat();
        let res = (&self.lists, &self.meta).transact(|(lists, meta)| {
            if lists.remove(key.as_slice())?.is_none() {
                return Ok(None);
            }
            bump(meta).map(Some)
        });
        flatten(res)
    }
}

fn bump(
    meta: &sled::transaction::TransactionalTree,
) -> sled::transaction::ConflictableTransactionResult<u64, StoreError> {
    let v = meta
        .get(LISTS_VERSION)?
        .and_then(|v| v.as_ref().try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
        + 1;
    meta.insert(LISTS_VERSION, &v.to_be_bytes()[..])?;
    Ok(v)
}

fn flatten<T>(r: std::result::Result<T, TransactionError<StoreError>>) -> Result<T> {
    r.map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Sled(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Outcome, Severity};

    fn req(action: ActionKind) -> ActionRequest {
        ActionRequest {
            note: Some("n".into()),
            outcome: Some(Outcome::Stopped),
            ..ActionRequest::new(action)
        }
    }

    #[test]
    fn transitions_follow_the_life_of_an_incident() {
        use IncidentStatus::*;
        assert_eq!(transition(New, &req(ActionKind::Claim)).unwrap(), Claimed);
        assert_eq!(
            transition(Claimed, &req(ActionKind::Dispatch)).unwrap(),
            Dispatched
        );
        assert_eq!(
            transition(Dispatched, &req(ActionKind::Outcome)).unwrap(),
            Closed
        );
        assert_eq!(transition(Closed, &req(ActionKind::Note)).unwrap(), Closed);
        assert!(transition(Claimed, &req(ActionKind::Claim)).is_err());
        assert!(transition(Closed, &req(ActionKind::Outcome)).is_err());
        let mut no_outcome = req(ActionKind::Outcome);
        no_outcome.outcome = None;
        assert!(transition(New, &no_outcome).is_err());
    }

    #[test]
    fn incidents_page_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 16 << 20).unwrap();
        let county = County::parse("滦平县").unwrap();
        let base = Utc::now();
        let batch: Vec<Incident> = (0..5)
            .map(|i| Incident {
                id: IncidentId::new(),
                passage_id: PassageId::new(),
                checkpoint_id: CheckpointId::parse("cp-1").unwrap(),
                kind: IncidentKind::parse("uncovered_load").unwrap(),
                severity: Severity::High,
                created_at: base + chrono::Duration::seconds(i),
            })
            .collect();
        let n = store.insert_incidents(&batch, &county, base).unwrap();
        assert_eq!(
            n,
            Ingested {
                accepted: 5,
                duplicates: 0
            }
        );
        let n = store.insert_incidents(&batch, &county, base).unwrap();
        assert_eq!(
            n,
            Ingested {
                accepted: 0,
                duplicates: 5
            }
        );
        let mut q = IncidentQuery {
            county: Some(county),
            limit: 2,
            ..Default::default()
        };
        let mut seen = Vec::new();
        loop {
            let (items, next) = store.list_incidents(&q).unwrap();
            seen.extend(items.into_iter().map(|r| r.incident.id));
            match next {
                Some(c) => q.before = Some(c),
                None => break,
            }
        }
        let expected: Vec<_> = batch.iter().rev().map(|i| i.id).collect();
        assert_eq!(seen, expected);
    }
}
