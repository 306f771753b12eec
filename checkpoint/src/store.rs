//! The checkpoint's durable log (sled): passages, incidents, evidence and the outbox
//! that the uplink drains to the hub.
//!
//! # Invariants
//!
//! 1. **Durable before acknowledged.** [`Store::commit`](crate::store::Store::commit) writes a passage, its
//!    incidents, its new evidence and one outbox entry for each, in ONE transaction
//!    over all the trees, then flushes (fsync) before it returns. A crash leaves all
//!    of a record or none of it; once `commit` has returned, a kill -9 loses nothing.
//! 2. **Every unsent record has an outbox entry.** An entry leaves the outbox only in
//!    the transaction that marks its record acknowledged (the hub answered 2xx) or
//!    moves it to the `failed` tree (the hub refused it for good). Nothing is dropped.
//! 3. **The outbox is ordered.** Keys are big-endian `u64` sequence numbers, so a scan
//!    returns entries in commit order: a passage's evidence precedes the passage,
//!    which precedes its incidents.
//! 4. **Evidence is content-addressed** by SHA-256 and counted: `evidence_refs` holds,
//!    per digest, how many stored passages reference it, changed only in
//!    transactions. Evidence is deleted only when that count reaches zero, in the
//!    same transaction, so a commit that reuses stored evidence cannot race a sweep.
//! 5. **Retention never evicts what the hub has not acknowledged.** A passage (and
//!    its evidence) goes only when it and all its incidents are acknowledged; an
//!    incident goes only when acknowledged. Under disk pressure the oldest settled
//!    passages lose their evidence first, then the passages, then acked incidents.
//! 6. **Corruption is an error, not a panic.** Every record carries a format byte and
//!    a checksum; evidence is checked against its digest on read.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hub::api::{Incident, IncidentId, Lists, Passage, PassageId, Sha256};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::Digest;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled_gate::Gated;

/// What can go wrong in the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed (I/O, a full disk, its own corruption checks).
    #[error("local store: {0}")]
    Sled(#[from] sled::Error),
    /// A stored value does not decode: a torn write or a damaged file.
    #[error("corrupt record in {tree} at key {key}: {why}")]
    Corrupt {
        tree: &'static str,
        key: String,
        why: String,
    },
    /// A passage refers to evidence that was neither given nor already stored.
    #[error("passage {passage} references evidence {sha} that was neither given nor stored")]
    MissingEvidence { passage: PassageId, sha: Sha256 },
    /// Given evidence bytes do not hash to the digest they were given under.
    #[error("evidence bytes do not match their digest {0}")]
    EvidenceDigest(Sha256),
    /// A record could not be encoded.
    #[error("cannot encode a record: {0}")]
    Encode(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One evidence JPEG to store with a passage.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub sha256: Sha256,
    pub jpeg: Vec<u8>,
}

impl Evidence {
    /// Wraps `jpeg`, computing its digest.
    pub fn new(jpeg: Vec<u8>) -> Evidence {
        Evidence {
            sha256: Sha256::of(&jpeg),
            jpeg,
        }
    }
}

/// What the pipeline commits for one vehicle: the passage, the bytes of the evidence
/// it references (may omit evidence already stored), and the incidents judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub passage: Passage,
    pub evidence: Vec<Evidence>,
    pub incidents: Vec<Incident>,
}

/// What an outbox entry points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum OutboxItem {
    Evidence(Sha256),
    Passage(PassageId),
    Incident(IncidentId),
}

impl std::fmt::Display for OutboxItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutboxItem::Evidence(s) => write!(f, "evidence {s}"),
            OutboxItem::Passage(p) => write!(f, "passage {p}"),
            OutboxItem::Incident(i) => write!(f, "incident {i}"),
        }
    }
}

/// An outbox entry: its sequence number and what it points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxEntry {
    pub seq: u64,
    pub item: OutboxItem,
}

/// A record the hub refused for good (a 4xx other than 408/429), kept to be seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub seq: u64,
    pub item: OutboxItem,
    /// The hub's status, when it answered.
    pub status: Option<u16>,
    pub message: String,
    pub at: DateTime<Utc>,
}

/// A stored passage with its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPassage {
    pub passage: Passage,
    /// Incidents judged from it.
    pub incidents: Vec<IncidentId>,
    /// The hub has answered 2xx for it.
    pub acked: bool,
    /// Retention removed its evidence to save space.
    pub evidence_dropped: bool,
}

/// A stored incident with its delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredIncident {
    pub incident: Incident,
    pub acked: bool,
}

/// What a retention sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    pub passages: u64,
    pub incidents: u64,
    pub evidence: u64,
    pub bytes_freed: u64,
}

const LISTS: &[u8] = b"lists";
const LISTS_ETAG: &[u8] = b"lists_etag";
const LAST_UPLOAD: &[u8] = b"last_upload";

/// The log. Cheap to clone; all clones share the database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    passages: sled::Tree,
    incidents: sled::Tree,
    evidence: sled::Tree,
    evidence_refs: sled::Tree,
    outbox: sled::Tree,
    failed: sled::Tree,
    meta: sled::Tree,
    /// Entries in the outbox, kept beside the tree so `/metrics` need not scan it.
    depth: Arc<AtomicU64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("outbox_depth", &self.outbox_depth())
            .finish_non_exhaustive()
    }
}

type Tx<T> = std::result::Result<T, ConflictableTransactionError<StoreError>>;

impl Store {
    /// Opens (or creates) the log in `dir`.
    pub fn open(dir: &Path) -> Result<Store> {
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(Some(500))
            .open()?;
        let store = Store {
            passages: db.open_tree("passages")?,
            incidents: db.open_tree("incidents")?,
            evidence: db.open_tree("evidence")?,
            evidence_refs: db.open_tree("evidence_refs")?,
            outbox: db.open_tree("outbox")?,
            failed: db.open_tree("failed")?,
            meta: db.open_tree("meta")?,
            depth: Arc::new(AtomicU64::new(0)),
            db,
        };
        store
            .depth
            .store(store.outbox.len() as u64, Ordering::Relaxed);
        Ok(store)
    }

    /// Flushes everything to disk.
    pub fn flush(&self) -> Result<()> {
        sled_gate::flush(&self.db)?;
        Ok(())
    }

    // ----- commit ------------------------------------------------------------------

    /// Stores `record` and queues it for the hub, durably (invariant 1). Returns
    /// `false`, storing nothing, when a passage with that id is already stored.
    pub fn commit(&self, record: &Record) -> Result<bool> {
        let p = &record.passage;
        for ev in &record.evidence {
            if Sha256::of(&ev.jpeg) != ev.sha256 {
                return Err(StoreError::EvidenceDigest(ev.sha256));
            }
        }
        let env = encode(&StoredPassage {
            passage: p.clone(),
            incidents: record.incidents.iter().map(|i| i.id).collect(),
            acked: false,
            evidence_dropped: false,
        })?;
        let incidents = record
            .incidents
            .iter()
            .map(|i| {
                Ok((
                    i.id,
                    encode(&StoredIncident {
                        incident: i.clone(),
                        acked: false,
                    })?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let trees = [
            &self.passages,
            &self.incidents,
            &self.evidence,
            &self.evidence_refs,
            &self.outbox,
        ];
        let res = trees.as_slice().transact(|t| -> Tx<Option<u64>> {
            let [passages, incidents_t, evidence, refs, outbox] = t.as_slice() else {
                unreachable!("five trees")
            };
            if passages.get(p.id.as_bytes())?.is_some() {
                return Ok(None);
            }
            let mut queued = 0;
            for r in &p.evidence {
                if evidence.get(r.sha256.0)?.is_none() {
                    let Some(ev) = record.evidence.iter().find(|e| e.sha256 == r.sha256) else {
                        return Err(ConflictableTransactionError::Abort(
                            StoreError::MissingEvidence {
                                passage: p.id,
                                sha: r.sha256,
                            },
                        ));
                    };
                    evidence.insert(&r.sha256.0[..], ev.jpeg.as_slice())?;
                    queue(outbox, OutboxItem::Evidence(r.sha256))?;
                    queued += 1;
                }
                let n = refs
                    .get(r.sha256.0)?
                    .map_or(Ok(0), |v| read_u64("evidence_refs", &r.sha256.0, &v))
                    .map_err(ConflictableTransactionError::Abort)?;
                refs.insert(&r.sha256.0[..], &(n + 1).to_be_bytes()[..])?;
            }
            passages.insert(&p.id.as_bytes()[..], env.as_slice())?;
            queue(outbox, OutboxItem::Passage(p.id))?;
            queued += 1;
            for (id, bytes) in &incidents {
                incidents_t.insert(&id.as_bytes()[..], bytes.as_slice())?;
                queue(outbox, OutboxItem::Incident(*id))?;
                queued += 1;
            }
            Ok(Some(queued))
        });
        let Some(queued) = flatten(res)? else {
            return Ok(false);
        };
        sled_gate::flush(&self.db)?;
        self.depth.fetch_add(queued, Ordering::Relaxed);
        Ok(true)
    }

    // ----- reads -------------------------------------------------------------------

    pub fn passage(&self, id: &PassageId) -> Result<Option<StoredPassage>> {
        self.passages
            .get(id.as_bytes())?
            .map(|v| decode("passages", id.as_bytes(), &v))
            .transpose()
    }

    pub fn incident(&self, id: &IncidentId) -> Result<Option<StoredIncident>> {
        self.incidents
            .get(id.as_bytes())?
            .map(|v| decode("incidents", id.as_bytes(), &v))
            .transpose()
    }

    /// The JPEG stored under `sha`, checked against its digest.
    pub fn evidence(&self, sha: &Sha256) -> Result<Option<Vec<u8>>> {
        let Some(v) = self.evidence.get(sha.0)? else {
            return Ok(None);
        };
        if Sha256::of(&v) != *sha {
            return Err(StoreError::Corrupt {
                tree: "evidence",
                key: sha.to_hex(),
                why: "bytes do not match their digest".into(),
            });
        }
        Ok(Some(v.to_vec()))
    }

    /// Every stored passage, oldest first (ids are UUID v7: time-ordered).
    pub fn passages(&self) -> Result<Vec<StoredPassage>> {
        self.passages
            .iter()
            .map(|r| {
                let (k, v) = r?;
                decode("passages", &k, &v)
            })
            .collect()
    }

    /// Every stored incident, oldest first.
    pub fn incidents(&self) -> Result<Vec<StoredIncident>> {
        self.incidents
            .iter()
            .map(|r| {
                let (k, v) = r?;
                decode("incidents", &k, &v)
            })
            .collect()
    }

    pub fn passage_count(&self) -> usize {
        self.passages.len()
    }

    pub fn incident_count(&self) -> usize {
        self.incidents.len()
    }

    pub fn evidence_count(&self) -> usize {
        self.evidence.len()
    }

    // ----- outbox ------------------------------------------------------------------

    /// Up to `limit` outbox entries, oldest first.
    pub fn outbox_batch(&self, limit: usize) -> Result<Vec<OutboxEntry>> {
        self.outbox
            .iter()
            .take(limit)
            .map(|r| {
                let (k, v) = r?;
                let seq = read_u64("outbox", &k, &k)?;
                Ok(OutboxEntry {
                    seq,
                    item: decode("outbox", &k, &v)?,
                })
            })
            .collect()
    }

    /// Entries waiting for the hub.
    pub fn outbox_depth(&self) -> u64 {
        self.depth.load(Ordering::Relaxed)
    }

    /// The hub has answered 2xx for `entries`: removes them from the outbox and marks
    /// their records acknowledged, in one transaction. Not flushed: were it lost in a
    /// crash, the records would be sent again and the hub would count duplicates.
    pub fn ack(&self, entries: &[OutboxEntry]) -> Result<()> {
        let trees = [&self.outbox, &self.passages, &self.incidents];
        let res = trees.as_slice().transact(|t| -> Tx<u64> {
            let [outbox, passages, incidents] = t.as_slice() else {
                unreachable!("three trees")
            };
            let mut removed = 0;
            for e in entries {
                if outbox.remove(&e.seq.to_be_bytes()[..])?.is_none() {
                    continue;
                }
                removed += 1;
                match e.item {
                    OutboxItem::Evidence(_) => {}
                    OutboxItem::Passage(id) => {
                        mark_acked::<StoredPassage>(passages, "passages", id.as_bytes(), |s| {
                            s.acked = true
                        })?
                    }
                    OutboxItem::Incident(id) => {
                        mark_acked::<StoredIncident>(incidents, "incidents", id.as_bytes(), |s| {
                            s.acked = true
                        })?
                    }
                }
            }
            Ok(removed)
        });
        let removed = flatten(res)?;
        self.depth.fetch_sub(removed, Ordering::Relaxed);
        Ok(())
    }

    /// The hub refused `entry` for good: moves it from the outbox to `failed`, in one
    /// transaction, and flushes. The record itself stays, unacknowledged.
    pub fn fail(&self, entry: OutboxEntry, status: Option<u16>, message: &str) -> Result<()> {
        let f = Failure {
            seq: entry.seq,
            item: entry.item,
            status,
            message: message.to_owned(),
            at: Utc::now(),
        };
        let bytes = encode(&f)?;
        let res = (&self.outbox, &self.failed).transact(|(outbox, failed)| -> Tx<bool> {
            if outbox.remove(&entry.seq.to_be_bytes()[..])?.is_none() {
                return Ok(false);
            }
            failed.insert(&entry.seq.to_be_bytes()[..], bytes.as_slice())?;
            Ok(true)
        });
        if flatten(res)? {
            self.depth.fetch_sub(1, Ordering::Relaxed);
        }
        sled_gate::flush(&self.db)?;
        Ok(())
    }

    /// Every permanent failure, oldest first.
    pub fn failures(&self) -> Result<Vec<Failure>> {
        self.failed
            .iter()
            .map(|r| {
                let (k, v) = r?;
                decode("failed", &k, &v)
            })
            .collect()
    }

    pub fn failure_count(&self) -> usize {
        self.failed.len()
    }

    // ----- lists and small state ---------------------------------------------------

    /// The last lists fetched from the hub and their ETag.
    pub fn lists(&self) -> Result<Option<(Lists, Option<String>)>> {
        let Some(v) = self.meta.get(LISTS)? else {
            return Ok(None);
        };
        let lists = decode("meta", LISTS, &v)?;
        let etag = self
            .meta
            .get(LISTS_ETAG)?
            .map(|v| decode::<String>("meta", LISTS_ETAG, &v))
            .transpose()?;
        Ok(Some((lists, etag)))
    }

    /// Keeps `lists` (and their ETag) so the rules work offline.
    pub fn put_lists(&self, lists: &Lists, etag: Option<&str>) -> Result<()> {
        let l = encode(lists)?;
        let e = etag.map(|e| encode(&e.to_owned())).transpose()?;
        let res = self.meta.transact(|meta| -> Tx<()> {
            meta.insert(LISTS, l.as_slice())?;
            match &e {
                Some(e) => meta.insert(LISTS_ETAG, e.as_slice())?,
                None => meta.remove(LISTS_ETAG)?,
            };
            Ok(())
        });
        flatten(res)?;
        sled_gate::flush(&self.db)?;
        Ok(())
    }

    /// When the hub last answered 2xx to an upload.
    pub fn last_upload(&self) -> Result<Option<DateTime<Utc>>> {
        self.meta
            .get(LAST_UPLOAD)?
            .map(|v| decode("meta", LAST_UPLOAD, &v))
            .transpose()
    }

    pub fn set_last_upload(&self, at: DateTime<Utc>) -> Result<()> {
        self.meta.insert(LAST_UPLOAD, encode(&at)?)?;
        Ok(())
    }

    // ----- retention ---------------------------------------------------------------

    /// Bytes of keys and values in the record and evidence trees (sled's files are
    /// larger: it is log-structured).
    pub fn stored_bytes(&self) -> Result<u64> {
        let mut n = 0u64;
        for tree in [
            &self.passages,
            &self.incidents,
            &self.evidence,
            &self.outbox,
            &self.failed,
        ] {
            for r in tree.iter() {
                let (k, v) = r?;
                n += (k.len() + v.len()) as u64;
            }
        }
        Ok(n)
    }

    /// Applies retention at `now` (invariant 5): acknowledged records older than
    /// `max_age` go; then, while over `budget` bytes, the oldest settled passages'
    /// evidence, then those passages, then the oldest acknowledged incidents.
    pub fn sweep(&self, now: DateTime<Utc>, max_age: Duration, budget: u64) -> Result<Sweep> {
        let cutoff = chrono::Duration::from_std(max_age)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut sweep = Sweep::default();
        // 1. Age.
        for p in self.passages()? {
            if p.passage.seen_at >= cutoff {
                break;
            }
            if self.settled(&p)? {
                self.remove_passage(&p, &mut sweep)?;
            }
        }
        for i in self.incidents()? {
            if i.incident.created_at < cutoff && i.acked {
                self.remove_incident(&i, &mut sweep)?;
            }
        }
        // 2. Budget.
        let mut bytes = self.stored_bytes()?;
        if bytes <= budget {
            return Ok(sweep);
        }
        for p in self.passages()? {
            if bytes <= budget {
                return Ok(sweep);
            }
            if !p.evidence_dropped && self.settled(&p)? {
                let before = sweep.bytes_freed;
                self.drop_evidence(&p, &mut sweep)?;
                bytes = bytes.saturating_sub(sweep.bytes_freed - before);
            }
        }
        for p in self.passages()? {
            if bytes <= budget {
                return Ok(sweep);
            }
            if self.settled(&p)? {
                let before = sweep.bytes_freed;
                self.remove_passage(&p, &mut sweep)?;
                bytes = bytes.saturating_sub(sweep.bytes_freed - before);
            }
        }
        for i in self.incidents()? {
            if bytes <= budget {
                break;
            }
            if i.acked {
                let before = sweep.bytes_freed;
                self.remove_incident(&i, &mut sweep)?;
                bytes = bytes.saturating_sub(sweep.bytes_freed - before);
            }
        }
        Ok(sweep)
    }

    /// A passage is settled when it and every incident judged from it are acked.
    fn settled(&self, p: &StoredPassage) -> Result<bool> {
        if !p.acked {
            return Ok(false);
        }
        for id in &p.incidents {
            // An incident no longer stored was acknowledged (invariant 5).
            if self.incident(id)?.is_some_and(|i| !i.acked) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Removes the passage's references to its evidence, and the evidence that is
    /// then unreferenced, marking the passage `evidence_dropped`.
    fn drop_evidence(&self, p: &StoredPassage, sweep: &mut Sweep) -> Result<()> {
        let mut updated = p.clone();
        updated.evidence_dropped = true;
        let env = encode(&updated)?;
        let id = p.passage.id;
        let trees = [&self.passages, &self.evidence, &self.evidence_refs];
        let res = trees.as_slice().transact(|t| -> Tx<(u64, u64)> {
            let [passages, evidence, refs] = t.as_slice() else {
                unreachable!("three trees")
            };
            let Some(cur) = passages.get(id.as_bytes())? else {
                return Ok((0, 0));
            };
            let cur: StoredPassage = decode("passages", id.as_bytes(), &cur)
                .map_err(ConflictableTransactionError::Abort)?;
            if cur.evidence_dropped {
                return Ok((0, 0));
            }
            let freed = unref_evidence(evidence, refs, &cur)?;
            passages.insert(&id.as_bytes()[..], env.as_slice())?;
            Ok(freed)
        });
        let (n, bytes) = flatten(res)?;
        sweep.evidence += n;
        sweep.bytes_freed += bytes;
        Ok(())
    }

    fn remove_passage(&self, p: &StoredPassage, sweep: &mut Sweep) -> Result<()> {
        let id = p.passage.id;
        let trees = [&self.passages, &self.evidence, &self.evidence_refs];
        let res = trees.as_slice().transact(|t| -> Tx<Option<(u64, u64)>> {
            let [passages, evidence, refs] = t.as_slice() else {
                unreachable!("three trees")
            };
            let Some(cur) = passages.remove(&id.as_bytes()[..])? else {
                return Ok(None);
            };
            let record_bytes = (16 + cur.len()) as u64;
            let cur: StoredPassage = decode("passages", id.as_bytes(), &cur)
                .map_err(ConflictableTransactionError::Abort)?;
            let (n, bytes) = if cur.evidence_dropped {
                (0, 0)
            } else {
                unref_evidence(evidence, refs, &cur)?
            };
            Ok(Some((n, bytes + record_bytes)))
        });
        if let Some((n, bytes)) = flatten(res)? {
            sweep.passages += 1;
            sweep.evidence += n;
            sweep.bytes_freed += bytes;
        }
        Ok(())
    }

    fn remove_incident(&self, i: &StoredIncident, sweep: &mut Sweep) -> Result<()> {
        let id = i.incident.id;
        let res = self.incidents.transact(|incidents| -> Tx<Option<u64>> {
            let Some(cur) = incidents.get(id.as_bytes())? else {
                return Ok(None);
            };
            let s: StoredIncident = decode("incidents", id.as_bytes(), &cur)
                .map_err(ConflictableTransactionError::Abort)?;
            if !s.acked {
                return Ok(None); // invariant 5, re-checked inside the transaction
            }
            incidents.remove(&id.as_bytes()[..])?;
            Ok(Some((16 + cur.len()) as u64))
        });
        if let Some(bytes) = flatten(res)? {
            sweep.incidents += 1;
            sweep.bytes_freed += bytes;
        }
        Ok(())
    }

    /// Test hook: writes raw bytes into a tree, as a torn write or bit rot would.
    #[doc(hidden)]
    pub fn corrupt_for_test(&self, tree: &str, key: &[u8], bytes: &[u8]) -> Result<()> {
        self.db.open_tree(tree)?.insert(key, bytes)?;
        sled_gate::flush(&self.db)?;
        Ok(())
    }
}

/// Decrements the reference counts of `p`'s evidence, deleting what reaches zero.
/// Returns (evidence deleted, bytes freed).
fn unref_evidence(
    evidence: &TransactionalTree,
    refs: &TransactionalTree,
    p: &StoredPassage,
) -> Tx<(u64, u64)> {
    let (mut n, mut bytes) = (0, 0);
    for r in &p.passage.evidence {
        let key = r.sha256.0;
        let count = refs
            .get(key)?
            .map_or(Ok(0), |v| read_u64("evidence_refs", &key, &v))
            .map_err(ConflictableTransactionError::Abort)?;
        if count > 1 {
            refs.insert(&key[..], &(count - 1).to_be_bytes()[..])?;
            continue;
        }
        refs.remove(&key[..])?;
        if let Some(v) = evidence.remove(&key[..])? {
            n += 1;
            bytes += (32 + v.len()) as u64;
        }
    }
    Ok((n, bytes))
}

fn queue(outbox: &TransactionalTree, item: OutboxItem) -> Tx<()> {
    let seq = outbox.generate_id()?;
    let bytes = encode(&item).map_err(ConflictableTransactionError::Abort)?;
    outbox.insert(&seq.to_be_bytes()[..], bytes)?;
    Ok(())
}

fn mark_acked<T: Serialize + DeserializeOwned>(
    tree: &TransactionalTree,
    name: &'static str,
    key: &[u8],
    f: impl FnOnce(&mut T),
) -> Tx<()> {
    let Some(v) = tree.get(key)? else {
        return Ok(());
    };
    let mut rec: T = decode(name, key, &v).map_err(ConflictableTransactionError::Abort)?;
    f(&mut rec);
    tree.insert(
        key,
        encode(&rec).map_err(ConflictableTransactionError::Abort)?,
    )?;
    Ok(())
}

fn flatten<T>(r: std::result::Result<T, TransactionError<StoreError>>) -> Result<T> {
    r.map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Sled(e),
    })
}

// ----- encoding --------------------------------------------------------------------

/// Format of stored records: `[FORMAT][first 4 bytes of SHA-256(payload)][JSON]`.
const FORMAT: u8 = 1;

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    let payload = serde_json::to_vec(v).map_err(|e| StoreError::Encode(e.to_string()))?;
    let sum = sha2::Sha256::digest(&payload);
    let mut out = Vec::with_capacity(5 + payload.len());
    out.push(FORMAT);
    out.extend_from_slice(&sum[..4]);
    out.extend_from_slice(&payload);
    Ok(out)
}

fn decode<T: DeserializeOwned>(tree: &'static str, key: &[u8], bytes: &[u8]) -> Result<T> {
    let corrupt = |why: String| StoreError::Corrupt {
        tree,
        key: hex::encode(key),
        why,
    };
    if bytes.len() < 5 {
        return Err(corrupt(format!("truncated to {} bytes", bytes.len())));
    }
    if bytes[0] != FORMAT {
        return Err(corrupt(format!("unknown format {}", bytes[0])));
    }
    let payload = &bytes[5..];
    if sha2::Sha256::digest(payload)[..4] != bytes[1..5] {
        return Err(corrupt("checksum mismatch (torn or damaged)".into()));
    }
    serde_json::from_slice(payload).map_err(|e| corrupt(e.to_string()))
}

fn read_u64(tree: &'static str, key: &[u8], bytes: &[u8]) -> Result<u64> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Corrupt {
            tree,
            key: hex::encode(key),
            why: format!("expected 8 bytes, found {}", bytes.len()),
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use hub::api::{CheckpointId, Direction, EvidenceKind, EvidenceRef, IncidentKind, Severity};

    /// A passage seen `age` ago with one frame of evidence, and `incidents` incidents.
    pub(crate) fn record(age: Duration, jpeg: &[u8], incidents: usize) -> Record {
        let seen_at = Utc::now() - chrono::Duration::from_std(age).unwrap();
        let ev = Evidence::new(jpeg.to_vec());
        let cp = CheckpointId::parse("cp-test").unwrap();
        let passage = Passage {
            id: PassageId::new(),
            checkpoint_id: cp.clone(),
            seen_at,
            lane: 1,
            direction: Direction::Inbound,
            plate: None,
            cargo: None,
            evidence: vec![EvidenceRef {
                sha256: ev.sha256,
                kind: EvidenceKind::Frame,
            }],
        };
        let incidents = (0..incidents)
            .map(|_| Incident {
                id: IncidentId::new(),
                passage_id: passage.id,
                checkpoint_id: cp.clone(),
                kind: IncidentKind::parse(IncidentKind::UNCOVERED_LOAD).unwrap(),
                severity: Severity::Medium,
                created_at: seen_at,
            })
            .collect();
        Record {
            passage,
            evidence: vec![ev],
            incidents,
        }
    }

    fn ack_all(s: &Store) {
        let batch = s.outbox_batch(usize::MAX).unwrap();
        s.ack(&batch).unwrap();
    }

    #[test]
    fn commit_queues_evidence_then_passage_then_incidents() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let r = record(Duration::ZERO, b"jpeg-1", 2);
        assert!(s.commit(&r).unwrap());
        assert!(!s.commit(&r).unwrap(), "a replayed commit stores nothing");
        let items: Vec<_> = s
            .outbox_batch(10)
            .unwrap()
            .into_iter()
            .map(|e| e.item)
            .collect();
        assert_eq!(
            items,
            vec![
                OutboxItem::Evidence(r.evidence[0].sha256),
                OutboxItem::Passage(r.passage.id),
                OutboxItem::Incident(r.incidents[0].id),
                OutboxItem::Incident(r.incidents[1].id),
            ]
        );
        assert_eq!(s.outbox_depth(), 4);
        // The same evidence again is stored once and not queued again.
        let mut r2 = record(Duration::ZERO, b"jpeg-1", 0);
        r2.evidence.clear();
        assert!(s.commit(&r2).unwrap());
        assert_eq!(s.outbox_depth(), 5);
        assert_eq!(s.evidence_count(), 1);
    }

    #[test]
    fn missing_or_mismatched_evidence_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let mut r = record(Duration::ZERO, b"x", 0);
        r.evidence.clear();
        assert!(matches!(
            s.commit(&r),
            Err(StoreError::MissingEvidence { .. })
        ));
        let mut r = record(Duration::ZERO, b"x", 0);
        r.evidence[0].jpeg = b"y".to_vec();
        assert!(matches!(s.commit(&r), Err(StoreError::EvidenceDigest(_))));
        assert_eq!(
            (s.passage_count(), s.outbox_depth()),
            (0, 0),
            "nothing half-written"
        );
    }

    #[test]
    fn reopen_after_drop_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let recs: Vec<_> = (0..5)
            .map(|i| record(Duration::ZERO, format!("jpeg-{i}").as_bytes(), 1))
            .collect();
        {
            let s = Store::open(dir.path()).unwrap();
            for r in &recs {
                s.commit(r).unwrap();
            }
            let first = s.outbox_batch(2).unwrap();
            s.ack(&first).unwrap();
            s.fail(s.outbox_batch(1).unwrap()[0], Some(403), "not yours")
                .unwrap();
            s.flush().unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.passage_count(), 5);
        assert_eq!(s.incident_count(), 5);
        assert_eq!(s.evidence_count(), 5);
        assert_eq!(s.outbox_depth(), 15 - 3);
        assert_eq!(s.failure_count(), 1);
        assert_eq!(s.failures().unwrap()[0].status, Some(403));
        assert!(s.passage(&recs[0].passage.id).unwrap().unwrap().acked);
        assert!(!s.passage(&recs[1].passage.id).unwrap().unwrap().acked);
        assert_eq!(
            s.evidence(&recs[3].evidence[0].sha256).unwrap().unwrap(),
            b"jpeg-3"
        );
        let seqs: Vec<u64> = s.outbox_batch(100).unwrap().iter().map(|e| e.seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "outbox scans in order: {seqs:?}"
        );
    }

    #[test]
    fn corrupt_records_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let r = record(Duration::ZERO, b"jpeg", 1);
        s.commit(&r).unwrap();
        let key = r.passage.id.as_bytes();
        let good = s.passages.get(key).unwrap().unwrap().to_vec();
        // Torn: cut in the middle.
        s.corrupt_for_test("passages", key, &good[..good.len() / 2])
            .unwrap();
        let e = s.passage(&r.passage.id).unwrap_err().to_string();
        assert!(
            e.contains("corrupt record in passages") && e.contains("checksum"),
            "{e}"
        );
        // Truncated to almost nothing; unknown format.
        s.corrupt_for_test("passages", key, &good[..3]).unwrap();
        assert!(s
            .passage(&r.passage.id)
            .unwrap_err()
            .to_string()
            .contains("truncated"));
        s.corrupt_for_test("passages", key, &[9, 0, 0, 0, 0, b'{'])
            .unwrap();
        assert!(s
            .passages()
            .unwrap_err()
            .to_string()
            .contains("unknown format"));
        // Evidence rot is caught by its digest.
        s.corrupt_for_test("evidence", &r.evidence[0].sha256.0, b"rotten")
            .unwrap();
        assert!(matches!(
            s.evidence(&r.evidence[0].sha256),
            Err(StoreError::Corrupt {
                tree: "evidence",
                ..
            })
        ));
        // Acking over a corrupt record aborts the whole transaction: the entry stays.
        let batch = s.outbox_batch(10).unwrap();
        assert!(s.ack(&batch).is_err());
        assert_eq!(s.outbox_batch(10).unwrap().len(), 3);
        // After a reopen the damage is still reported, not panicked on.
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        assert!(s.passage(&r.passage.id).is_err());
        assert!(
            s.incident(&r.incidents[0].id).unwrap().is_some(),
            "other records unharmed"
        );
    }

    #[test]
    fn retention_never_evicts_unacked_incidents() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let day = Duration::from_secs(24 * 3600);
        // Old and fully acknowledged.
        let old_acked = record(day * 10, &[1u8; 1000], 1);
        s.commit(&old_acked).unwrap();
        ack_all(&s);
        // Old, with an incident the hub has not acknowledged.
        let old_pending = record(day * 9, &[2u8; 1000], 1);
        s.commit(&old_pending).unwrap();
        let batch = s.outbox_batch(10).unwrap();
        // Acknowledge its evidence and passage, not its incident.
        s.ack(&batch[..2]).unwrap();
        // Recent, acknowledged.
        let recent = record(Duration::ZERO, &[3u8; 1000], 0);
        s.commit(&recent).unwrap();
        let batch = s.outbox_batch(10).unwrap();
        s.ack(&batch[1..]).unwrap();

        // Age (7 days) and a budget of zero bytes: everything evictable goes.
        let sweep = s.sweep(Utc::now(), day * 7, 0).unwrap();
        assert!(s.passage(&old_acked.passage.id).unwrap().is_none());
        assert!(s.incident(&old_acked.incidents[0].id).unwrap().is_none());
        assert!(s.evidence(&old_acked.evidence[0].sha256).unwrap().is_none());
        let pending = s
            .incident(&old_pending.incidents[0].id)
            .unwrap()
            .expect("unacked incident kept");
        assert!(!pending.acked);
        let p = s
            .passage(&old_pending.passage.id)
            .unwrap()
            .expect("its passage kept");
        assert!(!p.evidence_dropped);
        assert!(
            s.evidence(&old_pending.evidence[0].sha256)
                .unwrap()
                .is_some(),
            "its evidence kept"
        );
        // The recent passage was acked, so under a zero budget it goes too.
        assert!(s.passage(&recent.passage.id).unwrap().is_none());
        assert_eq!(sweep.incidents, 1);
        assert_eq!(s.outbox_depth(), 1);
    }

    #[test]
    fn budget_takes_old_evidence_first() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let recs: Vec<_> = (0..4)
            .map(|i| record(Duration::from_secs(100 - i), &vec![i as u8; 10_000], 0))
            .collect();
        for r in &recs {
            s.commit(r).unwrap();
        }
        ack_all(&s);
        let budget = s.stored_bytes().unwrap() - 15_000;
        let sweep = s
            .sweep(Utc::now(), Duration::from_secs(3600), budget)
            .unwrap();
        assert_eq!(
            (sweep.evidence, sweep.passages),
            (2, 0),
            "two oldest lose evidence, passages stay"
        );
        assert!(
            s.passage(&recs[0].passage.id)
                .unwrap()
                .unwrap()
                .evidence_dropped
        );
        assert!(s.evidence(&recs[3].evidence[0].sha256).unwrap().is_some());
        assert!(s.stored_bytes().unwrap() <= budget);
    }

    #[test]
    fn shared_evidence_survives_until_its_last_reference_goes() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let a = record(Duration::from_secs(50), b"same", 0);
        let mut b = record(Duration::from_secs(40), b"same", 0);
        b.evidence.clear();
        s.commit(&a).unwrap();
        s.commit(&b).unwrap();
        // Ack only the first passage (and the evidence).
        let batch = s.outbox_batch(2).unwrap();
        s.ack(&batch).unwrap();
        s.sweep(Utc::now(), Duration::from_secs(3600), 0).unwrap();
        assert!(s.passage(&a.passage.id).unwrap().is_none());
        assert!(
            s.evidence(&a.evidence[0].sha256).unwrap().is_some(),
            "b still needs it"
        );
        ack_all(&s);
        s.sweep(Utc::now(), Duration::from_secs(3600), 0).unwrap();
        assert_eq!(s.evidence_count(), 0);
    }
}
