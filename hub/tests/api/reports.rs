//! The ledger (台账): passages, incidents by kind and outcomes per China day, county
//! and checkpoint; JSON and CSV; county-scoped like everything else.

use chrono::{TimeZone, Utc};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn report_counts_per_china_day_county_and_checkpoint() {
    let app = TestApp::spawn().await;
    // 15:30 UTC is 23:30 in China on the 28th; 16:30 UTC is already the 29th there.
    let late = Utc.with_ymd_and_hms(2026, 11, 28, 15, 30, 0).unwrap();
    let after_midnight = Utc.with_ymd_and_hms(2026, 11, 28, 16, 30, 0).unwrap();
    let outside = Utc.with_ymd_and_hms(2026, 11, 27, 15, 59, 0).unwrap();
    let p1 = passage(CP1, Some("晋H93513"), late, vec![]);
    let p2 = passage(CP1, Some("晋H93514"), after_midnight, vec![]);
    let p3 = passage(CP1, None, after_midnight, vec![]);
    let p4 = passage(CP2, Some("冀A12345"), after_midnight, vec![]);
    let p0 = passage(CP1, Some("晋H93515"), outside, vec![]);
    app.cp1()
        .post_passages(&[p0, p1.clone(), p2.clone(), p3])
        .await
        .unwrap();
    app.cp2()
        .post_passages(std::slice::from_ref(&p4))
        .await
        .unwrap();
    let (i1, i2) = (
        incident(&p1, "suspected_loose_coal"),
        incident(&p2, "uncovered_load"),
    );
    let i3 = incident(&p2, "overloaded");
    app.cp1()
        .post_incidents(&[i1, i2.clone(), i3])
        .await
        .unwrap();
    app.cp2()
        .post_incidents(&[incident(&p4, "hotlist_hit")])
        .await
        .unwrap();
    let officer1 = app.login("officer1").await;
    let (s, _) = app
        .post_json(
            &officer1,
            &format!("/api/v1/incidents/{}/actions", i2.id),
            &outcome("turned_back", json!({})),
        )
        .await;
    assert_eq!(s, 200);

    let admin = app.login("admin").await;
    let (s, rows) = app
        .get_json(&admin, "/api/v1/reports?from=2026-11-28&to=2026-11-29")
        .await;
    assert_eq!(s, 200, "{rows}");
    let row = |day: &str, county: &str, cp: Option<&str>| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["day"] == day && r["county"] == county && r["checkpoint"] == json!(cp))
            .cloned()
            .unwrap_or_else(|| panic!("no row {day} {county} {cp:?} in {rows}"))
    };
    let r = row("2026-11-28", COUNTY1, Some(CP1));
    assert_eq!(
        (r["passages"].as_u64(), r["incidents"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(r["by_kind"], json!([1, 0, 0, 0]));
    let r = row("2026-11-29", COUNTY1, Some(CP1));
    assert_eq!(
        (r["passages"].as_u64(), r["incidents"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(r["by_kind"], json!([0, 1, 0, 1]));
    assert_eq!(r["outcomes"], json!([0, 1, 0, 0, 0, 0, 0]));
    let total = row("2026-11-29", COUNTY1, None);
    assert_eq!(
        (total["passages"].as_u64(), total["incidents"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        (total["tips"].as_u64(), total["rewards_due"].as_u64()),
        (Some(0), Some(0))
    );
    let r = row("2026-11-29", COUNTY2, Some(CP2));
    assert_eq!(r["by_kind"], json!([0, 0, 1, 0]));
    // Four rows per county-day pair seen (2 checkpoint rows + 2 totals... by day):
    // 28th: 滦平 cp + total; 29th: 滦平 cp + total, 承德 cp + total. The 27th is out.
    assert_eq!(rows.as_array().unwrap().len(), 6, "{rows}");

    // People see their own county; another is 403.
    let officer2 = app.login("officer2").await;
    let (_, rows2) = app
        .get_json(&officer2, "/api/v1/reports?from=2026-11-28&to=2026-11-29")
        .await;
    assert!(
        rows2
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["county"] == COUNTY2),
        "{rows2}"
    );
    assert_eq!(rows2.as_array().unwrap().len(), 2);
    let (s, _) = app
        .get_json(
            &officer2,
            &format!(
                "/api/v1/reports?from=2026-11-28&to=2026-11-29&county={}",
                enc(COUNTY1)
            ),
        )
        .await;
    assert_eq!(s, 403);
    let (s, v) = app
        .get_json(&admin, "/api/v1/reports?from=28.11.2026")
        .await;
    assert_eq!(s, 400);
    assert!(v["error"].as_str().unwrap().starts_with("from:"), "{v}");

    // The CSV has the same rows under one header, tips columns included.
    let path = format!(
        "/api/v1/reports.csv?from=2026-11-29&to=2026-11-29&county={}",
        enc(COUNTY1)
    );
    let text = app.get_csv(&admin, &path).await;
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("day,county,checkpoint,passages,incidents,kind_suspected_loose_coal"),
        "{text}"
    );
    assert!(
        lines[0].ends_with("tips,rewards_due,rewards_paid"),
        "{text}"
    );
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines.contains(&"2026-11-29,滦平县,luanping-01,2,2,0,1,0,1,0,1,0,0,0,0,0,0,0,0"),
        "{text}"
    );

    // The stats page draws both charts as inline SVG.
    let html = app
        .get(&admin, "/stats?from=2026-11-28&to=2026-11-29")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"per-day\""), "{html}");
    assert!(html.contains("id=\"outcomes\""));
    assert_eq!(
        html.matches("<rect").count(),
        4 + 7,
        "three kinds on the 29th, one on the 28th, 7 outcome bars"
    );
}

#[tokio::test]
async fn the_ledger_counts_tips_and_rewards_on_the_county_line() {
    let app = TestApp::spawn().await;
    let inv = app.login("investigator1").await;
    let (_, case, _) = crate::tips::verified_case(&app, &inv).await;
    let admin = app.login("admin").await;
    let today = hub::store::china_day(app.now());
    let due_day = hub::store::china_day(app.now() + chrono::Duration::days(10));
    let county_line = |rows: &serde_json::Value, day: chrono::NaiveDate| -> serde_json::Value {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["county"] == COUNTY1 && r["checkpoint"].is_null() && r["day"] == day.to_string()
            })
            .cloned()
            .unwrap_or_else(|| panic!("no county line for {day}: {rows}"))
    };
    let range = format!("/api/v1/reports?from={today}&to={due_day}");
    let (s, rows) = app.get_json(&admin, &range).await;
    assert_eq!(s, 200, "{rows}");
    assert_eq!(county_line(&rows, today)["tips"], 1, "the tip filed today");
    assert_eq!(
        county_line(&rows, due_day)["rewards_due"],
        1,
        "the reward falls due ten days on"
    );
    let (s, v) = app
        .post_json(&inv, &format!("/api/v1/rewards/{case}/paid"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, rows) = app.get_json(&admin, &range).await;
    assert_eq!(county_line(&rows, today)["rewards_paid"], 1, "paid today");
    // The CSV carries the same columns.
    let csv = app
        .get_csv(
            &admin,
            &format!("/api/v1/reports.csv?from={today}&to={today}"),
        )
        .await;
    assert!(csv.lines().next().unwrap().contains("tips"), "{csv}");
}
