//! Plate search: a plate's passages across checkpoints in time order, reason required,
//! every search audited.

use chrono::{Duration, Utc};
use hub::api::PlateTimeline;

use crate::helpers::*;

#[tokio::test]
async fn a_plates_timeline_spans_checkpoints_in_time_order_and_is_audited() {
    let mut app = TestApp::spawn().await;
    let t0 = Utc::now() - Duration::hours(5);
    let a = passage(CP1, Some("晋H93513"), t0 + Duration::hours(2), vec![]);
    let b = passage(CP2, Some("晋H93513"), t0 + Duration::hours(1), vec![]);
    let c = passage(CP1, Some("晋H93513"), t0 + Duration::hours(3), vec![]);
    let other = passage(CP1, Some("晋H9351A"), t0, vec![]);
    app.cp1()
        .post_passages(&[a.clone(), c.clone(), other])
        .await
        .unwrap();
    app.cp2()
        .post_passages(std::slice::from_ref(&b))
        .await
        .unwrap();

    let t = app.login("officer2").await;
    let (s, v) = app
        .get_json(
            &t,
            &format!(
                "/api/v1/plates/{}/passages?reason={}",
                enc("晋H93513"),
                enc("举报 12315-0412")
            ),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let tl: PlateTimeline = serde_json::from_value(v).unwrap();
    assert_eq!(
        tl.passages.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![b.id, a.id, c.id]
    );

    // from/to narrow the window.
    let from = (t0 + Duration::minutes(90)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let to = (t0 + Duration::minutes(150)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (s, v) = app
        .get_json(
            &t,
            &format!(
                "/api/v1/plates/{}/passages?reason=r&from={}&to={}",
                enc("晋H93513"),
                enc(&from),
                enc(&to)
            ),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let tl: PlateTimeline = serde_json::from_value(v).unwrap();
    assert_eq!(
        tl.passages.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![a.id]
    );

    // No reason, an empty reason, a bad plate, a bad time: 400. No login: 401.
    for q in ["", "?reason=", "?reason=%20%20"] {
        let (s, v) = app
            .get_json(
                &t,
                &format!("/api/v1/plates/{}/passages{q}", enc("晋H93513")),
            )
            .await;
        assert_eq!(s, 400, "{q}");
        assert!(v["error"].as_str().unwrap().contains("reason"), "{v}");
    }
    assert_eq!(
        app.get_json(
            &t,
            &format!("/api/v1/plates/{}/passages?reason=r", enc("晋I12345"))
        )
        .await
        .0,
        400
    );
    assert_eq!(
        app.get_json(
            &t,
            &format!(
                "/api/v1/plates/{}/passages?reason=r&from=yesterday",
                enc("晋H93513")
            )
        )
        .await
        .0,
        400
    );
    assert_eq!(
        app.get_json(
            "x",
            &format!("/api/v1/plates/{}/passages?reason=r", enc("晋H93513"))
        )
        .await
        .0,
        401
    );

    let store = app.stop_and_open().await;
    let searches: Vec<_> = store
        .audit_tail(100)
        .unwrap()
        .into_iter()
        .filter(|a| a.what == "plate.search")
        .collect();
    assert_eq!(searches.len(), 2);
    assert_eq!(searches[0].who, "officer2");
    assert_eq!(searches[0].reason.as_deref(), Some("举报 12315-0412"));
    assert_eq!(searches[0].detail["plate"], "晋H93513");
}
