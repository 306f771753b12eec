//! The pipeline: wires capture → perceive (detect → read → classify) → track →
//! judge → store, with the uplink, retention and the local HTTP endpoint beside it.
//!
//! Each camera has a capture thread and a worker thread joined by a [`Slot`](crate::capture::Slot); the
//! worker owns its [`Perception`](crate::pipeline::Perception) and its [`Tracker`](crate::track::Tracker), so nothing on the per-frame
//! path is shared or locked except the lists (a read lock per passage). A passage is
//! committed to the store, durably, before the worker takes the next frame; if the
//! store fails the worker retries rather than lose the record, and a live camera
//! meanwhile drops stale frames.
//!
//! **Perception.** With `models.plate_detector` (and `models.plate_reader`, and
//! optionally `models.cargo_classifier`) configured, [`Node::start`] loads the
//! networks once and gives each camera worker a [`ModelPerception`] with its own
//! run state (see [`crate::perception`]). Without a detector it runs
//! [`NoDetector`]: frames are captured, counted and timed, but produce no passages.
//! Other perceptions plug in through [`Node::start_with`].

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use hub::api::{
    CheckpointId, EvidenceKind, EvidenceRef, Incident, IncidentId, Passage, PassageId, PlateRead,
};
use hub::client::HubClient;
use image::RgbImage;
use tokio::sync::{watch, Notify};

use crate::capture::{self, Slot, Taken};
use crate::config::{Camera, Config, Rules, Source};
use crate::judge::{self, ListIndex};
use crate::metrics::Metrics;
use crate::perception::ModelPerception;
use crate::store::{Evidence, Record, Store, StoreError};
use crate::track::{BBox, Detection, Passed, Tracker};
use crate::uplink::Uplink;

/// Why perception failed on a frame (the frame is skipped and counted).
#[derive(Debug, thiserror::Error)]
pub enum PerceptionError {
    #[error("model failed: {0}")]
    Model(String),
}

/// Detect → read → classify on one frame: every vehicle seen, with its plate read
/// and its load classified where they show.
pub trait Perception: Send {
    /// Appends this frame's detections to `out` (cleared by the caller).
    fn perceive(
        &mut self,
        frame: &RgbImage,
        out: &mut Vec<Detection>,
    ) -> Result<(), PerceptionError>;
}

/// The perception of a node without a detector model: sees nothing. See the module
/// documentation for why this is the only one today.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDetector;

impl Perception for NoDetector {
    fn perceive(
        &mut self,
        _frame: &RgbImage,
        _out: &mut Vec<Detection>,
    ) -> Result<(), PerceptionError> {
        Ok(())
    }
}

/// Why the node could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("cannot open the local store in {path}: {source}")]
    Store { path: String, source: StoreError },
    #[error("bad hub settings: {0}")]
    Hub(#[from] hub::client::ClientError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
    #[error("cannot flush the local store: {0}")]
    Flush(StoreError),
    #[error("cannot load the models: {0}")]
    Models(#[from] models::Error),
}

/// What every worker needs.
struct Shared {
    checkpoint_id: CheckpointId,
    rules: Rules,
    store: Store,
    lists: Arc<RwLock<ListIndex>>,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
    stop: Arc<AtomicBool>,
    /// `track.min_frames`.
    min_frames: u32,
}

/// A running checkpoint node.
pub struct Node {
    http_addr: SocketAddr,
    store: Store,
    metrics: Arc<Metrics>,
    wake: Arc<Notify>,
    stop: Arc<AtomicBool>,
    shutdown: watch::Sender<bool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    http: actix_web::dev::ServerHandle,
    /// The HTTP state (holding a store handle) while any server thread still has it.
    http_state: std::sync::Weak<crate::http::State>,
    slots: Vec<Arc<Slot>>,
}

impl Node {
    /// Starts the node: with [`ModelPerception`] when `models.plate_detector` is
    /// configured (the networks loaded once here, each camera worker given its own
    /// run state over them), otherwise with [`NoDetector`].
    pub async fn start(config: Config) -> Result<Node, NodeError> {
        let (Some(detector), Some(reader)) = (&config.plate_detector, &config.plate_reader) else {
            return Node::start_with(config, |_| Box::new(NoDetector)).await;
        };
        // Loading optimises the graphs (about a second): once, at start-up.
        let mut loaded =
            ModelPerception::load(detector, reader, config.cargo_classifier.as_deref())?;
        if !config.detector_tiling {
            loaded.disable_tiling();
        }
        tracing::info!(detector = %detector.display(), reader = %reader.display(), classifier = ?config.cargo_classifier, "models loaded");
        let mut per_camera = HashMap::new();
        for cam in &config.cameras {
            per_camera.insert(cam.name.clone(), loaded.try_clone()?);
        }
        let per_camera = std::sync::Mutex::new(per_camera);
        Node::start_with(config, move |cam| {
            match per_camera.lock().ok().and_then(|mut m| m.remove(&cam.name)) {
                Some(p) => Box::new(p) as Box<dyn Perception>,
                // Camera names are unique (checked by the config): not reached.
                None => Box::new(NoDetector),
            }
        })
        .await
    }

    /// Starts the node, giving each camera's worker the perception `perception`
    /// makes for it. Must run inside a tokio runtime.
    pub async fn start_with(
        config: Config,
        perception: impl Fn(&Camera) -> Box<dyn Perception>,
    ) -> Result<Node, NodeError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| NodeError::Store {
            path: config.data_dir.display().to_string(),
            source: StoreError::Sled(e.into()),
        })?;
        let store = Store::open(&config.data_dir).map_err(|source| NodeError::Store {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let metrics = Arc::new(Metrics::new());
        // The lists last synced: rules work offline from the first frame.
        let lists = match store.lists() {
            Ok(Some((l, _))) => ListIndex::new(&l),
            Ok(None) => ListIndex::default(),
            Err(e) => {
                tracing::error!(error = %e, "stored lists are unreadable; starting without them until the next sync");
                ListIndex::default()
            }
        };
        metrics.lists_version.set(lists.version as i64);
        if let Ok(Some(t)) = store.last_upload() {
            metrics
                .last_upload
                .set(t.timestamp_millis() as f64 / 1000.0);
        }
        let lists = Arc::new(RwLock::new(lists));
        let wake = Arc::new(Notify::new());
        let stop = Arc::new(AtomicBool::new(false));
        let (shutdown, shutdown_rx) = watch::channel(false);
        if config.plate_reader.is_some() && config.plate_detector.is_none() {
            tracing::warn!("models.plate_reader is set but unused: set models.plate_detector to find plates for it");
        }

        let shared = Arc::new(Shared {
            checkpoint_id: config.checkpoint_id.clone(),
            rules: config.rules.clone(),
            store: store.clone(),
            lists: lists.clone(),
            metrics: metrics.clone(),
            wake: wake.clone(),
            stop: stop.clone(),
            min_frames: config.track.min_frames,
        });
        let mut threads = Vec::new();
        let mut slots = Vec::new();
        let mut push = HashMap::new();
        for cam in &config.cameras {
            let slot = if cam.source == Source::Push {
                Slot::with_capacity(8)
            } else {
                Slot::new()
            };
            slots.push(slot.clone());
            if cam.source == Source::Push {
                push.insert(cam.name.clone(), slot.clone());
                metrics.camera_state(&cam.name, "waiting for snapshots", None);
            } else {
                threads.push(
                    capture::spawn(cam.clone(), slot.clone(), metrics.clone(), stop.clone())
                        .map_err(NodeError::Thread)?,
                );
            }
            let worker = Worker {
                camera: cam.clone(),
                slot,
                perception: perception(cam),
                tracker: Tracker::new(config.track),
                shared: shared.clone(),
            };
            threads.push(
                std::thread::Builder::new()
                    .name(format!("work-{}", cam.name))
                    .spawn(move || worker.run())
                    .map_err(NodeError::Thread)?,
            );
        }

        let client = HubClient::with_timeout(
            &config.hub_url,
            config.token.expose(),
            config.uplink.request_timeout,
        )?;
        let uplink = Uplink {
            store: store.clone(),
            client,
            settings: config.uplink,
            metrics: metrics.clone(),
            lists: lists.clone(),
            wake: wake.clone(),
        };
        let mut tasks = vec![tokio::spawn(uplink.run(shutdown_rx.clone()))];
        tasks.push(tokio::spawn(retention(
            store.clone(),
            config.retention,
            shutdown_rx,
        )));

        let listener =
            std::net::TcpListener::bind(config.listen).map_err(|source| NodeError::Listen {
                addr: config.listen,
                source,
            })?;
        let http_addr = listener.local_addr().map_err(|source| NodeError::Listen {
            addr: config.listen,
            source,
        })?;
        let state = Arc::new(crate::http::State {
            checkpoint_id: config.checkpoint_id.clone(),
            hub_url: config.hub_url.clone(),
            cameras: config.cameras.clone(),
            store: store.clone(),
            metrics: metrics.clone(),
            lists,
            push,
        });
        let http_state = Arc::downgrade(&state);
        let server = crate::http::server(state, listener).map_err(|source| NodeError::Listen {
            addr: config.listen,
            source,
        })?;
        let http = server.handle();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "local HTTP server failed");
            }
        }));
        tracing::info!(checkpoint = %config.checkpoint_id, http = %http_addr, cameras = config.cameras.len(), "checkpoint running");
        Ok(Node {
            http_addr,
            store,
            metrics,
            wake,
            stop,
            shutdown,
            threads,
            tasks,
            http,
            http_state,
            slots,
        })
    }

    /// Where `/snapshot`, `/healthz`, `/metrics` and the status page are served.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The local log (tests put records in as the pipeline would).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Tells the uplink that records are waiting.
    pub fn wake_uplink(&self) {
        self.wake.notify_one();
    }

    /// Stops cameras, workers (which commit what they were tracking), the uplink and
    /// the HTTP server, then flushes the store.
    pub async fn stop(self) -> Result<(), NodeError> {
        self.http.stop(true).await;
        self.stop.store(true, Ordering::Relaxed);
        for s in &self.slots {
            s.close();
        }
        let threads = self.threads;
        // Joining blocks: do it off the async threads.
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        // actix's worker thread drops its copy of the HTTP state, and with it a store
        // handle, a moment after the server future has finished. Wait for it, so
        // that whoever reopens the data dir after `stop` finds sled's lock free.
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.http_state.strong_count() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.store.flush().map_err(NodeError::Flush)?;
        tracing::info!(
            outbox = self.store.outbox_depth(),
            "checkpoint stopped, store flushed"
        );
        Ok(())
    }
}

/// Starts the node and runs it until `shutdown` resolves: what `main` and the tests
/// call.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), NodeError> {
    let node = Node::start(config).await?;
    shutdown.await;
    node.stop().await
}

async fn retention(store: Store, r: crate::config::Retention, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(r.sweep_every) => {}
            _ = shutdown.changed() => return,
        }
        let s = store.clone();
        match tokio::task::spawn_blocking(move || {
            s.sweep(Utc::now(), r.max_age, r.disk_budget_bytes)
        })
        .await
        {
            Ok(Ok(sweep)) if sweep != Default::default() => {
                tracing::info!(?sweep, "retention sweep")
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "retention sweep failed"),
            Err(e) => tracing::error!(error = %e, "retention sweep panicked"),
        }
    }
}

/// One camera's worker: perceive → track → judge → store.
struct Worker {
    camera: Camera,
    slot: Arc<Slot>,
    perception: Box<dyn Perception>,
    tracker: Tracker<Arc<RgbImage>>,
    shared: Arc<Shared>,
}

impl Worker {
    fn run(mut self) {
        let name = self.camera.name.clone();
        let stage = |s: &str| self.shared.metrics.stage_seconds.with_label_values(&[s]);
        let (perceive_t, track_t) = (stage("perceive"), stage("track"));
        let mut detections = Vec::new();
        let mut closed = Vec::new();
        loop {
            match self.slot.take(Duration::from_millis(200)) {
                Taken::Frame(frame) => {
                    detections.clear();
                    let t = Instant::now();
                    if let Err(e) = self.perception.perceive(&frame.image, &mut detections) {
                        tracing::warn!(camera = %name, error = %e, "perception failed; frame skipped");
                        self.shared
                            .metrics
                            .frames_undecodable
                            .with_label_values(&[name.as_str()])
                            .inc();
                        continue;
                    }
                    perceive_t.observe(t.elapsed().as_secs_f64());
                    let t = Instant::now();
                    self.tracker
                        .observe(frame.at, &frame.image, &detections, &mut closed);
                    if self.camera.source == Source::Push {
                        // A trigger camera sends one snapshot per vehicle.
                        self.tracker.flush(&mut closed);
                    }
                    track_t.observe(t.elapsed().as_secs_f64());
                }
                // A quiet road closes a live camera's vehicles by the wall clock; a
                // replay's run on its own time line and close with its frames or at its end.
                Taken::Empty if self.camera.source.is_live() => {
                    self.tracker.expire(Utc::now(), &mut closed)
                }
                Taken::Empty => {}
                Taken::Closed => {
                    self.tracker.flush(&mut closed);
                    for p in closed.drain(..) {
                        self.commit_if_seen(p);
                    }
                    if !self.camera.source.is_live() {
                        self.shared
                            .metrics
                            .replay_done
                            .with_label_values(&[name.as_str()])
                            .set(1);
                    }
                    break;
                }
            }
            for p in closed.drain(..) {
                self.commit_if_seen(p);
            }
        }
        tracing::debug!(camera = %name, "worker stopped");
    }

    /// Commits a closed track unless it is too short to be a vehicle (a trigger
    /// camera's single snapshot always is one).
    fn commit_if_seen(&self, passed: Passed<Arc<RgbImage>>) {
        if passed.frames < self.shared.min_frames && self.camera.source != Source::Push {
            self.shared.metrics.tracks_discarded.inc();
            return;
        }
        self.commit(passed);
    }

    /// Judges and stores one passage, retrying the store until it succeeds.
    fn commit(&self, passed: Passed<Arc<RgbImage>>) {
        let record = self.record(&passed);
        let span =
            tracing::info_span!("passage", id = %record.passage.id, camera = %self.camera.name);
        let _g = span.enter();
        let t = Instant::now();
        let mut wait = Duration::from_millis(100);
        loop {
            match self.shared.store.commit(&record) {
                Ok(_) => break,
                Err(e) => {
                    // Never drop a passage or an incident: keep trying; live cameras
                    // drop stale frames meanwhile.
                    tracing::error!(error = %e, "cannot store passage; retrying");
                    if self.shared.stop.load(Ordering::Relaxed) && wait >= Duration::from_secs(5) {
                        tracing::error!("giving up at shutdown: passage lost");
                        return;
                    }
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
        self.shared
            .metrics
            .stage_seconds
            .with_label_values(&["store"])
            .observe(t.elapsed().as_secs_f64());
        self.shared.metrics.passages.inc();
        let p = &record.passage;
        tracing::info!(
            plate = p.plate.as_ref().map_or("-", |r| r.text.as_str()),
            cover = ?p.cargo.as_ref().map(|c| c.cover),
            material = ?p.cargo.as_ref().map(|c| c.material),
            frames = passed.frames,
            "passage stored"
        );
        self.shared
            .metrics
            .incidents
            .inc_by(record.incidents.len() as u64);
        for i in &record.incidents {
            tracing::info!(incident = %i.id, kind = %i.kind.as_str(), severity = ?i.severity, "incident");
        }
        self.shared.wake.notify_one();
    }

    /// Builds the passage, its evidence and its incidents.
    fn record(&self, passed: &Passed<Arc<RgbImage>>) -> Record {
        let stage = |s: &str| self.shared.metrics.stage_seconds.with_label_values(&[s]);
        let t = Instant::now();
        let frame = &passed.best_frame;
        let mut evidence = Vec::new();
        let mut refs = Vec::new();
        let mut add = |kind, jpeg: Option<Vec<u8>>| {
            if let Some(jpeg) = jpeg {
                let ev = Evidence::new(jpeg);
                refs.push(EvidenceRef {
                    sha256: ev.sha256,
                    kind,
                });
                if !evidence.iter().any(|e: &Evidence| e.sha256 == ev.sha256) {
                    evidence.push(ev);
                }
            }
        };
        add(EvidenceKind::Frame, jpeg(frame, None));
        add(
            EvidenceKind::Plate,
            passed
                .best
                .plate
                .as_ref()
                .and_then(|p| p.bbox)
                .and_then(|b| jpeg(frame, Some(b))),
        );
        add(
            EvidenceKind::Load,
            passed
                .best
                .cargo
                .as_ref()
                .and_then(|c| c.bbox)
                .and_then(|b| jpeg(frame, Some(b))),
        );
        let passage = Passage {
            id: PassageId::new(),
            checkpoint_id: self.shared.checkpoint_id.clone(),
            seen_at: passed.first_seen,
            lane: self.camera.lane,
            direction: self.camera.direction,
            plate: passed.plate.as_ref().map(|v| PlateRead {
                text: v.text.clone(),
                color: v.color,
                layout: v.layout,
                confidence: v.confidence,
            }),
            cargo: passed.cargo.clone(),
            evidence: refs,
        };
        stage("evidence").observe(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let now = Utc::now();
        let findings = {
            let lists = self.shared.lists.read().unwrap_or_else(|p| p.into_inner());
            judge::judge(&passage, &self.shared.rules, &lists, now)
        };
        stage("judge").observe(t.elapsed().as_secs_f64());
        let incidents = findings
            .into_iter()
            .map(|f| Incident {
                id: IncidentId::new(),
                passage_id: passage.id,
                checkpoint_id: passage.checkpoint_id.clone(),
                kind: f.kind,
                severity: f.severity,
                created_at: now,
            })
            .collect();
        Record {
            passage,
            evidence,
            incidents,
        }
    }
}

/// The frame, or a crop of it, as JPEG; `None` for an empty crop or an encoder error.
/// JPEG at quality 90 through OpenCV (libjpeg-turbo): a 1080p frame in a few
/// milliseconds, where the pure-Rust encoder took about 70 — time the worker, and a
/// live camera's frames, would otherwise wait for at every passage.
fn encode_jpeg(img: &RgbImage, out: &mut Vec<u8>) -> opencv::Result<()> {
    use opencv::core::{Mat, Vector};
    use opencv::prelude::*;
    let (w, h) = img.dimensions();
    let flat = Mat::from_slice(img.as_raw())?;
    let rgb = flat.reshape(3, h as i32)?;
    debug_assert_eq!(rgb.cols(), w as i32);
    let mut bgr = Mat::default();
    opencv::imgproc::cvt_color_def(&rgb, &mut bgr, opencv::imgproc::COLOR_RGB2BGR)?;
    let mut buf = Vector::<u8>::new();
    let params = Vector::from_slice(&[opencv::imgcodecs::IMWRITE_JPEG_QUALITY, 90]);
    opencv::imgcodecs::imencode(".jpg", &bgr, &mut buf, &params)?;
    *out = buf.to_vec();
    Ok(())
}

fn jpeg(frame: &RgbImage, crop: Option<BBox>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let enc = |img: &RgbImage, out: &mut Vec<u8>| encode_jpeg(img, out);
    let result = match crop {
        None => enc(frame, &mut out),
        Some(b) => {
            let (fw, fh) = frame.dimensions();
            let x = b.x.max(0.0) as u32;
            let y = b.y.max(0.0) as u32;
            if x >= fw || y >= fh {
                return None;
            }
            let w = (b.w.max(0.0) as u32).min(fw - x);
            let h = (b.h.max(0.0) as u32).min(fh - y);
            if w == 0 || h == 0 {
                return None;
            }
            enc(
                &image::imageops::crop_imm(frame, x, y, w, h).to_image(),
                &mut out,
            )
        }
    };
    match result {
        Ok(()) => Some(out),
        Err(e) => {
            tracing::warn!(error = %e, "cannot encode evidence");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{RawConfig, TrackSettings};
    use crate::track::{CargoObservation, PlateObservation};
    use hub::api::{CargoRead, Cover, Direction, Material, PlateColor, PlateLayout};

    /// A stand-in perception for the wiring test: sees one truck with an open coal
    /// load in every frame. (Tests only: the product ships [`NoDetector`].)
    struct SeesOneTruck;

    impl Perception for SeesOneTruck {
        fn perceive(
            &mut self,
            frame: &RgbImage,
            out: &mut Vec<Detection>,
        ) -> Result<(), PerceptionError> {
            let (w, h) = frame.dimensions();
            out.push(Detection {
                vehicle: Some(BBox {
                    x: 0.0,
                    y: 0.0,
                    w: w as f32,
                    h: h as f32,
                }),
                score: 0.9,
                plate: Some(PlateObservation {
                    text: "晋H93513".into(),
                    char_confidences: vec![0.9; 7],
                    color: PlateColor::Yellow,
                    layout: PlateLayout::Single,
                    bbox: Some(BBox {
                        x: 1.0,
                        y: 1.0,
                        w: 4.0,
                        h: 2.0,
                    }),
                }),
                cargo: Some(CargoObservation {
                    read: CargoRead {
                        cover: Cover::Open,
                        material: Material::Coal,
                        confidence: 0.95,
                    },
                    bbox: Some(BBox {
                        x: 0.0,
                        y: 0.0,
                        w: 8.0,
                        h: 3.0,
                    }),
                }),
            });
            Ok(())
        }
    }

    fn config(data: &std::path::Path, stills: &std::path::Path) -> Config {
        let mut raw = RawConfig {
            checkpoint_id: "cp-test".into(),
            token: "t".into(),
            listen: "127.0.0.1:0".into(),
            hub_url: "http://127.0.0.1:9".into(),
            ..RawConfig::default()
        };
        raw.data_dir = data.into();
        raw.cameras = vec![crate::config::RawCamera {
            name: "replay".into(),
            source: stills.display().to_string(),
            lane: 2,
            direction: Direction::Outbound,
            replay_fps: 0.0,
        }];
        let mut c = Config::from_raw(raw).unwrap();
        c.track = TrackSettings {
            gap: Duration::from_millis(300),
            ..c.track
        };
        c
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn frames_become_a_judged_durable_passage() {
        let data = tempfile::tempdir().unwrap();
        let stills = tempfile::tempdir().unwrap();
        for i in 0..3 {
            RgbImage::from_pixel(16, 12, image::Rgb([40, 40, 40]))
                .save(stills.path().join(format!("{i}.png")))
                .unwrap();
        }
        let node = Node::start_with(config(data.path(), stills.path()), |_| {
            Box::new(SeesOneTruck)
        })
        .await
        .unwrap();
        // The replay ends, the worker flushes its tracker and commits.
        let deadline = Instant::now() + Duration::from_secs(20);
        while node.store().passage_count() == 0 {
            assert!(Instant::now() < deadline, "no passage");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let store = node.store().clone();
        node.stop().await.unwrap();
        let ps = store.passages().unwrap();
        assert_eq!(ps.len(), 1, "three frames of one truck are one passage");
        let p = &ps[0].passage;
        assert_eq!(p.plate.as_ref().unwrap().text.as_str(), "晋H93513");
        assert_eq!((p.lane, p.direction), (2, Direction::Outbound));
        assert_eq!(p.evidence.len(), 3, "frame, plate and load crops");
        for r in &p.evidence {
            let jpeg = store.evidence(&r.sha256).unwrap().unwrap();
            assert!(image::load_from_memory(&jpeg).is_ok());
        }
        let kinds: Vec<String> = store
            .incidents()
            .unwrap()
            .iter()
            .map(|i| i.incident.kind.to_string())
            .collect();
        assert_eq!(kinds, ["suspected_loose_coal", "uncovered_load"]);
        assert_eq!(ps[0].incidents.len(), 2);
        // 3 evidence + 1 passage + 2 incidents queued for the hub (which is not there).
        assert_eq!(store.outbox_depth(), 6);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_a_detector_frames_are_counted_but_make_no_passages() {
        let data = tempfile::tempdir().unwrap();
        let stills = tempfile::tempdir().unwrap();
        for i in 0..4 {
            RgbImage::new(8, 8)
                .save(stills.path().join(format!("{i}.png")))
                .unwrap();
        }
        let node = Node::start(config(data.path(), stills.path()))
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while node.metrics().frames.with_label_values(&["replay"]).get() < 4 {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let store = node.store().clone();
        node.stop().await.unwrap();
        assert_eq!(store.passage_count(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn run_serves_until_shutdown_then_flushes() {
        let data = tempfile::tempdir().unwrap();
        let stills = tempfile::tempdir().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let node = tokio::spawn(run(config(data.path(), stills.path()), async {
            let _ = rx.await;
        }));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!node.is_finished(), "runs until told to stop");
        tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(20), node)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        // The store was released: it opens again.
        Store::open(data.path()).unwrap();
    }

    #[test]
    fn evidence_jpegs_keep_size_and_colours() {
        // Red on the left, blue on the right: a swapped channel order would show.
        let f = RgbImage::from_fn(64, 32, |x, _| {
            if x < 32 {
                image::Rgb([220, 20, 20])
            } else {
                image::Rgb([20, 20, 220])
            }
        });
        let back = image::load_from_memory(&jpeg(&f, None).unwrap())
            .unwrap()
            .to_rgb8();
        assert_eq!(back.dimensions(), (64, 32));
        let (left, right) = (back.get_pixel(8, 16).0, back.get_pixel(56, 16).0);
        assert!(left[0] > 180 && left[2] < 60, "{left:?}");
        assert!(right[2] > 180 && right[0] < 60, "{right:?}");
        let crop = BBox {
            x: 30.0,
            y: 4.0,
            w: 20.0,
            h: 10.0,
        };
        let back = image::load_from_memory(&jpeg(&f, Some(crop)).unwrap()).unwrap();
        assert_eq!((back.width(), back.height()), (20, 10));
    }

    #[test]
    fn crops_are_clamped() {
        let f = RgbImage::new(10, 10);
        assert!(jpeg(
            &f,
            Some(BBox {
                x: 8.0,
                y: 8.0,
                w: 50.0,
                h: 50.0
            })
        )
        .is_some());
        assert!(jpeg(
            &f,
            Some(BBox {
                x: 20.0,
                y: 0.0,
                w: 5.0,
                h: 5.0
            })
        )
        .is_none());
        assert!(jpeg(
            &f,
            Some(BBox {
                x: 0.0,
                y: 0.0,
                w: 0.0,
                h: 5.0
            })
        )
        .is_none());
    }
}
