//! The node's local HTTP endpoint (actix-web, loopback by default):
//!
//! - `POST /snapshot?camera=NAME`: one JPEG from a trigger camera (`push` source).
//!   A body that is not a decodable JPEG gets `400` and changes nothing; a full
//!   queue gets `503` with `Retry-After` (the camera retries), never a silent drop.
//! - `GET /healthz`: `200 ok` while the local store answers.
//! - `GET /metrics`: Prometheus text.
//! - `GET /`: a small status page: cameras, outbox, uplink, permanent failures.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::TcpListener;
use std::sync::{Arc, RwLock};

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpResponse, HttpServer, ResponseError};
use chrono::Utc;
use hub::api::CheckpointId;

use crate::capture::{Frame, Slot};
use crate::config::{Camera, Source};
use crate::judge::ListIndex;
use crate::metrics::Metrics;
use crate::store::Store;

/// Largest snapshot accepted, in bytes.
const SNAPSHOT_LIMIT: usize = 32 << 20;

/// What the handlers reach.
pub struct State {
    pub checkpoint_id: CheckpointId,
    pub hub_url: String,
    pub cameras: Vec<Camera>,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub lists: Arc<RwLock<ListIndex>>,
    /// Push cameras' queues, by camera name.
    pub push: HashMap<String, Arc<Slot>>,
}

/// Why a request failed; the one place that knows HTTP statuses.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the pipeline is behind; retry shortly")]
    Busy,
    #[error("local store: {0}")]
    Store(#[from] crate::store::StoreError),
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        match self {
            HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::NotFound(_) => StatusCode::NOT_FOUND,
            HttpError::Busy | HttpError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status_code());
        if matches!(self, HttpError::Busy) {
            r.insert_header(("Retry-After", "1"));
        }
        r.json(serde_json::json!({ "error": self.to_string() }))
    }
}

/// Builds the server on `listener`; the caller awaits (or stops) it.
pub fn server(state: Arc<State>, listener: TcpListener) -> std::io::Result<Server> {
    let state = web::Data::from(state);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(SNAPSHOT_LIMIT))
            .route("/snapshot", web::post().to(snapshot))
            .route("/healthz", web::get().to(healthz))
            .route("/metrics", web::get().to(metrics))
            .route("/", web::get().to(status))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(5)
    .listen(listener)?
    .run())
}

#[derive(serde::Deserialize)]
struct SnapshotQuery {
    camera: Option<String>,
}

async fn snapshot(
    state: web::Data<State>,
    q: web::Query<SnapshotQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    let (name, slot) = match &q.camera {
        Some(name) => state
            .push
            .get_key_value(name)
            .ok_or_else(|| HttpError::NotFound(format!("no push camera named {name}")))?,
        None if state.push.len() == 1 => state
            .push
            .iter()
            .next()
            .ok_or_else(|| HttpError::NotFound("no push camera".into()))?,
        None => {
            return Err(HttpError::BadRequest(
                "say which camera: /snapshot?camera=NAME".into(),
            ))
        }
    };
    let decoded = web::block(move || {
        image::load_from_memory_with_format(&body, image::ImageFormat::Jpeg).map(|i| i.to_rgb8())
    })
    .await
    .map_err(|_| HttpError::Busy)?;
    let image = match decoded {
        Ok(i) => i,
        Err(e) => {
            state.metrics.snapshots_rejected.inc();
            return Err(HttpError::BadRequest(format!("not a decodable JPEG: {e}")));
        }
    };
    let frame = Frame {
        seq: 0,
        at: Utc::now(),
        image: Arc::new(image),
    };
    slot.try_put(frame).map_err(|_| HttpError::Busy)?;
    state
        .metrics
        .frames
        .with_label_values(&[name.as_str()])
        .inc();
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "accepted": true })))
}

async fn healthz(state: web::Data<State>) -> Result<HttpResponse, HttpError> {
    state.store.last_upload()?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ok\n"))
}

fn refresh(state: &State) {
    state
        .metrics
        .outbox_depth
        .set(state.store.outbox_depth() as i64);
    state
        .metrics
        .permanent_failures
        .set(state.store.failure_count() as i64);
}

async fn metrics(state: web::Data<State>) -> HttpResponse {
    refresh(&state);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn status(state: web::Data<State>) -> Result<HttpResponse, HttpError> {
    refresh(&state);
    let m = &state.metrics;
    let mut h = String::with_capacity(8 << 10);
    let last = state.store.last_upload()?.map_or("never".to_owned(), |t| {
        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    });
    let uplink = m.uplink.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let (white, hot) = state
        .lists
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .sizes();
    let _ = write!(
        h,
        "<!doctype html><html lang=zh><meta charset=utf-8><meta name=viewport content='width=device-width'>\
         <title>卡点 {id}</title><style>body{{font-family:sans-serif;margin:1em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.3em .6em}}.bad{{color:#b00}}</style>\
         <h1>卡点 Checkpoint {id}</h1><p>Hub {hub} · up {up} s</p>\
         <h2>Uplink</h2><table><tr><th>Outbox</th><td>{depth}</td></tr><tr><th>Last upload</th><td>{last}</td></tr>\
         <tr><th>Permanent failures</th><td class={fc}>{fails}</td></tr><tr><th>Lists</th><td>v{v}: {white} whitelist, {hot} hotlist</td></tr>",
        id = esc(state.checkpoint_id.as_str()),
        hub = esc(&state.hub_url),
        up = m.started.elapsed().as_secs(),
        depth = state.store.outbox_depth(),
        fails = state.store.failure_count(),
        fc = if state.store.failure_count() > 0 { "bad" } else { "ok" },
        v = m.lists_version.get(),
    );
    if uplink.auth_failed {
        h.push_str("<tr><th class=bad>Token</th><td class=bad>the hub refuses this checkpoint's token: records wait</td></tr>");
    }
    if let (Some(e), Some(at)) = (&uplink.last_error, uplink.last_error_at) {
        let _ = write!(
            h,
            "<tr><th>Last error</th><td>{} ({})</td></tr>",
            esc(e),
            at.format("%H:%M:%S")
        );
    }
    h.push_str("</table><h2>Cameras</h2><table><tr><th>Camera</th><th>Source</th><th>Lane</th><th>State</th><th>fps</th><th>Frames</th><th>Dropped</th><th>Undecodable</th><th>Last error</th></tr>");
    let cams = m.cameras.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for c in &state.cameras {
        let n = c.name.as_str();
        let st = cams.get(n).cloned().unwrap_or_default();
        let source = match &c.source {
            Source::Stream(_) => "stream",
            Source::File(_) => "file",
            Source::Device(_) => "v4l2",
            Source::Stills(_) => "stills",
            Source::Push => "push",
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{source}</td><td>{} {:?}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(n),
            c.lane,
            c.direction,
            st.state,
            m.fps.with_label_values(&[n]).get(),
            m.frames.with_label_values(&[n]).get(),
            m.frames_dropped.with_label_values(&[n]).get(),
            m.frames_undecodable.with_label_values(&[n]).get(),
            esc(st.last_error.as_deref().unwrap_or("")),
        );
    }
    h.push_str("</table><h2>Refused by the hub (kept here)</h2><table><tr><th>When</th><th>Record</th><th>Status</th><th>Message</th></tr>");
    for f in state.store.failures()?.iter().rev().take(100) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.at.format("%Y-%m-%d %H:%M:%S"),
            esc(&f.item.to_string()),
            f.status.map_or("-".into(), |s| s.to_string()),
            esc(&f.message)
        );
    }
    h.push_str("</table></html>");
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(h))
}
