//! Outcomes: each asks for its own fields (400 naming the missing or foreign one),
//! lands in the incident's history and in the audit log with them.

use hub::api::IncidentDetail;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn each_outcome_asks_for_its_own_fields() {
    let app = TestApp::spawn().await;
    let t = app.login("officer1").await;
    let (_, i) = seed_incident(&app, CP1, "晋H93513", 1).await;
    let url = format!("/api/v1/incidents/{}/actions", i.id);
    let refused = [
        (outcome("fined", json!({})), "fine_yuan"),
        (
            outcome(
                "fined",
                json!({"fine_yuan": 500, "legal_basis": "art. 116"}),
            ),
            "fine_yuan",
        ),
        (outcome("fined", json!({"fine_yuan": 5000})), "legal_basis"),
        (
            outcome("fined", json!({"fine_yuan": 5000, "legal_basis": "  "})),
            "legal_basis",
        ),
        (outcome("seized", json!({})), "tonnes"),
        (outcome("seized", json!({"tonnes": 0.0})), "tonnes"),
        (outcome("sampled", json!({})), "sample_no"),
        (outcome("released_with_papers", json!({})), "papers"),
        (
            outcome("released_with_papers", json!({"papers": "semi_coke"})),
            "quality_report",
        ),
        (outcome("turned_back", json!({"tonnes": 3.0})), "tonnes"),
        (
            outcome("false_alarm", json!({"legal_basis": "x"})),
            "legal_basis",
        ),
        (
            json!({"action": "note", "note": "n", "sample_no": "S-1"}),
            "sample_no",
        ),
    ];
    for (body, field) in refused {
        let (s, v) = app.post_json(&t, &url, &body).await;
        assert_eq!(s, 400, "{body} → {v}");
        let msg = v["error"].as_str().unwrap();
        assert!(msg.starts_with(&format!("{field}:")), "{body} → {msg}");
    }
    // Nothing of the refused actions was kept.
    let (_, d) = app
        .get_json(&t, &format!("/api/v1/incidents/{}", i.id))
        .await;
    assert_eq!(d["status"], "new");
    assert_eq!(d["history"], json!([]));

    let fined = outcome(
        "fined",
        json!({"fine_yuan": 5000, "legal_basis": "《大气污染防治法》第一百一十六条", "note": "未苫盖"}),
    );
    let (s, d) = app.post_json(&t, &url, &fined).await;
    assert_eq!(s, 200, "{d}");
    let d: IncidentDetail = serde_json::from_value(d).unwrap();
    let h = d.history.last().unwrap();
    assert_eq!(h.fine_yuan, Some(5000));
    assert_eq!(
        h.details.legal_basis.as_deref(),
        Some("《大气污染防治法》第一百一十六条")
    );
    assert_eq!(h.tonnes, None);

    // Papers of legal fuel need their report number; a licensed fleet's do not.
    let (_, i2) = seed_incident(&app, CP1, "晋H93514", 2).await;
    let body = outcome(
        "released_with_papers",
        json!({"papers": "anthracite", "quality_report": "QR-2026-0412"}),
    );
    let (s, d) = app
        .post_json(&t, &format!("/api/v1/incidents/{}/actions", i2.id), &body)
        .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["history"][0]["papers"], "anthracite");
    assert_eq!(d["history"][0]["quality_report"], "QR-2026-0412");
    let (_, i3) = seed_incident(&app, CP1, "晋H93515", 3).await;
    let (s, _) = app
        .post_json(
            &t,
            &format!("/api/v1/incidents/{}/actions", i3.id),
            &outcome("released_with_papers", json!({"papers": "licensed_supply"})),
        )
        .await;
    assert_eq!(s, 200);

    // The audit line carries the fields.
    let auditor = app.login("auditor").await;
    let (s, lines) = app
        .get_json(&auditor, "/api/v1/audit?what=incident.outcome")
        .await;
    assert_eq!(s, 200);
    let fined_line = lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["detail"]["incident"] == json!(i.id))
        .expect("the fine is audited");
    assert_eq!(fined_line["who"], "officer1");
    assert_eq!(
        fined_line["detail"]["request"]["legal_basis"],
        "《大气污染防治法》第一百一十六条"
    );
    assert_eq!(fined_line["detail"]["request"]["fine_yuan"], 5000);
}
