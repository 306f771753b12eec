//! `/stats`: the ledger (台账) as a table and two charts drawn here as inline SVG —
//! incidents per day stacked by kind, and outcomes — so tablets need no chart library.

use actix_web::{web, HttpResponse};
use chrono::{Duration, NaiveDate};
use maud::{html, Markup, PreEscaped};

use crate::api::{Outcome, ReportRow, KIND_COLUMNS};
use crate::server::routes::reports::{self, ReportQuery};
use crate::server::AppState;

use super::i18n::Ui;
use super::{layout, Lang, PageError, PagePerson};

/// One colour per kind column (the last: other kinds).
const KIND_COLOURS: [&str; 4] = ["#dc2626", "#f59e0b", "#7c3aed", "#6b7280"];

/// The county lines only: they already sum their checkpoints.
fn totals(rows: &[ReportRow]) -> impl Iterator<Item = &ReportRow> {
    rows.iter().filter(|r| r.checkpoint.is_none())
}

/// Incidents per day, stacked by kind.
fn per_day_chart(t: &Ui, from: NaiveDate, to: NaiveDate, rows: &[ReportRow]) -> Markup {
    let days: Vec<NaiveDate> = (0..=(to - from).num_days())
        .map(|i| from + Duration::days(i))
        .collect();
    let mut stacks = vec![[0u64; 4]; days.len()];
    for r in totals(rows) {
        let i = (r.day - from).num_days() as usize;
        if let Some(s) = stacks.get_mut(i) {
            for (a, b) in s.iter_mut().zip(r.by_kind) {
                *a += b;
            }
        }
    }
    let max = stacks
        .iter()
        .map(|s| s.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, h, left, bottom) = (720.0, 240.0, 36.0, 28.0);
    let slot = (w - left) / days.len() as f64;
    let bar = (slot * 0.7).max(1.0);
    let scale = (h - bottom - 10.0) / max as f64;
    let mut svg = String::new();
    for (i, (day, s)) in days.iter().zip(&stacks).enumerate() {
        let x = left + i as f64 * slot + (slot - bar) / 2.0;
        let mut y = h - bottom;
        for (k, n) in s.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let bh = *n as f64 * scale;
            y -= bh;
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{} {}: {n}</title></rect>",
                KIND_COLOURS[k],
                day,
                kind_label(t, k)
            ));
        }
        // Label every day while they fit, then every seventh.
        if days.len() <= 14 || i % 7 == 0 {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
                x + bar / 2.0,
                h - 10.0,
                day.format("%m-%d")
            ));
        }
    }
    svg.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{0}\" x2=\"{w}\" y2=\"{0}\" stroke=\"#9ca3af\"/><text x=\"2\" y=\"16\" font-size=\"11\">{max}</text><text x=\"2\" y=\"{0}\" font-size=\"11\">0</text>",
        h - bottom
    ));
    html! {
        h2 { (t.incidents_per_day) }
        svg.chart #per-day viewBox={ "0 0 " (w) " " (h) } role="img" aria-label=(t.incidents_per_day) { (PreEscaped(svg)) }
        p.legend { @for k in 0..4 { span { i style={ "background:" (KIND_COLOURS[k]) } {} (kind_label(t, k)) } } }
    }
}

fn kind_label(t: &Ui, column: usize) -> &str {
    KIND_COLUMNS.get(column).map_or(t.kind_other, |k| t.kind(k))
}

/// Outcomes over the range, one horizontal bar each.
fn outcome_chart(t: &Ui, rows: &[ReportRow]) -> Markup {
    let mut sums = [0u64; 7];
    for r in totals(rows) {
        for (a, b) in sums.iter_mut().zip(r.outcomes) {
            *a += b;
        }
    }
    let max = sums.iter().copied().max().unwrap_or(0).max(1);
    let (w, row_h, left) = (720.0, 30.0, 190.0);
    let h = row_h * sums.len() as f64 + 10.0;
    let mut svg = String::new();
    for (i, (o, n)) in Outcome::ALL.iter().zip(sums).enumerate() {
        let y = 5.0 + i as f64 * row_h;
        let bw = (w - left - 50.0) * n as f64 / max as f64;
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"14\" text-anchor=\"end\">{}</text><rect x=\"{left}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"#2563eb\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"14\">{n}</text>",
            left - 8.0,
            y + row_h * 0.65,
            maud::html! { (t.outcome(*o)) }.into_string(),
            row_h * 0.7,
            left + bw + 6.0,
            y + row_h * 0.65,
        ));
    }
    html! {
        h2 { (t.outcomes_chart) }
        svg.chart #outcomes viewBox={ "0 0 " (w) " " (h) } role="img" aria-label=(t.outcomes_chart) { (PreEscaped(svg)) }
    }
}

fn table(t: &Ui, rows: &[ReportRow]) -> Markup {
    html! {
        div.scroll { table.report {
            tr {
                th { (t.day) } th { (t.county) } th { (t.checkpoint) } th { (t.passages) } th { (t.incidents) }
                @for k in 0..4 { th { (kind_label(t, k)) } }
                @for o in Outcome::ALL { th { (t.outcome(o)) } }
                th { (t.tips) } th { (t.rewards_due) } th { (t.rewards_paid) }
            }
            @for r in rows {
                tr {
                    td { (r.day) } td { (r.county) }
                    td { @match &r.checkpoint { Some(c) => (c), None => b { (t.county_total) } } }
                    td { (r.passages) } td { (r.incidents) }
                    @for n in r.by_kind { td { (n) } }
                    @for n in r.outcomes { td { (n) } }
                    td { (r.tips) } td { (r.rewards_due) } td { (r.rewards_paid) }
                }
            }
        } }
    }
}

/// `GET /stats?from=&to=&county=`.
pub async fn page(
    state: web::Data<AppState>,
    who: PagePerson,
    Lang(t): Lang,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, PageError> {
    let (from, to, county) = reports::scope(&who.0, &q, state.clock.now())?;
    let rows = reports::rows(&state, &who.0, &q).await?;
    let csv = format!(
        "/api/v1/reports.csv?from={from}&to={to}&county={}",
        county.as_ref().map_or("", |c| c.as_str())
    );
    let body = html! {
        h1 { (t.reports) }
        form.action method="get" action="/stats" {
            label { (t.from) input name="from" type="date" value=(from); }
            label { (t.to) input name="to" type="date" value=(to); }
            @if who.0 .0.role.all_counties() {
                label { (t.county) input name="county" value=(county.as_ref().map_or("", |c| c.as_str())); }
            }
            button.primary type="submit" { (t.show) } " "
            a.button href=(csv) download { (t.download_csv) }
        }
        @if rows.is_empty() { p { (t.no_data) } }
        (per_day_chart(t, from, to, &rows))
        (outcome_chart(t, &rows))
        (table(t, &rows))
    };
    Ok(super::page(layout(t, t.reports, Some(&who.0), body)))
}
