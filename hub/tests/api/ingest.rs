//! Checkpoint ingest: idempotent batches, validation naming the field, auth, ownership,
//! limits, and 32 concurrent clients with overlapping ids.

use chrono::{Duration, Utc};
use hub::api::{IngestResponse, Passage};
use hub::client::ClientError;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn passages_are_stored_once_and_replays_are_duplicates() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let batch: Vec<Passage> = (0..10)
        .map(|i| passage(CP1, Some("晋H93513"), now + Duration::seconds(i), vec![]))
        .collect();
    let first = app.cp1().post_passages(&batch).await.unwrap();
    assert_eq!(
        first,
        IngestResponse {
            accepted: 10,
            duplicates: 0
        }
    );
    let replay = app.cp1().post_passages(&batch).await.unwrap();
    assert_eq!(
        replay,
        IngestResponse {
            accepted: 0,
            duplicates: 10
        }
    );
    // A batch with the same id twice stores it once.
    let p = passage(CP1, None, now, vec![]);
    let twice = app.cp1().post_passages(&[p.clone(), p]).await.unwrap();
    assert_eq!(
        twice,
        IngestResponse {
            accepted: 1,
            duplicates: 1
        }
    );
}

#[tokio::test]
async fn incidents_are_idempotent_too() {
    let app = TestApp::spawn().await;
    let p = passage(CP1, Some("晋H93513"), Utc::now(), vec![]);
    let i = incident(&p, "uncovered_load");
    assert_eq!(
        app.cp1()
            .post_incidents(std::slice::from_ref(&i))
            .await
            .unwrap(),
        IngestResponse {
            accepted: 1,
            duplicates: 0
        }
    );
    assert_eq!(
        app.cp1()
            .post_incidents(std::slice::from_ref(&i))
            .await
            .unwrap(),
        IngestResponse {
            accepted: 0,
            duplicates: 1
        }
    );
}

#[tokio::test]
async fn the_issue_example_with_null_plate_and_cargo_is_accepted() {
    let app = TestApp::spawn().await;
    let sha = "ab".repeat(32);
    let body = json!([
        {"id": "0193a1c2-7f3e-7a51-9c1e-2b5d8e4f6a10", "checkpoint_id": CP1,
         "seen_at": "2026-11-29T03:12:45.120Z", "lane": 1, "direction": "inbound",
         "plate": {"text": "晋H93513", "color": "yellow", "layout": "single", "confidence": 0.97},
         "cargo": {"cover": "open", "material": "coal", "confidence": 0.91},
         "evidence": [{"sha256": sha, "kind": "frame"}, {"sha256": sha, "kind": "plate"}]},
        {"id": "0193a1c2-7f3e-7a51-9c1e-2b5d8e4f6a11", "checkpoint_id": CP1,
         "seen_at": "2026-11-29T03:12:46Z", "lane": 2, "direction": "outbound",
         "plate": null, "cargo": null, "evidence": [], "extra_field": "ignored"}
    ]);
    let (status, answer) = app
        .post_json(&app.cp1_token, "/api/v1/passages", &body)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"accepted": 2, "duplicates": 0}));
    let i = json!([{"id": "0193a1c2-7f3e-7a51-9c1e-2b5d8e4f6a20", "passage_id": "0193a1c2-7f3e-7a51-9c1e-2b5d8e4f6a10",
                    "checkpoint_id": CP1, "kind": "suspected_loose_coal", "severity": "high", "created_at": "2026-11-29T03:12:45.120Z"}]);
    let (status, answer) = app.post_json(&app.cp1_token, "/api/v1/incidents", &i).await;
    assert_eq!(
        (status, answer),
        (200, json!({"accepted": 1, "duplicates": 0}))
    );
}

#[tokio::test]
async fn an_invalid_plate_is_a_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let mut batch: Vec<serde_json::Value> = (0..4)
        .map(|_| serde_json::to_value(passage(CP1, Some("晋H93513"), now, vec![])).unwrap())
        .collect();
    batch[3]["plate"]["text"] = json!("晋I12345");
    let (status, answer) = app
        .post_json(&app.cp1_token, "/api/v1/passages", &json!(batch))
        .await;
    assert_eq!(status, 400);
    let msg = answer["error"].as_str().unwrap();
    assert!(msg.starts_with("passages[3].plate.text: "), "{msg}");
    assert!(msg.contains("GA 36"), "{msg}");
    // Nothing of the batch was stored.
    batch[3]["plate"]["text"] = json!("晋H93513");
    let (status, answer) = app
        .post_json(&app.cp1_token, "/api/v1/passages", &json!(batch))
        .await;
    assert_eq!((status, answer["accepted"].as_u64()), (200, Some(4)));
}

#[tokio::test]
async fn malformed_json_is_a_400_with_a_json_message() {
    let app = TestApp::spawn().await;
    for (path, body) in [
        ("/api/v1/passages", "[{\"id\": "),
        ("/api/v1/incidents", "not json"),
        ("/api/v1/passages", "{}"),
        ("/api/v1/passages", "[] trailing"),
    ] {
        let resp = app
            .http
            .post(app.url(path))
            .bearer_auth(&app.cp1_token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{path} {body}");
        let answer: serde_json::Value = resp.json().await.unwrap();
        assert!(
            answer["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
    }
    // A bad id inside a record names its place.
    let (status, answer) = app
        .post_json(
            &app.cp1_token,
            "/api/v1/incidents",
            &json!([{"id": "nope"}]),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .starts_with("incidents[0].id"),
        "{answer}"
    );
    // Login takes JSON through actix's JsonConfig: same shape of answer.
    let resp = app
        .http
        .post(app.url("/api/v1/login"))
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let answer: serde_json::Value = resp.json().await.unwrap();
    assert!(
        answer["error"].as_str().unwrap().contains("JSON"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = TestApp::spawn().await;
    let p = passage(CP1, Some("晋H93513"), Utc::now(), vec![]);
    let one = serde_json::to_vec(&p).unwrap().len();
    let n = app.config.body_limit / one + 10;
    let batch: Vec<Passage> = (0..n)
        .map(|_| passage(CP1, Some("晋H93513"), Utc::now(), vec![]))
        .collect();
    let err = app.cp1().post_passages(&batch).await.unwrap_err();
    assert_eq!(err.status(), Some(413), "{err}");
    assert!(!err.is_retryable());
    // The server keeps serving.
    assert_eq!(
        app.cp1()
            .post_passages(&batch[..10])
            .await
            .unwrap()
            .accepted,
        10
    );
}

#[tokio::test]
async fn unknown_missing_and_revoked_tokens_are_401() {
    let mut app = TestApp::spawn().await;
    let p = passage(CP1, Some("晋H93513"), Utc::now(), vec![]);
    let err = app
        .client("not-a-token")
        .post_passages(std::slice::from_ref(&p))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(!err.is_retryable());
    let resp = app
        .http
        .post(app.url("/api/v1/passages"))
        .json(&[&p])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // A person's token is not a checkpoint token.
    let person = app.login("admin").await;
    assert_eq!(
        app.client(&person)
            .post_passages(std::slice::from_ref(&p))
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
    // Revoked.
    let store = app.stop_and_open().await;
    assert!(store
        .revoke_checkpoint(&hub::api::CheckpointId::parse(CP1).unwrap())
        .unwrap());
    store.flush_blocking().unwrap();
    drop(store);
    app.start().await;
    assert_eq!(
        app.cp1()
            .post_passages(std::slice::from_ref(&p))
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
    assert_eq!(
        app.cp2()
            .post_passages(&[passage(CP2, None, Utc::now(), vec![])])
            .await
            .unwrap()
            .accepted,
        1
    );
}

#[tokio::test]
async fn a_checkpoint_writes_only_its_own_records() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let batch = vec![
        passage(CP1, None, now, vec![]),
        passage(CP2, None, now, vec![]),
    ];
    let err = app.cp1().post_passages(&batch).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(
        err.to_string().contains("passages[1].checkpoint_id"),
        "{err}"
    );
    let i = incident(&batch[1], "uncovered_load");
    assert_eq!(
        app.cp1().post_incidents(&[i]).await.unwrap_err().status(),
        Some(403)
    );
}

#[tokio::test]
async fn the_client_classifies_connect_errors_as_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = hub::client::HubClient::new(&format!("http://{addr}"), "t").unwrap();
    let err = client.post_passages(&[]).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Connect(_) | ClientError::Transport(_)),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_clients_with_overlapping_ids_lose_and_duplicate_nothing() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    // 200 distinct passages; each of 32 clients posts an overlapping window of 50.
    let all: Vec<Passage> = (0..200)
        .map(|i| {
            passage(
                CP1,
                Some("冀H12345"),
                now + Duration::milliseconds(i),
                vec![],
            )
        })
        .collect();
    let mut tasks = Vec::new();
    for c in 0..32usize {
        let client = app.cp1();
        let window: Vec<Passage> = (0..50).map(|k| all[(c * 5 + k) % 200].clone()).collect();
        tasks.push(tokio::spawn(async move {
            client.post_passages(&window).await.unwrap()
        }));
    }
    let mut accepted = 0;
    let mut duplicates = 0;
    for t in tasks {
        let r = t.await.unwrap();
        accepted += r.accepted;
        duplicates += r.duplicates;
    }
    let covered: std::collections::HashSet<usize> = (0..32usize)
        .flat_map(|c| (0..50).map(move |k| (c * 5 + k) % 200))
        .collect();
    assert_eq!(
        accepted,
        covered.len() as u64,
        "each distinct id stored exactly once"
    );
    assert_eq!(accepted + duplicates, 32 * 50);
    // The plate index has each passage once, in time order.
    let token = app.login("admin").await;
    let (status, tl) = app
        .get_json(
            &token,
            &format!("/api/v1/plates/{}/passages?reason=test", enc("冀H12345")),
        )
        .await;
    assert_eq!(status, 200);
    let got: Vec<String> = tl["passages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    let mut want: Vec<usize> = covered.into_iter().collect();
    want.sort();
    let want: Vec<String> = want.into_iter().map(|i| all[i].id.to_string()).collect();
    assert_eq!(got, want);
}
