//! The Kadian checkpoint: the edge node on a camera box at a border road.
//!
//! A frame's path: a camera thread decodes it (OpenCV for RTSP, files and V4L2; the
//! `image` crate for stills and pushed JPEGs) into a plain RGB buffer and hands it to
//! its camera's worker through a one-frame slot, dropping stale frames rather than
//! blocking the camera. The worker runs perception on it (detect → read → classify;
//! see [`pipeline`] for what exists today), feeds the tracker, which turns a
//! vehicle's frames into one passage with a voted plate and its best frame; the
//! judge turns the passage into incidents by the configured rules and the synced
//! whitelist / hotlist; the store commits passage, evidence, incidents and their
//! outbox entries in one durable sled transaction. Beside the workers, the uplink
//! drains the outbox to the hub (at-least-once, idempotent, classified retries) and
//! syncs the lists, retention keeps the disk in budget, and a loopback HTTP endpoint
//! takes trigger-camera snapshots and serves health, metrics and a status page.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = checkpoint::config::Config::load(Some("checkpoint.toml".as_ref()), std::env::vars())?;
//! checkpoint::run(config, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

/// Camera threads: OpenCV videoio and stills → RGB frames in a bounded slot.
pub mod capture;
/// The one typed configuration: defaults → TOML → `KADIAN_*`, checked once.
pub mod config;
/// Local HTTP: `/snapshot`, `/healthz`, `/metrics`, status page.
pub mod http;
/// Rules + whitelist / hotlist → incidents; pure.
pub mod judge;
/// Counters, gauges and stage timings behind `/metrics` and the status page.
pub mod metrics;
/// The models crate's detector, reader and classifier as the pipeline's perception.
pub mod perception;
/// Perception, tracking, judging and storing per camera; `Node` and `run`.
pub mod pipeline;
/// The durable sled log: passages, incidents, evidence, outbox; retention.
pub mod store;
/// Detections across frames → one passage per vehicle, plate voted per character.
pub mod track;
/// Outbox → hub with classified retries; lists sync.
pub mod uplink;

pub use config::Config;
pub use perception::ModelPerception;
pub use pipeline::{run, NoDetector, Node, NodeError, Perception};
