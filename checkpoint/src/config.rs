//! The checkpoint's one typed configuration: defaults, then a TOML file, then
//! `KADIAN_*` environment variables. Unknown keys are errors. Raw values are checked
//! once here and become domain types ([`Config`]); nothing downstream re-parses them.
//!
//! Environment variables name a key by its path, upper-cased, with `__` between
//! levels: `KADIAN_CHECKPOINT_ID=luanping-01`, `KADIAN_TOKEN=…`,
//! `KADIAN_UPLINK__BATCH_SIZE=50`, `KADIAN_RETENTION__DISK_BUDGET_BYTES=…`. Cameras
//! (a list) are configured in the file only. Variables with the prefix that the
//! checkpoint does not know are ignored: other Kadian programs share the prefix.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hub::api::{CheckpointId, Cover, Direction, Severity};
use serde::{Deserialize, Serialize};

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
}

// ---------------------------------------------------------------------------------
// Raw: what the file and the environment say.

/// Everything the checkpoint can be told, as written in `checkpoint.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    /// This checkpoint's id as registered on the hub (`hub checkpoint add`), e.g.
    /// `luanping-01`: 1-64 of a-z, 0-9, `-`, `_`.
    pub checkpoint_id: String,
    /// The checkpoint's bearer token for the hub. Prefer `KADIAN_TOKEN` to writing it
    /// in the file.
    pub token: String,
    /// The hub's root URL, `http://…` or `https://…`.
    pub hub_url: String,
    /// Directory of the local sled log (created if missing).
    pub data_dir: PathBuf,
    /// Address of the local HTTP endpoint (`/snapshot`, `/healthz`, `/metrics`,
    /// status page). Loopback by default: expose it only on a trusted camera LAN.
    pub listen: String,
    /// The cameras, any number (`[[cameras]]` tables).
    pub cameras: Vec<RawCamera>,
    /// Model files.
    pub models: RawModels,
    /// When a passage becomes an incident.
    pub rules: RawRules,
    /// How detections across frames become passages.
    pub track: RawTrack,
    /// How long local records are kept and how much disk they may use.
    pub retention: RawRetention,
    /// How records travel to the hub.
    pub uplink: RawUplink,
}

/// One camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCamera {
    /// A short name, unique on this checkpoint (metrics label, `/snapshot?camera=`).
    pub name: String,
    /// Where frames come from: `rtsp://…` (or `http(s)://…`) stream, a video file,
    /// `/dev/videoN` (V4L2), a folder of JPEG/PNG stills (replayed in name order), or
    /// `push` (a trigger camera that POSTs one JPEG per vehicle to `/snapshot`).
    pub source: String,
    /// The lane this camera watches (1-based, as the county numbers them).
    #[serde(default = "default_lane")]
    pub lane: u8,
    /// `inbound`, `outbound` or `unknown`, relative to the protected area.
    #[serde(default = "default_direction")]
    pub direction: Direction,
    /// For a file or a folder of stills: frames per second to replay at; 0 replays
    /// as fast as the pipeline takes them. Ignored for live sources.
    #[serde(default)]
    pub replay_fps: f32,
}

fn default_lane() -> u8 {
    1
}
fn default_direction() -> Direction {
    Direction::Inbound
}

/// Model files (ONNX, each with its `manifest.toml` beside it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawModels {
    /// The plate reader, e.g. `models/onnx/plate_reader.onnx`. Unused without a
    /// plate detector to find the plates it reads.
    pub plate_reader: Option<PathBuf>,
    /// The plate / vehicle / load detector, e.g. `models/onnx/plate_detector.onnx`.
    /// Setting it turns perception on; it needs `plate_reader`.
    pub plate_detector: Option<PathBuf>,
    /// The cargo classifier, e.g. `models/onnx/cargo_classifier.onnx`. Needs
    /// `plate_detector` (which finds the loads); without it loads are not classified.
    pub cargo_classifier: Option<PathBuf>,
    /// Whether the detector takes the tiled second look its manifest describes
    /// (`[plate_detector.tiling]`) at frames whose plates come out small in its
    /// letterbox: a wide view over several lanes, a 4K camera. It finds plates
    /// under ~50 px there, at the cost of up to `max_tiles` more detector runs a
    /// frame (9 on a 1080p frame: about 5 frames a second instead of 30). Off by
    /// default: a gantry camera is framed so that a truck's plate is large.
    pub detector_tiling: bool,
}

/// Rules of the judge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRules {
    /// Least classifier confidence for a `coal` material to count.
    pub coal_min_confidence: f32,
    /// Cover states in which a coal-like load counts as visible.
    pub coal_visible_covers: Vec<Cover>,
    /// Least classifier confidence for a cover state to count.
    pub cover_min_confidence: f32,
    /// Cover states that are a covering violation (`uncovered_load`).
    pub uncovered_covers: Vec<Cover>,
    /// Least plate confidence for a whitelist or hotlist match to count.
    pub plate_min_confidence: f32,
    /// Severity of `suspected_loose_coal`: `low`, `medium` or `high`.
    pub suspected_loose_coal: Severity,
    /// Severity of `uncovered_load`.
    pub uncovered_load: Severity,
    /// Severity of `hotlist_hit`.
    pub hotlist_hit: Severity,
}

impl Default for RawRules {
    fn default() -> Self {
        RawRules {
            coal_min_confidence: 0.6,
            coal_visible_covers: vec![Cover::Open, Cover::Partial],
            cover_min_confidence: 0.6,
            uncovered_covers: vec![Cover::Open, Cover::Partial],
            plate_min_confidence: 0.5,
            suspected_loose_coal: Severity::High,
            uncovered_load: Severity::Medium,
            hotlist_hit: Severity::High,
        }
    }
}

/// Tracking across frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTrack {
    /// A vehicle not seen for this long (ms) has passed: its passage is closed.
    pub gap_ms: u64,
    /// Least overlap (IoU) of vehicle boxes in consecutive frames to be one vehicle.
    pub min_iou: f32,
    /// A track longer than this many frames is closed anyway (a parked truck).
    pub max_frames: u32,
    /// A track seen in fewer frames than this is a flicker of the detector, not a
    /// vehicle, and makes no passage (trigger cameras, one snapshot per vehicle, are exempt).
    pub min_frames: u32,
}

impl Default for RawTrack {
    fn default() -> Self {
        RawTrack {
            gap_ms: 1500,
            min_iou: 0.3,
            max_frames: 600,
            min_frames: 3,
        }
    }
}

/// Retention of the local log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRetention {
    /// Acknowledged records older than this many hours are removed.
    pub max_age_hours: u64,
    /// Most bytes of records and evidence kept; above it the oldest acknowledged
    /// passages' evidence goes first. Unacknowledged incidents and the evidence of
    /// unacknowledged records are kept whatever the pressure. sled's files take
    /// roughly twice this on disk: leave headroom.
    pub disk_budget_bytes: u64,
    /// Seconds between retention sweeps.
    pub sweep_secs: u64,
}

impl Default for RawRetention {
    fn default() -> Self {
        RawRetention {
            max_age_hours: 30 * 24,
            disk_budget_bytes: 8 << 30,
            sweep_secs: 600,
        }
    }
}

/// The uplink to the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawUplink {
    /// Most outbox entries per round (passages and incidents go in one request each).
    pub batch_size: usize,
    /// First retry delay in milliseconds; doubles per failure, with full jitter.
    pub backoff_initial_ms: u64,
    /// Longest retry delay in milliseconds.
    pub backoff_max_ms: u64,
    /// Per-request timeout in seconds.
    pub request_timeout_secs: u64,
    /// Seconds between whitelist / hotlist syncs.
    pub lists_secs: u64,
    /// Milliseconds between outbox polls when it is empty (new records also wake it).
    pub idle_poll_ms: u64,
}

impl Default for RawUplink {
    fn default() -> Self {
        RawUplink {
            batch_size: 100,
            backoff_initial_ms: 500,
            backoff_max_ms: 60_000,
            request_timeout_secs: 30,
            lists_secs: 300,
            idle_poll_ms: 1000,
        }
    }
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            checkpoint_id: String::new(),
            token: String::new(),
            hub_url: "http://127.0.0.1:8080".into(),
            data_dir: PathBuf::from("checkpoint-data"),
            listen: "127.0.0.1:8090".into(),
            cameras: Vec::new(),
            models: RawModels::default(),
            rules: RawRules::default(),
            track: RawTrack::default(),
            retention: RawRetention::default(),
            uplink: RawUplink::default(),
        }
    }
}

// ---------------------------------------------------------------------------------
// Domain: what the rest of the crate uses.

/// Where a camera's frames come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A network stream (RTSP, HTTP), read with FFmpeg; reconnects when it dies.
    Stream(String),
    /// A video file, read once.
    File(PathBuf),
    /// A V4L2 device, `/dev/videoN`.
    Device(i32),
    /// A folder of stills, replayed in name order once.
    Stills(PathBuf),
    /// A trigger camera posting JPEGs to `/snapshot`.
    Push,
}

impl Source {
    /// Reads `raw` as the config documents it.
    pub fn parse(raw: &str) -> Result<Source, ConfigError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid("camera source is empty"));
        }
        if raw == "push" {
            return Ok(Source::Push);
        }
        if ["rtsp://", "rtsps://", "http://", "https://"]
            .iter()
            .any(|p| raw.starts_with(p))
        {
            return Ok(Source::Stream(raw.to_owned()));
        }
        if let Some(n) = raw.strip_prefix("/dev/video") {
            return n
                .parse()
                .map(Source::Device)
                .map_err(|_| invalid(format!("camera source {raw}: expected /dev/videoN")));
        }
        let path = PathBuf::from(raw);
        if path.is_dir() {
            Ok(Source::Stills(path))
        } else {
            Ok(Source::File(path))
        }
    }

    /// Live sources drop stale frames; replayed ones wait for the pipeline.
    pub fn is_live(&self) -> bool {
        matches!(self, Source::Stream(_) | Source::Device(_) | Source::Push)
    }
}

/// One camera, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Camera {
    pub name: String,
    pub source: Source,
    pub lane: u8,
    pub direction: Direction,
    /// `None`: as fast as the pipeline takes frames.
    pub replay_interval: Option<Duration>,
}

/// Rules, checked (see [`RawRules`] for each field's meaning).
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub coal_min_confidence: f32,
    pub coal_visible_covers: Vec<Cover>,
    pub cover_min_confidence: f32,
    pub uncovered_covers: Vec<Cover>,
    pub plate_min_confidence: f32,
    pub suspected_loose_coal: Severity,
    pub uncovered_load: Severity,
    pub hotlist_hit: Severity,
}

impl Default for Rules {
    fn default() -> Self {
        Rules::from_raw(RawRules::default()).expect("the default rules are valid")
    }
}

impl Rules {
    fn from_raw(r: RawRules) -> Result<Rules, ConfigError> {
        for (name, v) in [
            ("rules.coal_min_confidence", r.coal_min_confidence),
            ("rules.cover_min_confidence", r.cover_min_confidence),
            ("rules.plate_min_confidence", r.plate_min_confidence),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(invalid(format!("{name} must be in [0, 1], not {v}")));
            }
        }
        Ok(Rules {
            coal_min_confidence: r.coal_min_confidence,
            coal_visible_covers: r.coal_visible_covers,
            cover_min_confidence: r.cover_min_confidence,
            uncovered_covers: r.uncovered_covers,
            plate_min_confidence: r.plate_min_confidence,
            suspected_loose_coal: r.suspected_loose_coal,
            uncovered_load: r.uncovered_load,
            hotlist_hit: r.hotlist_hit,
        })
    }
}

/// Tracking, checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackSettings {
    pub gap: Duration,
    pub min_iou: f32,
    pub max_frames: u32,
    pub min_frames: u32,
}

impl Default for TrackSettings {
    fn default() -> Self {
        let r = RawTrack::default();
        TrackSettings {
            gap: Duration::from_millis(r.gap_ms),
            min_iou: r.min_iou,
            max_frames: r.max_frames,
            min_frames: r.min_frames,
        }
    }
}

/// Retention, checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    pub max_age: Duration,
    pub disk_budget_bytes: u64,
    pub sweep_every: Duration,
}

/// Uplink, checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UplinkSettings {
    pub batch_size: usize,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    pub request_timeout: Duration,
    pub lists_every: Duration,
    pub idle_poll: Duration,
}

/// A secret (the hub token): never shown by `Debug`, so never in logs or in
/// `checkpoint check`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The checkpoint's configuration, checked once at start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub checkpoint_id: CheckpointId,
    pub token: Secret,
    pub hub_url: String,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub cameras: Vec<Camera>,
    /// The plate reader's path; see [`RawModels::plate_reader`].
    pub plate_reader: Option<PathBuf>,
    /// The detector's path; see [`RawModels::plate_detector`]. When set, the node
    /// runs [`crate::ModelPerception`]; otherwise [`crate::NoDetector`].
    pub plate_detector: Option<PathBuf>,
    /// The cargo classifier's path; see [`RawModels::cargo_classifier`].
    pub cargo_classifier: Option<PathBuf>,
    /// See [`RawModels::detector_tiling`].
    pub detector_tiling: bool,
    pub rules: Rules,
    pub track: TrackSettings,
    pub retention: Retention,
    pub uplink: UplinkSettings,
}

impl Config {
    /// Defaults, overridden by `file` (if any), then by the `KADIAN_*` variables of
    /// `env`, then checked.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let raw = RawConfig::layered(file, env)?;
        Config::from_raw(raw)
    }

    /// Checks `raw` and turns it into domain types.
    pub fn from_raw(raw: RawConfig) -> Result<Config, ConfigError> {
        let checkpoint_id = CheckpointId::parse(&raw.checkpoint_id)
            .map_err(|e| invalid(format!("checkpoint_id: {e}")))?;
        if raw.token.trim().is_empty() {
            return Err(invalid("token is empty (set KADIAN_TOKEN)"));
        }
        if !(raw.hub_url.starts_with("http://") || raw.hub_url.starts_with("https://")) {
            return Err(invalid(format!(
                "hub_url must start with http:// or https://: {}",
                raw.hub_url
            )));
        }
        let listen: SocketAddr = raw.listen.parse().map_err(|_| {
            invalid(format!(
                "listen: not an address like 127.0.0.1:8090: {}",
                raw.listen
            ))
        })?;
        let mut cameras = Vec::with_capacity(raw.cameras.len());
        for c in raw.cameras {
            if c.name.is_empty()
                || !c
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(invalid(format!(
                    "camera name {:?}: use 1+ of a-z, A-Z, 0-9, '-', '_'",
                    c.name
                )));
            }
            if cameras.iter().any(|k: &Camera| k.name == c.name) {
                return Err(invalid(format!("camera name {} is used twice", c.name)));
            }
            if !(c.replay_fps.is_finite() && c.replay_fps >= 0.0) {
                return Err(invalid(format!(
                    "camera {}: replay_fps must be >= 0",
                    c.name
                )));
            }
            let source =
                Source::parse(&c.source).map_err(|e| invalid(format!("camera {}: {e}", c.name)))?;
            let replay_interval =
                (c.replay_fps > 0.0).then(|| Duration::from_secs_f32(1.0 / c.replay_fps));
            cameras.push(Camera {
                name: c.name,
                source,
                lane: c.lane,
                direction: c.direction,
                replay_interval,
            });
        }
        // Say so rather than ignore a model the operator expects to run.
        let m = &raw.models;
        if m.plate_detector.is_some() && m.plate_reader.is_none() {
            return Err(invalid(
                "models.plate_detector needs models.plate_reader to read the plates it finds",
            ));
        }
        if let (Some(p), None) = (&m.cargo_classifier, &m.plate_detector) {
            return Err(invalid(format!(
                "models.cargo_classifier = {}: needs models.plate_detector to find the loads it classifies",
                p.display()
            )));
        }
        let t = raw.track;
        if t.gap_ms == 0
            || !(0.0..=1.0).contains(&t.min_iou)
            || t.max_frames == 0
            || t.min_frames == 0
            || t.min_frames > t.max_frames
        {
            return Err(invalid("track: gap_ms, max_frames and min_frames must be positive, min_frames at most max_frames, min_iou in [0, 1]"));
        }
        let r = raw.retention;
        if r.max_age_hours == 0 || r.sweep_secs == 0 {
            return Err(invalid(
                "retention: max_age_hours and sweep_secs must be positive",
            ));
        }
        let u = raw.uplink;
        if u.batch_size == 0 || u.backoff_initial_ms == 0 || u.backoff_max_ms < u.backoff_initial_ms
        {
            return Err(invalid("uplink: batch_size and backoff_initial_ms must be positive, backoff_max_ms >= backoff_initial_ms"));
        }
        if u.request_timeout_secs == 0 || u.lists_secs == 0 || u.idle_poll_ms == 0 {
            return Err(invalid(
                "uplink: request_timeout_secs, lists_secs and idle_poll_ms must be positive",
            ));
        }
        Ok(Config {
            checkpoint_id,
            token: Secret(raw.token),
            hub_url: raw.hub_url.trim_end_matches('/').to_owned(),
            data_dir: raw.data_dir,
            listen,
            cameras,
            plate_reader: raw.models.plate_reader,
            plate_detector: raw.models.plate_detector,
            cargo_classifier: raw.models.cargo_classifier,
            detector_tiling: raw.models.detector_tiling,
            rules: Rules::from_raw(raw.rules)?,
            track: TrackSettings {
                gap: Duration::from_millis(t.gap_ms),
                min_iou: t.min_iou,
                max_frames: t.max_frames,
                min_frames: t.min_frames,
            },
            retention: Retention {
                max_age: Duration::from_secs(r.max_age_hours * 3600),
                disk_budget_bytes: r.disk_budget_bytes,
                sweep_every: Duration::from_secs(r.sweep_secs),
            },
            uplink: UplinkSettings {
                batch_size: u.batch_size,
                backoff_initial: Duration::from_millis(u.backoff_initial_ms),
                backoff_max: Duration::from_millis(u.backoff_max_ms),
                request_timeout: Duration::from_secs(u.request_timeout_secs),
                lists_every: Duration::from_secs(u.lists_secs),
                idle_poll: Duration::from_millis(u.idle_poll_ms),
            },
        })
    }
}

impl RawConfig {
    /// Defaults, then `file`, then `KADIAN_*` variables, not yet checked.
    pub fn layered(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<RawConfig, ConfigError> {
        let defaults = match toml::Value::try_from(RawConfig::default()) {
            Ok(toml::Value::Table(t)) => t,
            _ => return Err(invalid("defaults do not serialise")),
        };
        let mut table = defaults.clone();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.into(),
                source,
            })?;
            let from_file: toml::Table = text
                .parse()
                .map_err(|e: toml::de::Error| invalid(format!("{}: {e}", path.display())))?;
            merge(&mut table, from_file);
        }
        for (k, v) in env {
            let Some(key) = k.strip_prefix("KADIAN_") else {
                continue;
            };
            let path: Vec<String> = key.split("__").map(|s| s.to_ascii_lowercase()).collect();
            let Some(kind) = lookup(&defaults, &path) else {
                tracing::debug!(variable = %k, "ignoring environment variable the checkpoint does not know");
                continue;
            };
            let value = match kind {
                toml::Value::Integer(_) => toml::Value::Integer(
                    v.parse()
                        .map_err(|_| invalid(format!("{k}: not an integer: {v}")))?,
                ),
                toml::Value::Float(_) => toml::Value::Float(
                    v.parse()
                        .map_err(|_| invalid(format!("{k}: not a number: {v}")))?,
                ),
                toml::Value::Boolean(_) => toml::Value::Boolean(
                    v.parse()
                        .map_err(|_| invalid(format!("{k}: not true/false: {v}")))?,
                ),
                toml::Value::String(_) => toml::Value::String(v),
                // Lists and tables (cameras, cover states) are set in the file.
                _ => {
                    return Err(invalid(format!(
                        "{k}: this key is set in the config file, not the environment"
                    )))
                }
            };
            insert(&mut table, &path, value);
        }
        RawConfig::deserialize(toml::Value::Table(table)).map_err(|e| invalid(e.to_string()))
    }
}

/// Merges `over` into `base`, table by table (a file may set one key of `[uplink]`).
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn lookup<'a>(table: &'a toml::Table, path: &[String]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    let v = table.get(first)?;
    match (rest.is_empty(), v) {
        (true, v) => Some(v),
        (false, toml::Value::Table(t)) => lookup(t, rest),
        _ => None,
    }
}

fn insert(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        table.insert(first.clone(), value);
    } else if let Some(toml::Value::Table(t)) = table.get_mut(first) {
        insert(t, rest, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const FILE: &str = r#"
checkpoint_id = "luanping-01"
token = "from-file"
hub_url = "https://hub.example/"

[[cameras]]
name = "gantry"
source = "rtsp://10.0.0.5/stream1"
lane = 2
direction = "outbound"

[[cameras]]
name = "trigger"
source = "push"

[uplink]
batch_size = 20

[rules]
uncovered_covers = ["open"]
hotlist_hit = "medium"
"#;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn layers_defaults_file_then_env() {
        let f = write(FILE);
        let c = Config::load(
            Some(f.path()),
            env(&[
                ("KADIAN_TOKEN", "from-env"),
                ("KADIAN_UPLINK__BACKOFF_MAX_MS", "5000"),
                ("KADIAN_OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.checkpoint_id.as_str(), "luanping-01");
        assert_eq!(c.token.expose(), "from-env");
        assert!(
            !format!("{c:?}").contains("from-env"),
            "the token never shows in Debug"
        );
        assert_eq!(c.hub_url, "https://hub.example");
        assert_eq!(c.uplink.batch_size, 20);
        assert_eq!(c.uplink.backoff_max, Duration::from_millis(5000));
        assert_eq!(
            c.uplink.backoff_initial,
            Duration::from_millis(500),
            "untouched keys of [uplink] keep their default"
        );
        assert_eq!(c.cameras.len(), 2);
        assert_eq!(
            c.cameras[0].source,
            Source::Stream("rtsp://10.0.0.5/stream1".into())
        );
        assert_eq!(
            (c.cameras[0].lane, c.cameras[0].direction),
            (2, Direction::Outbound)
        );
        assert_eq!(c.cameras[1].source, Source::Push);
        assert_eq!(c.rules.uncovered_covers, vec![Cover::Open]);
        assert_eq!(c.rules.hotlist_hit, Severity::Medium);
        assert!(c.listen.ip().is_loopback(), "loopback by default");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let f = write(&format!("{FILE}\n[retention]\nmax_age_days = 3\n"));
        let err = Config::load(Some(f.path()), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_age_days"), "{err}");
        let f = write("checkpoint_id = \"a\"\ntoken = \"t\"\ncolour = 1\n");
        assert!(Config::load(Some(f.path()), env(&[])).is_err());
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        let base = || RawConfig {
            checkpoint_id: "cp-1".into(),
            token: "t".into(),
            ..RawConfig::default()
        };
        assert!(Config::from_raw(base()).is_ok());
        let e = Config::from_raw(RawConfig {
            checkpoint_id: "CP 1".into(),
            ..base()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("checkpoint_id"), "{e}");
        let e = Config::from_raw(RawConfig {
            token: String::new(),
            ..base()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("KADIAN_TOKEN"), "{e}");
        let mut r = base();
        r.rules.coal_min_confidence = 1.5;
        assert!(Config::from_raw(r)
            .unwrap_err()
            .to_string()
            .contains("coal_min_confidence"));
        let mut r = base();
        r.models.plate_detector = Some("det.onnx".into());
        assert!(Config::from_raw(r)
            .unwrap_err()
            .to_string()
            .contains("needs models.plate_reader"));
        let mut r = base();
        r.models.cargo_classifier = Some("cargo.onnx".into());
        assert!(Config::from_raw(r)
            .unwrap_err()
            .to_string()
            .contains("needs models.plate_detector"));
        let mut r = base();
        r.models = RawModels {
            plate_reader: Some("r.onnx".into()),
            plate_detector: Some("d.onnx".into()),
            cargo_classifier: Some("c.onnx".into()),
            detector_tiling: true,
        };
        let c = Config::from_raw(r).unwrap();
        assert_eq!(c.plate_detector.as_deref(), Some(Path::new("d.onnx")));
        assert_eq!(c.cargo_classifier.as_deref(), Some(Path::new("c.onnx")));
        assert!(c.detector_tiling);
        assert!(
            !Config::from_raw(base()).unwrap().detector_tiling,
            "one detector pass a frame unless asked"
        );
        let mut r = base();
        r.uplink.backoff_max_ms = 1;
        assert!(Config::from_raw(r).is_err());
        let e = Config::load(
            None,
            env(&[
                ("KADIAN_CHECKPOINT_ID", "a"),
                ("KADIAN_TOKEN", "t"),
                ("KADIAN_UPLINK__BATCH_SIZE", "many"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("KADIAN_UPLINK__BATCH_SIZE"), "{e}");
    }

    #[test]
    fn sources_parse() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Source::parse("/dev/video2").unwrap(), Source::Device(2));
        assert!(Source::parse("/dev/videoX").is_err());
        assert_eq!(
            Source::parse(dir.path().to_str().unwrap()).unwrap(),
            Source::Stills(dir.path().into())
        );
        assert_eq!(
            Source::parse("clip.mp4").unwrap(),
            Source::File("clip.mp4".into())
        );
        assert!(Source::parse("push").unwrap().is_live());
        assert!(!Source::parse("clip.mp4").unwrap().is_live());
    }

    #[test]
    fn duplicate_camera_names_are_refused() {
        let cam = |n: &str| RawCamera {
            name: n.into(),
            source: "push".into(),
            lane: 1,
            direction: Direction::Inbound,
            replay_fps: 0.0,
        };
        let r = RawConfig {
            checkpoint_id: "cp".into(),
            token: "t".into(),
            cameras: vec![cam("a"), cam("a")],
            ..RawConfig::default()
        };
        assert!(Config::from_raw(r)
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }
}
