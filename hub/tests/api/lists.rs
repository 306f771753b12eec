//! Lists: ETag and 304 for checkpoints; admin and dispatcher edits bump the version;
//! the whitelist names the licensed supply company.

use hub::client::ListsFetch;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn lists_have_an_etag_and_304_when_unchanged() {
    let app = TestApp::spawn().await;
    let ListsFetch::Fresh { lists, etag } = app.cp1().get_lists(None).await.unwrap() else {
        panic!("first fetch is fresh")
    };
    assert_eq!(lists.version, 0);
    assert!(lists.hotlist.is_empty() && lists.whitelist.is_empty());
    let etag = etag.expect("an ETag");
    assert_eq!(
        app.cp1().get_lists(Some(&etag)).await.unwrap(),
        ListsFetch::NotModified
    );

    let admin = app.login("admin").await;
    let (s, v) = app
        .post_json(
            &admin,
            "/api/v1/lists/hotlist/entries",
            &json!({"plate": "晋H93513", "reason": "举报核实"}),
        )
        .await;
    assert_eq!((s, v["version"].as_u64()), (200, Some(1)));
    let (s, _) = app
        .post_json(
            &admin,
            "/api/v1/lists/whitelist/entries",
            &json!({"plate": "冀H12345", "reason": "保供企业车辆"}),
        )
        .await;
    assert_eq!(s, 400, "a whitelist entry names its company");
    let (s, _) = app
        .post_json(
            &admin,
            "/api/v1/lists/whitelist/entries",
            &json!({"plate": "冀H12345", "reason": "保供企业车辆", "company": "承德洁净煤业"}),
        )
        .await;
    assert_eq!(s, 200);
    let ListsFetch::Fresh { lists, etag: etag2 } = app.cp1().get_lists(Some(&etag)).await.unwrap()
    else {
        panic!("changed lists are fresh")
    };
    assert_eq!(lists.version, 2);
    assert_eq!(lists.hotlist[0].plate.as_str(), "晋H93513");
    assert_eq!(lists.hotlist[0].added_by, "admin");
    assert_eq!(lists.whitelist[0].plate.as_str(), "冀H12345");
    assert_eq!(lists.whitelist[0].company.as_deref(), Some("承德洁净煤业"));
    assert_ne!(etag2.as_deref(), Some(etag.as_str()));
    assert_eq!(
        app.cp2().get_lists(etag2.as_deref()).await.unwrap(),
        ListsFetch::NotModified
    );

    // Removing bumps the version; removing again is 404.
    let del = |plate: &str| {
        app.http
            .delete(app.url(&format!("/api/v1/lists/hotlist/entries/{}", enc(plate))))
            .bearer_auth(&admin)
            .send()
    };
    let resp = app
        .http
        .delete(app.url(&format!(
            "/api/v1/lists/hotlist/entries/{}?reason={}",
            enc("晋H93513"),
            enc("举报核实为误报")
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let auditor = app.login("auditor").await;
    let (_, lines) = app
        .get_json(&auditor, "/api/v1/audit?what=list.remove")
        .await;
    assert_eq!(lines[0]["reason"], "举报核实为误报");
    assert_eq!(lines[0]["detail"]["plate"], "晋H93513");
    assert_eq!(del("晋H93513").await.unwrap().status(), 404);
    let ListsFetch::Fresh { lists, .. } = app.cp1().get_lists(etag2.as_deref()).await.unwrap()
    else {
        panic!()
    };
    assert_eq!((lists.version, lists.hotlist.len()), (3, 0));
}

#[tokio::test]
async fn only_admins_and_dispatchers_edit_lists_and_input_is_checked() {
    let app = TestApp::spawn().await;
    let officer = app.login("officer1").await;
    let admin = app.login("admin").await;
    let dispatcher = app.login("dispatcher1").await;
    assert_eq!(
        app.post_json(
            &dispatcher,
            "/api/v1/lists/hotlist/entries",
            &json!({"plate": "晋H93513", "reason": "布控"})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        app.post_json(
            &officer,
            "/api/v1/lists/hotlist/entries",
            &json!({"plate": "晋H93513", "reason": "x"})
        )
        .await
        .0,
        403
    );
    assert_eq!(
        app.post_json(
            &admin,
            "/api/v1/lists/greylist/entries",
            &json!({"plate": "晋H93513", "reason": "x"})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        app.post_json(
            &admin,
            "/api/v1/lists/hotlist/entries",
            &json!({"plate": "ABC", "reason": "x"})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        app.post_json(
            &admin,
            "/api/v1/lists/hotlist/entries",
            &json!({"plate": "晋H93513", "reason": " "})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        app.post_json(
            &app.cp1_token,
            "/api/v1/lists/hotlist/entries",
            &json!({"plate": "晋H93513", "reason": "x"})
        )
        .await
        .0,
        401
    );
    // People may read the lists too; nobody else.
    assert_eq!(app.get_json(&officer, "/api/v1/lists").await.0, 200);
    assert_eq!(app.get_json("nope", "/api/v1/lists").await.0, 401);
}
