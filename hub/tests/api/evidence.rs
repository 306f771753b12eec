//! Evidence: content-addressed JPEG upload (idempotent, checked), download, thumbnail.

use hub::api::Sha256;

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
    // Before the records that name it is fine; people fetch it.
    let token = app.login("officer1").await;
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
