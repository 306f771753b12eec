//! The checkpoint node against the REAL hub (in-process, on 127.0.0.1:0, fresh sled
//! dirs): outages, permanent refusals, lists, the local endpoint, and kill -9
//! durability of the store with real processes.
//!
//! Records are put straight into the node's store, as the pipeline would, so each
//! case is exact and quick; tests/tests/system.rs runs the same faults with frames
//! through the models and both programs in their own processes.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use checkpoint::config::{RawCamera, RawConfig};
use checkpoint::store::{Evidence, Record, Store};
use checkpoint::{Config, Node};
use chrono::Utc;
use hub::api::{
    CheckpointId, County, Direction, EvidenceKind, EvidenceRef, Incident, IncidentId, IncidentKind,
    ListEntry, ListName, Passage, PassageId, PlateColor, PlateLayout, PlateRead, PlateText,
    Severity,
};

const CP: &str = "luanping-01";

// ----- helpers ------------------------------------------------------------------------

/// The real hub, serving on a listener, with a registered checkpoint.
struct TestHub {
    addr: SocketAddr,
    store: hub::store::Store,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<()>,
    _dir: Option<tempfile::TempDir>,
}

impl TestHub {
    /// Starts the hub on `listener` over a fresh data dir; returns it and the token of
    /// checkpoint [`CP`].
    fn start(listener: TcpListener) -> (TestHub, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = hub::store::Store::open(dir.path(), 16 << 20).unwrap();
        let token = hub::auth::new_token();
        let county = County::parse("滦平县").unwrap();
        store
            .add_checkpoint(&cp(), "test gantry", &county, hub::auth::token_hash(&token))
            .unwrap();
        store
            .add_checkpoint(
                &CheckpointId::parse("someone-else").unwrap(),
                "other",
                &county,
                hub::auth::token_hash("other-token"),
            )
            .unwrap();
        let config = hub::config::Config {
            data: dir.path().into(),
            workers: 1,
            ..Default::default()
        };
        let hub = TestHub::serve(config, store, listener, Some(dir));
        (hub, token)
    }

    fn serve(
        config: hub::config::Config,
        store: hub::store::Store,
        listener: TcpListener,
        dir: Option<tempfile::TempDir>,
    ) -> TestHub {
        let app = hub::server::Application::build(config, store.clone(), listener).unwrap();
        let addr = app.addr();
        let handle = app.handle();
        let task = tokio::spawn(async move {
            app.run_until_stopped().await.unwrap();
        });
        TestHub {
            addr,
            store,
            handle,
            task,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Passages the hub holds for [`CP`].
    fn passages(&self) -> usize {
        let from = Utc::now() - chrono::Duration::days(3650);
        let to = Utc::now() + chrono::Duration::days(1);
        self.store
            .checkpoint_passages(&cp(), from, to, 100_000)
            .unwrap()
            .len()
    }

    async fn stop(self) {
        self.handle.stop(true).await;
        self.task.await.unwrap();
    }
}

fn cp() -> CheckpointId {
    CheckpointId::parse(CP).unwrap()
}

fn local() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap()
}

/// An address nothing listens on (yet).
fn free_addr() -> SocketAddr {
    local().local_addr().unwrap()
}

fn raw_config(hub_url: &str, token: &str, data: &Path) -> RawConfig {
    let mut raw = RawConfig {
        checkpoint_id: CP.into(),
        token: token.into(),
        hub_url: hub_url.into(),
        data_dir: data.into(),
        listen: "127.0.0.1:0".into(),
        ..RawConfig::default()
    };
    raw.uplink.batch_size = 7;
    raw.uplink.backoff_initial_ms = 20;
    raw.uplink.backoff_max_ms = 250;
    raw.uplink.idle_poll_ms = 50;
    raw.uplink.lists_secs = 1;
    raw.uplink.request_timeout_secs = 5;
    raw
}

fn config(hub_url: &str, token: &str, data: &Path) -> Config {
    Config::from_raw(raw_config(hub_url, token, data)).unwrap()
}

/// A small real JPEG, distinct per `n` (the hub checks that evidence decodes).
fn jpeg(n: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(16, 8, |x, y| {
        image::Rgb([(n % 251) as u8, (n / 251 % 251) as u8, ((x + y) * 8) as u8])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
        .encode_image(&img)
        .unwrap();
    out
}

/// A passage with one frame of evidence and one incident, as the pipeline makes it.
fn record(n: u32, checkpoint: &CheckpointId) -> Record {
    let ev = Evidence::new(jpeg(n));
    let passage = Passage {
        id: PassageId::new(),
        checkpoint_id: checkpoint.clone(),
        seen_at: Utc::now(),
        lane: 1,
        direction: Direction::Inbound,
        plate: Some(PlateRead {
            text: PlateText::parse(&format!("冀A{:05}", n % 100_000)).unwrap(),
            color: PlateColor::Yellow,
            layout: PlateLayout::Single,
            confidence: 0.9,
        }),
        cargo: None,
        evidence: vec![EvidenceRef {
            sha256: ev.sha256,
            kind: EvidenceKind::Frame,
        }],
    };
    let incident = Incident {
        id: IncidentId::new(),
        passage_id: passage.id,
        checkpoint_id: checkpoint.clone(),
        kind: IncidentKind::parse(IncidentKind::HOTLIST_HIT).unwrap(),
        severity: Severity::High,
        created_at: Utc::now(),
    };
    Record {
        passage,
        evidence: vec![ev],
        incidents: vec![incident],
    }
}

async fn until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Every record is on the hub exactly as sent.
fn assert_all_on_hub(hub: &TestHub, records: &[Record]) {
    for r in records {
        let got = hub
            .store
            .passage(&r.passage.id)
            .unwrap()
            .unwrap_or_else(|| panic!("passage {} missing on the hub", r.passage.id));
        assert_eq!(got.passage, r.passage);
        assert!(
            hub.store.incident(&r.incidents[0].id).unwrap().is_some(),
            "incident missing"
        );
        assert!(
            hub.store.evidence(&r.evidence[0].sha256).unwrap().is_some(),
            "evidence missing"
        );
    }
    assert_eq!(
        hub.passages(),
        records.len(),
        "nothing lost, nothing duplicated"
    );
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

// ----- (a) hub down at start --------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_down_at_start_then_up_everything_arrives_once() {
    let data = tempfile::tempdir().unwrap();
    let hub_addr = free_addr();
    let node = Node::start(config(
        &format!("http://{hub_addr}"),
        "token-not-yet-known",
        data.path(),
    ))
    .await
    .unwrap();
    // The hub is down: records pile up in the outbox.
    let records: Vec<Record> = (0..20).map(|n| record(n, &cp())).collect();
    for r in &records {
        assert!(node.store().commit(r).unwrap());
    }
    node.wake_uplink();
    let metrics = node.metrics().clone();
    until("retryable errors counted", Duration::from_secs(10), || {
        metrics
            .upload_errors
            .with_label_values(&["retryable"])
            .get()
            >= 2
    })
    .await;
    assert_eq!(node.store().outbox_depth(), 60);
    let data_dir = data.path().to_path_buf();
    node.stop().await.unwrap();

    // The hub comes up on that address; the node restarts with the right token.
    let (hub, token) = TestHub::start(TcpListener::bind(hub_addr).unwrap());
    let node = Node::start(config(&hub.url(), &token, &data_dir))
        .await
        .unwrap();
    let store = node.store().clone();
    until("outbox drained", Duration::from_secs(30), || {
        store.outbox_depth() == 0
    })
    .await;
    assert_all_on_hub(&hub, &records);
    assert_eq!(store.failure_count(), 0);
    assert!(store.passages().unwrap().iter().all(|p| p.acked));
    assert!(store.incidents().unwrap().iter().all(|i| i.acked));
    assert!(store.last_upload().unwrap().is_some());
    let (status, text) = get(node.http_addr(), "/metrics").await;
    assert_eq!(status, 200);
    assert!(text.contains("checkpoint_outbox_depth 0"), "{text}");
    assert!(
        text.contains("checkpoint_uploaded_total{kind=\"passage\"} 20"),
        "{text}"
    );
    node.stop().await.unwrap();
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_comes_up_while_the_node_runs() {
    let data = tempfile::tempdir().unwrap();
    let hub_addr = free_addr();
    // The token is issued before the hub first answers (as `hub checkpoint add` would).
    let dir = tempfile::tempdir().unwrap();
    let hub_store = hub::store::Store::open(dir.path(), 16 << 20).unwrap();
    let token = hub::auth::new_token();
    hub_store
        .add_checkpoint(
            &cp(),
            "g",
            &County::parse("滦平县").unwrap(),
            hub::auth::token_hash(&token),
        )
        .unwrap();
    let node = Node::start(config(&format!("http://{hub_addr}"), &token, data.path()))
        .await
        .unwrap();
    let records: Vec<Record> = (100..130).map(|n| record(n, &cp())).collect();
    for r in &records {
        node.store().commit(r).unwrap();
    }
    node.wake_uplink();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        node.store().outbox_depth(),
        90,
        "nothing leaves while the hub is down"
    );
    let hub = TestHub::serve(
        hub::config::Config {
            data: dir.path().into(),
            workers: 1,
            ..Default::default()
        },
        hub_store,
        TcpListener::bind(hub_addr).unwrap(),
        None,
    );
    let store = node.store().clone();
    until("outbox drained", Duration::from_secs(30), || {
        store.outbox_depth() == 0
    })
    .await;
    assert_all_on_hub(&hub, &records);
    node.stop().await.unwrap();
    hub.stop().await;
}

// ----- (b) a flaky hub (500s, 429s, lost answers): see tests/tests/system.rs, with real processes

// ----- (c) permanent refusals are recorded and visible ------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_refusal_is_recorded_and_visible_and_spares_the_rest() {
    let (hub, token) = TestHub::start(local());
    let data = tempfile::tempdir().unwrap();
    let node = Node::start(config(&hub.url(), &token, data.path()))
        .await
        .unwrap();
    let good: Vec<Record> = (300..302).map(|n| record(n, &cp())).collect();
    // A record claiming to be another checkpoint's: the hub answers 403.
    let bad = record(302, &CheckpointId::parse("someone-else").unwrap());
    node.store().commit(&good[0]).unwrap();
    node.store().commit(&bad).unwrap();
    node.store().commit(&good[1]).unwrap();
    node.wake_uplink();
    let store = node.store().clone();
    until("outbox drained", Duration::from_secs(30), || {
        store.outbox_depth() == 0
    })
    .await;
    assert_all_on_hub(&hub, &good);
    assert!(hub.store.passage(&bad.passage.id).unwrap().is_none());

    let failures = store.failures().unwrap();
    assert_eq!(
        failures.len(),
        2,
        "the bad passage and its incident: {failures:?}"
    );
    assert!(failures.iter().all(|f| f.status == Some(403)));
    assert!(failures.iter().any(|f| f.message.contains("someone-else")));
    // Kept locally, unacknowledged: retention will not evict them.
    assert!(!store.passage(&bad.passage.id).unwrap().unwrap().acked);

    let (_, metrics) = get(node.http_addr(), "/metrics").await;
    assert!(
        metrics.contains("checkpoint_permanent_failures 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("checkpoint_upload_errors_total{class=\"permanent\"} 2"),
        "{metrics}"
    );
    let (status, page) = get(node.http_addr(), "/").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Refused by the hub")
            && page.contains("403")
            && page.contains(&bad.passage.id.to_string()),
        "{page}"
    );
    node.stop().await.unwrap();
    drop(store);

    // Still there after a restart.
    let store = Store::open(data.path()).unwrap();
    assert_eq!(store.failure_count(), 2);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_keeps_records_queued() {
    let (hub, _token) = TestHub::start(local());
    let data = tempfile::tempdir().unwrap();
    let node = Node::start(config(&hub.url(), "wrong-token", data.path()))
        .await
        .unwrap();
    node.store().commit(&record(400, &cp())).unwrap();
    node.wake_uplink();
    let metrics = node.metrics().clone();
    until("auth failure seen", Duration::from_secs(10), || {
        metrics.upload_errors.with_label_values(&["auth"]).get() >= 1
    })
    .await;
    assert_eq!(
        node.store().outbox_depth(),
        3,
        "a bad token is not the records' fault"
    );
    assert_eq!(node.store().failure_count(), 0);
    let (_, page) = get(node.http_addr(), "/").await;
    assert!(page.contains("refuses this checkpoint"), "{page}");
    node.stop().await.unwrap();
    hub.stop().await;
}

// ----- lists ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_sync_and_work_offline_after_a_restart() {
    let (hub, token) = TestHub::start(local());
    let entry = ListEntry {
        plate: PlateText::parse("晋H93513").unwrap(),
        reason: "tip 2026-118".into(),
        company: None,
        expires_at: None,
        added_by: "admin".into(),
        added_at: Utc::now(),
    };
    let version = hub.store.put_list_entry(ListName::Hotlist, &entry).unwrap();
    let data = tempfile::tempdir().unwrap();
    let node = Node::start(config(&hub.url(), &token, data.path()))
        .await
        .unwrap();
    let store = node.store().clone();
    until("lists synced", Duration::from_secs(10), || {
        store
            .lists()
            .unwrap()
            .is_some_and(|(l, _)| l.version == version)
    })
    .await;
    let (lists, etag) = store.lists().unwrap().unwrap();
    assert_eq!(lists.hotlist.len(), 1);
    assert!(etag.is_some(), "the ETag is kept for If-None-Match");
    node.stop().await.unwrap();
    drop(store);
    hub.stop().await;

    // Offline: the stored lists are in use from the start.
    let node = Node::start(config(
        &format!("http://{}", free_addr()),
        &token,
        data.path(),
    ))
    .await
    .unwrap();
    assert_eq!(node.metrics().lists_version.get(), version as i64);
    let (_, page) = get(node.http_addr(), "/").await;
    assert!(page.contains("1 hotlist"), "{page}");
    node.stop().await.unwrap();
}

// ----- the local endpoint -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_endpoint_rejects_corrupt_jpegs_and_nothing_else_happens() {
    let data = tempfile::tempdir().unwrap();
    let mut raw = raw_config(&format!("http://{}", free_addr()), "t", data.path());
    raw.cameras = vec![RawCamera {
        name: "trigger".into(),
        source: "push".into(),
        lane: 1,
        direction: Direction::Inbound,
        replay_fps: 0.0,
    }];
    let node = Node::start(Config::from_raw(raw).unwrap()).await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("http://{}/snapshot?camera=trigger", node.http_addr());
    let mut truncated = jpeg(1);
    truncated.truncate(truncated.len() / 3);
    for body in [b"not a jpeg at all".to_vec(), truncated] {
        let r = http.post(&url).body(body).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("JPEG"), "{body}");
    }
    assert_eq!(node.metrics().snapshots_rejected.get(), 2);
    assert_eq!(
        node.metrics().frames.with_label_values(&["trigger"]).get(),
        0
    );
    let r = http.post(&url).body(jpeg(2)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let r = http
        .post(format!("http://{}/snapshot?camera=nope", node.http_addr()))
        .body(jpeg(2))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        get(node.http_addr(), "/healthz").await,
        (200, "ok\n".into())
    );
    // No detector: the good snapshot is counted but makes no passage.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(node.store().passage_count(), 0);
    assert_eq!(node.store().outbox_depth(), 0);
    let (_, page) = get(node.http_addr(), "/").await;
    assert!(
        page.contains("trigger") && page.contains("waiting for snapshots"),
        "{page}"
    );
    node.stop().await.unwrap();
}

// ----- (d) kill -9 durability, with real processes -------------------------------------

const WRITER_ENV: &str = "CHECKPOINT_TEST_WRITER_DIR";

/// Not a test on its own: re-run as a child process by the kill -9 test, it commits
/// records as fast as it can and prints each id once `commit` has returned.
#[test]
fn durability_writer_child() {
    let Ok(dir) = std::env::var(WRITER_ENV) else {
        return;
    };
    let store = Store::open(Path::new(&dir)).unwrap();
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for n in 0.. {
        let r = record(1000 + n, &cp());
        store.commit(&r).unwrap();
        writeln!(out, "committed {}", r.passage.id).unwrap();
        out.flush().unwrap();
    }
}

fn write_config(path: &Path, hub_url: &str, token: &str, data: &Path) {
    let text = format!(
        "checkpoint_id = \"{CP}\"\ntoken = \"{token}\"\nhub_url = \"{hub_url}\"\ndata_dir = \"{}\"\nlisten = \"127.0.0.1:0\"\n\
         [uplink]\nbackoff_initial_ms = 20\nbackoff_max_ms = 250\nidle_poll_ms = 50\n",
        data.display()
    );
    std::fs::write(path, text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_committed_and_the_binary_delivers_it_after_restart() {
    let data = tempfile::tempdir().unwrap();
    // 1. A writer process commits records; SIGKILL it mid-stream.
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "durability_writer_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRITER_ENV, data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acknowledged = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("committed ") {
            acknowledged.push(id.parse::<PassageId>().unwrap());
            if acknowledged.len() == 40 {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(acknowledged.len(), 40);

    // 2. Everything acknowledged is there, whole.
    let (stored, depth, incidents) = {
        let store = Store::open(data.path()).unwrap();
        for id in &acknowledged {
            let p = store
                .passage(id)
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged passage {id} lost"));
            assert!(store.incident(&p.incidents[0]).unwrap().is_some());
            assert!(store
                .evidence(&p.passage.evidence[0].sha256)
                .unwrap()
                .is_some());
        }
        let n = store.passage_count();
        assert!(n >= 40);
        // All or nothing per record: each passage has its evidence and incident queued.
        assert_eq!(store.outbox_depth() as usize, 3 * n);
        assert_eq!(store.incident_count(), n);
        let incidents: Vec<IncidentId> = store
            .incidents()
            .unwrap()
            .into_iter()
            .map(|i| i.incident.id)
            .collect();
        (n, store.outbox_depth(), incidents)
    };
    assert!(depth > 0);

    // 3. The real binary, started on that log with the hub up, delivers it all.
    let (hub, token) = TestHub::start(local());
    let conf: PathBuf = data.path().with_extension("toml");
    write_config(&conf, &hub.url(), &token, data.path());
    let mut bin = Command::new(env!("CARGO_BIN_EXE_checkpoint"))
        .args(["run", "--config"])
        .arg(&conf)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    until("the hub has every passage", Duration::from_secs(60), || {
        hub.passages() >= stored
    })
    .await;
    // SIGKILL the binary too, then restart it: nothing duplicated, nothing left behind.
    bin.kill().unwrap();
    bin.wait().unwrap();
    let mut bin = Command::new(env!("CARGO_BIN_EXE_checkpoint"))
        .args(["run", "--config"])
        .arg(&conf)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Ready once it says so; keep draining its log after that.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let log = BufReader::new(bin.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in log.lines().map_while(Result::ok) {
            if line.contains("checkpoint running") {
                let _ = ready_tx.send(());
            }
        }
    });
    tokio::task::spawn_blocking(move || ready_rx.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap()
        .expect("the binary started");
    // The binary holds the store's lock; ask the hub instead.
    until(
        "the hub has every incident",
        Duration::from_secs(60),
        || {
            incidents
                .iter()
                .all(|id| hub.store.incident(id).unwrap().is_some())
        },
    )
    .await;
    assert!(acknowledged
        .iter()
        .all(|id| hub.store.passage(id).unwrap().is_some()));
    // Let the last 2xx be acknowledged locally.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // A graceful stop on SIGTERM.
    let status = Command::new("kill")
        .args(["-TERM", &bin.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(bin.wait().unwrap().success(), "SIGTERM is a clean exit");
    assert_eq!(hub.passages(), stored, "every passage exactly once");
    let store = Store::open(data.path()).unwrap();
    assert_eq!(
        store.outbox_depth(),
        0,
        "the restarted binary drained the rest"
    );
    assert_eq!(store.failure_count(), 0);
    std::fs::remove_file(conf).ok();
    hub.stop().await;
}
