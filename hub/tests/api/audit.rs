//! The audit log: every plate search says why; auditors read who, when, what and why;
//! nothing writes it but the actions themselves.

use crate::helpers::*;

#[tokio::test]
async fn plate_searches_need_a_reason_and_auditors_read_it() {
    let app = TestApp::spawn().await;
    let officer = app.login("officer1").await;
    let (s, v) = app
        .get_json(&officer, "/api/v1/plates/晋H93513/passages")
        .await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().starts_with("reason:"), "{v}");
    let (s, _) = app
        .get_json(
            &officer,
            &format!(
                "/api/v1/plates/晋H93513/passages?reason={}",
                enc("举报核查 12315-0412")
            ),
        )
        .await;
    assert_eq!(s, 200);

    let auditor = app.login("auditor").await;
    let (s, lines) = app
        .get_json(&auditor, "/api/v1/audit?what=plate.search")
        .await;
    assert_eq!(s, 200);
    let lines = lines.as_array().unwrap();
    assert_eq!(lines.len(), 1, "the refused search is not a search");
    assert_eq!(lines[0]["who"], "officer1");
    assert_eq!(lines[0]["reason"], "举报核查 12315-0412");
    assert_eq!(lines[0]["detail"]["plate"], "晋H93513");
    assert!(lines[0]["at"].is_string());
    // Newest first, filtered by who.
    let (_, all) = app.get_json(&auditor, "/api/v1/audit?who=officer1").await;
    let whats: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["what"].as_str().unwrap())
        .collect();
    assert_eq!(whats, ["plate.search", "login"]);
    // Only auditors and admins read it; nobody writes it.
    assert_eq!(app.get_json(&officer, "/api/v1/audit").await.0, 403);
    assert_eq!(
        app.get_json(&app.login("admin").await, "/api/v1/audit")
            .await
            .0,
        200
    );
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let resp = app
            .http
            .request(method.clone(), app.url("/api/v1/audit"))
            .bearer_auth(&auditor)
            .json(&serde_json::json!({"who": "x", "what": "y"}))
            .send()
            .await
            .unwrap();
        assert!(!resp.status().is_success(), "{method} /api/v1/audit");
    }
    // The audit page shows the reason, to auditors only.
    let resp = app.get(&auditor, "/audit").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("举报核查 12315-0412"));
    assert_eq!(app.get(&officer, "/audit").await.status(), 403);
}
