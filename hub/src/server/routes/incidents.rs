//! People's incident endpoints: the queue (newest first, paginated, county-scoped),
//! one incident with its passage, evidence and history, and actions on it.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::api::{
    check_fields, ActionRequest, County, EvidenceKind, IncidentDetail, IncidentId, IncidentKind,
    IncidentPage, IncidentStatus, IncidentView,
};
use crate::server::extract::Person;
use crate::server::{ApiError, AppState};
use crate::store::{Cursor, IncidentQuery, IncidentRecord, Store, StoreError};

/// The longest note accepted, in characters.
pub const MAX_NOTE: usize = 2000;

/// Query of `GET /api/v1/incidents`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub county: Option<String>,
    pub kind: Option<String>,
    pub limit: Option<usize>,
    pub before: Option<String>,
}

fn bad(e: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(e.to_string())
}

/// Turns the raw query into a store query scoped to what `person` may see.
pub fn scoped_query(
    person: &Person,
    q: &ListQuery,
    max_page: usize,
) -> Result<IncidentQuery, ApiError> {
    let nonempty = |o: &Option<String>| o.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let status = nonempty(&q.status)
        .map(|s| s.parse::<IncidentStatus>())
        .transpose()
        .map_err(bad)?;
    let kind = nonempty(&q.kind)
        .map(|s| s.parse::<IncidentKind>())
        .transpose()
        .map_err(bad)?;
    let asked = nonempty(&q.county)
        .map(|s| s.parse::<County>())
        .transpose()
        .map_err(bad)?;
    let county = person.county_scope(asked)?;
    let before = nonempty(&q.before)
        .map(|s| Cursor::from_hex(&s).ok_or_else(|| bad("before: not a cursor from `next`")))
        .transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, max_page);
    Ok(IncidentQuery {
        county,
        status,
        kind,
        limit,
        before,
    })
}

/// An incident with what people need to recognise it (plate and frame of its passage).
pub fn view(store: &Store, rec: IncidentRecord) -> Result<IncidentView, StoreError> {
    let passage = store.passage(&rec.incident.passage_id)?;
    let plate = passage
        .as_ref()
        .and_then(|p| p.passage.plate.as_ref().map(|pl| pl.text.clone()));
    let frame = passage.as_ref().and_then(|p| {
        let ev = &p.passage.evidence;
        ev.iter()
            .find(|e| e.kind == EvidenceKind::Frame)
            .or(ev.first())
            .map(|e| e.sha256)
    });
    Ok(IncidentView {
        incident: rec.incident,
        county: rec.county,
        status: rec.status,
        received_at: rec.received_at,
        plate,
        frame,
    })
}

/// One page of incidents.
pub fn page(store: &Store, q: &IncidentQuery) -> Result<IncidentPage, StoreError> {
    let (items, next) = store.list_incidents(q)?;
    let items = items
        .into_iter()
        .map(|r| view(store, r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(IncidentPage {
        items,
        next: next.map(|c| c.to_hex()),
    })
}

/// An incident the person may see, with its passage, evidence and history; 404 for
/// unknown ids and for other counties' incidents alike (no probing).
pub fn detail_of(
    store: &Store,
    person: &Person,
    id: &IncidentId,
) -> Result<IncidentDetail, ApiError> {
    let rec = store
        .incident(id)?
        .filter(|r| person.sees(&r.county))
        .ok_or_else(|| ApiError::NotFound(format!("incident {id} not found")))?;
    let passage = store.passage(&rec.incident.passage_id)?.map(|p| p.passage);
    let evidence = passage
        .as_ref()
        .map(|p| p.evidence.clone())
        .unwrap_or_default();
    let history = rec.history.clone();
    Ok(IncidentDetail {
        view: view(store, rec)?,
        passage,
        evidence,
        history,
    })
}

pub fn parse_id(raw: &str) -> Result<IncidentId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::BadRequest(format!("incident id: not a UUID: {raw}")))
}

/// `GET /api/v1/incidents`.
pub async fn list(
    state: web::Data<AppState>,
    person: Person,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = scoped_query(&person, &q, state.config.max_page)?;
    let store = state.store.clone();
    let found = web::block(move || page(&store, &query)).await??;
    Ok(HttpResponse::Ok().json(found))
}

/// `GET /api/v1/incidents/{id}`.
pub async fn detail(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    Ok(HttpResponse::Ok().json(detail_of(&state.store, &person, &id)?))
}

/// Checks and applies an action as `person`; durable on return.
pub async fn apply(
    state: &AppState,
    person: &Person,
    id: IncidentId,
    req: ActionRequest,
) -> Result<IncidentDetail, ApiError> {
    if !person.0.role.may_act() {
        return Err(ApiError::Forbidden(
            "auditors cannot change incidents".into(),
        ));
    }
    if req
        .note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE)
    {
        return Err(ApiError::BadRequest(format!(
            "note: longer than {MAX_NOTE} characters"
        )));
    }
    check_fields(&req).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    // Same answer for unknown and out-of-county incidents.
    detail_of(&state.store, person, &id)?;
    let store = state.store.clone();
    let by = person.name().to_owned();
    let now = state.clock.now();
    let rec = web::block(move || store.apply_action(&id, &by, &req, now)).await??;
    state.store.flush().await?;
    state.live.publish(&state.store, rec);
    detail_of(&state.store, person, &id)
}

/// `POST /api/v1/incidents/{id}/actions`.
pub async fn act(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<String>,
    req: web::Json<ActionRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&id)?;
    let detail = apply(&state, &person, id, req.into_inner()).await?;
    Ok(HttpResponse::Ok().json(detail))
}
