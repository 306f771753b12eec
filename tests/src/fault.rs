//! A proxy between a node and the hub that misbehaves on a script: the hub answering
//! 500 and 429 for a while, then answers lost after the hub stored the request (the
//! node must retry, and the hub's id check must keep the retry from duplicating).

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

/// How the proxy misbehaves, in order.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    /// The first requests get 500 and 429 in turn, without reaching the hub.
    pub refuse_first: usize,
    /// The next requests reach the hub, which stores them, but the answer is lost (502).
    pub lose_answers: usize,
}

/// What the proxy did.
#[derive(Debug, Default)]
pub struct Tally {
    pub seen: AtomicUsize,
    pub refused: AtomicUsize,
    pub answers_lost: AtomicUsize,
}

struct State {
    hub: String,
    http: reqwest::Client,
    refuse_left: AtomicUsize,
    lose_left: AtomicUsize,
    tally: Arc<Tally>,
}

/// A running proxy.
pub struct FaultyHub {
    pub url: String,
    pub tally: Arc<Tally>,
    handle: actix_web::dev::ServerHandle,
}

impl FaultyHub {
    /// Starts a proxy to `hub` on a free local port.
    pub fn start(hub: &str, script: Script) -> FaultyHub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let tally = Arc::new(Tally::default());
        let state = web::Data::new(State {
            hub: hub.to_owned(),
            http: reqwest::Client::new(),
            refuse_left: AtomicUsize::new(script.refuse_first),
            lose_left: AtomicUsize::new(script.lose_answers),
            tally: tally.clone(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(64 << 20))
                .default_service(web::to(forward))
        })
        .workers(1)
        .listen(listener)
        .expect("proxy listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FaultyHub { url, tally, handle }
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// Takes one from a budget; false when it is spent.
fn take_one(n: &AtomicUsize) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
        .is_ok()
}

async fn forward(state: web::Data<State>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let n = state.tally.seen.fetch_add(1, Ordering::SeqCst);
    if take_one(&state.refuse_left) {
        state.tally.refused.fetch_add(1, Ordering::SeqCst);
        return if n % 2 == 0 {
            HttpResponse::InternalServerError().json(serde_json::json!({"error": "injected 500"}))
        } else {
            HttpResponse::TooManyRequests()
                .insert_header(("retry-after", "1"))
                .json(serde_json::json!({"error": "injected 429"}))
        };
    }
    let method =
        reqwest::Method::from_bytes(req.method().as_str().as_bytes()).expect("a valid method");
    let mut fwd = state
        .http
        .request(method, format!("{}{}", state.hub, req.uri()));
    for h in ["authorization", "content-type", "if-none-match"] {
        if let Some(v) = req.headers().get(h) {
            fwd = fwd.header(h, v.as_bytes());
        }
    }
    let resp = match fwd.body(body.to_vec()).send().await {
        Ok(r) => r,
        Err(e) => return HttpResponse::BadGateway().body(format!("hub unreachable: {e}")),
    };
    let status = resp.status().as_u16();
    let headers: Vec<(String, Vec<u8>)> = ["content-type", "etag"]
        .into_iter()
        .filter_map(|h| {
            resp.headers()
                .get(h)
                .map(|v| (h.to_owned(), v.as_bytes().to_vec()))
        })
        .collect();
    let bytes = resp.bytes().await.unwrap_or_default();
    // Only a request the hub accepted can lose its answer in a meaningful way.
    if (200..300).contains(&status)
        && req.method() == actix_web::http::Method::POST
        && take_one(&state.lose_left)
    {
        state.tally.answers_lost.fetch_add(1, Ordering::SeqCst);
        return HttpResponse::BadGateway().finish();
    }
    let mut out =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a valid status"));
    for (h, v) in headers {
        out.insert_header((h, v));
    }
    out.body(bytes.to_vec())
}
