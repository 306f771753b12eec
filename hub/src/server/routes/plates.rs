//! `GET /api/v1/plates/{plate}/passages`: a plate's passages across every checkpoint
//! in time order. Every search is audited with who and why; no reason, no search.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::api::{PlateText, PlateTimeline};
use crate::server::extract::Person;
use crate::server::{ApiError, AppState};
use crate::store::AuditEntry;

/// Query of a plate search.
#[derive(Debug, Default, Deserialize)]
pub struct TimelineQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// Runs and audits a search; durable audit line before the answer.
pub async fn search(
    state: &AppState,
    person: &Person,
    plate: &str,
    q: &TimelineQuery,
) -> Result<PlateTimeline, ApiError> {
    let plate = PlateText::parse(plate).map_err(|e| ApiError::BadRequest(format!("plate: {e}")))?;
    let reason = q.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let Some(reason) = reason else {
        return Err(ApiError::BadRequest(
            "reason: required — say why you search this plate".into(),
        ));
    };
    if reason.chars().count() > 500 {
        return Err(ApiError::BadRequest(
            "reason: longer than 500 characters".into(),
        ));
    }
    let from = q.from.unwrap_or(DateTime::<Utc>::MIN_UTC);
    let to = q.to.unwrap_or(DateTime::<Utc>::MAX_UTC);
    let store = state.store.clone();
    let limit = state.config.max_timeline;
    let p = plate.clone();
    let found = web::block(move || store.plate_passages(&p, from, to, limit)).await??;
    state.store.audit(&AuditEntry {
        at: state.clock.now(),
        who: person.name().to_owned(),
        what: "plate.search".into(),
        reason: Some(reason.to_owned()),
        detail: serde_json::json!({"plate": plate, "from": q.from, "to": q.to, "results": found.len()}),
    })?;
    state.store.flush().await?;
    Ok(PlateTimeline {
        plate,
        passages: found.into_iter().map(|r| r.passage).collect(),
    })
}

pub async fn timeline(
    state: web::Data<AppState>,
    person: Person,
    plate: web::Path<String>,
    q: web::Query<TimelineQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(search(&state, &person, &plate, &q).await?))
}
