//! Routes under `/api/v1`, plus `/healthz` and `/metrics`. Each submodule is one
//! resource; this module wires them and holds the body helpers they share.

pub mod audit;
pub mod events;
pub mod evidence;
pub mod incidents;
pub mod ingest;
pub mod list_csv;
pub mod lists;
pub mod plates;
pub mod reports;
pub mod rewards;
pub mod session;
pub mod tips;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;

use crate::server::{ApiError, AppState, Metrics};

/// Every route of the hub's API. Kept in one place so the OpenAPI document can be
/// checked against it (see `openapi::tests`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health))
        .route("/metrics", web::get().to(metrics))
        .service(
            web::scope("/api/v1")
                .route(
                    "/openapi.json",
                    web::get().to(crate::server::openapi::document),
                )
                .route("/login", web::post().to(session::login))
                .route("/logout", web::post().to(session::logout))
                .route("/passages", web::post().to(ingest::post_passages))
                .route("/incidents", web::post().to(ingest::post_incidents))
                .route("/incidents", web::get().to(incidents::list))
                // Before `/incidents/{id}`, which would take `events` for an id.
                .route("/incidents/events", web::get().to(events::stream))
                .route("/incidents/{id}", web::get().to(incidents::detail))
                .route("/incidents/{id}/actions", web::post().to(incidents::act))
                .route("/evidence/{sha256}", web::put().to(evidence::put))
                .route("/evidence/{sha256}", web::get().to(evidence::get))
                .route("/evidence/{sha256}/thumb", web::get().to(evidence::thumb))
                .route("/lists", web::get().to(lists::get))
                .route("/lists/{list}/entries", web::post().to(lists::add))
                .route(
                    "/lists/{list}/entries/{plate}",
                    web::delete().to(lists::remove),
                )
                .route("/lists/{list}/csv", web::get().to(list_csv::get))
                .route("/lists/{list}/csv", web::post().to(list_csv::post))
                .route("/plates/{plate}/passages", web::get().to(plates::timeline))
                .route("/tips", web::post().to(tips::file))
                .route("/tips", web::get().to(tips::list))
                .route("/tips/{id}", web::get().to(tips::detail))
                .route("/tips/{id}/verdict", web::post().to(tips::verdict))
                .route("/tips/{id}/case", web::post().to(tips::link))
                .route("/cases/{id}", web::get().to(tips::case))
                .route("/cases/{id}/hotlist", web::post().to(tips::hotlist))
                .route("/rewards", web::get().to(rewards::list))
                .route("/rewards/{case}/paid", web::post().to(rewards::paid))
                .route("/reports", web::get().to(reports::json))
                .route("/reports.csv", web::get().to(reports::csv))
                .route("/audit", web::get().to(audit::get))
                .default_service(web::to(not_found)),
        );
}

/// `GET /healthz`: the store answers.
async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.store.lists_version()?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ok"})))
}

/// `GET /metrics`: Prometheus text.
async fn metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render(state.store.size_on_disk()))
}

/// Anything else.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no route {} {}",
        req.method(),
        req.path()
    )))
}

/// Reads a body of at most `limit` bytes (413 beyond).
pub async fn read_body(payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(e)) => Err(ApiError::BadRequest(format!("cannot read body: {e}"))),
        Err(_) => Err(ApiError::TooLarge(limit)),
    }
}

/// `header` and `rows` as CSV bytes.
pub fn to_csv<H, R>(header: H, rows: impl Iterator<Item = R>) -> Result<Vec<u8>, ApiError>
where
    H: IntoIterator,
    H::Item: AsRef<[u8]>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let fail = |e: csv::Error| ApiError::Internal(format!("csv: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(fail)?;
    for r in rows {
        w.write_record(r).map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| ApiError::Internal(format!("csv: {e}")))
}

/// A CSV download named `filename`.
pub fn csv_response(filename: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(body)
}

/// Parses JSON, naming the failing field from `what`: `passages[3].plate.text: ...`.
pub fn parse_json<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let at = match path.as_str() {
            "." | "" => what.to_owned(),
            p if p.starts_with('[') => format!("{what}{p}"),
            p => format!("{what}.{p}"),
        };
        ApiError::BadRequest(format!("{at}: {inner}"))
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("{what}: {e}")))?;
    Ok(value)
}
