//! The tip line end to end: intake, the cross-check against passages the checkpoints
//! really posted, deadlines on the server's settable clock, verdicts, cases, rewards,
//! the hotlist, and who may see a tipster.

use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Duration, Utc};
use hub::api::*;
use serde_json::{json, Value};

use crate::helpers::*;

/// Everything the hub logs while this test binary runs, at every level of the hub and
/// actix-web: installed once as the global subscriber.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "hub=trace,actix_web=trace,info",
            ))
            .with_writer(move || LogSink(sink.clone()))
            .with_ansi(false)
            .init();
        buf
    })
    .clone()
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub const NAME: &str = "王秘密";
pub const PHONE: &str = "13912345678";

/// A tip body; `name` None for an anonymous caller.
pub fn tip_body(
    plate: &str,
    county: &str,
    window: (DateTime<Utc>, DateTime<Utc>),
    received_at: Option<DateTime<Utc>>,
    name: Option<&str>,
) -> Value {
    json!({
        "channel": "hotline_12315",
        "received_at": received_at,
        "tipster_name": name,
        "tipster_phone": name.map(|_| PHONE),
        "plate": plate,
        "county": county,
        "place": "G101 国道 滦平段",
        "window_from": window.0,
        "window_to": window.1,
        "said": "一辆敞篷拉煤车往南开",
    })
}

/// Files a tip; its id and case id.
pub async fn file(app: &TestApp, token: &str, body: &Value) -> (TipId, CaseId) {
    let (s, v) = app.post_json(token, "/api/v1/tips", body).await;
    assert_eq!(s, 201, "{v}");
    (
        v["id"].as_str().unwrap().parse().unwrap(),
        v["case_id"].as_str().unwrap().parse().unwrap(),
    )
}

/// Files an anonymous tip of `plate` in county 1 over the last hours.
pub async fn quick_tip(app: &TestApp, token: &str, plate: &str) -> (TipId, CaseId) {
    file(
        app,
        token,
        &tip_body(plate, COUNTY1, window(app), None, None),
    )
    .await
}

/// Posts a passage of `plate` at `cp` with a frame JPEG uploaded.
pub async fn seen(app: &TestApp, cp: &str, plate: &str, at: DateTime<Utc>, seed: u8) -> Passage {
    let client = if cp == CP1 { app.cp1() } else { app.cp2() };
    let frame = jpeg(seed);
    let ev = vec![EvidenceRef {
        sha256: Sha256::of(&frame),
        kind: EvidenceKind::Frame,
    }];
    client.put_evidence(&ev[0].sha256, frame).await.unwrap();
    let p = passage(cp, Some(plate), at, ev);
    client
        .post_passages(std::slice::from_ref(&p))
        .await
        .unwrap();
    p
}

async fn link(app: &TestApp, token: &str, tip: TipId, case: CaseId) -> (u16, Value) {
    let body = json!({ "case_id": case });
    app.post_json(token, &format!("/api/v1/tips/{tip}/case"), &body)
        .await
}

async fn verdict(app: &TestApp, token: &str, tip: TipId, body: &Value) -> (u16, Value) {
    app.post_json(token, &format!("/api/v1/tips/{tip}/verdict"), body)
        .await
}

fn neighbours(c: &mut hub::config::Config) {
    c.neighbours.insert(COUNTY1.into(), vec![COUNTY2.into()]);
}

fn window(app: &TestApp) -> (DateTime<Utc>, DateTime<Utc>) {
    let now = app.now();
    (now - Duration::hours(3), now - Duration::hours(1))
}

fn matches(detail: &Value) -> Vec<(String, String, String, String)> {
    detail["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["plate"].as_str().unwrap().to_owned(),
                m["kind"].as_str().unwrap().to_owned(),
                m["area"].as_str().unwrap().to_owned(),
                m["checkpoint_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn intake_checks_every_field_and_role() {
    let app = TestApp::spawn().await;
    let inv = app.login("investigator1").await;
    let w = window(&app);
    let cases = [
        (tip_body("*", COUNTY1, w, None, None), "tip.plate"),
        (tip_body("晋A#123", COUNTY1, w, None, None), "tip.plate"),
        (
            tip_body("晋A?23*", COUNTY1, (w.1, w.0), None, None),
            "window_to",
        ),
        (
            tip_body(
                "晋A?23*",
                COUNTY1,
                (w.0 - Duration::days(30), w.1),
                None,
                None,
            ),
            "window_to",
        ),
        (
            tip_body(
                "晋A?23*",
                COUNTY1,
                w,
                Some(app.now() + Duration::days(1)),
                None,
            ),
            "received_at",
        ),
        (json!({"channel": "fax"}), "tip.channel"),
    ];
    for (body, field) in cases {
        let (s, v) = app.post_json(&inv, "/api/v1/tips", &body).await;
        assert_eq!(s, 400, "{body}: {v}");
        assert!(v["error"].as_str().unwrap().contains(field), "{field}: {v}");
    }
    let mut bad_phone = tip_body("晋A?23*", COUNTY1, w, None, Some(NAME));
    bad_phone["tipster_phone"] = json!("call me");
    let (s, v) = app.post_json(&inv, "/api/v1/tips", &bad_phone).await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().contains("tipster_phone"));
    // Another county's investigator, officers and dispatchers cannot file.
    let ok = tip_body("晋A?23*", COUNTY1, w, None, Some(NAME));
    let inv2 = app.login("investigator2").await;
    assert_eq!(app.post_json(&inv2, "/api/v1/tips", &ok).await.0, 403);
    for who in ["officer1", "dispatcher1", "auditor"] {
        let t = app.login(who).await;
        assert_eq!(app.post_json(&t, "/api/v1/tips", &ok).await.0, 403, "{who}");
    }
    let (s, v) = app.post_json(&inv, "/api/v1/tips", &ok).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["plate"], "晋A?23*");
    assert_eq!(v["due"], "open");
    assert_eq!(v["real_name"], true);
    assert_eq!(v["tipster"]["name"], NAME);
    let received: DateTime<Utc> = serde_json::from_value(v["received_at"].clone()).unwrap();
    let deadline: DateTime<Utc> = serde_json::from_value(v["deadline"].clone()).unwrap();
    assert_eq!(deadline - received, Duration::hours(48));
    assert_eq!(received, app.now());
}

#[tokio::test]
async fn concrete_plate_matches_exact_confusable_and_neighbour_ranked() {
    let app = TestApp::spawn_with(neighbours).await;
    let inv = app.login("investigator1").await;
    let now = app.now();
    let w = window(&app);
    let mid = w.0 + Duration::hours(1);
    seen(&app, CP1, "晋H93518", mid + Duration::minutes(40), 1).await; // exact, in county
    seen(&app, CP1, "晋H93518", mid + Duration::minutes(5), 2).await; // exact, closer
    seen(&app, CP2, "晋H93518", mid, 3).await; // exact, neighbour
    seen(&app, CP1, "晋H9351B", mid, 4).await; // 8 heard as B
    seen(&app, CP1, "晋H93519", mid, 5).await; // no match
    seen(&app, CP1, "晋H93518", now - Duration::hours(6), 6).await; // outside the window
    let (id, _) = file(&app, &inv, &tip_body("晋H93518", COUNTY1, w, None, None)).await;
    let (s, d) = app.get_json(&inv, &format!("/api/v1/tips/{id}")).await;
    assert_eq!(s, 200, "{d}");
    let m = matches(&d);
    let row = |p: &str, k: &str, a: &str, cp: &str| {
        (p.to_string(), k.to_string(), a.to_string(), cp.to_string())
    };
    assert_eq!(
        m,
        vec![
            row("晋H93518", "exact", "in_county", CP1),
            row("晋H93518", "exact", "in_county", CP1),
            row("晋H93518", "exact", "neighbour", CP2),
            row("晋H9351B", "confusable", "in_county", CP1),
        ]
    );
    // Closer to the middle of the window first.
    let t0: DateTime<Utc> = serde_json::from_value(d["matches"][0]["seen_at"].clone()).unwrap();
    assert_eq!(t0, mid + Duration::minutes(5));
    // Every match carries its photo, and the thumbnail route serves it.
    let sha = d["matches"][0]["evidence"][0]["sha256"].as_str().unwrap();
    let resp = app
        .http
        .get(app.url(&format!("/api/v1/evidence/{sha}/thumb")))
        .bearer_auth(&inv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
}

#[tokio::test]
async fn partial_plates_scan_checkpoints_in_and_near_the_county() {
    let app = TestApp::spawn_with(neighbours).await;
    let inv = app.login("investigator1").await;
    let w = window(&app);
    let mid = w.0 + Duration::hours(1);
    seen(&app, CP1, "晋A72345", mid, 1).await;
    seen(&app, CP2, "晋AK2399", mid, 2).await;
    seen(&app, CP1, "冀B05678", mid, 3).await;
    seen(&app, CP1, "冀BS5678", mid - Duration::hours(5), 4).await; // outside the window
    let (id, _) = file(&app, &inv, &tip_body("晋A?23*", COUNTY1, w, None, None)).await;
    let (_, d) = app.get_json(&inv, &format!("/api/v1/tips/{id}")).await;
    let row = |p: &str, k: &str, a: &str, cp: &str| {
        (p.to_string(), k.to_string(), a.to_string(), cp.to_string())
    };
    assert_eq!(
        matches(&d),
        vec![
            row("晋A72345", "wildcard", "in_county", CP1),
            row("晋AK2399", "wildcard", "neighbour", CP2),
        ]
    );
    // A swapped character inside a partial plate: 5 heard as S.
    let (id, _) = file(&app, &inv, &tip_body("*S678", COUNTY1, w, None, None)).await;
    let (_, d) = app.get_json(&inv, &format!("/api/v1/tips/{id}")).await;
    assert_eq!(
        matches(&d),
        vec![row("冀B05678", "confusable", "in_county", CP1)]
    );
}

#[tokio::test]
async fn without_neighbours_other_counties_are_not_searched() {
    let app = TestApp::spawn().await;
    let inv = app.login("investigator1").await;
    let w = window(&app);
    seen(&app, CP2, "晋H93518", w.0 + Duration::hours(1), 1).await;
    for plate in ["晋H93518", "*3518"] {
        let (id, _) = file(&app, &inv, &tip_body(plate, COUNTY1, w, None, None)).await;
        let (_, d) = app.get_json(&inv, &format!("/api/v1/tips/{id}")).await;
        assert!(matches(&d).is_empty(), "{plate}: {d}");
    }
}

fn due_of(list: &Value, id: &TipId) -> String {
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.to_string())
        .map(|t| t["due"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| "absent".into())
}

#[tokio::test]
async fn open_tips_fall_due_soon_then_overdue_after_two_days() {
    let app = TestApp::spawn().await;
    let inv = app.login("investigator1").await;
    let (id, _) = quick_tip(&app, &inv, "晋H93518").await;
    let (_, list) = app.get_json(&inv, "/api/v1/tips").await;
    assert_eq!(due_of(&list, &id), "open");
    app.clock.advance(Duration::hours(37));
    // Sessions live on the same clock: 37 hours later the old login is gone.
    assert_eq!(app.get_json(&inv, "/api/v1/tips").await.0, 401);
    let inv = app.login("investigator1").await;
    let (_, soon) = app.get_json(&inv, "/api/v1/tips?due=due_soon").await;
    assert_eq!(due_of(&soon, &id), "due_soon");
    let (_, over) = app.get_json(&inv, "/api/v1/tips?due=overdue").await;
    assert_eq!(due_of(&over, &id), "absent");
    app.clock.advance(Duration::hours(12));
    let inv = app.login("investigator1").await;
    let (_, over) = app.get_json(&inv, "/api/v1/tips?due=overdue").await;
    assert_eq!(due_of(&over, &id), "overdue");
    let (_, html) = body_of(&app, &inv, "/tips").await;
    assert!(
        html.contains(&format!("id=\"tip-{id}\" class=\"overdue\"")),
        "{html}"
    );
    assert_eq!(app.get_json(&inv, "/api/v1/tips?due=late").await.0, 400);
}

#[tokio::test]
async fn deadline_hours_are_configurable() {
    let app = TestApp::spawn_with(|c| {
        c.tip_deadline_hours = 24;
        c.tip_due_soon_hours = 6;
    })
    .await;
    let inv = app.login("investigator1").await;
    let (id, _) = quick_tip(&app, &inv, "晋H93518").await;
    app.clock.advance(Duration::hours(25));
    let inv = app.login("investigator1").await;
    let (_, list) = app.get_json(&inv, "/api/v1/tips").await;
    assert_eq!(due_of(&list, &id), "overdue");
}

#[tokio::test]
async fn overlapping_tips_are_suggested_and_grouped() {
    let app = TestApp::spawn().await;
    let inv = app.login("investigator1").await;
    let w = window(&app);
    let (_, case1) = file(&app, &inv, &tip_body("晋H9351*", COUNTY1, w, None, None)).await;
    let later = (w.1 + Duration::hours(5), w.1 + Duration::hours(6));
    let (_, far_case) = file(
        &app,
        &inv,
        &tip_body("晋H93518", COUNTY1, later, None, None),
    )
    .await;
    let (tip2, case2) = file(&app, &inv, &tip_body("*93518", COUNTY1, w, None, None)).await;
    let (_, d) = app.get_json(&inv, &format!("/api/v1/tips/{tip2}")).await;
    let suggested: Vec<String> = serde_json::from_value(d["suggested_cases"].clone()).unwrap();
    assert_eq!(suggested, vec![case1.to_string()], "not {far_case}");
    let (s, c) = link(&app, &inv, tip2, case1).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["tips"].as_array().unwrap().len(), 2);
    // The tip's own case was left empty and is gone.
    assert_eq!(
        app.get_json(&inv, &format!("/api/v1/cases/{case2}"))
            .await
            .0,
        404
    );
    // Investigators of another county cannot see or move it.
    let inv2 = app.login("investigator2").await;
    assert_eq!(
        app.get_json(&inv2, &format!("/api/v1/cases/{case1}"))
            .await
            .0,
        404
    );
    let (s, _) = link(&app, &inv2, tip2, far_case).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn first_real_name_reporter_gets_the_one_reward_of_a_case() {
    let app = TestApp::spawn_with(|c| c.reward_yuan = 1500).await;
    let inv = app.login("investigator1").await;
    let now = app.now();
    let w = window(&app);
    let p = seen(&app, CP1, "晋H93518", w.0 + Duration::minutes(30), 1).await;
    let at = |h: i64| Some(now - Duration::hours(h));
    // Anonymous first, then two named callers; the earlier named one is filed last.
    let (anon, case) = file(&app, &inv, &tip_body("晋H93518", COUNTY1, w, at(5), None)).await;
    let (later_named, _) = file(
        &app,
        &inv,
        &tip_body("晋H93518", COUNTY1, w, at(2), Some("李四")),
    )
    .await;
    let (first_named, _) = file(
        &app,
        &inv,
        &tip_body("晋H9351*", COUNTY1, w, at(3), Some(NAME)),
    )
    .await;
    for t in [later_named, first_named] {
        let (s, v) = link(&app, &inv, t, case).await;
        assert_eq!(s, 200, "{v}");
    }
    // The proof must exist.
    let (s, v) = verdict(
        &app,
        &inv,
        anon,
        &json!({"verdict": "verified", "passages": [PassageId::new()]}),
    )
    .await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().contains("passages[0]"), "{v}");
    let (s, v) = verdict(&app, &inv, anon, &json!({"verdict": "verified"})).await;
    assert_eq!(s, 400, "{v}");
    let (s, c) = verdict(
        &app,
        &inv,
        later_named,
        &json!({"verdict": "verified", "passages": [p.id], "note": "照片清晰"}),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["status"], "verified");
    assert_eq!(c["verdict"]["plate"], "晋H93518");
    assert!(c["tips"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["status"] == "verified" && t["due"] == "done"));
    assert_eq!(c["reward"]["tip_id"], first_named.to_string());
    assert_eq!(c["reward"]["yuan"], 1500);
    let verified_at: DateTime<Utc> =
        serde_json::from_value(c["reward"]["verified_at"].clone()).unwrap();
    let due_by: DateTime<Utc> = serde_json::from_value(c["reward"]["due_by"].clone()).unwrap();
    assert_eq!(due_by - verified_at, Duration::days(10));
    // One verdict, one reward per case.
    let (s, _) = verdict(
        &app,
        &inv,
        anon,
        &json!({"verdict": "verified", "passages": [p.id]}),
    )
    .await;
    assert_eq!(s, 409);
    let (_, ledger) = app.get_json(&inv, "/api/v1/rewards").await;
    assert_eq!(ledger.as_array().unwrap().len(), 1);
    assert_eq!(ledger[0]["overdue"], false);
    // Ten days pass unpaid: overdue.
    app.clock.advance(Duration::days(10) + Duration::hours(1));
    let inv = app.login("investigator1").await;
    let (_, ledger) = app.get_json(&inv, "/api/v1/rewards").await;
    assert_eq!(ledger[0]["overdue"], true);
    let (s, r) = app
        .post_json(&inv, &format!("/api/v1/rewards/{case}/paid"), &json!({}))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["paid_by"], "investigator1");
    assert_eq!(
        app.post_json(&inv, &format!("/api/v1/rewards/{case}/paid"), &json!({}))
            .await
            .0,
        409
    );
    let (_, ledger) = app.get_json(&inv, "/api/v1/rewards").await;
    assert_eq!(ledger[0]["overdue"], false);
    assert!(ledger[0]["paid_at"].is_string());
    // Officers cannot pay; auditors read but cannot pay.
    let officer = app.login("officer1").await;
    assert_eq!(
        app.post_json(
            &officer,
            &format!("/api/v1/rewards/{case}/paid"),
            &json!({})
        )
        .await
        .0,
        403
    );
    let auditor = app.login("auditor").await;
    assert_eq!(app.get_json(&auditor, "/api/v1/rewards").await.0, 200);
    // Grouping and paying are audited, by id only.
    let (_, log) = body_of(&app, &auditor, "/api/v1/audit?limit=1000").await;
    for what in ["\"tip.link\"", "\"reward.paid\"", "\"tip.verdict\""] {
        assert!(log.contains(what), "{what} not audited");
    }
    assert_no_identity("the audit log", &log);
    assert!(!log.contains("李四"));
}

#[tokio::test]
async fn anonymous_and_unfounded_cases_have_no_reward() {
    let app = TestApp::spawn().await;
    let inv = app.login("investigator1").await;
    let w = window(&app);
    let p = seen(&app, CP1, "晋H93518", w.0 + Duration::minutes(30), 1).await;
    let (anon, _) = file(&app, &inv, &tip_body("晋H93518", COUNTY1, w, None, None)).await;
    let (_, c) = verdict(
        &app,
        &inv,
        anon,
        &json!({"verdict": "verified", "passages": [p.id]}),
    )
    .await;
    assert!(c["reward"].is_null(), "{c}");
    let (named, _) = file(
        &app,
        &inv,
        &tip_body("晋H93518", COUNTY1, w, None, Some(NAME)),
    )
    .await;
    let (s, c) = verdict(
        &app,
        &inv,
        named,
        &json!({"verdict": "unfounded", "note": "未见该车"}),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["status"], "unfounded");
    assert!(c["reward"].is_null());
    let (_, ledger) = app.get_json(&inv, "/api/v1/rewards").await;
    assert!(ledger.as_array().unwrap().is_empty());
}

/// Files a named tip about a truck that passed CP1, verifies it; (tip, case, passage).
pub async fn verified_case(app: &TestApp, inv: &str) -> (TipId, CaseId, Passage) {
    let w = window(app);
    let p = seen(app, CP1, "晋H93518", w.0 + Duration::minutes(30), 1).await;
    let i = incident(&p, "suspected_loose_coal");
    app.cp1()
        .post_incidents(std::slice::from_ref(&i))
        .await
        .unwrap();
    let (tip, case) = file(
        app,
        inv,
        &tip_body("晋H9351?", COUNTY1, w, None, Some(NAME)),
    )
    .await;
    let (s, c) = verdict(
        app,
        inv,
        tip,
        &json!({"verdict": "verified", "incidents": [i.id]}),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        c["verdict"]["plate"], "晋H93518",
        "plate from the incident's passage"
    );
    (tip, case, p)
}

#[tokio::test]
async fn a_verified_plate_goes_on_the_hotlist_in_one_action() {
    let app = TestApp::spawn().await;
    let inv = app.login("investigator1").await;
    let (_, case, _) = verified_case(&app, &inv).await;
    let (_, before) = app.get_json(&inv, "/api/v1/lists").await;
    let officer = app.login("officer1").await;
    assert_eq!(
        app.post_json(
            &officer,
            &format!("/api/v1/cases/{case}/hotlist"),
            &json!({})
        )
        .await
        .0,
        403
    );
    let (s, v) = app
        .post_json(&inv, &format!("/api/v1/cases/{case}/hotlist"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["version"], before["version"].as_u64().unwrap() + 1);
    let lists = match app.cp1().get_lists(None).await.unwrap() {
        hub::client::ListsFetch::Fresh { lists, .. } => lists,
        other => panic!("no lists: {other:?}"),
    };
    let entry = lists
        .hotlist
        .iter()
        .find(|e| e.plate.as_str() == "晋H93518")
        .expect("on the hotlist");
    assert!(entry.reason.contains(&case.to_string()), "{}", entry.reason);
    assert_eq!(entry.added_by, "investigator1");
    let (_, c) = app.get_json(&inv, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(c["hotlisted"], true);
    // An open case cannot.
    let (_, open_case) = quick_tip(&app, &inv, "晋H93518").await;
    assert_eq!(
        app.post_json(
            &inv,
            &format!("/api/v1/cases/{open_case}/hotlist"),
            &json!({})
        )
        .await
        .0,
        409
    );
}

async fn body_of(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let resp = app
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn assert_no_identity(what: &str, body: &str) {
    assert!(
        !body.contains(NAME),
        "{what} shows the tipster's name: {body}"
    );
    assert!(
        !body.contains(PHONE),
        "{what} shows the tipster's phone: {body}"
    );
}

/// Reads every path as `token`, expecting `status` and no tipster identity.
async fn read_without_identity(
    app: &TestApp,
    token: &str,
    who: &str,
    paths: &[String],
    status: u16,
) {
    for path in paths {
        let (s, b) = body_of(app, token, path).await;
        assert_eq!(s, status, "{who} {path}");
        assert_no_identity(&format!("{who} {path}"), &b);
    }
}

#[tokio::test]
async fn tipster_identity_reaches_investigators_only() {
    let logs = captured_logs();
    let app = TestApp::spawn().await;
    let inv = app.login("investigator1").await;
    let (tip, case, p) = verified_case(&app, &inv).await;
    app.post_json(&inv, &format!("/api/v1/cases/{case}/hotlist"), &json!({}))
        .await;
    // The investigator sees who called on the tip, and only there.
    let (_, d) = body_of(&app, &inv, &format!("/api/v1/tips/{tip}")).await;
    assert!(d.contains(NAME) && d.contains(PHONE));
    let (_, page) = body_of(&app, &inv, &format!("/tips/{tip}")).await;
    assert!(page.contains("id=\"tipster\"") && page.contains(NAME));
    let seen_by_investigators = [
        "/api/v1/tips".to_string(),
        "/tips".into(),
        format!("/api/v1/cases/{case}"),
        format!("/cases/{case}"),
        "/api/v1/rewards".into(),
        "/api/v1/rewards?format=csv".into(),
        "/rewards".into(),
    ];
    read_without_identity(&app, &inv, "investigator", &seen_by_investigators, 200).await;
    // Dispatchers and officers: no tips at all, and nothing derived from one shows it.
    let tip_paths = [
        "/api/v1/tips".to_string(),
        format!("/api/v1/tips/{tip}"),
        format!("/api/v1/cases/{case}"),
        "/api/v1/rewards".into(),
        "/api/v1/rewards?format=csv".into(),
        "/tips".into(),
        format!("/tips/{tip}"),
        format!("/cases/{case}"),
        "/rewards".into(),
    ];
    for who in ["dispatcher1", "officer1"] {
        let t = app.login(who).await;
        read_without_identity(&app, &t, who, &tip_paths, 403).await;
        // They do see the hotlist entry the tip led to, and its passage.
        let (s, b) = body_of(&app, &t, "/api/v1/lists").await;
        assert_eq!(s, 200);
        assert!(b.contains("晋H93518"));
        assert_no_identity(&format!("{who} lists"), &b);
        for path in [
            "/".to_string(),
            "/api/v1/incidents".into(),
            format!("/api/v1/plates/{}/passages?reason=x", enc("晋H93518")),
            format!("/api/v1/evidence/{}", p.evidence[0].sha256),
        ] {
            let (_, b) = body_of(&app, &t, &path).await;
            assert_no_identity(&format!("{who} {path}"), &b);
        }
    }
    // Auditors read tips without the identity, and the audit log never holds it.
    let auditor = app.login("auditor").await;
    let (s, d) = app.get_json(&auditor, &format!("/api/v1/tips/{tip}")).await;
    assert_eq!(s, 200);
    assert!(d.get("tipster").is_none(), "{d}");
    let seen_by_auditors = [
        "/api/v1/tips".to_string(),
        format!("/api/v1/tips/{tip}"),
        format!("/tips/{tip}"),
        "/rewards".into(),
        "/api/v1/rewards?format=csv".into(),
        "/api/v1/audit?limit=1000".into(),
    ];
    read_without_identity(&app, &auditor, "auditor", &seen_by_auditors, 200).await;
    let (_, log) = app.get_json(&auditor, "/api/v1/audit?limit=1000").await;
    let whats: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["what"].as_str().unwrap())
        .collect();
    for what in ["tip.file", "tip.view", "tip.verdict", "list.add"] {
        assert!(whats.contains(&what), "{what} not audited: {whats:?}");
    }
    let dispatcher = app.login("dispatcher1").await;
    assert_eq!(app.get_json(&dispatcher, "/api/v1/audit").await.0, 403);
    // Nor do the logs, at trace level, with every request above in them.
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(logs.contains("tip filed"), "the capture works");
    assert_no_identity("the tracing logs", &logs);
}

#[tokio::test]
async fn investigators_work_the_pages_with_a_finger() {
    let app = TestApp::spawn_with(neighbours).await;
    let inv = app.login("investigator1").await;
    let w = window(&app);
    let p = seen(&app, CP1, "晋H93518", w.0 + Duration::minutes(30), 7).await;
    let (_, form) = body_of(&app, &inv, "/tips/new").await;
    for id in [
        "tip-form",
        "tip-plate",
        "tip-channel",
        "tip-name",
        "tip-phone",
        "tip-from",
        "tip-to",
        "tip-submit",
    ] {
        assert!(form.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let bj = |t: DateTime<Utc>| {
        (t + Duration::hours(8))
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let form_of = |plate: &str| {
        let fields = [
            ("channel", "walk_in".to_string()),
            ("tipster_name", NAME.into()),
            ("tipster_phone", PHONE.into()),
            ("plate", plate.into()),
            ("county", COUNTY1.into()),
            ("place", "两间房".into()),
            ("window_from", bj(w.0)),
            ("window_to", bj(w.1 + Duration::minutes(1))),
            ("said", "夜里拉煤".into()),
        ];
        fields
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let post = |path: String, body: String| {
        app.http
            .post(app.url(&path))
            .bearer_auth(&inv)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let resp = post("/tips".into(), form_of("*")).await.unwrap();
    assert_eq!(resp.status(), 400, "a bad plate shows the form again");
    assert!(resp.text().await.unwrap().contains("id=\"tip-form\""));
    let resp = post("/tips".into(), form_of("晋H9351?")).await.unwrap();
    assert_eq!(resp.status(), 303);
    let to = resp.headers()["location"].to_str().unwrap().to_owned();
    let tip = to.trim_start_matches("/tips/").to_owned();
    let (_, detail) = body_of(&app, &inv, &to).await;
    for id in [
        "crosscheck",
        "tipster",
        "verdict-form",
        "link-form",
        &format!("match-{}", p.id),
        &format!("proof-{}", p.id),
    ] {
        assert!(detail.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(detail.contains(&format!("/api/v1/evidence/{}/thumb", p.evidence[0].sha256)));
    let resp = post(
        format!("/tips/{tip}/verdict"),
        format!("verdict=verified&passages={}&note=ok", p.id),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 303);
    let case_url = resp.headers()["location"].to_str().unwrap().to_owned();
    let case = case_url.trim_start_matches("/cases/").to_owned();
    let (_, case_page) = body_of(&app, &inv, &case_url).await;
    for id in [
        "case",
        &format!("reward-{case}"),
        &format!("hotlist-{case}"),
    ] {
        assert!(case_page.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    let resp = post(format!("/cases/{case}/hotlist"), String::new())
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let (_, ledger) = body_of(&app, &inv, "/rewards").await;
    assert!(ledger.contains(&format!("id=\"mark-paid-{case}\"")));
    let resp = post(format!("/rewards/{case}/paid"), String::new())
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let (_, ledger) = body_of(&app, &inv, "/rewards").await;
    assert!(ledger.contains(&format!("id=\"reward-{case}\"")));
    assert!(!ledger.contains(&format!("id=\"mark-paid-{case}\"")));
}

#[tokio::test]
async fn tips_cases_and_rewards_survive_a_restart() {
    let mut app = TestApp::spawn().await;
    let inv = app.login("investigator1").await;
    let (tip, case, _) = verified_case(&app, &inv).await;
    let (open_tip, _) = quick_tip(&app, &inv, "晋A?23*").await;
    app.restart().await;
    let (s, d) = app.get_json(&inv, &format!("/api/v1/tips/{tip}")).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "verified");
    assert_eq!(d["tipster"]["name"], NAME);
    let (_, c) = app.get_json(&inv, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(c["reward"]["tip_id"], tip.to_string());
    let (_, list) = app.get_json(&inv, "/api/v1/tips?status=open").await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![open_tip.to_string().as_str()]);
}

#[tokio::test]
async fn the_list_puts_open_tips_first_by_deadline() {
    let app = TestApp::spawn().await;
    let inv = app.login("investigator1").await;
    let (w, now) = (window(&app), app.now());
    let at = |h: i64| Some(now - Duration::hours(h));
    let (done, _) = file(&app, &inv, &tip_body("晋H93518", COUNTY1, w, at(30), None)).await;
    let (fresh, _) = file(&app, &inv, &tip_body("晋H93518", COUNTY1, w, at(1), None)).await;
    let (old, _) = file(&app, &inv, &tip_body("晋H93518", COUNTY1, w, at(20), None)).await;
    let (s, _) = verdict(&app, &inv, done, &json!({"verdict": "unfounded"})).await;
    assert_eq!(s, 200);
    let (_, list) = app.get_json(&inv, "/api/v1/tips").await;
    let ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [old, fresh, done].map(|t| t.to_string()));
}
