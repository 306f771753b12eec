//! A restart on the same data dir keeps everything that was acknowledged.

use hub::api::{IncidentDetail, IngestResponse, PlateTimeline};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_restart_keeps_passages_incidents_evidence_actions_and_lists() {
    let mut app = TestApp::spawn().await;
    let (p, i) = seed_incident(&app, CP1, "晋H93513", 9).await;
    let t = app.login("officer1").await;
    assert_eq!(
        app.post_json(
            &t,
            &format!("/api/v1/incidents/{}/actions", i.id),
            &json!({"action": "claim"})
        )
        .await
        .0,
        200
    );
    let admin = app.login("admin").await;
    assert_eq!(
        app.post_json(
            &admin,
            "/api/v1/lists/hotlist/entries",
            &json!({"plate": "晋H93513", "reason": "r"})
        )
        .await
        .0,
        200
    );

    app.restart().await;

    // Sessions survive; so do records, their replays are still duplicates.
    let (s, d) = app
        .get_json(&t, &format!("/api/v1/incidents/{}", i.id))
        .await;
    assert_eq!(s, 200);
    let d: IncidentDetail = serde_json::from_value(d).unwrap();
    assert_eq!(d.passage.as_ref().map(|x| x.id), Some(p.id));
    assert_eq!(d.history.len(), 1);
    assert_eq!(
        app.cp1()
            .post_passages(std::slice::from_ref(&p))
            .await
            .unwrap(),
        IngestResponse {
            accepted: 0,
            duplicates: 1
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
    let resp = app
        .http
        .get(app.url(&format!("/api/v1/evidence/{}", p.evidence[0].sha256)))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, tl) = app
        .get_json(
            &t,
            &format!("/api/v1/plates/{}/passages?reason=r", enc("晋H93513")),
        )
        .await;
    let tl: PlateTimeline = serde_json::from_value(tl).unwrap();
    assert_eq!(tl.passages, vec![p]);
    let (_, lists) = app.get_json(&t, "/api/v1/lists").await;
    assert_eq!(lists["version"], 1);
}
