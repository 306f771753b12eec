//! Tip-line pages for investigators: the tip list with deadline marks, the tip form,
//! one tip with its ranked cross-check (thumbnails through the evidence routes), the
//! verdict and grouping forms, a case, and the reward ledger with "mark paid".
//!
//! Element ids are stable (a browser test drives them): `tip-list`, `tip-<id>`,
//! `new-tip`, `tip-form` and its fields `tip-channel`, `tip-received`, `tip-name`,
//! `tip-phone`, `tip-plate`, `tip-county`, `tip-place`, `tip-from`, `tip-to`,
//! `tip-said`, `tip-submit`; `tip-detail`, `tipster`, `crosscheck`, `match-<passage>`,
//! `verdict-form`, `verdict-verified`, `verdict-unfounded`, `proof-<passage>`,
//! `verdict-incidents`, `verdict-note`, `verdict-submit`, `link-form`, `link-case`,
//! `link-submit`, `suggest-<case>`; `case`, `case-tips`, `hotlist-<case>`;
//! `rewards`, `reward-<case>`, `mark-paid-<case>`, `rewards-csv`.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::i18n::{tip_words, TipWords};
use super::Lang;
use super::{layout, local, page, see_other, thumb_url, PageError, PagePerson};
use crate::api::{
    CaseView, County, DueMark, EvidenceKind, IncidentId, NewTip, PassageId, PlatePattern,
    RewardView, TipChannel, TipDetail, TipStatus, TipView, VerdictKind, VerdictRequest,
};
use crate::server::routes::{rewards, tips};
use crate::server::{ApiError, AppState};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/tips", web::get().to(list))
        .route("/tips", web::post().to(file))
        .route("/tips/new", web::get().to(form))
        .route("/tips/{id}", web::get().to(detail))
        .route("/tips/{id}/verdict", web::post().to(verdict))
        .route("/tips/{id}/case", web::post().to(link))
        .route("/cases/{id}", web::get().to(case))
        .route("/cases/{id}/hotlist", web::post().to(hotlist))
        .route("/rewards", web::get().to(ledger))
        .route("/rewards/{case}/paid", web::post().to(paid));
}

fn due_class(d: DueMark) -> &'static str {
    match d {
        DueMark::Overdue => "overdue",
        DueMark::DueSoon => "due-soon",
        DueMark::Open => "open",
        DueMark::Done => "done",
    }
}

fn window(v: &TipView) -> String {
    format!("{} – {}", local(v.window_from), local(v.window_to))
}

/// A `datetime-local` value (Beijing time) as an instant.
fn beijing(field: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    let raw = raw.trim();
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map(|t| (t - chrono::Duration::hours(8)).and_utc())
        .map_err(|_| ApiError::BadRequest(format!("{field}: not a date and time: {raw:.40}")))
}

// ----- list --------------------------------------------------------------------------

fn tip_rows(w: &TipWords, items: &[TipView]) -> Markup {
    html! {
        table {
            tr { th { (w.deadline) } th { (w.ui.plate) } th { (w.place) } th { (w.window) } th { (w.channel) } th { (w.ui.status) } }
            @for v in items {
                tr id={ "tip-" (v.id) } class=(due_class(v.due)) {
                    td { span class={ "badge " (due_class(v.due)) } { (w.due(v.due)) } " " (local(v.deadline)) }
                    td.plate { a href={ "/tips/" (v.id) } { (v.plate) } }
                    td { (v.county) " " (v.place) }
                    td { (window(v)) }
                    td { (w.channel(v.channel)) }
                    td { (w.status(v.status)) }
                }
            }
        }
    }
}

async fn list(
    Lang(lang): Lang,
    state: web::Data<AppState>,
    who: PagePerson,
    q: web::Query<tips::TipQuery>,
) -> Result<HttpResponse, PageError> {
    let (t, w) = (lang, tip_words(lang));
    let items = tips::list_tips(&state, &who.0, &q)?;
    let current = q.due.as_deref().unwrap_or("");
    let body = html! {
        h1 { (w.tips) }
        p { a.button.primary id="new-tip" href="/tips/new" { (w.new_tip) } }
        nav.filters {
            a.on[current.is_empty()] href="/tips" { (t.all) }
            @for d in [DueMark::Overdue, DueMark::DueSoon, DueMark::Open, DueMark::Done] {
                @let key = due_class(d).replace('-', "_");
                a.on[current == key] href={ "/tips?due=" (key) } { (w.due(d)) }
            }
        }
        @if items.is_empty() { p { (w.no_tips) } }
        div id="tip-list" { (tip_rows(w, &items)) }
    };
    Ok(page(layout(t, w.tips, Some(&who.0), body)))
}

// ----- form --------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct TipForm {
    channel: String,
    received_at: Option<String>,
    tipster_name: Option<String>,
    tipster_phone: Option<String>,
    plate: String,
    county: String,
    place: Option<String>,
    window_from: String,
    window_to: String,
    said: Option<String>,
}

impl TipForm {
    fn into_tip(self) -> Result<NewTip, ApiError> {
        let bad = |e: crate::api::InvalidValue| ApiError::BadRequest(e.to_string());
        Ok(NewTip {
            channel: self.channel.parse().map_err(bad)?,
            received_at: self
                .received_at
                .filter(|s| !s.trim().is_empty())
                .map(|s| beijing("received_at", &s))
                .transpose()?,
            tipster_name: self.tipster_name,
            tipster_phone: self.tipster_phone,
            plate: PlatePattern::parse(&self.plate).map_err(bad)?,
            county: County::parse(self.county.trim()).map_err(bad)?,
            place: self.place.unwrap_or_default(),
            window_from: beijing("window_from", &self.window_from)?,
            window_to: beijing("window_to", &self.window_to)?,
            said: self.said.unwrap_or_default(),
        })
    }
}

fn tip_form(w: &TipWords, county: &County, f: &TipForm, problem: Option<&str>) -> Markup {
    html! {
        h1 { (w.new_tip) }
        @if let Some(m) = problem { p.error { (m) } }
        form.action id="tip-form" method="post" action="/tips" {
            label { (w.channel)
                select id="tip-channel" name="channel" required {
                    @for c in TipChannel::ALL { option value=(c.as_str()) selected[f.channel == c.as_str()] { (w.channel(c)) } }
                }
            }
            label { (w.received_at) input id="tip-received" name="received_at" type="datetime-local" value=[f.received_at.as_deref()] placeholder=(w.received_hint); }
            label { (w.tipster_name) input id="tip-name" name="tipster_name" maxlength="64" autocomplete="off" value=[f.tipster_name.as_deref()]; }
            label { (w.tipster_phone) input id="tip-phone" name="tipster_phone" type="tel" maxlength="32" autocomplete="off" value=[f.tipster_phone.as_deref()]; }
            label { (w.plate_heard) input id="tip-plate" name="plate" required placeholder=(w.plate_hint) value=(f.plate); }
            label { (w.ui.county) input id="tip-county" name="county" required value=(if f.county.is_empty() { county.as_str() } else { f.county.as_str() }); }
            label { (w.place) input id="tip-place" name="place" maxlength="200" value=[f.place.as_deref()]; }
            label { (w.window_from) input id="tip-from" name="window_from" type="datetime-local" required value=(f.window_from); }
            label { (w.window_to) input id="tip-to" name="window_to" type="datetime-local" required value=(f.window_to); }
            label { (w.said) textarea id="tip-said" name="said" rows="4" maxlength="4000" { (f.said.as_deref().unwrap_or("")) } }
            button.primary id="tip-submit" type="submit" { (w.file) }
        }
    }
}

async fn form(Lang(lang): Lang, who: PagePerson) -> Result<HttpResponse, PageError> {
    let (t, w) = (lang, tip_words(lang));
    tips::may_work(&who.0)?;
    let body = tip_form(w, &who.0 .0.county, &TipForm::default(), None);
    Ok(page(layout(t, w.new_tip, Some(&who.0), body)))
}

async fn file(
    Lang(lang): Lang,
    state: web::Data<AppState>,
    who: PagePerson,
    f: web::Form<TipForm>,
) -> Result<HttpResponse, PageError> {
    let (t, w) = (lang, tip_words(lang));
    let f = f.into_inner();
    let kept = TipForm {
        channel: f.channel.clone(),
        received_at: f.received_at.clone(),
        tipster_name: f.tipster_name.clone(),
        tipster_phone: f.tipster_phone.clone(),
        plate: f.plate.clone(),
        county: f.county.clone(),
        place: f.place.clone(),
        window_from: f.window_from.clone(),
        window_to: f.window_to.clone(),
        said: f.said.clone(),
    };
    let filed = match f.into_tip() {
        Ok(new) => tips::file_tip(&state, &who.0, new).await,
        Err(e) => Err(e),
    };
    match filed {
        Ok(tip) => Ok(see_other(&format!("/tips/{}", tip.id))),
        Err(ApiError::BadRequest(m)) => {
            let body = tip_form(w, &who.0 .0.county, &kept, Some(&m));
            let mut resp = page(layout(t, w.new_tip, Some(&who.0), body));
            *resp.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

// ----- one tip -----------------------------------------------------------------------

fn frame(evidence: &[crate::api::EvidenceRef]) -> Option<crate::api::Sha256> {
    evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::Frame)
        .or(evidence.first())
        .map(|e| e.sha256)
}

fn tip_page(w: &TipWords, d: &TipDetail, may_work: bool) -> Markup {
    let t = w.ui;
    let v = &d.view;
    html! {
        div id="tip-detail" {
            h1 { (w.tips) " · " (v.plate) }
            p.meta {
                span class={ "badge " (due_class(v.due)) } { (w.due(v.due)) } " "
                (w.status(v.status)) " · " (w.channel(v.channel)) " · " (v.county) " " (v.place)
            }
            table {
                tr { th { (w.received_at) } td { (local(v.received_at)) } }
                tr { th { (w.deadline) } td { (local(v.deadline)) } }
                tr { th { (w.window) } td { (window(v)) } }
                tr { th { (w.recorded_by) } td { (d.recorded_by) " · " (local(d.recorded_at)) } }
                tr { th { (w.case) } td { a href={ "/cases/" (v.case_id) } { (v.case_id) } } }
            }
            @if let Some(tp) = &d.tipster {
                div.confidential id="tipster" {
                    h2 { (w.tipster) }
                    @if tp.is_real_name() { p { (w.real_name) ": " (tp.name.as_deref().unwrap_or("")) } } @else { p { (w.anonymous) } }
                    @if let Some(ph) = &tp.phone { p { (w.tipster_phone) ": " (ph) } }
                }
            }
            @if !d.said.is_empty() { h2 { (w.said) } p.note { (d.said) } }
        }
        section id="crosscheck" {
            h2 { (w.crosscheck) }
            @if d.matches.is_empty() { p { (w.no_matches) } }
            ul.queue {
                @for m in &d.matches {
                    li id={ "match-" (m.passage_id) } {
                        @if let Some(sha) = frame(&m.evidence) {
                            a href={ "/api/v1/evidence/" (sha) } { img src=(thumb_url(&sha)) alt=(t.photo) loading="lazy"; }
                        } @else { span.nophoto { (t.no_photo) } }
                        div {
                            div.plate { (m.plate) }
                            div.meta { span.badge { (w.match_kind(m.kind)) } " " (w.area(m.area)) " · " (m.checkpoint_id) " · " (m.county) }
                            div.meta { (local(m.seen_at)) @if let Some(c) = &m.cargo { " · " (t.cover(c.cover)) " · " (t.material(c.material)) } }
                        }
                    }
                }
            }
        }
        @if let Some(vd) = &d.verdict {
            h2 { (w.verdict) }
            p { span.badge { (w.verdict_name(vd.verdict)) } " " (vd.by) " · " (local(vd.at)) @if let Some(p) = &vd.plate { " · " (p) } }
            @if let Some(n) = &vd.note { p.note { (n) } }
        }
        @if may_work && v.status == TipStatus::Open {
            form.action id="verdict-form" method="post" action={ "/tips/" (v.id) "/verdict" } {
                h2 { (w.verdict) }
                label.choice { input id="verdict-verified" type="radio" name="verdict" value="verified" required; (w.verdicts[0]) }
                label.choice { input id="verdict-unfounded" type="radio" name="verdict" value="unfounded"; (w.verdicts[1]) }
                @if !d.matches.is_empty() {
                    fieldset { legend { (w.proof) }
                        @for m in &d.matches {
                            label.choice { input id={ "proof-" (m.passage_id) } type="checkbox" name="passages" value=(m.passage_id); (m.plate) " · " (local(m.seen_at)) }
                        }
                    }
                }
                label { (w.proof_incidents) textarea id="verdict-incidents" name="incidents" rows="2" {} }
                label { (t.note) textarea id="verdict-note" name="note" rows="2" maxlength="2000" {} }
                button.primary id="verdict-submit" type="submit" { (w.record_verdict) }
            }
            form.action id="link-form" method="post" action={ "/tips/" (v.id) "/case" } {
                h2 { (w.link) }
                @if !d.suggested_cases.is_empty() {
                    p { (w.suggested) ": "
                        @for c in &d.suggested_cases {
                            button id={ "suggest-" (c) } type="submit" name="case_id" value=(c) { (c) } " "
                        }
                    }
                }
                label { (w.case_id) input id="link-case" name="case_id"; }
                button.primary id="link-submit" type="submit" { (w.link) }
            }
        }
    }
}

async fn detail(
    Lang(lang): Lang,
    state: web::Data<AppState>,
    who: PagePerson,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (t, w) = (lang, tip_words(lang));
    let id = tips::parse_tip_id(&id)?;
    let d = tips::show_tip(&state, &who.0, &id).await?;
    let may_work = tips::may_work(&who.0).is_ok();
    Ok(page(layout(
        t,
        w.tips,
        Some(&who.0),
        tip_page(w, &d, may_work),
    )))
}

/// The verdict form: repeated `passages` keys, so read as pairs.
fn verdict_request(pairs: Vec<(String, String)>) -> Result<VerdictRequest, ApiError> {
    let bad = |m: String| ApiError::BadRequest(m);
    let mut verdict = None;
    let (mut passages, mut incidents, mut note) = (Vec::new(), Vec::new(), None);
    for (k, v) in pairs {
        match k.as_str() {
            "verdict" => {
                verdict = Some(match v.as_str() {
                    "verified" => VerdictKind::Verified,
                    "unfounded" => VerdictKind::Unfounded,
                    _ => return Err(bad(format!("verdict: unknown {v:.20}"))),
                })
            }
            "passages" => passages.push(
                v.parse::<PassageId>()
                    .map_err(|_| bad(format!("passages: not a passage id: {v:.40}")))?,
            ),
            "incidents" => {
                for line in v.split_whitespace() {
                    incidents.push(
                        line.parse::<IncidentId>().map_err(|_| {
                            bad(format!("incidents: not an incident id: {line:.40}"))
                        })?,
                    );
                }
            }
            "note" => note = Some(v).filter(|n| !n.trim().is_empty()),
            _ => {}
        }
    }
    Ok(VerdictRequest {
        verdict: verdict.ok_or_else(|| bad("verdict: choose verified or unfounded".into()))?,
        plate: None,
        passages,
        incidents,
        note,
    })
}

async fn verdict(
    state: web::Data<AppState>,
    who: PagePerson,
    id: web::Path<String>,
    f: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let id = tips::parse_tip_id(&id)?;
    let req = verdict_request(f.into_inner())?;
    let case = tips::give_verdict(&state, &who.0, &id, req).await?;
    Ok(see_other(&format!("/cases/{}", case.id)))
}

#[derive(Deserialize)]
struct LinkForm {
    case_id: String,
}

async fn link(
    state: web::Data<AppState>,
    who: PagePerson,
    id: web::Path<String>,
    f: web::Form<LinkForm>,
) -> Result<HttpResponse, PageError> {
    let id = tips::parse_tip_id(&id)?;
    let to = tips::parse_case_id(f.case_id.trim())?;
    let case = tips::link_tip(&state, &who.0, &id, &to).await?;
    Ok(see_other(&format!("/cases/{}", case.id)))
}

// ----- case --------------------------------------------------------------------------

fn reward_cells(w: &TipWords, r: &RewardView) -> Markup {
    let x = &r.reward;
    html! {
        td { (x.yuan) " " (w.yuan) }
        td { a href={ "/tips/" (x.tip_id) } { (w.rewardee_tip) } }
        td { (local(x.due_by)) @if r.overdue { " " span.badge.overdue { (w.overdue) } } }
        td { @match x.paid_at { Some(p) => { (local(p)) }, None => { (w.unpaid) } } }
    }
}

fn case_page(w: &TipWords, c: &CaseView, may_work: bool) -> Markup {
    html! {
        div id="case" {
            h1 { (w.case) " · " (c.id) }
            p.meta { span.badge { (w.status(c.status)) } " " (c.county) " · " (local(c.opened_at))
                @if c.hotlisted { " · " span.badge { (w.hotlisted) } } }
            h2 { (w.case_tips) }
            div id="case-tips" { (tip_rows(w, &c.tips)) }
            @if let Some(vd) = &c.verdict {
                h2 { (w.verdict) }
                p { span.badge { (w.verdict_name(vd.verdict)) } " " (vd.by) " · " (local(vd.at)) @if let Some(p) = &vd.plate { " · " (p) } }
                ul { @for p in &vd.passages { li { (p) } } @for i in &vd.incidents { li { a href={ "/incidents/" (i) } { (i) } } } }
                @if let Some(n) = &vd.note { p.note { (n) } }
            }
            h2 { (w.reward) }
            @match &c.reward {
                Some(r) => { table { tr id={ "reward-" (c.id) } { (reward_cells(w, r)) } } },
                None => { p.meta { (w.no_reward) } },
            }
            @let plate = c.verdict.as_ref().and_then(|v| v.plate.as_ref());
            @if may_work && c.status == TipStatus::Verified && !c.hotlisted && plate.is_some() {
                form.action id={ "hotlist-" (c.id) } method="post" action={ "/cases/" (c.id) "/hotlist" } {
                    button.primary type="submit" { (w.hotlist_add) " " (plate.map_or("", |p| p.as_str())) }
                }
            }
        }
    }
}

async fn case(
    Lang(lang): Lang,
    state: web::Data<AppState>,
    who: PagePerson,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (t, w) = (lang, tip_words(lang));
    let id = tips::parse_case_id(&id)?;
    let c = tips::case_view(&state, tips::visible_case(&state.store, &who.0, &id)?)?;
    let may_work = tips::may_work(&who.0).is_ok();
    Ok(page(layout(
        t,
        w.case,
        Some(&who.0),
        case_page(w, &c, may_work),
    )))
}

async fn hotlist(
    state: web::Data<AppState>,
    who: PagePerson,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = tips::parse_case_id(&id)?;
    tips::hotlist_case(&state, &who.0, &id).await?;
    Ok(see_other(&format!("/cases/{id}")))
}

// ----- rewards -----------------------------------------------------------------------

async fn ledger(
    Lang(lang): Lang,
    state: web::Data<AppState>,
    who: PagePerson,
) -> Result<HttpResponse, PageError> {
    let (t, w) = (lang, tip_words(lang));
    let rows = rewards::ledger(&state, &who.0)?;
    let may_work = tips::may_work(&who.0).is_ok();
    let body = html! {
        h1 { (w.rewards) }
        p { a id="rewards-csv" href="/api/v1/rewards?format=csv" { (w.export_csv) } }
        @if rows.is_empty() { p { (w.no_rewards) } }
        table id="rewards" {
            tr { th { (w.case) } th { (w.reward) } th { (w.rewardee_tip) } th { (w.due_by) } th { (w.paid_at) } th {} }
            @for r in &rows {
                @let case = r.reward.case_id;
                tr id={ "reward-" (case) } class=[r.overdue.then_some("overdue")] {
                    td { a href={ "/cases/" (case) } { (case.to_string().get(..8).unwrap_or("")) } " · " (r.reward.county) }
                    (reward_cells(w, r))
                    td {
                        @if may_work && r.reward.paid_at.is_none() {
                            form method="post" action={ "/rewards/" (case) "/paid" } {
                                button.primary id={ "mark-paid-" (case) } type="submit" { (w.mark_paid) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(layout(t, w.rewards, Some(&who.0), body)))
}

async fn paid(
    state: web::Data<AppState>,
    who: PagePerson,
    case: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let case = tips::parse_case_id(&case)?;
    rewards::pay(&state, &who.0, &case).await?;
    Ok(see_other("/rewards"))
}
