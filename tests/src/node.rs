//! The real checkpoint node in its own process.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use checkpoint::store::{Store, StoredIncident, StoredPassage};
use hub::api::{IncidentId, PassageId};

/// One `[[cameras]]` table.
pub struct Camera {
    pub name: &'static str,
    /// A file, a folder of stills, `push`, or a stream URL.
    pub source: String,
}

/// A node's working dir: its config, data dir and log.
pub struct NodeDir {
    pub dir: PathBuf,
}

impl NodeDir {
    pub fn new(dir: &Path) -> NodeDir {
        NodeDir { dir: dir.into() }
    }

    fn config(&self) -> PathBuf {
        self.dir.join("checkpoint.toml")
    }

    pub fn log(&self) -> PathBuf {
        self.dir.join("checkpoint.log")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    /// Writes the config: the shipped models, quick retries, these cameras.
    pub fn configure(&self, hub_url: &str, port: u16, cameras: &[Camera]) {
        let models = crate::root().join("models/onnx");
        let model = |f: &str| models.join(f).display().to_string();
        let mut toml = format!(
            "checkpoint_id = {cp:?}\nhub_url = {hub_url:?}\ndata_dir = {data:?}\nlisten = \"127.0.0.1:{port}\"\n\n\
             [models]\nplate_reader = {r:?}\nplate_detector = {d:?}\ncargo_classifier = {c:?}\n\n\
             [uplink]\nbackoff_initial_ms = 100\nbackoff_max_ms = 1000\nidle_poll_ms = 200\nlists_secs = 5\n",
            cp = crate::hub::CHECKPOINT,
            data = self.dir.join("data").display().to_string(),
            r = model("plate_reader.onnx"),
            d = model("plate_detector.onnx"),
            c = model("cargo_classifier.onnx"),
        );
        for c in cameras {
            toml.push_str(&format!(
                "\n[[cameras]]\nname = {:?}\nsource = {:?}\n",
                c.name, c.source
            ));
        }
        std::fs::write(self.config(), toml).expect("config written");
    }

    /// Everything in the node's local log (the node must be stopped or killed).
    pub fn contents(&self) -> NodeContents {
        let store = Store::open(&self.dir.join("data")).expect("the stopped node's store opens");
        NodeContents {
            passages: store.passages().expect("passages read"),
            incidents: store.incidents().expect("incidents read"),
            outbox: store.outbox_depth(),
            failures: store.failure_count(),
        }
    }
}

/// What a stopped node holds.
pub struct NodeContents {
    pub passages: Vec<StoredPassage>,
    pub incidents: Vec<StoredIncident>,
    pub outbox: u64,
    pub failures: usize,
}

impl NodeContents {
    pub fn passage_ids(&self) -> BTreeSet<PassageId> {
        self.passages.iter().map(|p| p.passage.id).collect()
    }
    pub fn incident_ids(&self) -> BTreeSet<IncidentId> {
        self.incidents.iter().map(|i| i.incident.id).collect()
    }
}

/// `checkpoint run` in its own process.
pub struct NodeProcess {
    process: crate::Running,
    pub url: String,
}

impl NodeProcess {
    /// Starts the node on `dir`'s config and waits for `/healthz`.
    pub async fn start(dir: &NodeDir, token: &str, port: u16) -> NodeProcess {
        let url = format!("http://127.0.0.1:{port}");
        let config = dir.config();
        let args = ["run", "--config", config.to_str().expect("UTF-8")];
        let child = crate::start_serving(
            "checkpoint",
            &args,
            &[("KADIAN_TOKEN", token)],
            &dir.log(),
            &url,
        )
        .await;
        NodeProcess {
            process: crate::Running::new(child, "the node"),
            url,
        }
    }

    /// The node's `/metrics` text.
    pub async fn metrics(&self) -> String {
        match reqwest::get(format!("{}/metrics", self.url)).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// One sample, e.g. `checkpoint_outbox_depth` or
    /// `checkpoint_frames_total{camera="gantry"}`; 0 when absent.
    pub async fn metric(&self, sample: &str) -> f64 {
        metric_in(&self.metrics().await, sample)
    }

    /// Still running?
    pub fn alive(&mut self) -> bool {
        self.process.alive()
    }

    /// SIGKILL: no chance to flush or say goodbye.
    pub fn kill_9(self) {
        self.process.kill_9();
    }

    /// SIGTERM, then waits for the node to flush and exit.
    pub fn stop(self) {
        self.process.stop();
    }
}

/// One sample of a Prometheus text exposition; 0 when absent.
pub fn metric_in(text: &str, sample: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            l.strip_prefix(sample)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn metric_samples_are_found_by_name_and_labels() {
        let text = "# HELP x y\ncheckpoint_outbox_depth 3\ncheckpoint_frames_total{camera=\"a\"} 7\ncheckpoint_frames_total{camera=\"ab\"} 9\n";
        assert_eq!(super::metric_in(text, "checkpoint_outbox_depth"), 3.0);
        assert_eq!(
            super::metric_in(text, "checkpoint_frames_total{camera=\"a\"}"),
            7.0
        );
        assert_eq!(super::metric_in(text, "checkpoint_missing"), 0.0);
    }
}
