//! Whitelist and hotlist: checkpoints pull them with an ETag (304 when unchanged),
//! without the entries that have expired; admins and dispatchers add and remove
//! entries (each edit bumps the version and is audited).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::{ListEntry, ListName, NewListEntry, PlateText, Role};
use crate::server::extract::{Caller, Person};
use crate::server::{ApiError, AppState};
use crate::store::AuditEntry;

/// The tag of what is served: the version, and how many entries have expired, so an
/// expiry changes the tag (and the checkpoint drops the entry) without any edit.
fn etag(version: u64, expired: usize) -> String {
    format!("\"lists-{version}-{expired}\"")
}

/// `GET /api/v1/lists`.
pub async fn get(
    state: web::Data<AppState>,
    _caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let served = state.store.served_lists(state.clock.now())?;
    let tag = etag(served.lists.version, served.expired);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(served.lists))
}

/// Lists are province-wide, so only admins and dispatchers (who run the teams) edit.
pub fn editor(person: &Person) -> Result<(), ApiError> {
    if matches!(person.0.role, Role::Admin | Role::Dispatcher) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only admins and dispatchers edit lists".into(),
        ))
    }
}

/// Checks a new entry's own fields: a reason always, a company for a licensed fleet.
pub fn check_entry(
    list: ListName,
    reason: &str,
    company: Option<&str>,
) -> Result<(), (&'static str, String)> {
    if reason.trim().is_empty() {
        return Err(("reason", "required".into()));
    }
    if reason.chars().count() > 500 {
        return Err(("reason", "longer than 500 characters".into()));
    }
    let company = company.map(str::trim).filter(|c| !c.is_empty());
    if list == ListName::Whitelist && company.is_none() {
        return Err((
            "company",
            "required for the whitelist (the licensed supply company)".into(),
        ));
    }
    if company.is_some_and(|c| c.chars().count() > 200) {
        return Err(("company", "longer than 200 characters".into()));
    }
    Ok(())
}

pub fn list_name(raw: &str) -> Result<ListName, ApiError> {
    raw.parse()
        .map_err(|e| ApiError::BadRequest(format!("{e}")))
}

/// Checks and stores `entry` on `list` as `person`; durable and audited on return.
pub async fn add_entry(
    state: &AppState,
    person: &Person,
    list: ListName,
    entry: NewListEntry,
) -> Result<u64, ApiError> {
    editor(person)?;
    check_entry(list, &entry.reason, entry.company.as_deref())
        .map_err(|(field, why)| ApiError::BadRequest(format!("{field}: {why}")))?;
    let now = state.clock.now();
    if entry.expires_at.is_some_and(|t| t <= now) {
        return Err(ApiError::BadRequest(
            "expires_at: has already passed".into(),
        ));
    }
    let stored = ListEntry {
        plate: entry.plate,
        reason: entry.reason.trim().to_owned(),
        company: entry
            .company
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty()),
        expires_at: entry.expires_at,
        added_by: person.name().to_owned(),
        added_at: now,
    };
    let version = state.store.put_list_entry(list, &stored)?;
    state.store.audit(&AuditEntry {
        at: stored.added_at,
        who: person.name().to_owned(),
        what: "list.add".into(),
        reason: Some(stored.reason.clone()),
        detail: serde_json::json!({"list": list, "plate": stored.plate, "company": stored.company, "expires_at": stored.expires_at}),
    })?;
    state.store.flush().await?;
    Ok(version)
}

/// Removes `plate` from `list` as `person`; durable and audited on return; 404 when
/// it was not there.
pub async fn remove_entry(
    state: &AppState,
    person: &Person,
    list: ListName,
    plate: &PlateText,
    reason: Option<&str>,
) -> Result<u64, ApiError> {
    editor(person)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(ApiError::BadRequest(
            "reason: longer than 500 characters".into(),
        ));
    }
    let version = state
        .store
        .remove_list_entry(list, plate)?
        .ok_or_else(|| ApiError::NotFound(format!("{plate} is not on the {}", list.as_str())))?;
    state.store.audit(&AuditEntry {
        at: state.clock.now(),
        who: person.name().to_owned(),
        what: "list.remove".into(),
        reason: reason.map(str::to_owned),
        detail: serde_json::json!({"list": list, "plate": plate}),
    })?;
    state.store.flush().await?;
    Ok(version)
}

/// `POST /api/v1/lists/{list}/entries`: adds or replaces the entry of a plate.
pub async fn add(
    state: web::Data<AppState>,
    person: Person,
    list: web::Path<String>,
    entry: web::Json<NewListEntry>,
) -> Result<HttpResponse, ApiError> {
    let list = list_name(&list)?;
    let version = add_entry(&state, &person, list, entry.into_inner()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"version": version})))
}

/// Query of a removal: why, for the audit log (optional: an entry can simply be done).
#[derive(Debug, Default, serde::Deserialize)]
pub struct RemoveQuery {
    pub reason: Option<String>,
}

/// `DELETE /api/v1/lists/{list}/entries/{plate}?reason=`.
pub async fn remove(
    state: web::Data<AppState>,
    person: Person,
    path: web::Path<(String, String)>,
    q: web::Query<RemoveQuery>,
) -> Result<HttpResponse, ApiError> {
    let list = list_name(&path.0)?;
    let plate =
        PlateText::parse(&path.1).map_err(|e| ApiError::BadRequest(format!("plate: {e}")))?;
    let version = remove_entry(&state, &person, list, &plate, q.reason.as_deref()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"version": version})))
}
