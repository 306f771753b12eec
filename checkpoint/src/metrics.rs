//! What the node counts, for `/metrics` (Prometheus text) and the status page.
//!
//! Stages record into these directly; the HTTP module only renders them. Gauges that
//! mirror the store (outbox depth, permanent failures) are refreshed at scrape time.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Utc};
use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// A camera's state, as the status page shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CameraState {
    /// `connecting`, `streaming`, `reconnecting`, `finished`, `failed`, `waiting for snapshots`.
    pub state: &'static str,
    pub last_error: Option<String>,
}

/// The uplink's state, as the status page shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UplinkState {
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// The hub refused the token (401): records wait until it is fixed.
    pub auth_failed: bool,
}

/// Every metric of the node.
pub struct Metrics {
    registry: Registry,
    pub started: Instant,
    pub frames: IntCounterVec,
    pub frames_dropped: IntCounterVec,
    pub frames_undecodable: IntCounterVec,
    pub reconnects: IntCounterVec,
    pub open_failures: IntCounterVec,
    pub fps: GaugeVec,
    pub replay_done: IntGaugeVec,
    pub stage_seconds: HistogramVec,
    pub passages: IntCounter,
    pub tracks_discarded: IntCounter,
    pub incidents: IntCounter,
    pub snapshots_rejected: IntCounter,
    pub outbox_depth: IntGauge,
    pub uploaded: IntCounterVec,
    pub upload_errors: IntCounterVec,
    pub permanent_failures: IntGauge,
    pub last_upload: Gauge,
    pub lists_version: IntGauge,
    pub cameras: Mutex<BTreeMap<String, CameraState>>,
    pub uplink: Mutex<UplinkState>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn must<T>(r: prometheus::Result<T>) -> T {
    // Only a malformed metric name or a duplicate registration fails: fixed at
    // compile time by the names below.
    r.expect("metric definitions are valid")
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new_custom(Some("checkpoint".into()), None).expect("valid prefix");
        let cam = &["camera"];
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let c = must(IntCounterVec::new(Opts::new(name, help), labels));
            must(registry.register(Box::new(c.clone())));
            c
        };
        let frames = counter_vec("frames_total", "Frames decoded, per camera", cam);
        let frames_dropped = counter_vec(
            "frames_dropped_total",
            "Stale frames dropped because the pipeline fell behind",
            cam,
        );
        let frames_undecodable = counter_vec(
            "frames_undecodable_total",
            "Frames or stills that did not decode, skipped",
            cam,
        );
        let reconnects = counter_vec(
            "camera_reconnects_total",
            "Times a dead stream was reopened",
            cam,
        );
        let open_failures = counter_vec(
            "camera_open_failures_total",
            "Failed attempts to open a stream or device (a camera that is gone keeps counting)",
            cam,
        );
        let uploaded = counter_vec(
            "uploaded_total",
            "Records the hub answered 2xx for, per kind",
            &["kind"],
        );
        let upload_errors = counter_vec(
            "upload_errors_total",
            "Failed hub requests, by class (retryable, permanent, auth)",
            &["class"],
        );
        let fps = must(GaugeVec::new(
            Opts::new(
                "camera_fps",
                "Frames per second decoded over the last second",
            ),
            cam,
        ));
        must(registry.register(Box::new(fps.clone())));
        let replay_done = must(IntGaugeVec::new(
            Opts::new(
                "replay_done",
                "1 once a replayed file or folder has been read and its last passage committed",
            ),
            cam,
        ));
        must(registry.register(Box::new(replay_done.clone())));
        let stage_seconds = must(HistogramVec::new(
            HistogramOpts::new(
                "stage_seconds",
                "Time per frame (or record) in each pipeline stage",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["stage"],
        ));
        must(registry.register(Box::new(stage_seconds.clone())));
        let counter = |name: &str, help: &str| {
            let c = must(IntCounter::new(name, help));
            must(registry.register(Box::new(c.clone())));
            c
        };
        let passages = counter("passages_total", "Passages committed to the local log");
        let tracks_discarded = counter(
            "tracks_discarded_total",
            "Tracks seen in fewer than track.min_frames frames (detector flicker), dropped",
        );
        let incidents = counter("incidents_total", "Incidents committed to the local log");
        let snapshots_rejected = counter(
            "snapshots_rejected_total",
            "Pushed snapshots that were not a decodable JPEG",
        );
        let gauge = |name: &str, help: &str| {
            let g = must(IntGauge::new(name, help));
            must(registry.register(Box::new(g.clone())));
            g
        };
        let outbox_depth = gauge("outbox_depth", "Records and evidence waiting for the hub");
        let permanent_failures = gauge(
            "permanent_failures",
            "Records the hub refused for good (kept locally, see the status page)",
        );
        let lists_version = gauge(
            "lists_version",
            "Version of the whitelist / hotlist in use (0: never synced)",
        );
        let last_upload = must(Gauge::new(
            "last_upload_timestamp_seconds",
            "Unix time of the last 2xx from the hub (0: never)",
        ));
        must(registry.register(Box::new(last_upload.clone())));
        Metrics {
            registry,
            started: Instant::now(),
            frames,
            frames_dropped,
            frames_undecodable,
            reconnects,
            open_failures,
            fps,
            replay_done,
            stage_seconds,
            passages,
            tracks_discarded,
            incidents,
            snapshots_rejected,
            outbox_depth,
            uploaded,
            upload_errors,
            permanent_failures,
            last_upload,
            lists_version,
            cameras: Mutex::new(BTreeMap::new()),
            uplink: Mutex::new(UplinkState::default()),
        }
    }

    /// Records a camera's state.
    pub fn camera_state(&self, camera: &str, state: &'static str, error: Option<String>) {
        let mut cams = self.cameras.lock().unwrap_or_else(|p| p.into_inner());
        let e = cams.entry(camera.to_owned()).or_default();
        e.state = state;
        if error.is_some() {
            e.last_error = error;
        }
    }

    /// Records an uplink error for the status page.
    pub fn uplink_error(&self, message: String, auth_failed: bool) {
        let mut u = self.uplink.lock().unwrap_or_else(|p| p.into_inner());
        u.last_error = Some(message);
        u.last_error_at = Some(Utc::now());
        u.auth_failed = auth_failed;
    }

    pub fn uplink_ok(&self) {
        let mut u = self.uplink.lock().unwrap_or_else(|p| p.into_inner());
        u.auth_failed = false;
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            return format!("# encoding failed: {e}\n");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::new();
        m.frames.with_label_values(&["gantry"]).inc_by(3);
        m.frames_dropped.with_label_values(&["gantry"]).inc();
        m.stage_seconds.with_label_values(&["track"]).observe(0.002);
        m.outbox_depth.set(7);
        let text = m.render();
        assert!(
            text.contains("checkpoint_frames_total{camera=\"gantry\"} 3"),
            "{text}"
        );
        assert!(text.contains("checkpoint_frames_dropped_total{camera=\"gantry\"} 1"));
        assert!(text.contains("checkpoint_outbox_depth 7"));
        assert!(text.contains("checkpoint_stage_seconds_bucket{stage=\"track\""));
        assert!(text.contains("checkpoint_last_upload_timestamp_seconds 0"));
    }
}
