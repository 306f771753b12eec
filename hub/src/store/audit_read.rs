//! Reading the audit log for auditors: newest first, filtered by who and by the kind
//! of action, scanning back from the end only as far as the page needs.

use super::{decode, AuditEntry, Result, Store};

/// Which lines to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Exact `who`.
    pub who: Option<String>,
    /// Prefix of `what`, e.g. `plate.` or `incident.outcome`.
    pub what: Option<String>,
    pub limit: usize,
}

impl Store {
    /// Up to `f.limit` matching lines, newest first.
    pub fn audit_recent(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut out = Vec::new();
        for item in self.audit.iter().rev() {
            let (_, v) = item?;
            let e: AuditEntry = decode("audit", &v)?;
            if f.who.as_ref().is_some_and(|w| *w != e.who)
                || f.what
                    .as_ref()
                    .is_some_and(|w| !e.what.starts_with(w.as_str()))
            {
                continue;
            }
            out.push(e);
            if out.len() >= f.limit.max(1) {
                break;
            }
        }
        Ok(out)
    }
}
