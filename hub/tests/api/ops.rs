//! /healthz, /metrics (by route pattern), the OpenAPI document, unknown routes.

use chrono::Utc;

use crate::helpers::*;

#[tokio::test]
async fn health_metrics_and_openapi() {
    let app = TestApp::spawn().await;
    let resp = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);

    let (_, i) = seed_incident(&app, CP1, "晋H93513", 4).await;
    let t = app.login("officer1").await;
    assert_eq!(
        app.get_json(&t, &format!("/api/v1/incidents/{}", i.id))
            .await
            .0,
        200
    );
    app.cp1()
        .post_passages(&[passage(CP1, None, Utc::now(), vec![])])
        .await
        .unwrap();

    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "hub_passages_ingested_total 2",
        "hub_incidents_ingested_total 1",
        "hub_store_size_bytes",
        r#"route="/api/v1/incidents/{id}""#,
        r#"route="/api/v1/passages""#,
        "hub_http_request_duration_seconds_bucket",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    assert!(
        !text.contains(&i.id.to_string()),
        "raw paths must not become labels"
    );

    let (s, doc) = app.get_json("", "/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/passages",
        "/incidents",
        "/incidents/{id}",
        "/incidents/{id}/actions",
        "/evidence/{sha256}",
        "/lists",
        "/plates/{plate}/passages",
        "/login",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }

    let (s, v) = app.get_json("", "/api/v1/nothing-here").await;
    assert_eq!(s, 404);
    assert!(v["error"].is_string());
}
