//! Evidence: content-addressed JPEG upload (idempotent, checked), download and
//! thumbnail for the people of the counties whose passages reference it.

use hub::api::{EvidenceKind, EvidenceRef, Sha256};

use crate::helpers::*;

#[tokio::test]
async fn evidence_round_trips_and_replays_are_harmless() {
    let app = TestApp::spawn_with(|c| c.thumb_px = 32).await;
    let img = jpeg(7);
    let sha = Sha256::of(&img);
    let put = |body: Vec<u8>| {
        app.http
            .put(app.url(&format!("/api/v1/evidence/{sha}")))
            .bearer_auth(&app.cp1_token)
            .body(body)
            .send()
    };
    assert_eq!(put(img.clone()).await.unwrap().status(), 201);
    assert_eq!(put(img.clone()).await.unwrap().status(), 200);
    app.cp1().put_evidence(&sha, img.clone()).await.unwrap();
    // Before the records that name it is fine; people fetch it once a passage does.
    let token = app.login("officer1").await;
    let path = format!("/api/v1/evidence/{sha}");
    assert_eq!(app.get_json(&token, &path).await.0, 404);
    let ev = vec![EvidenceRef {
        sha256: sha,
        kind: EvidenceKind::Frame,
    }];
    app.cp1()
        .post_passages(&[passage(CP1, Some("晋H93513"), chrono::Utc::now(), ev)])
        .await
        .unwrap();
    let resp = app
        .http
        .get(app.url(&format!("/api/v1/evidence/{sha}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), img);
    // The thumbnail decodes as a JPEG within thumb_px, aspect kept.
    let resp = app
        .http
        .get(app.url(&format!("/api/v1/evidence/{sha}/thumb")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let thumb =
        image::load_from_memory_with_format(&resp.bytes().await.unwrap(), image::ImageFormat::Jpeg)
            .unwrap();
    assert_eq!((thumb.width(), thumb.height()), (32, 24));
}

#[tokio::test]
async fn wrong_digest_or_not_a_jpeg_is_400() {
    let app = TestApp::spawn().await;
    let img = jpeg(1);
    let other = Sha256::of(b"something else");
    let err = app
        .cp1()
        .put_evidence(&other, img.clone())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    let not_jpeg = b"GIF89a this is not a jpeg".to_vec();
    let err = app
        .cp1()
        .put_evidence(&Sha256::of(&not_jpeg), not_jpeg)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(err.to_string().contains("JPEG"), "{err}");
    // A truncated JPEG does not decode either.
    let cut = img[..img.len() / 2].to_vec();
    assert_eq!(
        app.cp1()
            .put_evidence(&Sha256::of(&cut), cut)
            .await
            .unwrap_err()
            .status(),
        Some(400)
    );
}

#[tokio::test]
async fn bad_evidence_ids_are_400_unknown_404_anonymous_401() {
    let app = TestApp::spawn().await;
    let token = app.login("officer1").await;
    for bad in [
        "zz".repeat(32),
        "ab".repeat(31),
        "ab".repeat(33),
        "xyz".into(),
    ] {
        let resp = app
            .http
            .put(app.url(&format!("/api/v1/evidence/{bad}")))
            .bearer_auth(&app.cp1_token)
            .body(jpeg(1))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "PUT {bad}");
        let (status, body) = app
            .get_json(&token, &format!("/api/v1/evidence/{bad}"))
            .await;
        assert_eq!(status, 400, "GET {bad}");
        assert!(body["error"].is_string());
    }
    let unknown = Sha256::of(b"never uploaded");
    assert_eq!(
        app.get_json(&token, &format!("/api/v1/evidence/{unknown}"))
            .await
            .0,
        404
    );
    let resp = app
        .http
        .get(app.url(&format!("/api/v1/evidence/{unknown}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // A checkpoint token cannot read evidence back; a person cannot upload.
    let resp = app
        .http
        .put(app.url(&format!("/api/v1/evidence/{}", Sha256::of(&jpeg(2)))))
        .bearer_auth(&token)
        .body(jpeg(2))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn evidence_over_the_limit_is_413() {
    let app = TestApp::spawn_with(|c| c.evidence_limit = 4096).await;
    let big = vec![0xFFu8; 20_000];
    let err = app
        .cp1()
        .put_evidence(&Sha256::of(&big), big)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(413), "{err}");
}

#[tokio::test]
async fn evidence_is_seen_only_by_the_counties_of_its_passages() {
    let app = TestApp::spawn().await;
    let (p, _) = seed_incident(&app, CP1, "晋H93513", 5).await;
    let (frame, crop) = (p.evidence[0].sha256, p.evidence[1].sha256);
    let (officer1, officer2, admin, auditor) = (
        app.login("officer1").await,
        app.login("officer2").await,
        app.login("admin").await,
        app.login("auditor").await,
    );
    for sha in [frame, crop] {
        for suffix in ["", "/thumb"] {
            let path = format!("/api/v1/evidence/{sha}{suffix}");
            for (who, status) in [
                (&officer1, 200),
                (&admin, 200),
                (&auditor, 200),
                (&officer2, 404),
            ] {
                // The other county's officer gets what an unknown digest gets.
                assert_eq!(app.get(who, &path).await.status(), status, "{path}");
            }
        }
    }
    // A plate's timeline spans every checkpoint, but shows only the photos one may open.
    let search = format!("/plates?plate={}&reason=r", enc("晋H93513"));
    let thumb = format!("/api/v1/evidence/{frame}/thumb");
    let html = app.get(&officer2, &search).await.text().await.unwrap();
    assert!(html.contains(CP1) && !html.contains(&thumb), "{html}");
    let html = app.get(&officer1, &search).await.text().await.unwrap();
    assert!(html.contains(&thumb), "{html}");
    // The same photo in a passage of the second county opens it there too.
    let ev = vec![EvidenceRef {
        sha256: frame,
        kind: EvidenceKind::Frame,
    }];
    app.cp2()
        .post_passages(&[passage(CP2, Some("冀A12345"), chrono::Utc::now(), ev)])
        .await
        .unwrap();
    let resp = app
        .get(&officer2, &format!("/api/v1/evidence/{frame}"))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
}
