//! The real hub in its own process.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use hub::api::{CheckpointId, IncidentId, PassageId};
use hub::store::{IncidentQuery, IncidentRecord, PassageRecord, Store};

/// The checkpoint every test registers.
pub const CHECKPOINT: &str = "e2e-gantry-01";
/// Its county.
pub const COUNTY: &str = "滦平县";
/// An admin who sees every county.
pub const USER: (&str, &str) = ("e2e-admin", "correct horse battery");

/// A hub data dir with a user and [`CHECKPOINT`], made with the hub's own commands.
pub struct HubDir {
    pub dir: PathBuf,
    /// The checkpoint's bearer token, as `hub checkpoint add` printed it.
    pub token: String,
}

impl HubDir {
    pub fn create(dir: &Path) -> HubDir {
        let hub = crate::binary("hub");
        let data = dir.to_str().expect("temp dirs are UTF-8");
        let mut user = Command::new(&hub)
            .args([
                "user",
                "add",
                "--data",
                data,
                "--name",
                USER.0,
                "--role",
                "admin",
                "--county",
                COUNTY,
                "--password-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("hub user add starts");
        writeln!(user.stdin.take().expect("piped stdin"), "{}", USER.1).expect("password written");
        assert!(
            user.wait().expect("hub user add runs").success(),
            "hub user add failed"
        );
        let out = Command::new(&hub)
            .args([
                "checkpoint",
                "add",
                "--data",
                data,
                "--id",
                CHECKPOINT,
                "--name",
                "e2e gantry",
                "--county",
                COUNTY,
            ])
            .output()
            .expect("hub checkpoint add runs");
        assert!(
            out.status.success(),
            "hub checkpoint add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let token = stdout
            .lines()
            .last()
            .and_then(|l| l.split_whitespace().last())
            .expect("the token is printed last")
            .to_owned();
        HubDir {
            dir: dir.into(),
            token,
        }
    }

    /// Everything the hub stored, read from its sled files (the hub must be stopped).
    pub fn contents(&self) -> HubContents {
        let store = Store::open(&self.dir, 16 << 20).expect("the stopped hub's store opens");
        let cp = CheckpointId::parse(CHECKPOINT).expect("valid id");
        let far = chrono::Duration::days(3650);
        let now = chrono::Utc::now();
        let passages = store
            .checkpoint_passages(&cp, now - far, now + far, 1_000_000)
            .expect("passages read");
        let (incidents, _) = store
            .list_incidents(&IncidentQuery {
                limit: 1_000_000,
                ..Default::default()
            })
            .expect("incidents read");
        let mut missing_evidence = 0;
        for p in &passages {
            for e in &p.passage.evidence {
                if store.evidence(&e.sha256).expect("evidence read").is_none() {
                    missing_evidence += 1;
                }
            }
        }
        HubContents {
            passages: passages.into_iter().map(|p| (p.passage.id, p)).collect(),
            incidents: incidents.into_iter().map(|i| (i.incident.id, i)).collect(),
            missing_evidence,
        }
    }
}

/// What a stopped hub holds for [`CHECKPOINT`].
pub struct HubContents {
    pub passages: BTreeMap<PassageId, PassageRecord>,
    pub incidents: BTreeMap<IncidentId, IncidentRecord>,
    /// Evidence references without their JPEG.
    pub missing_evidence: usize,
}

/// `hub serve` on a real port.
pub struct HubProcess {
    process: crate::Running,
    pub url: String,
}

impl HubProcess {
    /// Starts `hub serve` over `dir` on `port` and waits for `/healthz`.
    pub async fn start(dir: &HubDir, port: u16, log: &Path) -> HubProcess {
        let url = format!("http://127.0.0.1:{port}");
        let listen = format!("127.0.0.1:{port}");
        let data = dir.dir.to_str().expect("UTF-8");
        let child = crate::start_serving(
            "hub",
            &["serve", "--data", data, "--listen", &listen],
            &[],
            log,
            &url,
        )
        .await;
        HubProcess {
            process: crate::Running::new(child, "the hub"),
            url,
        }
    }

    /// SIGTERM, then waits: the hub flushes its store on the way out.
    pub fn stop(self) {
        self.process.stop();
    }
}
