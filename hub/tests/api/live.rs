//! The live queue: server-sent events of new incidents and status changes, filtered by
//! the person's counties, with keep-alive comments; a stream ends with its session.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_new_incident_reaches_an_open_stream_within_two_seconds() {
    let app = TestApp::spawn().await;
    let officer1 = app.login("officer1").await;
    let mut stream = EventStream::open(&app, &officer1).await;
    let sent = Instant::now();
    let (_, i) = seed_incident(&app, CP1, "晋H93513", 1).await;
    let ev = stream
        .incident(Duration::from_secs(2))
        .await
        .expect("the incident within 2 s");
    println!(
        "incident on the stream {:?} after the first upload began",
        sent.elapsed()
    );
    assert_eq!(ev["incident"]["id"], json!(i.id));
    assert_eq!(ev["incident"]["status"], "new");
    assert_eq!(ev["incident"]["county"], COUNTY1);
    let html = ev["html"].as_str().unwrap();
    assert!(
        html.starts_with(&format!("<li id=\"incident-{}\"", i.id)),
        "{html}"
    );
    assert!(
        html.contains("晋H93513") && html.contains("疑似散煤"),
        "{html}"
    );
    // Without a session there is no stream.
    let resp = app
        .http
        .get(app.url("/api/v1/incidents/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn streams_carry_only_the_counties_a_person_sees() {
    let app = TestApp::spawn().await;
    let (t1, t2, ta) = (
        app.login("officer1").await,
        app.login("officer2").await,
        app.login("admin").await,
    );
    let mut s1 = EventStream::open(&app, &t1).await;
    let mut s2 = EventStream::open(&app, &t2).await;
    let mut sa = EventStream::open(&app, &ta).await;
    let (_, i1) = seed_incident(&app, CP1, "晋H93513", 1).await;
    let (_, i2) = seed_incident(&app, CP2, "冀A1234挂", 2).await;
    let got =
        |v: Option<serde_json::Value>| v.map(|v| v["incident"]["id"].as_str().unwrap().to_owned());
    let within = Duration::from_secs(2);
    assert_eq!(got(s1.incident(within).await), Some(i1.id.to_string()));
    assert_eq!(got(s2.incident(within).await), Some(i2.id.to_string()));
    assert_eq!(got(sa.incident(within).await), Some(i1.id.to_string()));
    assert_eq!(got(sa.incident(within).await), Some(i2.id.to_string()));
    // Neither officer hears of the other county.
    assert_eq!(got(s1.incident(Duration::from_millis(500)).await), None);
    assert_eq!(got(s2.incident(Duration::from_millis(500)).await), None);
}

#[tokio::test]
async fn status_changes_are_streamed_and_idle_streams_keep_alive() {
    let app = TestApp::spawn_with(|c| c.sse_keepalive_secs = 1).await;
    let t = app.login("officer1").await;
    let (_, i) = seed_incident(&app, CP1, "晋H93513", 1).await;
    let mut s = EventStream::open(&app, &t).await;
    let url = format!("/api/v1/incidents/{}/actions", i.id);
    assert_eq!(
        app.post_json(&t, &url, &json!({"action": "claim"})).await.0,
        200
    );
    let ev = s.incident(Duration::from_secs(2)).await.expect("the claim");
    assert_eq!(ev["incident"]["status"], "claimed");
    assert!(ev["html"].as_str().unwrap().contains("已认领"));
    // Nothing happens: a comment line still arrives every second.
    let f = s
        .frame(Duration::from_millis(2500))
        .await
        .expect("a keep-alive");
    assert_eq!(f, ": keep-alive");
}
