//! Whitelist and hotlist: checkpoints pull them with an ETag (304 when unchanged);
//! admins add and remove entries (each edit bumps the version and is audited).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::{ListEntry, ListName, NewListEntry, PlateText, Role};
use crate::server::extract::{Caller, Person};
use crate::server::{ApiError, AppState};
use crate::store::AuditEntry;

fn etag(version: u64) -> String {
    format!("\"lists-{version}\"")
}

/// `GET /api/v1/lists`.
pub async fn get(
    state: web::Data<AppState>,
    _caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let version = state.store.lists_version()?;
    let tag = etag(version);
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
    let lists = state.store.lists()?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(lists.version)))
        .json(lists))
}

fn admin(person: &Person) -> Result<(), ApiError> {
    if person.0.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden("only admins edit lists".into()))
    }
}

fn list_name(raw: &str) -> Result<ListName, ApiError> {
    raw.parse()
        .map_err(|e| ApiError::BadRequest(format!("{e}")))
}

/// `POST /api/v1/lists/{list}/entries`: adds or replaces the entry of a plate.
pub async fn add(
    state: web::Data<AppState>,
    person: Person,
    list: web::Path<String>,
    entry: web::Json<NewListEntry>,
) -> Result<HttpResponse, ApiError> {
    admin(&person)?;
    let list = list_name(&list)?;
    let entry = entry.into_inner();
    if entry.reason.trim().is_empty() {
        return Err(ApiError::BadRequest("reason: required".into()));
    }
    let stored = ListEntry {
        plate: entry.plate,
        reason: entry.reason,
        expires_at: entry.expires_at,
        added_by: person.name().to_owned(),
        added_at: state.clock.now(),
    };
    let version = state.store.put_list_entry(list, &stored)?;
    state.store.audit(&AuditEntry {
        at: stored.added_at,
        who: person.name().to_owned(),
        what: "list.add".into(),
        reason: Some(stored.reason.clone()),
        detail: serde_json::json!({"list": list, "plate": stored.plate}),
    })?;
    state.store.flush().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"version": version})))
}

/// `DELETE /api/v1/lists/{list}/entries/{plate}`.
pub async fn remove(
    state: web::Data<AppState>,
    person: Person,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    admin(&person)?;
    let list = list_name(&path.0)?;
    let plate =
        PlateText::parse(&path.1).map_err(|e| ApiError::BadRequest(format!("plate: {e}")))?;
    let version = state
        .store
        .remove_list_entry(list, &plate)?
        .ok_or_else(|| ApiError::NotFound(format!("{plate} is not on the {}", list.as_str())))?;
    state.store.audit(&AuditEntry {
        at: state.clock.now(),
        who: person.name().to_owned(),
        what: "list.remove".into(),
        reason: None,
        detail: serde_json::json!({"list": list, "plate": plate}),
    })?;
    state.store.flush().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"version": version})))
}
