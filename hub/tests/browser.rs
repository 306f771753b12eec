//! The tablet pages in a real browser: headless Chromium through chromedriver
//! (fantoccini), against the real hub on 127.0.0.1:0. See `browser/harness.rs`.

#[path = "api/helpers.rs"]
mod helpers;

#[path = "browser/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::json;

use harness::Browser;
use helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_appears_on_the_open_queue_without_a_reload() {
    let b = Browser::start().await;
    b.log_in("officer1").await;
    // The page is open and its stream connected before the truck passes.
    b.wait_for("#live:not([hidden])", Duration::from_secs(5))
        .await;
    b.js("window.kadianMarker = 42; return null;").await;
    let started = Instant::now();
    let (_, i) = seed_incident(&b.app, CP1, "晋H93513", 1).await;
    let row = b
        .wait_for(&format!("#incident-{}", i.id), Duration::from_secs(2))
        .await;
    println!("row on the page {:?} after ingest began", started.elapsed());
    let text = row.text().await.unwrap();
    assert!(
        text.contains("晋H93513") && text.contains("疑似散煤"),
        "{text}"
    );
    // Still the same page: a reload would have dropped the marker.
    assert_eq!(b.js("return window.kadianMarker;").await, json!(42));
    // It went on top, and another county's incident never shows.
    let (_, other) = seed_incident(&b.app, CP2, "冀A1234挂", 2).await;
    let (_, mine) = seed_incident(&b.app, CP1, "晋H93514", 3).await;
    b.wait_for(&format!("#incident-{}", mine.id), Duration::from_secs(2))
        .await;
    let first = b
        .js("return document.querySelector('ul.queue li').id;")
        .await;
    assert_eq!(first, json!(format!("incident-{}", mine.id)));
    let other_row = b
        .client
        .find_all(Locator::Css(&format!("#incident-{}", other.id)))
        .await
        .unwrap();
    assert!(other_row.is_empty());
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_is_recorded_with_its_own_fields() {
    let b = Browser::start().await;
    let (_, i) = seed_incident(&b.app, CP1, "晋H93513", 1).await;
    b.log_in("officer1").await;
    b.goto(&format!("/incidents/{}", i.id)).await;
    let form = b.wait_for("form#outcome", Duration::from_secs(5)).await;
    let visible = |name: &'static str| {
        let b = &b;
        async move {
            b.js(&format!(
                "return !document.querySelector('#outcome [name={name}]').closest('label').hidden;"
            ))
            .await
        }
    };
    form.find(Locator::Css("select[name=outcome]"))
        .await
        .unwrap()
        .select_by_value("fined")
        .await
        .unwrap();
    assert_eq!(visible("fine_yuan").await, json!(true));
    assert_eq!(visible("legal_basis").await, json!(true));
    assert_eq!(visible("tonnes").await, json!(false));
    assert_eq!(visible("quality_report").await, json!(false));
    b.fill("#outcome input[name=fine_yuan]", "5000").await;
    b.fill(
        "#outcome input[name=legal_basis]",
        "《大气污染防治法》第一百一十六条",
    )
    .await;
    b.click("#outcome button[type=submit]").await;
    // Back on the incident, closed, with the fine in its history.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let html = b.client.source().await.unwrap();
        if html.contains("已结案") && html.contains("第一百一十六条") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no closed incident with its fine: {html}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let t = b.app.login("officer1").await;
    let (_, d) = b
        .app
        .get_json(&t, &format!("/api/v1/incidents/{}", i.id))
        .await;
    assert_eq!(d["status"], "closed");
    assert_eq!(d["history"][0]["fine_yuan"], 5000);
    assert_eq!(
        d["history"][0]["legal_basis"],
        "《大气污染防治法》第一百一十六条"
    );
    // The hidden fields were not sent.
    assert_eq!(
        d["history"][0].get("tonnes"),
        Some(&serde_json::Value::Null)
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_turns_every_page_english_and_back() {
    let b = Browser::start().await;
    b.log_in("officer1").await;
    assert!(b.client.source().await.unwrap().contains("事件队列"));
    b.click("#lang").await;
    b.wait_for("html[lang=en]", Duration::from_secs(5)).await;
    let h1 = b.text("h1").await;
    assert!(h1.starts_with("Incident queue"), "{h1}");
    // It sticks across pages (a cookie), and switches back.
    b.goto("/plates").await;
    assert_eq!(b.text("h1").await, "Plate search");
    b.click("#lang").await;
    b.wait_for("html[lang=zh-CN]", Duration::from_secs(5)).await;
    assert_eq!(b.text("h1").await, "车牌查询");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tip_filed_on_the_tablet_finds_its_truck_and_its_reward_is_paid() {
    let b = Browser::start().await;
    let (p, _) = seed_incident(&b.app, CP1, "晋H93513", 1).await;
    b.log_in("investigator1").await;
    b.goto("/tips/new").await;
    b.wait_for("#tip-form", Duration::from_secs(5)).await;
    // The caller heard the plate but one character: 晋H935?3.
    b.fill("#tip-name", "王五").await;
    b.fill("#tip-phone", "13912345678").await;
    b.fill("#tip-plate", "晋H935?3").await;
    b.fill("#tip-place", "G228 滦平段").await;
    b.fill("#tip-said", "一辆敞篷运煤车往北去了").await;
    // datetime-local inputs take Beijing time; set them as the picker would.
    let beijing = |t: chrono::DateTime<chrono::Utc>| {
        (t + chrono::Duration::hours(8))
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let now = chrono::Utc::now();
    b.js(&format!(
        "document.getElementById('tip-received').value = '{}'; document.getElementById('tip-from').value = '{}'; document.getElementById('tip-to').value = '{}'; return null;",
        beijing(now),
        beijing(now - chrono::Duration::hours(2)),
        beijing(now + chrono::Duration::hours(1)),
    ))
    .await;
    b.click("#tip-submit").await;
    // The tip's page shows the truck the checkpoint saw, ranked, with its photo.
    let hit = b
        .wait_for(
            &format!("#crosscheck #match-{}", p.id),
            Duration::from_secs(5),
        )
        .await;
    assert!(hit.text().await.unwrap().contains("晋H93513"));
    b.click("#verdict-verified").await;
    b.click(&format!("#proof-{}", p.id)).await;
    b.click("#verdict-submit").await;
    let t = b.app.login("investigator1").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let case = loop {
        let (_, tips) = b.app.get_json(&t, "/api/v1/tips").await;
        if tips[0]["status"] == "verified" {
            break tips[0]["case_id"].as_str().unwrap().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "the verdict was not recorded: {tips}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The ledger owes the caller the reward; paying it is one touch.
    b.goto("/rewards").await;
    b.wait_for(&format!("#mark-paid-{case}"), Duration::from_secs(5))
        .await;
    b.click(&format!("#mark-paid-{case}")).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, ledger) = b.app.get_json(&t, "/api/v1/rewards").await;
        if !ledger[0]["paid_at"].is_null() {
            break;
        }
        assert!(Instant::now() < deadline, "not marked paid: {ledger}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.wait_for(&format!("#reward-{case}"), Duration::from_secs(5))
        .await;
    assert!(
        b.client
            .find(Locator::Css(&format!("#mark-paid-{case}")))
            .await
            .is_err(),
        "paid once"
    );
    b.close().await;
}
