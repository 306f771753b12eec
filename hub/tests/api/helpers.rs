//! Starts the real hub on 127.0.0.1:0 over a fresh temp dir, with two checkpoints in
//! two counties and one person of each role, and builds test records.

#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use chrono::{DateTime, Utc};
use hub::api::*;
use hub::auth;
use hub::client::HubClient;
use hub::clock::{Clock, SettableClock};
use hub::config::Config;
use hub::server::{Application, ServeError};
use hub::store::{Store, UserRecord};
use tokio::task::JoinHandle;

pub const CP1: &str = "luanping-01";
pub const CP2: &str = "chengde-02";
pub const COUNTY1: &str = "滦平县";
pub const COUNTY2: &str = "承德县";
pub const PASSWORD: &str = "correct horse battery";

/// (name, role, county) of the people every test hub has.
pub const PEOPLE: &[(&str, Role, &str)] = &[
    ("admin", Role::Admin, COUNTY1),
    ("officer1", Role::Officer, COUNTY1),
    ("officer2", Role::Officer, COUNTY2),
    ("dispatcher1", Role::Dispatcher, COUNTY1),
    ("auditor", Role::Auditor, COUNTY1),
    ("investigator1", Role::Investigator, COUNTY1),
    ("investigator2", Role::Investigator, COUNTY2),
];

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub config: Config,
    pub base: String,
    pub http: reqwest::Client,
    pub cp1_token: String,
    pub cp2_token: String,
    /// The server's clock: tests move it to reach deadlines.
    pub clock: SettableClock,
    handle: Option<ServerHandle>,
    join: Option<JoinHandle<Result<(), ServeError>>>,
}

pub fn test_config(dir: &std::path::Path) -> Config {
    Config {
        data: dir.to_path_buf(),
        body_limit: 256 << 10,
        evidence_limit: 256 << 10,
        workers: 2,
        cache_mb: 16,
        ..Config::default()
    }
}

/// Opens the store, waiting for a stopped server's last handles to go.
pub async fn open_store(dir: &std::path::Path) -> Store {
    let mut last = None;
    for _ in 0..100 {
        match Store::open(dir, 16 << 20) {
            Ok(s) => return s,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot open the store: {last:?}");
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        tweak(&mut config);
        let (cp1_token, cp2_token) = (auth::new_token(), auth::new_token());
        {
            let store = Store::open(dir.path(), 16 << 20).unwrap();
            store
                .add_checkpoint(
                    &CheckpointId::parse(CP1).unwrap(),
                    "滦平 1 号",
                    &County::parse(COUNTY1).unwrap(),
                    auth::token_hash(&cp1_token),
                )
                .unwrap();
            store
                .add_checkpoint(
                    &CheckpointId::parse(CP2).unwrap(),
                    "承德 2 号",
                    &County::parse(COUNTY2).unwrap(),
                    auth::token_hash(&cp2_token),
                )
                .unwrap();
            let hash = auth::hash_password(PASSWORD).unwrap();
            for (name, role, county) in PEOPLE {
                store
                    .add_user(&UserRecord {
                        name: UserName::parse(name).unwrap(),
                        role: *role,
                        county: County::parse(county).unwrap(),
                        password_hash: hash.clone(),
                        created_at: Utc::now(),
                    })
                    .unwrap();
            }
            store.flush_blocking().unwrap();
        }
        let mut app = TestApp {
            dir,
            config,
            base: String::new(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cp1_token,
            cp2_token,
            clock: SettableClock::new(Utc::now()),
            handle: None,
            join: None,
        };
        app.start().await;
        app
    }

    /// Starts a server on the data dir (a new port each time).
    pub async fn start(&mut self) {
        let store = open_store(self.dir.path()).await;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let app = Application::build_with_clock(
            self.config.clone(),
            store,
            listener,
            Arc::new(self.clock.clone()),
        )
        .unwrap();
        self.base = format!("http://{}", app.addr());
        self.handle = Some(app.handle());
        self.join = Some(tokio::spawn(app.run_until_stopped()));
    }

    /// Stops the server gracefully; the store is flushed and closed.
    pub async fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.stop(true).await;
        }
        if let Some(j) = self.join.take() {
            j.await.unwrap().unwrap();
            // Wait until the workers' last store handles are gone, so that another
            // process (the CLI) can take sled's lock.
            drop(open_store(self.dir.path()).await);
        }
    }

    pub async fn restart(&mut self) {
        self.stop().await;
        self.start().await;
    }

    /// Stops the server and opens its store for inspection.
    pub async fn stop_and_open(&mut self) -> Store {
        self.stop().await;
        open_store(self.dir.path()).await
    }

    /// The server's "now".
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn client(&self, token: &str) -> HubClient {
        HubClient::new(&self.base, token).unwrap()
    }

    pub fn cp1(&self) -> HubClient {
        self.client(&self.cp1_token)
    }

    pub fn cp2(&self) -> HubClient {
        self.client(&self.cp2_token)
    }

    /// Logs `name` in; the session token.
    pub async fn login(&self, name: &str) -> String {
        let resp = self
            .http
            .post(self.url("/api/v1/login"))
            .json(&LoginRequest {
                name: name.into(),
                password: PASSWORD.into(),
            })
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "login {name}");
        resp.json::<LoginResponse>().await.unwrap().token
    }

    /// `GET path` as the holder of `token`.
    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// `GET path` as `token`, expecting a 200 CSV download; its text.
    pub async fn get_csv(&self, token: &str, path: &str) -> String {
        let resp = self.get(token, path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/csv"), "{path}: {kind}");
        resp.text().await.unwrap()
    }

    pub async fn get_json(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        let resp = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn post_json(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let resp = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            drop(h.stop(false));
        }
    }
}

/// Percent-encodes a query or form value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A small JPEG whose content depends on `seed`.
pub fn jpeg(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([seed, (x * 4) as u8, (y * 5) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out.into_inner()
}

pub fn passage(
    cp: &str,
    plate: Option<&str>,
    seen_at: DateTime<Utc>,
    evidence: Vec<EvidenceRef>,
) -> Passage {
    Passage {
        id: PassageId::new(),
        checkpoint_id: CheckpointId::parse(cp).unwrap(),
        seen_at,
        lane: 1,
        direction: Direction::Inbound,
        plate: plate.map(|p| PlateRead {
            text: PlateText::parse(p).unwrap(),
            color: PlateColor::Yellow,
            layout: PlateLayout::Single,
            confidence: 0.97,
        }),
        cargo: Some(CargoRead {
            cover: Cover::Open,
            material: Material::Coal,
            confidence: 0.91,
        }),
        evidence,
    }
}

pub fn incident(p: &Passage, kind: &str) -> Incident {
    Incident {
        id: IncidentId::new(),
        passage_id: p.id,
        checkpoint_id: p.checkpoint_id.clone(),
        kind: IncidentKind::parse(kind).unwrap(),
        severity: Severity::High,
        created_at: p.seen_at,
    }
}

/// A passage with frame and plate evidence uploaded, and its incident; all posted
/// by `cp`'s client.
pub async fn seed_incident(app: &TestApp, cp: &str, plate: &str, seed: u8) -> (Passage, Incident) {
    let client = if cp == CP1 { app.cp1() } else { app.cp2() };
    let (frame, crop) = (jpeg(seed), jpeg(seed.wrapping_add(100)));
    let ev = vec![
        EvidenceRef {
            sha256: Sha256::of(&frame),
            kind: EvidenceKind::Frame,
        },
        EvidenceRef {
            sha256: Sha256::of(&crop),
            kind: EvidenceKind::Plate,
        },
    ];
    client.put_evidence(&ev[0].sha256, frame).await.unwrap();
    client.put_evidence(&ev[1].sha256, crop).await.unwrap();
    let p = passage(cp, Some(plate), Utc::now(), ev);
    let i = incident(&p, "suspected_loose_coal");
    client
        .post_passages(std::slice::from_ref(&p))
        .await
        .unwrap();
    client
        .post_incidents(std::slice::from_ref(&i))
        .await
        .unwrap();
    (p, i)
}

/// A live incident stream (`GET /api/v1/incidents/events`) read frame by frame.
pub struct EventStream {
    resp: reqwest::Response,
    buf: String,
}

impl EventStream {
    /// Opens the stream as the person behind `token`; panics unless it is 200
    /// `text/event-stream`.
    pub async fn open(app: &TestApp, token: &str) -> EventStream {
        let resp = app
            .http
            .get(app.url("/api/v1/incidents/events"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        let mut s = EventStream {
            resp,
            buf: String::new(),
        };
        // The first frame says the stream is open; after it, nothing is missed.
        let first = s
            .frame(Duration::from_secs(2))
            .await
            .expect("a first frame");
        assert!(first.contains(": connected"), "{first}");
        s
    }

    /// The next frame (an event or a comment) within `within`, or `None`.
    pub async fn frame(&mut self, within: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(i) = self.buf.find("\n\n") {
                let f = self.buf[..i].to_owned();
                self.buf.drain(..i + 2);
                return Some(f);
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// Whether the server ends the stream within `within` (frames before are skipped).
    pub async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None) | Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }

    /// The data of the next `event: incident` within `within`, skipping comments.
    pub async fn incident(&mut self, within: Duration) -> Option<serde_json::Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let f = self.frame(left).await?;
            if let Some(rest) = f.strip_prefix("event: incident\ndata: ") {
                return Some(serde_json::from_str(rest).unwrap());
            }
        }
    }
}

/// Posts `csv` to a list's import as `token`.
pub async fn post_csv(
    app: &TestApp,
    token: &str,
    list: &str,
    csv: &str,
) -> (u16, serde_json::Value) {
    let resp = app
        .http
        .post(app.url(&format!("/api/v1/lists/{list}/csv")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

/// An outcome action with `fields` added.
pub fn outcome(o: &str, fields: serde_json::Value) -> serde_json::Value {
    let mut body = serde_json::json!({"action": "outcome", "outcome": o});
    if let (Some(b), Some(f)) = (body.as_object_mut(), fields.as_object()) {
        b.extend(f.clone());
    }
    body
}
