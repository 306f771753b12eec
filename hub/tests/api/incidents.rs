//! People: login, the county-scoped incident queue, detail, actions and their audit.

use hub::api::{IncidentDetail, IncidentPage, IncidentStatus};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn login_answers_a_token_and_a_strict_httponly_cookie() {
    let app = TestApp::spawn().await;
    let resp = app
        .http
        .post(app.url("/api/v1/login"))
        .json(&json!({"name": "officer1", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("kadian_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let token = resp.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(token.len(), 64);
    for (name, pw) in [("officer1", "wrong password"), ("nobody", PASSWORD)] {
        let resp = app
            .http
            .post(app.url("/api/v1/login"))
            .json(&json!({"name": name, "password": pw}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{name}");
    }
    // The cookie works in place of the bearer token; logout ends the session.
    let resp = app
        .http
        .get(app.url("/api/v1/incidents"))
        .header("cookie", format!("kadian_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = app
        .http
        .post(app.url("/api/v1/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(app.get_json(&token, "/api/v1/incidents").await.0, 401);
    assert_eq!(app.get_json("garbage", "/api/v1/incidents").await.0, 401);
}

#[tokio::test]
async fn people_see_their_county_admins_and_auditors_all() {
    let app = TestApp::spawn().await;
    let (_, i1) = seed_incident(&app, CP1, "晋H93513", 1).await;
    let (_, i2) = seed_incident(&app, CP2, "冀A1234挂", 2).await;
    let officer1 = app.login("officer1").await;
    let officer2 = app.login("officer2").await;
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (s, page) = app.get_json(&officer1, "/api/v1/incidents").await;
    assert_eq!(s, 200);
    assert_eq!(ids(&page), vec![i1.id.to_string()]);
    assert_eq!(page["items"][0]["plate"], "晋H93513");
    assert_eq!(page["items"][0]["county"], COUNTY1);
    assert_eq!(page["items"][0]["status"], "new");
    assert_eq!(
        ids(&app.get_json(&officer2, "/api/v1/incidents").await.1),
        vec![i2.id.to_string()]
    );
    // Asking for another county is refused, not silently widened.
    assert_eq!(
        app.get_json(
            &officer1,
            &format!("/api/v1/incidents?county={}", enc(COUNTY2))
        )
        .await
        .0,
        403
    );
    for who in ["admin", "auditor"] {
        let t = app.login(who).await;
        assert_eq!(
            ids(&app.get_json(&t, "/api/v1/incidents").await.1),
            vec![i2.id.to_string(), i1.id.to_string()],
            "{who}"
        );
        assert_eq!(
            ids(&app
                .get_json(&t, &format!("/api/v1/incidents?county={}", enc(COUNTY2)))
                .await
                .1),
            vec![i2.id.to_string()]
        );
    }
    // Another county's incident is hidden; unknown 404; not a UUID 400.
    assert_eq!(
        app.get_json(&officer1, &format!("/api/v1/incidents/{}", i2.id))
            .await
            .0,
        404
    );
    assert_eq!(
        app.get_json(
            &officer1,
            &format!("/api/v1/incidents/{}", hub::api::IncidentId::new())
        )
        .await
        .0,
        404
    );
    assert_eq!(
        app.get_json(&officer1, "/api/v1/incidents/not-a-uuid")
            .await
            .0,
        400
    );
    assert_eq!(
        app.post_json(
            &officer1,
            &format!("/api/v1/incidents/{}/actions", i2.id),
            &json!({"action": "claim"})
        )
        .await
        .0,
        404
    );
    // Bad filters are 400.
    for q in ["status=open", "kind=Bad-Kind", "before=xyz", "limit=abc"] {
        assert_eq!(
            app.get_json(&officer1, &format!("/api/v1/incidents?{q}"))
                .await
                .0,
            400,
            "{q}"
        );
    }
}

#[tokio::test]
async fn the_queue_pages_newest_first_and_filters() {
    let app = TestApp::spawn().await;
    let now = chrono::Utc::now();
    let mut incidents = Vec::new();
    for k in 0..7 {
        let p = passage(
            CP1,
            Some("晋H93513"),
            now + chrono::Duration::seconds(k),
            vec![],
        );
        let kind = if k % 2 == 0 {
            "uncovered_load"
        } else {
            "suspected_loose_coal"
        };
        incidents.push(incident(&p, kind));
    }
    app.cp1().post_incidents(&incidents).await.unwrap();
    let t = app.login("officer1").await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/incidents?limit=3".to_owned();
    loop {
        let (s, v) = app.get_json(&t, &path).await;
        assert_eq!(s, 200);
        let page: IncidentPage = serde_json::from_value(v).unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|i| i.incident.id));
        match page.next {
            Some(next) => path = format!("/api/v1/incidents?limit=3&before={next}"),
            None => break,
        }
    }
    let want: Vec<_> = incidents.iter().rev().map(|i| i.id).collect();
    assert_eq!(seen, want);
    let (_, v) = app
        .get_json(&t, "/api/v1/incidents?kind=uncovered_load")
        .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 4);
    // Claim one, then filter by status (admin path uses the status index).
    let target = incidents[2].id;
    assert_eq!(
        app.post_json(
            &t,
            &format!("/api/v1/incidents/{target}/actions"),
            &json!({"action": "claim"})
        )
        .await
        .0,
        200
    );
    let admin = app.login("admin").await;
    for (who, token) in [("officer", &t), ("admin", &admin)] {
        let (_, v) = app
            .get_json(token, "/api/v1/incidents?status=claimed")
            .await;
        let page: IncidentPage = serde_json::from_value(v).unwrap();
        assert_eq!(
            page.items.iter().map(|i| i.incident.id).collect::<Vec<_>>(),
            vec![target],
            "{who}"
        );
        let (_, v) = app.get_json(token, "/api/v1/incidents?status=new").await;
        assert_eq!(v["items"].as_array().unwrap().len(), 6, "{who}");
    }
}

#[tokio::test]
async fn actions_move_the_status_and_are_audited() {
    let mut app = TestApp::spawn().await;
    let (p, i) = seed_incident(&app, CP1, "晋H93513", 3).await;
    let t = app.login("officer1").await;
    let url = format!("/api/v1/incidents/{}/actions", i.id);
    let (s, d) = app
        .get_json(&t, &format!("/api/v1/incidents/{}", i.id))
        .await;
    assert_eq!(s, 200);
    let d: IncidentDetail = serde_json::from_value(d).unwrap();
    assert_eq!(d.passage.as_ref().map(|x| x.id), Some(p.id));
    assert_eq!(d.evidence, p.evidence);
    assert!(d.history.is_empty());
    // Each step: the answer and the status after it.
    let steps = [
        (json!({"action": "claim"}), 200, IncidentStatus::Claimed),
        (json!({"action": "claim"}), 409, IncidentStatus::Claimed),
        (
            json!({"action": "note", "note": "司机称运的是兰炭"}),
            200,
            IncidentStatus::Claimed,
        ),
        (json!({"action": "note"}), 409, IncidentStatus::Claimed),
        (
            json!({"action": "dispatch", "team": "滦平联合执法队"}),
            200,
            IncidentStatus::Dispatched,
        ),
        (
            json!({"action": "outcome"}),
            409,
            IncidentStatus::Dispatched,
        ),
        (
            json!({"action": "outcome", "outcome": "seized", "tonnes": 12.5}),
            200,
            IncidentStatus::Closed,
        ),
        (json!({"action": "dispatch"}), 409, IncidentStatus::Closed),
        (json!({"action": "explode"}), 400, IncidentStatus::Closed),
    ];
    for (body, code, status) in steps {
        let (s, v) = app.post_json(&t, &url, &body).await;
        assert_eq!(s, code, "{body} → {v}");
        let (_, d) = app
            .get_json(&t, &format!("/api/v1/incidents/{}", i.id))
            .await;
        assert_eq!(d["status"], json!(status), "{body}");
    }
    let (_, d) = app
        .get_json(&t, &format!("/api/v1/incidents/{}", i.id))
        .await;
    let d: IncidentDetail = serde_json::from_value(d).unwrap();
    assert_eq!(d.history.len(), 4);
    assert_eq!(d.history[1].note.as_deref(), Some("司机称运的是兰炭"));
    assert!(d.history.iter().all(|h| h.by == "officer1"));
    // Auditors read but do not act.
    let auditor = app.login("auditor").await;
    assert_eq!(
        app.post_json(&auditor, &url, &json!({"action": "note", "note": "x"}))
            .await
            .0,
        403
    );
    assert_eq!(
        app.get_json(&auditor, &format!("/api/v1/incidents/{}", i.id))
            .await
            .0,
        200
    );
    // The audit log has each action.
    let store = app.stop_and_open().await;
    let audit = store.audit_tail(100).unwrap();
    let actions: Vec<&str> = audit
        .iter()
        .filter(|a| a.what.starts_with("incident."))
        .map(|a| a.what.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "incident.claim",
            "incident.note",
            "incident.dispatch",
            "incident.outcome"
        ]
    );
}
