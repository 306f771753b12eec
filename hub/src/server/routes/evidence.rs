//! Evidence JPEGs, content-addressed by SHA-256: checkpoints upload (idempotent,
//! before or after the records that name them), people view them and thumbnails of
//! the passages of the counties they see.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::api::Sha256;
use crate::server::extract::{CheckpointCaller, Person};
use crate::server::routes::read_body;
use crate::server::{ApiError, AppState, Metrics};
use crate::store::Store;

pub fn parse_sha(raw: &str) -> Result<Sha256, ApiError> {
    raw.parse()
        .map_err(|e| ApiError::BadRequest(format!("{e}: {raw:.80}")))
}

/// Whether `bytes` decode as a JPEG.
fn is_jpeg(bytes: &[u8]) -> Result<(), String> {
    image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// `PUT /api/v1/evidence/{sha256}`: 201 when stored now, 200 when already stored.
pub async fn put(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    caller: CheckpointCaller,
    sha: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let sha = parse_sha(&sha)?;
    let body = read_body(payload, state.config.evidence_limit).await?;
    if Sha256::of(&body) != sha {
        return Err(ApiError::BadRequest(format!(
            "body: its SHA-256 is {}, not {sha}",
            Sha256::of(&body)
        )));
    }
    if state.store.evidence(&sha)?.is_some() {
        return Ok(HttpResponse::Ok().json(serde_json::json!({"sha256": sha, "stored": false})));
    }
    let store = state.store.clone();
    let new = web::block(move || -> Result<bool, ApiError> {
        is_jpeg(&body)
            .map_err(|e| ApiError::BadRequest(format!("body: not a decodable JPEG: {e}")))?;
        Ok(store.put_evidence(&sha, &body)?)
    })
    .await??;
    state.store.flush().await?;
    if new {
        metrics.evidence.inc();
        tracing::debug!(checkpoint = %caller.0.id, %sha, "evidence stored");
    }
    let status = if new {
        actix_web::http::StatusCode::CREATED
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(serde_json::json!({"sha256": sha, "stored": new})))
}

fn jpeg(bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/jpeg")
        // Content-addressed: the bytes behind a digest never change.
        .insert_header((
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable",
        ))
        .body(bytes)
}

/// Whether a passage of a county `person` sees references `sha`.
pub fn visible(store: &Store, person: &Person, sha: &Sha256) -> Result<bool, ApiError> {
    Ok(store.evidence_counties(sha)?.iter().any(|c| person.sees(c)))
}

/// 404 unless a passage of a county `person` sees references `sha`: the same answer
/// as for an unknown digest, so nobody can probe what another county stored.
fn check_visible(store: &Store, person: &Person, sha: &Sha256) -> Result<(), ApiError> {
    if store.evidence_counties(sha)?.iter().any(|c| person.sees(c)) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("evidence {sha} not found")))
    }
}

/// `GET /api/v1/evidence/{sha256}`.
pub async fn get(
    state: web::Data<AppState>,
    person: Person,
    sha: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sha = parse_sha(&sha)?;
    check_visible(&state.store, &person, &sha)?;
    let bytes = state
        .store
        .evidence(&sha)?
        .ok_or_else(|| ApiError::NotFound(format!("evidence {sha} not found")))?;
    Ok(jpeg(bytes.to_vec()))
}

/// A thumbnail of at most `px` on its longest edge, cached in the store.
pub fn thumbnail(store: &Store, sha: &Sha256, px: u32) -> Result<Option<Vec<u8>>, ApiError> {
    if let Some(t) = store.thumb(sha)? {
        return Ok(Some(t.to_vec()));
    }
    let Some(full) = store.evidence(sha)? else {
        return Ok(None);
    };
    let img = image::load_from_memory_with_format(&full, image::ImageFormat::Jpeg)
        .map_err(|e| ApiError::Internal(format!("stored evidence {sha} does not decode: {e}")))?;
    if img.width() <= px && img.height() <= px {
        // Already small: never upscale.
        return Ok(Some(full.to_vec()));
    }
    let small = img.thumbnail(px, px).to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&small)
        .map_err(|e| ApiError::Internal(format!("thumbnail of {sha}: {e}")))?;
    let out = out.into_inner();
    store.put_thumb(sha, &out)?;
    Ok(Some(out))
}

/// `GET /api/v1/evidence/{sha256}/thumb`.
pub async fn thumb(
    state: web::Data<AppState>,
    person: Person,
    sha: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sha = parse_sha(&sha)?;
    check_visible(&state.store, &person, &sha)?;
    let store = state.store.clone();
    let px = state.config.thumb_px;
    let t = web::block(move || thumbnail(&store, &sha, px)).await??;
    let t = t.ok_or_else(|| ApiError::NotFound(format!("evidence {sha} not found")))?;
    Ok(jpeg(t))
}
