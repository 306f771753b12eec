//! `GET /api/v1/incidents/events`: the live incident queue as server-sent events.
//!
//! Each event is `event: incident` with `{"incident": IncidentView, "html": "<li>…"}`:
//! the JSON for programs, the queue row already rendered in the person's language for
//! the tablet page's small script, so the words stay in one place (`pages::i18n`).
//! Only incidents of counties the person sees are sent; a comment line every
//! `sse_keepalive_secs` keeps idle connections open, and is also when the session is
//! checked again: a stream ends with its session (logout, expiry).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;
use tokio::time::{interval_at, Instant, Interval};

use chrono::Utc;
use prometheus::IntGauge;

use crate::api::{IncidentView, Sha256};
use crate::auth;
use crate::pages::i18n::{lang_of, Ui};
use crate::server::extract::{session_token, Person};
use crate::server::{AppState, Metrics};
use crate::store::Store;

/// One frame of the stream.
fn frame(event: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

fn incident_frame(t: &Ui, v: &IncidentView) -> Bytes {
    let html = crate::pages::queue_item(t, v).into_string();
    frame(
        "incident",
        &serde_json::json!({"incident": v, "html": html}),
    )
}

/// Counts a stream as open while it lives.
struct Open(IntGauge);

impl Open {
    fn new(g: &IntGauge) -> Open {
        g.inc();
        Open(g.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.dec();
    }
}

struct Feed {
    rx: Receiver<IncidentView>,
    store: Store,
    session: Sha256,
    _open: Open,
    closing: tokio::sync::watch::Receiver<bool>,
    tick: Interval,
    person: Arc<Person>,
    t: &'static Ui,
    started: bool,
}

async fn next(mut feed: Feed) -> Option<(Result<Bytes, Infallible>, Feed)> {
    if !feed.started {
        feed.started = true;
        // `retry`: how soon the browser reconnects after a dropped link.
        return Some((
            Ok(Bytes::from_static(b"retry: 2000\n: connected\n\n")),
            feed,
        ));
    }
    loop {
        if *feed.closing.borrow() {
            return None;
        }
        tokio::select! {
            // Shutting down (or the sender is gone): end the stream.
            _ = feed.closing.changed() => continue,
            got = feed.rx.recv() => match got {
                Ok(v) if feed.person.sees(&v.county) => {
                    let out = incident_frame(feed.t, &v);
                    return Some((Ok(out), feed));
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(n)) => {
                    let out = frame("resync", &serde_json::json!({"missed": n}));
                    return Some((Ok(out), feed));
                }
                Err(RecvError::Closed) => return None,
            },
            _ = feed.tick.tick() => {
                if !matches!(feed.store.session(&feed.session, Utc::now()), Ok(Some(_))) {
                    return None;
                }
                return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), feed));
            }
        }
    }
}

/// `GET /api/v1/incidents/events`.
pub async fn stream(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    person: Person,
    req: HttpRequest,
) -> HttpResponse {
    let every = Duration::from_secs(state.config.sse_keepalive_secs);
    let feed = Feed {
        rx: state.live.subscribe(),
        store: state.store.clone(),
        // The Person extractor found this token valid a moment ago.
        session: auth::token_hash(&session_token(&req).unwrap_or_default()),
        _open: Open::new(&metrics.live_streams),
        closing: state.live.closing(),
        tick: interval_at(Instant::now() + every, every),
        person: Arc::new(person),
        t: lang_of(&req),
        started: false,
    };
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Tells nginx-style proxies not to buffer the stream.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::stream::unfold(feed, next))
}
