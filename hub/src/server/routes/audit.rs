//! `GET /api/v1/audit`: the audit log, newest first, for auditors and admins. No route
//! writes it: lines come only from the actions themselves.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::api::Role;
use crate::server::extract::Person;
use crate::server::{ApiError, AppState};
use crate::store::{AuditEntry, AuditFilter};

/// Query of the audit log.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    pub who: Option<String>,
    pub what: Option<String>,
    pub limit: Option<usize>,
}

/// Most lines one read returns.
pub const MAX_LINES: usize = 1000;

/// The lines `person` asked for; 403 for anyone but auditors and admins.
pub fn read(
    state: &AppState,
    person: &Person,
    q: &AuditQuery,
) -> Result<Vec<AuditEntry>, ApiError> {
    if !matches!(person.0.role, Role::Auditor | Role::Admin) {
        return Err(ApiError::Forbidden(
            "only auditors and admins read the audit log".into(),
        ));
    }
    let some = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(state.store.audit_recent(&AuditFilter {
        who: some(&q.who),
        what: some(&q.what),
        limit: q.limit.unwrap_or(200).clamp(1, MAX_LINES),
    })?)
}

/// `GET /api/v1/audit`.
pub async fn get(
    state: web::Data<AppState>,
    person: Person,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(read(&state, &person, &q)?))
}
