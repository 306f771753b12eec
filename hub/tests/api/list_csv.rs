//! Lists in bulk: CSV import with a report of every rejected row, export, one version
//! bump per import; expired entries are no longer served to checkpoints.

use hub::client::ListsFetch;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn csv_import_reports_rejected_rows_and_bumps_the_version_once() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let dispatcher = app.login("dispatcher1").await;
    let officer = app.login("officer1").await;
    let csv = "plate,reason,company,expires_at\n\
               晋H93513,举报核实 12315-0412,,2099-12-31\n\
               ABC,bad plate,,\n\
               冀A1234挂,,,\n\
               冀B12345,过期,,2020-01-01\n\
               冀C12345,日期不对,,next week\n\
               晋H93513,重复,,\n\
               京AD12345,新能源布控,,2099-01-01T00:00:00Z\n";
    let (s, r) = post_csv(&app, &dispatcher, "hotlist", csv).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["imported"], 2);
    assert_eq!(r["version"], 1);
    let rejected: Vec<(u64, String)> = r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["row"].as_u64().unwrap(),
                x["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [
            (3, "plate".to_owned()),
            (4, "reason".to_owned()),
            (5, "expires_at".to_owned()),
            (6, "expires_at".to_owned()),
            (7, "plate".to_owned()),
        ]
    );
    assert!(r["rejected"][3]["why"]
        .as_str()
        .unwrap()
        .contains("next week"));
    // The whitelist needs the company of each fleet.
    let (s, r) = post_csv(
        &app,
        &admin,
        "whitelist",
        "plate,company,reason\n冀H12345,承德洁净煤业,保供\n冀H12346,,保供\n",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        (r["imported"].as_u64(), r["version"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(r["rejected"][0]["row"], 3);
    assert_eq!(r["rejected"][0]["field"], "company");
    // A file the hub cannot read at all is a 400 naming the column.
    let (s, r) = post_csv(&app, &admin, "hotlist", "plate,colour\n晋H93513,yellow\n").await;
    assert_eq!(s, 400);
    assert!(r["error"].as_str().unwrap().contains("colour"), "{r}");
    assert_eq!(post_csv(&app, &officer, "hotlist", csv).await.0, 403);

    // Export round-trips what was imported.
    let text = app.get_csv(&admin, "/api/v1/lists/hotlist/csv").await;
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("plate,reason,company,expires_at,added_by,added_at")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(
        rows.iter().any(|l| l
            .starts_with("晋H93513,举报核实 12315-0412,,2099-12-31T16:00:00+00:00,dispatcher1,")),
        "{text}"
    );
    let (_, r) = post_csv(&app, &admin, "hotlist", &text).await;
    assert_eq!(
        (
            r["imported"].as_u64(),
            r["rejected"].as_array().map(Vec::len)
        ),
        (Some(2), Some(0))
    );

    // Checkpoints pull the new version; the import is audited.
    let ListsFetch::Fresh { lists, .. } = app.cp1().get_lists(None).await.unwrap() else {
        panic!()
    };
    assert_eq!(
        (lists.version, lists.hotlist.len(), lists.whitelist.len()),
        (3, 2, 1)
    );
    let auditor = app.login("auditor").await;
    let (_, lines) = app
        .get_json(&auditor, "/api/v1/audit?what=list.import")
        .await;
    assert_eq!(lines.as_array().unwrap().len(), 3);
    assert_eq!(lines[2]["who"], "dispatcher1");
}

#[tokio::test]
async fn expired_hotlist_entries_are_no_longer_served() {
    let app = TestApp::spawn().await;
    let admin = app.login("admin").await;
    let soon = app.now() + chrono::Duration::hours(2);
    for (plate, expires) in [("晋H93513", Some(soon)), ("冀A12345", None)] {
        let (s, v) = app
            .post_json(
                &admin,
                "/api/v1/lists/hotlist/entries",
                &json!({"plate": plate, "reason": "布控", "expires_at": expires}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    // An expiry in the past is refused, naming the field.
    let (s, v) = app
        .post_json(
            &admin,
            "/api/v1/lists/hotlist/entries",
            &json!({"plate": "冀B12345", "reason": "布控", "expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"].as_str().unwrap().starts_with("expires_at:"),
        "{v}"
    );
    let ListsFetch::Fresh { lists, etag } = app.cp1().get_lists(None).await.unwrap() else {
        panic!()
    };
    assert_eq!(lists.hotlist.len(), 2);
    app.clock.advance(chrono::Duration::hours(3));
    // Nobody edited anything, yet the checkpoint's tag is stale: the entry expired.
    let ListsFetch::Fresh { lists, etag: etag2 } =
        app.cp1().get_lists(etag.as_deref()).await.unwrap()
    else {
        panic!("an expiry changes what is served")
    };
    let plates: Vec<&str> = lists.hotlist.iter().map(|e| e.plate.as_str()).collect();
    assert_eq!(plates, ["冀A12345"]);
    assert_ne!(etag, etag2);
    assert_eq!(
        app.cp1().get_lists(etag2.as_deref()).await.unwrap(),
        ListsFetch::NotModified
    );
    // The admins still see it, marked, and can export it.
    let html = app.get(&admin, "/lists").await.text().await.unwrap();
    assert!(
        html.contains("晋H93513") && html.contains("已过期"),
        "{html}"
    );
}
