//! Which counties may see an evidence JPEG: those of the passages that reference it.
//! A digest alone proves nothing about who may look, so a person who learns one (from
//! a log, a neighbour's tablet) still cannot fetch another county's photo.

use crate::api::{County, EvidenceRef, Sha256};

use super::{Result, Store};

/// The `evidence_scope` keys of a passage's evidence in `county`: `sha256 ++ county`.
pub(super) fn keys(evidence: &[EvidenceRef], county: &County) -> Vec<Vec<u8>> {
    evidence
        .iter()
        .map(|e| [&e.sha256.0[..], county.as_str().as_bytes()].concat())
        .collect()
}

impl Store {
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
