//! Tablet pages: plain HTML from the server (maud escapes every value it prints), one
//! small embedded stylesheet and one small script (live queue rows, outcome fields),
//! no CDN; every page works without the script. Login, incident queue, incident
//! detail with the actions as forms, plate search with its timeline, lists, stats and
//! the audit log. The words come from [`i18n`] in the person's language; the data from
//! the same functions the JSON routes use.

mod audit;
pub mod i18n;
mod lists;
mod stats;
mod tips;

use std::future::{ready, Ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;

use crate::api::{
    ActionKind, ActionRequest, EvidenceKind, IncidentDetail, IncidentStatus, IncidentView, Outcome,
    OutcomeDetails, Papers, Role, Sha256,
};
use crate::server::extract::{self, Person};
use crate::server::routes::{evidence, incidents, plates, session};
use crate::server::{ApiError, AppState};
use i18n::{lang_of, Ui, LANG_COOKIE};

const CSS: &str = include_str!("app.css");
const JS: &str = include_str!("app.js");

/// Page routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(queue))
        .route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/incidents/{id}", web::get().to(incident))
        .route("/incidents/{id}/actions", web::post().to(act))
        .route("/plates", web::get().to(plate_search))
        .route("/lists", web::get().to(lists::page))
        .route("/lists/add", web::post().to(lists::add))
        .route("/lists/remove", web::post().to(lists::remove))
        .route("/lists/import", web::post().to(lists::import))
        .route("/stats", web::get().to(stats::page))
        .route("/audit", web::get().to(audit::page))
        .route("/lang/{code}", web::get().to(switch_lang))
        .route("/static/app.css", web::get().to(css))
        .route("/static/app.js", web::get().to(js))
        .configure(tips::configure);
}

/// The person's language (see [`i18n::lang_of`]).
pub struct Lang(pub &'static Ui);

impl FromRequest for Lang {
    type Error = PageError;
    type Future = Ready<Result<Self, PageError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Lang(lang_of(req))))
    }
}

/// `GET /lang/{code}`: keeps the language in a cookie and goes back where the switch
/// was pressed (same site only).
async fn switch_lang(code: web::Path<String>, req: HttpRequest) -> HttpResponse {
    let t = i18n::by_code(&code);
    let back = req
        .headers()
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .filter(|p| !p.starts_with("//") && !p.starts_with("/lang/"))
        .unwrap_or("/")
        .to_owned();
    let code = if t.lang == "en" { "en" } else { "zh" };
    HttpResponse::SeeOther()
        .cookie(
            actix_web::cookie::Cookie::build(LANG_COOKIE, code)
                .path("/")
                .same_site(actix_web::cookie::SameSite::Lax)
                .max_age(actix_web::cookie::time::Duration::days(365))
                .finish(),
        )
        .insert_header((header::LOCATION, back))
        .finish()
}

/// An error shown as a page; the status comes from [`ApiError`]'s one mapping.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PageError(#[from] ApiError);

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        PageError(e.into())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }
    fn error_response(&self) -> HttpResponse {
        if let ApiError::Unauthorized(_) = self.0 {
            return see_other("/login");
        }
        if let ApiError::Internal(detail) = &self.0 {
            tracing::error!(%detail, "internal error on a page");
        }
        // No request here: Chinese, which [`localize_errors`] redraws in the
        // person's language.
        error_page(&i18n::ZH, self)
    }
}

fn error_page(t: &Ui, e: &PageError) -> HttpResponse {
    let body = layout(
        t,
        t.error,
        None,
        html! {
            h1 { (t.error) }
            p.error { (e.0.to_string()) }
            p { a href="/" { (t.back) } }
        },
    );
    HttpResponse::build(e.status_code())
        .content_type("text/html; charset=utf-8")
        .body(body.into_string())
}

/// Middleware: an error page drawn for a person who reads another language is drawn
/// again in theirs (the message itself names the field, as the API's does).
pub async fn localize_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let t = lang_of(req.request());
    let res = next.call(req).await?;
    let failed = res
        .response()
        .error()
        .and_then(|e| e.as_error::<PageError>())
        .filter(|e| t.lang != i18n::ZH.lang && !matches!(e.0, ApiError::Unauthorized(_)))
        .map(|e| error_page(t, e));
    Ok(match failed {
        Some(page) => res.into_response(page).map_into_right_body(),
        None => res.map_into_left_body(),
    })
}

/// A logged-in person, or a redirect to the login page.
pub struct PagePerson(pub Person);

impl FromRequest for PagePerson {
    type Error = PageError;
    type Future = Ready<Result<Self, PageError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match extract::person(req) {
            Ok(Some(u)) => Ok(PagePerson(Person(u))),
            Ok(None) => Err(PageError(ApiError::Unauthorized("log in"))),
            Err(e) => Err(PageError(e)),
        })
    }
}

pub(crate) fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

pub(crate) fn page(markup: Markup) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

pub(crate) fn layout(t: &Ui, title: &str, person: Option<&Person>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(t.lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (t.app) }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
            }
            body {
                header {
                    span.app { (t.app) }
                    @if let Some(p) = person {
                        a href="/" { (t.queue) }
                        a href="/plates" { (t.plate_search) }
                        @if matches!(p.0.role, Role::Admin | Role::Dispatcher) { a href="/lists" { (t.lists) } }
                        a href="/stats" { (t.reports) }
                        @if matches!(p.0.role, Role::Admin | Role::Auditor) { a href="/audit" { (t.audit) } }
                        @if crate::server::routes::tips::may_read(p).is_ok() {
                            a href="/tips" { (i18n::tip_words(t).tips) }
                            a href="/rewards" { (i18n::tip_words(t).rewards) }
                        }
                        span.meta { (p.name()) " · " (p.0.county) }
                        form method="post" action="/logout" { button type="submit" { (t.log_out) } }
                    }
                    a #lang href={ "/lang/" (if t.lang == "en" { "zh" } else { "en" }) } { (t.switch_lang) }
                }
                main { (body) }
            }
        }
    }
}

fn ago(t: &Ui, at: DateTime<Utc>) -> String {
    t.ago((Utc::now() - at).num_seconds().max(0))
}

pub(crate) fn local(at: DateTime<Utc>) -> String {
    // Checkpoints are in China: show Beijing time.
    (at + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn thumb_url(sha: &Sha256) -> String {
    format!("/api/v1/evidence/{sha}/thumb")
}

// ----- login -------------------------------------------------------------------------

fn login_page(t: &Ui, failed: bool) -> Markup {
    layout(
        t,
        t.login_title,
        None,
        html! {
            form.login method="post" action="/login" {
                h1 { (t.login_title) }
                @if failed { p.error { (t.login_failed) } }
                label { (t.name) input name="name" autocomplete="username" required; }
                label { (t.password) input name="password" type="password" autocomplete="current-password" required; }
                p { button.primary type="submit" { (t.log_in) } }
            }
        },
    )
}

async fn login_form(Lang(t): Lang) -> HttpResponse {
    page(login_page(t, false))
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
}

async fn login(
    state: web::Data<AppState>,
    Lang(t): Lang,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    match session::open_session(&state, &form.name, &form.password).await {
        Ok(token) => Ok(HttpResponse::SeeOther()
            .cookie(session::session_cookie(&state, &token))
            .insert_header((header::LOCATION, "/"))
            .finish()),
        Err(ApiError::Unauthorized(_)) => {
            let mut resp = page(login_page(t, true));
            *resp.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    session::close_session(&state, &req)?;
    Ok(HttpResponse::SeeOther()
        .cookie(session::session_cookie(&state, ""))
        .insert_header((header::LOCATION, "/login"))
        .finish())
}

// ----- queue -------------------------------------------------------------------------

/// One row of the queue; also what the live stream sends for the script to insert.
pub fn queue_item(t: &Ui, v: &IncidentView) -> Markup {
    let sev = match v.incident.severity {
        crate::api::Severity::High => "sev-high",
        crate::api::Severity::Medium => "sev-medium",
        crate::api::Severity::Low => "sev-low",
    };
    html! {
        li id={ "incident-" (v.incident.id) } data-status=(v.status.as_str()) {
            a class=(sev) href={ "/incidents/" (v.incident.id) } {
                @if let Some(sha) = &v.frame { img src=(thumb_url(sha)) alt=(t.photo) loading="lazy"; }
                @else { span.nophoto { (t.no_photo) } }
                div {
                    div.plate { (v.plate.as_ref().map_or(t.no_plate, |p| p.as_str())) }
                    div.meta {
                        (v.incident.checkpoint_id) " · " (t.kind(v.incident.kind.as_str())) " · " (t.severity(v.incident.severity))
                    }
                    div.meta { span.badge { (t.status(v.status)) } " " (ago(t, v.incident.created_at)) }
                }
            }
        }
    }
}

async fn queue(
    state: web::Data<AppState>,
    who: PagePerson,
    Lang(t): Lang,
    q: web::Query<incidents::ListQuery>,
) -> Result<HttpResponse, PageError> {
    let person = who.0;
    let query = incidents::scoped_query(&person, &q, state.config.max_page)?;
    let store = state.store.clone();
    let query2 = query.clone();
    let found = web::block(move || incidents::page(&store, &query2))
        .await
        .map_err(ApiError::from)??;
    let current = q.status.as_deref().unwrap_or("");
    let found_first = q.before.as_deref().unwrap_or("").is_empty();
    let body = html! {
        // Without the script (or with the stream down) the queue still refreshes itself.
        noscript { meta http-equiv="refresh" content="30"; }
        h1 { (t.queue) " " span #live .badge hidden { (t.live) } }
        nav.filters {
            a.on[current.is_empty()] href="/" { (t.all) }
            @for s in IncidentStatus::ALL {
                a.on[current == s.as_str()] href={ "/?status=" (s.as_str()) } { (t.status(s)) }
            }
        }
        @if found.items.is_empty() { p #empty { (t.no_incidents) } }
        // The script inserts new rows here (only on the first page: older pages stay put).
        ul.queue #queue data-live=[found_first.then_some("/api/v1/incidents/events")] data-status=(current) {
            @for v in &found.items { (queue_item(t, v)) }
        }
        @if let Some(next) = &found.next {
            p { a href={ "/?status=" (current) "&before=" (next) } { (t.older) } }
        }
    };
    Ok(page(layout(t, t.queue, Some(&person), body)))
}

// ----- incident detail ---------------------------------------------------------------

fn evidence_img(d: &IncidentDetail, kind: EvidenceKind) -> Option<Sha256> {
    d.evidence.iter().find(|e| e.kind == kind).map(|e| e.sha256)
}

fn action_forms(t: &Ui, d: &IncidentDetail) -> Markup {
    let id = d.view.incident.id;
    let url = format!("/incidents/{id}/actions");
    let status = d.view.status;
    html! {
        h2 { (t.actions) }
        @if status == IncidentStatus::New {
            form.action method="post" action=(url) {
                input type="hidden" name="action" value="claim";
                button.primary type="submit" { (t.action(ActionKind::Claim)) }
            }
        }
        @if matches!(status, IncidentStatus::New | IncidentStatus::Claimed) {
            form.action method="post" action=(url) {
                input type="hidden" name="action" value="dispatch";
                label { (t.team) input name="team" maxlength="200"; }
                button.primary type="submit" { (t.action(ActionKind::Dispatch)) }
            }
        }
        @if status != IncidentStatus::Closed {
            form.action #outcome method="post" action=(url) {
                input type="hidden" name="action" value="outcome";
                label { (t.outcome)
                    select name="outcome" required {
                        @for o in Outcome::ALL { option value=(o.as_str()) { (t.outcome(o)) } }
                    }
                }
                // Each field says which outcomes record it; the script shows only
                // those of the chosen outcome (without it, all show and the API checks).
                @for field in OUTCOME_FIELDS {
                    label.field data-for=(outcomes_of(field)) { (t.field(field)) (outcome_input(t, field)) }
                }
                label { (t.note) textarea name="note" rows="2" maxlength="2000" {} }
                button.primary type="submit" { (t.action(ActionKind::Outcome)) }
            }
        }
        form.action method="post" action=(url) {
            input type="hidden" name="action" value="note";
            label { (t.note) textarea name="note" rows="3" maxlength="2000" required {} }
            button.primary type="submit" { (t.action(ActionKind::Note)) }
        }
    }
}

/// Every field an outcome can record, in form order.
const OUTCOME_FIELDS: [&str; 6] = [
    "tonnes",
    "fine_yuan",
    "legal_basis",
    "papers",
    "quality_report",
    "sample_no",
];

/// The outcomes that record `field`, space-separated, for the script.
fn outcomes_of(field: &str) -> String {
    Outcome::ALL
        .iter()
        .filter(|o| o.fields().contains(&field))
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn outcome_input(t: &Ui, field: &str) -> Markup {
    match field {
        "tonnes" => {
            html! { input name="tonnes" type="number" step="0.1" min="0" inputmode="decimal"; }
        }
        "fine_yuan" => {
            html! { input name="fine_yuan" type="number" step="100" min=(crate::api::FINE_RANGE.start()) max=(crate::api::FINE_RANGE.end()) inputmode="numeric"; }
        }
        "papers" => html! {
            select name="papers" {
                option value="" { "—" }
                @for p in Papers::ALL { option value=(p.as_str()) { (t.papers(p)) } }
            }
        },
        "legal_basis" => {
            html! { input name="legal_basis" maxlength="200" placeholder=(t.legal_basis_hint); }
        }
        other => html! { input name=(other) maxlength="200"; },
    }
}

fn incident_page(t: &Ui, d: &IncidentDetail) -> Markup {
    let v = &d.view;
    html! {
        h1 { (t.incident) " · " (v.plate.as_ref().map_or(t.no_plate, |p| p.as_str())) }
        p.meta {
            span.badge { (t.status(v.status)) } " "
            (t.kind(v.incident.kind.as_str())) " · " (t.severity(v.incident.severity)) " · "
            (v.incident.checkpoint_id) " · " (v.county) " · " (local(v.incident.created_at)) " (" (ago(t, v.incident.created_at)) ")"
        }
        div.photos {
            @if let Some(sha) = evidence_img(d, EvidenceKind::Frame) {
                a href={ "/api/v1/evidence/" (sha) } { img src={ "/api/v1/evidence/" (sha) } alt=(t.photo); }
            }
            div.crops {
                @if let Some(sha) = evidence_img(d, EvidenceKind::Plate) { img src={ "/api/v1/evidence/" (sha) } alt=(t.plate_crop); }
                @if let Some(sha) = evidence_img(d, EvidenceKind::Load) { img src={ "/api/v1/evidence/" (sha) } alt=(t.load_crop); }
            }
        }
        @if let Some(plate) = &v.plate {
            p { a.button href={ "/plates?plate=" (plate) "&reason=" (t.incident_reason) "%20" (v.incident.id) } { (t.timeline_link) } }
        }
        @match &d.passage {
            Some(p) => {
                table {
                    tr { th { (t.seen_at) } td { (local(p.seen_at)) } }
                    tr { th { (t.lane) } td { (p.lane) } }
                    tr { th { (t.direction) } td { (t.direction(p.direction)) } }
                    @if let Some(c) = &p.cargo {
                        tr { th { (t.cargo) } td { (t.cover(c.cover)) " · " (t.material(c.material)) (format!(" ({:.0}%)", c.confidence * 100.0)) } }
                    }
                }
            }
            None => { p.meta { (t.passage_pending) } }
        }
        h2 { (t.history) }
        @if d.history.is_empty() { p.meta { (t.no_history) } }
        ul {
            @for h in &d.history {
                li {
                    (local(h.at)) " · " (h.by) " · " (t.action(h.action))
                    @if let Some(o) = h.outcome { " · " (t.outcome(o)) }
                    @if let Some(team) = &h.team { " · " (team) }
                    @if let Some(x) = h.tonnes { " · " (x) " t" }
                    @if let Some(y) = h.fine_yuan { " · " (y) " ¥" }
                    @if let Some(b) = &h.details.legal_basis { " · " (t.legal_basis) ": " (b) }
                    @if let Some(p) = h.details.papers { " · " (t.papers(p)) }
                    @if let Some(r) = &h.details.quality_report { " · " (t.quality_report) ": " (r) }
                    @if let Some(n) = &h.details.sample_no { " · " (t.sample_no) ": " (n) }
                    @if let Some(n) = &h.note { div.note { (n) } }
                }
            }
        }
        (action_forms(t, d))
    }
}

async fn incident(
    state: web::Data<AppState>,
    who: PagePerson,
    Lang(t): Lang,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = incidents::parse_id(&id)?;
    let d = incidents::detail_of(&state.store, &who.0, &id)?;
    Ok(page(layout(
        t,
        t.incident,
        Some(&who.0),
        incident_page(t, &d),
    )))
}

#[derive(Deserialize)]
struct ActionForm {
    action: ActionKind,
    note: Option<String>,
    outcome: Option<String>,
    tonnes: Option<String>,
    fine_yuan: Option<String>,
    team: Option<String>,
    legal_basis: Option<String>,
    papers: Option<String>,
    quality_report: Option<String>,
    sample_no: Option<String>,
}

fn filled(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl ActionForm {
    fn into_request(self) -> Result<ActionRequest, ApiError> {
        let outcome = filled(self.outcome)
            .map(|o| {
                Outcome::ALL
                    .into_iter()
                    .find(|x| x.as_str() == o)
                    .ok_or_else(|| ApiError::BadRequest(format!("outcome: unknown {o}")))
            })
            .transpose()?;
        let tonnes = filled(self.tonnes)
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|_| ApiError::BadRequest("tonnes: not a number".into()))
            })
            .transpose()?;
        let fine_yuan = filled(self.fine_yuan)
            .map(|s| {
                s.parse::<u32>()
                    .map_err(|_| ApiError::BadRequest("fine_yuan: not a whole number".into()))
            })
            .transpose()?;
        let papers = filled(self.papers)
            .map(|p| {
                p.parse::<Papers>()
                    .map_err(|e| ApiError::BadRequest(e.to_string()))
            })
            .transpose()?;
        Ok(ActionRequest {
            action: self.action,
            note: filled(self.note),
            outcome,
            tonnes,
            fine_yuan,
            team: filled(self.team),
            details: OutcomeDetails {
                legal_basis: filled(self.legal_basis),
                papers,
                quality_report: filled(self.quality_report),
                sample_no: filled(self.sample_no),
            },
        })
    }
}

async fn act(
    state: web::Data<AppState>,
    who: PagePerson,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let id = incidents::parse_id(&id)?;
    let req = form.into_inner().into_request()?;
    incidents::apply(&state, &who.0, id, req).await?;
    Ok(see_other(&format!("/incidents/{id}")))
}

// ----- plate search ------------------------------------------------------------------

#[derive(Deserialize)]
struct SearchForm {
    plate: Option<String>,
    reason: Option<String>,
}

async fn plate_search(
    state: web::Data<AppState>,
    who: PagePerson,
    Lang(t): Lang,
    q: web::Query<SearchForm>,
) -> Result<HttpResponse, PageError> {
    let plate = q.plate.as_deref().unwrap_or("").trim();
    let reason = q.reason.as_deref().unwrap_or("");
    let (result, problem) = if plate.is_empty() {
        (None, None)
    } else if reason.trim().is_empty() {
        (None, Some(t.reason_required.to_owned()))
    } else {
        let query = plates::TimelineQuery {
            from: None,
            to: None,
            reason: Some(reason.to_owned()),
        };
        match plates::search(&state, &who.0, plate, &query).await {
            Ok(tl) => (Some(tl), None),
            Err(ApiError::BadRequest(m)) => (None, Some(m)),
            Err(e) => return Err(e.into()),
        }
    };
    let mut shown = std::collections::HashSet::new();
    for p in result.iter().flat_map(|tl| &tl.passages) {
        for e in &p.evidence {
            if evidence::visible(&state.store, &who.0, &e.sha256)? {
                shown.insert(e.sha256);
            }
        }
    }
    let body = html! {
        h1 { (t.plate_search) }
        form.action method="get" action="/plates" {
            label { (t.plate) input name="plate" value=(plate) required; }
            label { (t.reason) input name="reason" value=(reason) placeholder=(t.reason_hint) required; }
            button.primary type="submit" { (t.search) }
        }
        @if let Some(m) = &problem { p.error { (m) } }
        @if let Some(tl) = &result {
            h2 { (tl.plate) " · " (t.timeline_of) }
            @if tl.passages.is_empty() { p { (t.no_passages) } }
            @else {
                table {
                    tr { th {} th { (t.seen_at) } th { (t.checkpoint) } th { (t.direction) } th { (t.cargo) } }
                    @for p in &tl.passages {
                        tr {
                            // Another county's photos stay closed (the timeline itself spans all).
                            td { @if let Some(e) = p.evidence.iter().find(|e| e.kind == EvidenceKind::Frame && shown.contains(&e.sha256)) {
                                a href={ "/api/v1/evidence/" (e.sha256) } { img src=(thumb_url(&e.sha256)) width="120" alt=(t.photo) loading="lazy"; }
                            } }
                            td { (local(p.seen_at)) }
                            td { (p.checkpoint_id) }
                            td { (t.direction(p.direction)) }
                            td { @if let Some(c) = &p.cargo { (t.cover(c.cover)) " · " (t.material(c.material)) } }
                        }
                    }
                }
            }
        }
    };
    Ok(page(layout(t, t.plate_search, Some(&who.0), body)))
}

async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(JS)
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(CSS)
}
