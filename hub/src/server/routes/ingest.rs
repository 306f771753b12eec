//! `POST /api/v1/passages` and `POST /api/v1/incidents`: batches from a checkpoint,
//! idempotent on each record's id, durable before the answer.

use actix_web::{web, HttpResponse};

use crate::api::{CheckpointId, Incident, IncidentId, IngestResponse, Passage};
use crate::server::extract::CheckpointCaller;
use crate::server::routes::{parse_json, read_body};
use crate::server::{ApiError, AppState, Metrics};

/// A checkpoint writes only its own records.
fn check_owner<'a>(
    what: &str,
    ids: impl Iterator<Item = &'a CheckpointId>,
    caller: &CheckpointId,
) -> Result<(), ApiError> {
    for (i, id) in ids.enumerate() {
        if id != caller {
            return Err(ApiError::Forbidden(format!(
                "{what}[{i}].checkpoint_id: {id} is not the authenticated checkpoint {caller}"
            )));
        }
    }
    Ok(())
}

pub async fn post_passages(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    caller: CheckpointCaller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(payload, state.config.body_limit).await?;
    let batch: Vec<Passage> = parse_json("passages", &body)?;
    check_owner(
        "passages",
        batch.iter().map(|p| &p.checkpoint_id),
        &caller.0.id,
    )?;
    let (store, now) = (state.store.clone(), state.clock.now());
    let county = caller.0.county.clone();
    let n = web::block(move || store.insert_passages(&batch, &county, now)).await??;
    state.store.flush().await?;
    metrics.passages.inc_by(n.accepted);
    tracing::debug!(checkpoint = %caller.0.id, accepted = n.accepted, duplicates = n.duplicates, "passages ingested");
    Ok(HttpResponse::Ok().json(IngestResponse {
        accepted: n.accepted,
        duplicates: n.duplicates,
    }))
}

pub async fn post_incidents(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    caller: CheckpointCaller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(payload, state.config.body_limit).await?;
    let batch: Vec<Incident> = parse_json("incidents", &body)?;
    check_owner(
        "incidents",
        batch.iter().map(|i| &i.checkpoint_id),
        &caller.0.id,
    )?;
    let ids: Vec<IncidentId> = batch.iter().map(|i| i.id).collect();
    let (store, now) = (state.store.clone(), state.clock.now());
    let county = caller.0.county.clone();
    let n = web::block(move || store.insert_incidents(&batch, &county, now)).await??;
    state.store.flush().await?;
    // Replays republish the incident as it is now, which open tablets already show.
    for id in &ids {
        if let Some(rec) = state.store.incident(id)? {
            state.live.publish(&state.store, rec);
        }
    }
    metrics.incidents.inc_by(n.accepted);
    tracing::info!(checkpoint = %caller.0.id, accepted = n.accepted, duplicates = n.duplicates, "incidents ingested");
    Ok(HttpResponse::Ok().json(IngestResponse {
        accepted: n.accepted,
        duplicates: n.duplicates,
    }))
}
