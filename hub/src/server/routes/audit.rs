//! `GET /api/v1/audit`: the tail of the append-only audit log, for auditors and
//! admins. Tip lines hold ids only, so reading the log never shows who called.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::api::Role;
use crate::server::extract::Person;
use crate::server::{ApiError, AppState};

/// Most lines one read returns.
const MAX_LINES: usize = 1000;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    /// Lines from the end (default 100, at most 1000).
    pub limit: Option<usize>,
}

pub async fn tail(
    state: web::Data<AppState>,
    person: Person,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    if !matches!(person.0.role, Role::Auditor | Role::Admin) {
        return Err(ApiError::Forbidden("the audit log is for auditors".into()));
    }
    let n = q.limit.unwrap_or(100).clamp(1, MAX_LINES);
    let store = state.store.clone();
    let lines = web::block(move || store.audit_tail(n)).await??;
    Ok(HttpResponse::Ok().json(lines))
}
