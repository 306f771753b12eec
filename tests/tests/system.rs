//! The whole system in real processes: `hub serve` on a real port over real sled
//! files, `checkpoint run` replaying the sample gantry clip through the shipped ONNX
//! models and OpenCV's capture, and the faults of a mountain road — a hub that is not
//! there yet, a hub that answers 500 and 429 or loses its answers, `kill -9`, a
//! corrupt video, a camera that is gone, a corrupt pushed JPEG.
//!
//! "Nothing lost, nothing duplicated" is checked on the stores themselves after both
//! processes have stopped: the hub holds exactly the passages and incidents of the
//! node's local log, once each (ids are the idempotency keys), with their evidence.

use std::time::Duration;

use e2e::clip;
use e2e::fault::{FaultyHub, Script};
use e2e::hub::{HubDir, HubProcess};
use e2e::node::{Camera, NodeContents, NodeDir, NodeProcess};
use hub::api::{Cover, IncidentKind, Material};

/// Generous: the debug build reads a 1280x720 frame in well under a second, but the
/// tests share two cores.
const REPLAY: Duration = Duration::from_secs(600);
const DRAIN: Duration = Duration::from_secs(120);

/// Asserts the hub holds exactly what the node logged, once, with its evidence.
fn assert_delivered_once(node: &NodeContents, hub: &e2e::hub::HubContents) {
    assert_eq!(node.outbox, 0, "the node's outbox drained");
    assert_eq!(node.failures, 0, "the hub refused nothing");
    let hub_passages: std::collections::BTreeSet<_> = hub.passages.keys().copied().collect();
    let hub_incidents: std::collections::BTreeSet<_> = hub.incidents.keys().copied().collect();
    assert_eq!(
        hub_passages,
        node.passage_ids(),
        "the hub's passages are exactly the node's"
    );
    assert_eq!(
        hub_incidents,
        node.incident_ids(),
        "the hub's incidents are exactly the node's"
    );
    assert_eq!(
        hub.missing_evidence, 0,
        "every photo a passage refers to arrived"
    );
    for p in &node.passages {
        assert_eq!(
            hub.passages[&p.passage.id].passage, p.passage,
            "passage arrived unchanged"
        );
    }
    for i in hub.incidents.values() {
        assert!(
            hub.passages.contains_key(&i.incident.passage_id),
            "incident {} has its passage",
            i.incident.id
        );
    }
}

async fn wait_replayed(node: &NodeProcess, camera: &str) {
    let done = format!("checkpoint_replay_done{{camera=\"{camera}\"}}");
    e2e::until(
        &format!("camera {camera} to finish its replay"),
        REPLAY,
        async || node.metric(&done).await == 1.0,
    )
    .await;
}

async fn wait_drained(node: &NodeProcess) {
    e2e::until("the outbox to drain", DRAIN, async || {
        let m = node.metrics().await;
        !m.is_empty()
            && e2e::node::metric_in(&m, "checkpoint_outbox_depth") == 0.0
            && e2e::node::metric_in(&m, "checkpoint_uploaded_total{kind=\"passage\"}") > 0.0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replayed_clip_gives_one_passage_per_truck_and_its_incidents_once() {
    let tmp = tempfile::tempdir().unwrap();
    let hub_dir = HubDir::create(&tmp.path().join("hub"));
    let hub = HubProcess::start(&hub_dir, e2e::free_port(), &tmp.path().join("hub.log")).await;
    let node_dir = NodeDir::new(tmp.path());
    let port = e2e::free_port();
    node_dir.configure(
        &hub.url,
        port,
        &[Camera {
            name: "gantry",
            source: clip::file().display().to_string(),
        }],
    );
    let node = NodeProcess::start(&node_dir, &hub_dir.token, port).await;

    wait_replayed(&node, "gantry").await;
    assert_eq!(
        node.metric("checkpoint_frames_total{camera=\"gantry\"}")
            .await,
        clip::FRAMES as f64,
        "every frame read"
    );
    wait_drained(&node).await;
    node.stop();
    hub.stop();

    let (mine, theirs) = (node_dir.contents(), hub_dir.contents());
    assert_delivered_once(&mine, &theirs);

    // The clip shows five trucks: each is one passage with its load read (vehicles
    // the detector glimpsed without a load may add load-less passages).
    let loaded: Vec<_> = theirs
        .passages
        .values()
        .filter(|p| p.passage.cargo.is_some())
        .collect();
    let summary: Vec<_> = loaded
        .iter()
        .map(|p| {
            (
                p.passage.plate.as_ref().map(|r| r.text.to_string()),
                p.passage.cargo.as_ref().map(|c| (c.cover, c.material)),
            )
        })
        .collect();
    assert_eq!(loaded.len(), 5, "one passage per truck: {summary:?}");
    // Both open coal trucks raise a suspected_loose_coal and an uncovered_load incident.
    let kinds_of = |p: &hub::store::PassageRecord| -> Vec<String> {
        theirs
            .incidents
            .values()
            .filter(|i| i.incident.passage_id == p.passage.id)
            .map(|i| i.incident.kind.as_str().to_owned())
            .collect()
    };
    let coal: Vec<_> = loaded
        .iter()
        .filter(|p| {
            p.passage
                .cargo
                .as_ref()
                .is_some_and(|c| c.cover == Cover::Open && c.material == Material::Coal)
        })
        .collect();
    assert_eq!(coal.len(), 2, "the two open coal trucks: {summary:?}");
    for p in &coal {
        let kinds = kinds_of(p);
        let has = |k: &str| kinds.iter().any(|x| x == k);
        assert!(
            has(IncidentKind::SUSPECTED_LOOSE_COAL) && has(IncidentKind::UNCOVERED_LOAD),
            "{kinds:?}"
        );
    }
    // A tarped load or an empty bed is no violation.
    for p in loaded.iter().filter(|p| {
        p.passage
            .cargo
            .as_ref()
            .is_some_and(|c| matches!(c.cover, Cover::Tarped | Cover::Enclosed | Cover::Empty))
    }) {
        assert!(
            kinds_of(p).is_empty(),
            "no incident for {:?}",
            p.passage.cargo
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_down_at_start_and_a_kill_9_mid_run_lose_and_duplicate_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let hub_dir = HubDir::create(&tmp.path().join("hub"));
    let hub_port = e2e::free_port();
    let hub_url = format!("http://127.0.0.1:{hub_port}");
    // The first two trucks, and the road after them.
    let stills = clip::stills(&tmp.path().join("stills"), 0, 45);
    let node_dir = NodeDir::new(tmp.path());
    let port = e2e::free_port();
    node_dir.configure(
        &hub_url,
        port,
        &[Camera {
            name: "gantry",
            source: stills.display().to_string(),
        }],
    );
    let node = NodeProcess::start(&node_dir, &hub_dir.token, port).await;

    // Nobody answers at the hub's address: the first truck's passage waits in the outbox.
    e2e::until("the first passage to be logged", REPLAY, async || {
        node.metric("checkpoint_passages_total").await >= 1.0
    })
    .await;
    assert!(node.metric("checkpoint_outbox_depth").await > 0.0);
    e2e::until("a failed upload", DRAIN, async || {
        node.metric("checkpoint_upload_errors_total{class=\"retryable\"}")
            .await
            > 0.0
    })
    .await;
    // The second truck is on its way through the pipeline.
    node.kill_9();
    let logged = node_dir.contents();
    assert!(
        !logged.passages.is_empty() && logged.outbox > 0,
        "the passage survived SIGKILL, still queued"
    );

    // Back with a trigger camera only (no replay, so no new passages): the backlog
    // waits for the hub, which comes up later.
    node_dir.configure(
        &hub_url,
        port,
        &[Camera {
            name: "trigger",
            source: "push".into(),
        }],
    );
    let node = NodeProcess::start(&node_dir, &hub_dir.token, port).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        node.metric("checkpoint_outbox_depth").await > 0.0,
        "nothing delivered without a hub"
    );
    let hub = HubProcess::start(&hub_dir, hub_port, &tmp.path().join("hub.log")).await;
    wait_drained(&node).await;
    node.stop();
    hub.stop();

    let (mine, theirs) = (node_dir.contents(), hub_dir.contents());
    assert_eq!(
        mine.passage_ids(),
        logged.passage_ids(),
        "the restart neither lost nor invented passages"
    );
    assert_delivered_once(&mine, &theirs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_answering_500_and_429_and_losing_answers_loses_and_duplicates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let hub_dir = HubDir::create(&tmp.path().join("hub"));
    let hub = HubProcess::start(&hub_dir, e2e::free_port(), &tmp.path().join("hub.log")).await;
    let proxy = FaultyHub::start(
        &hub.url,
        Script {
            refuse_first: 12,
            lose_answers: 4,
        },
    );
    let stills = clip::stills(&tmp.path().join("stills"), 0, 45);
    let node_dir = NodeDir::new(tmp.path());
    let port = e2e::free_port();
    node_dir.configure(
        &proxy.url,
        port,
        &[Camera {
            name: "gantry",
            source: stills.display().to_string(),
        }],
    );
    let node = NodeProcess::start(&node_dir, &hub_dir.token, port).await;

    wait_replayed(&node, "gantry").await;
    wait_drained(&node).await;
    let retried = node
        .metric("checkpoint_upload_errors_total{class=\"retryable\"}")
        .await;
    node.stop();
    let tally = proxy.tally.clone();
    proxy.stop().await;
    hub.stop();

    use std::sync::atomic::Ordering::SeqCst;
    assert_eq!(
        tally.refused.load(SeqCst),
        12,
        "every injected 500 / 429 was met"
    );
    assert!(
        tally.answers_lost.load(SeqCst) >= 1,
        "some answers were lost after the hub stored the request"
    );
    assert!(
        retried >= 1.0,
        "failures were counted as retryable ({retried})"
    );
    let (mine, theirs) = (node_dir.contents(), hub_dir.contents());
    assert!(mine.passages.len() >= 2, "two trucks");
    assert_delivered_once(&mine, &theirs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gives_clear_errors_and_the_node_keeps_working() {
    let tmp = tempfile::tempdir().unwrap();
    let corrupt = tmp.path().join("corrupt.mp4");
    std::fs::write(
        &corrupt,
        b"\x00\x00\x00\x18ftypmp42 this is not a video at all".repeat(500),
    )
    .unwrap();
    // Nothing listens there: a stream camera that is gone.
    let gone = format!("rtsp://127.0.0.1:{}/live", e2e::free_port());
    let node_dir = NodeDir::new(tmp.path());
    let port = e2e::free_port();
    node_dir.configure(
        &format!("http://127.0.0.1:{}", e2e::free_port()),
        port,
        &[
            Camera {
                name: "corrupt",
                source: corrupt.display().to_string(),
            },
            Camera {
                name: "gone",
                source: gone,
            },
            Camera {
                name: "trigger",
                source: "push".into(),
            },
        ],
    );
    let mut node = NodeProcess::start(&node_dir, "no-hub-needed", port).await;
    let http = reqwest::Client::new();
    let snapshot = format!("{}/snapshot?camera=trigger", node.url);

    // A corrupt pushed JPEG: 400, counted, and nothing else happens.
    let r = http
        .post(&snapshot)
        .header("content-type", "image/jpeg")
        .body(b"\xff\xd8\xff\xe0 truncated".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(
        r.text().await.unwrap().to_lowercase().contains("jpeg"),
        "the answer says what was wrong"
    );
    assert_eq!(
        node.metric("checkpoint_snapshots_rejected_total").await,
        1.0
    );

    // The corrupt file and the dead stream are counted and named.
    e2e::until("the corrupt file to be counted", DRAIN, async || {
        node.metric("checkpoint_frames_undecodable_total{camera=\"corrupt\"}")
            .await
            >= 1.0
    })
    .await;
    e2e::until("the dead stream to be retried", DRAIN, async || {
        node.metric("checkpoint_camera_open_failures_total{camera=\"gone\"}")
            .await
            >= 2.0
    })
    .await;
    let status = http
        .get(&node.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        status.contains("corrupt.mp4"),
        "the status page names the file it cannot open"
    );
    assert!(
        status.contains("cannot open rtsp://127.0.0.1"),
        "and the stream it cannot reach"
    );
    let log = node_dir.log_text();
    assert!(
        log.contains("camera stopped") && log.contains("corrupt.mp4"),
        "the log says which camera stopped and why"
    );

    // Still working: a good snapshot of a truck becomes a passage.
    let jpeg = clip::frame_jpeg(tmp.path(), 17);
    let r = http
        .post(&snapshot)
        .header("content-type", "image/jpeg")
        .body(jpeg)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    e2e::until("the pushed truck to become a passage", REPLAY, async || {
        node.metric("checkpoint_passages_total").await == 1.0
    })
    .await;
    assert!(node.alive(), "the node kept running");
    assert!(http
        .get(format!("{}/healthz", node.url))
        .send()
        .await
        .unwrap()
        .status()
        .is_success());
    node.stop();
}
