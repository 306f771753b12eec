//! Which counties may see an evidence JPEG: those of the passages that reference it.
//! A digest alone proves nothing about who may look, so a person who learns one (from
//! a log, a neighbour's tablet) still cannot fetch another county's photo.

use std::collections::HashMap;

use crate::api::{CheckpointId, County, EvidenceRef, Sha256};

use super::{decode, CheckpointRecord, PassageRecord, Result, Store};

/// Set in `meta` once every stored passage has its scope keys.
const SCOPED: &[u8] = b"evidence_scope_v1";

/// The `evidence_scope` keys of a passage's evidence in `county`: `sha256 ++ county`.
pub(super) fn keys(evidence: &[EvidenceRef], county: &County) -> Vec<Vec<u8>> {
    evidence
        .iter()
        .map(|e| [&e.sha256.0[..], county.as_str().as_bytes()].concat())
        .collect()
}

impl Store {
    /// Gives the passages stored before this index existed their scope keys, once: a
    /// hub upgraded in place must not hide every older photo from its teams.
    pub(super) fn backfill_evidence_scope(&self) -> Result<()> {
        if self.meta.get(SCOPED)?.is_some() {
            return Ok(());
        }
        let mut county_of: HashMap<CheckpointId, County> = HashMap::new();
        for item in self.checkpoints.iter() {
            let (_, v) = item?;
            let cp: CheckpointRecord = decode("checkpoints", &v)?;
            county_of.insert(cp.id, cp.county);
        }
        let mut n = 0u64;
        for item in self.passages.iter() {
            let (_, v) = item?;
            let rec: PassageRecord = decode("passages", &v)?;
            let Some(county) = county_of.get(&rec.passage.checkpoint_id) else {
                continue;
            };
            for k in keys(&rec.passage.evidence, county) {
                self.evidence_scope.insert(k, &[][..])?;
                n += 1;
            }
        }
        self.meta.insert(SCOPED, &[1u8][..])?;
        sled_gate::flush(&self.db)?;
        if n > 0 {
            tracing::info!(keys = n, "evidence scope backfilled for older passages");
        }
        Ok(())
    }

    /// The counties whose passages reference `sha` (empty: none yet).
    pub fn evidence_counties(&self, sha: &Sha256) -> Result<Vec<County>> {
        let mut out = Vec::new();
        for item in self.evidence_scope.scan_prefix(sha.0) {
            let (k, _) = item?;
            // Keys were built from a valid County; anything else is skipped, not trusted.
            if let Some(c) = std::str::from_utf8(&k[32..])
                .ok()
                .and_then(|s| County::parse(s).ok())
            {
                out.push(c);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Direction, EvidenceKind, Passage, PassageId};
    use chrono::Utc;

    #[test]
    fn a_store_from_before_the_index_gets_it_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let county = County::parse("滦平县").unwrap();
        let cp = CheckpointId::parse("cp-1").unwrap();
        let sha = Sha256::of(b"frame");
        {
            let store = Store::open(dir.path(), 16 << 20).unwrap();
            store
                .add_checkpoint(&cp, "n", &county, Sha256::of(b"t"))
                .unwrap();
            let p = Passage {
                id: PassageId::new(),
                checkpoint_id: cp.clone(),
                seen_at: Utc::now(),
                lane: 1,
                direction: Direction::Inbound,
                plate: None,
                cargo: None,
                evidence: vec![EvidenceRef {
                    sha256: sha,
                    kind: EvidenceKind::Frame,
                }],
            };
            store.insert_passages(&[p], &county, Utc::now()).unwrap();
            assert_eq!(
                store.evidence_counties(&sha).unwrap(),
                std::slice::from_ref(&county)
            );
            // As an older hub left it: no index, no mark.
            store.evidence_scope.clear().unwrap();
            store.meta.remove(SCOPED).unwrap();
            store.flush_blocking().unwrap();
            assert!(store.evidence_counties(&sha).unwrap().is_empty());
        }
        // sled lets go of its lock a moment after the last handle drops.
        let store = (0..100)
            .find_map(|_| {
                Store::open(dir.path(), 16 << 20)
                    .inspect_err(|_| std::thread::sleep(std::time::Duration::from_millis(50)))
                    .ok()
            })
            .expect("the store reopens");
        assert_eq!(store.evidence_counties(&sha).unwrap(), [county]);
    }
}
