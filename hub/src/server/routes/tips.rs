//! The tip line: intake, the list with deadline marks, one tip with its ranked
//! cross-check, verdicts, grouping tips into cases, and a verified plate onto the
//! hotlist.
//!
//! Who: investigators work their county's tips, admins every county's; auditors read
//! them all; dispatchers and officers get 403. The tipster's name and phone reach
//! investigators and admins in one answer only (one tip), never a list, an audit line
//! or a log.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::api::{
    CaseId, CaseView, DueMark, LinkRequest, ListEntry, NewTip, PlateText, RewardView, Role,
    TipDetail, TipId, TipStatus, TipView, Tipster, Verdict, VerdictKind, VerdictRequest,
};
use crate::server::extract::Person;
use crate::server::routes::{parse_json, read_body};
use crate::server::{ApiError, AppState};
use crate::store::{AuditEntry, CaseRecord, Store, TipRecord};
use crate::tips::{reward_overdue, Neighbours, Rules};

/// Longest free texts, in characters.
const MAX_PLACE: usize = 200;
const MAX_SAID: usize = 4000;
const MAX_NOTE: usize = 2000;
/// Most cross-check matches shown for one tip.
const MAX_MATCHES: usize = 200;
/// A tip may say it was received a little in the future of the hub's clock
/// (unsynchronised hotline PCs); more than this is a typing error.
const CLOCK_SLACK_MINUTES: i64 = 10;

/// Reads tips: investigators, admins, auditors.
pub fn may_read(p: &Person) -> Result<(), ApiError> {
    match p.0.role {
        Role::Investigator | Role::Admin | Role::Auditor => Ok(()),
        _ => Err(ApiError::Forbidden(
            "tips are for investigators (and auditors to read)".into(),
        )),
    }
}

/// Files, verifies and groups tips, pays rewards: investigators and admins.
pub fn may_work(p: &Person) -> Result<(), ApiError> {
    match p.0.role {
        Role::Investigator | Role::Admin => Ok(()),
        _ => Err(ApiError::Forbidden("only investigators work tips".into())),
    }
}

/// Sees who called (DESIGN.md: investigators only; admins stand in for them).
fn sees_tipster(p: &Person) -> bool {
    matches!(p.0.role, Role::Investigator | Role::Admin)
}

pub fn parse_tip_id(raw: &str) -> Result<TipId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::BadRequest(format!("tip id: not a UUID: {raw}")))
}

pub fn parse_case_id(raw: &str) -> Result<CaseId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::BadRequest(format!("case id: not a UUID: {raw}")))
}

/// A tip the person may see; 404 alike for unknown and other counties' tips.
pub fn visible_tip(store: &Store, p: &Person, id: &TipId) -> Result<TipRecord, ApiError> {
    may_read(p)?;
    store
        .tip(id)?
        .filter(|t| p.sees(&t.county))
        .ok_or_else(|| ApiError::NotFound(format!("tip {id} not found")))
}

pub fn visible_case(store: &Store, p: &Person, id: &CaseId) -> Result<CaseRecord, ApiError> {
    may_read(p)?;
    store
        .case(id)?
        .filter(|c| p.sees(&c.county))
        .ok_or_else(|| ApiError::NotFound(format!("case {id} not found")))
}

pub fn tip_view(rules: &Rules, now: DateTime<Utc>, t: &TipRecord) -> TipView {
    TipView {
        id: t.id,
        case_id: t.case_id,
        county: t.county.clone(),
        channel: t.channel,
        received_at: t.received_at,
        plate: t.plate.clone(),
        place: t.place.clone(),
        window_from: t.window_from,
        window_to: t.window_to,
        status: t.status,
        deadline: t.deadline,
        due: rules.due_mark(t.status, t.deadline, now),
        real_name: t.tipster.is_real_name(),
    }
}

pub fn case_view(state: &AppState, c: CaseRecord) -> Result<CaseView, ApiError> {
    let (rules, now) = (state.config.tip_rules(), state.clock.now());
    let mut tips = Vec::with_capacity(c.tips.len());
    for id in &c.tips {
        if let Some(t) = state.store.tip(id)? {
            tips.push(tip_view(&rules, now, &t));
        }
    }
    let reward = state.store.reward(&c.id)?.map(|r| RewardView {
        overdue: reward_overdue(&r, now),
        reward: r,
    });
    Ok(CaseView {
        id: c.id,
        county: c.county,
        opened_at: c.opened_at,
        status: c.status,
        tips,
        verdict: c.verdict,
        reward,
        hotlisted: c.hotlisted,
    })
}

/// One tip as `p` may see it, with its ranked cross-check and suggested cases.
pub fn detail_of(state: &AppState, p: &Person, t: TipRecord) -> Result<TipDetail, ApiError> {
    let neighbours = Neighbours::new(&state.config.neighbours);
    let matches = state.store.crosscheck(&t, &neighbours, MAX_MATCHES)?;
    let mut suggested_cases = Vec::new();
    for id in state.store.overlapping_cases(&t)? {
        if state.store.case(&id)?.is_some_and(|c| p.sees(&c.county)) {
            suggested_cases.push(id);
        }
    }
    let verdict = match t.status {
        TipStatus::Open => None,
        _ => state.store.case(&t.case_id)?.and_then(|c| c.verdict),
    };
    let view = tip_view(&state.config.tip_rules(), state.clock.now(), &t);
    Ok(TipDetail {
        view,
        said: t.said,
        recorded_by: t.recorded_by,
        recorded_at: t.recorded_at,
        tipster: sees_tipster(p).then_some(t.tipster),
        verdict,
        matches,
        suggested_cases,
    })
}

fn audit(state: &AppState, p: &Person, what: &str, detail: serde_json::Value) -> AuditEntry {
    AuditEntry {
        at: state.clock.now(),
        who: p.name().to_owned(),
        what: what.into(),
        reason: None,
        detail,
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::BadRequest(msg.into())
}

/// The trimmed text, `None` when blank; longer than `max` characters is an error.
fn text(field: &str, raw: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if s.chars().count() > max {
        return Err(bad(format!("{field}: longer than {max} characters")));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(bad(format!("{field}: control characters are not allowed")));
    }
    Ok(Some(s.to_owned()))
}

fn phone(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(p) = text("tipster_phone", raw, 32)? else {
        return Ok(None);
    };
    let digits = p.chars().filter(char::is_ascii_digit).count();
    if !p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) || !(5..=20).contains(&digits)
    {
        return Err(bad("tipster_phone: 5-20 digits, with + - ( ) or spaces"));
    }
    Ok(Some(p))
}

/// Checks a new tip as `p` and stores it in a case of its own; durable on return.
pub async fn file_tip(state: &AppState, p: &Person, new: NewTip) -> Result<TipRecord, ApiError> {
    may_work(p)?;
    if !p.sees(&new.county) {
        return Err(ApiError::Forbidden(format!(
            "county: you file tips of {} only",
            p.0.county
        )));
    }
    let now = state.clock.now();
    let received_at = new.received_at.unwrap_or(now);
    if received_at > now + chrono::Duration::minutes(CLOCK_SLACK_MINUTES) {
        return Err(bad("received_at: in the future"));
    }
    if new.window_to < new.window_from {
        return Err(bad("window_to: before window_from"));
    }
    let max = chrono::Duration::hours(i64::from(state.config.tip_max_window_hours));
    if new.window_to - new.window_from > max {
        return Err(bad(format!(
            "window_to: the window is longer than {} hours",
            state.config.tip_max_window_hours
        )));
    }
    let rules = state.config.tip_rules();
    let tip = TipRecord {
        id: TipId::new(),
        case_id: CaseId::new(),
        county: new.county,
        channel: new.channel,
        received_at,
        recorded_at: now,
        recorded_by: p.name().to_owned(),
        tipster: Tipster {
            name: text("tipster_name", new.tipster_name.as_deref(), 64)?,
            phone: phone(new.tipster_phone.as_deref())?,
        },
        plate: new.plate,
        place: text("place", Some(new.place.as_str()), MAX_PLACE)?.unwrap_or_default(),
        window_from: new.window_from,
        window_to: new.window_to,
        said: text("said", Some(new.said.as_str()), MAX_SAID)?.unwrap_or_default(),
        status: TipStatus::Open,
        deadline: received_at + rules.investigate,
    };
    let line = audit(
        state,
        p,
        "tip.file",
        serde_json::json!({"tip": tip.id, "case": tip.case_id, "county": tip.county,
            "channel": tip.channel, "plate": tip.plate}),
    );
    let (store, rec) = (state.store.clone(), tip.clone());
    web::block(move || store.insert_tip(&rec, &line)).await??;
    state.store.flush().await?;
    tracing::info!(tip = %tip.id, county = %tip.county, "tip filed");
    Ok(tip)
}

/// `POST /api/v1/tips`: 201 with the tip and its first cross-check.
pub async fn file(
    state: web::Data<AppState>,
    person: Person,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    may_work(&person)?;
    let body = read_body(payload, state.config.body_limit).await?;
    let new: NewTip = parse_json("tip", &body)?;
    let tip = file_tip(&state, &person, new).await?;
    let detail = detail_of(&state, &person, tip)?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(detail))
}

/// Query of `GET /api/v1/tips`.
#[derive(Debug, Default, Deserialize)]
pub struct TipQuery {
    /// open | verified | unfounded
    pub status: Option<String>,
    /// open | due_soon | overdue | done
    pub due: Option<String>,
}

/// The tips `p` may see, filtered by `q`: open ones by deadline, then the rest newest
/// first.
pub fn list_tips(state: &AppState, p: &Person, q: &TipQuery) -> Result<Vec<TipView>, ApiError> {
    may_read(p)?;
    let nonempty = |o: &Option<String>| o.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let status = nonempty(&q.status)
        .map(|s| s.parse::<TipStatus>())
        .transpose()
        .map_err(|e| bad(e.to_string()))?;
    let due = nonempty(&q.due)
        .map(|s| {
            serde_json::from_value::<DueMark>(serde_json::Value::String(s))
                .map_err(|_| bad("due: must be open, due_soon, overdue or done"))
        })
        .transpose()?;
    let (rules, now) = (state.config.tip_rules(), state.clock.now());
    let tips = state
        .store
        .tips_where(|t| p.sees(&t.county) && status.is_none_or(|s| s == t.status))?;
    let mut views: Vec<TipView> = tips
        .iter()
        .map(|t| tip_view(&rules, now, t))
        .filter(|v| due.is_none_or(|d| d == v.due))
        .collect();
    // What needs doing first: open tips by deadline, then the rest newest first (the
    // order they came in, kept by the stable sort).
    views.sort_by_key(|v| {
        (
            v.status != TipStatus::Open,
            (v.status == TipStatus::Open).then_some(v.deadline),
        )
    });
    Ok(views)
}

/// `GET /api/v1/tips`.
pub async fn list(
    state: web::Data<AppState>,
    person: Person,
    q: web::Query<TipQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(list_tips(&state, &person, &q)?))
}

/// One tip with its cross-check; the view is audited (it may show who called).
pub async fn show_tip(state: &AppState, p: &Person, id: &TipId) -> Result<TipDetail, ApiError> {
    let t = visible_tip(&state.store, p, id)?;
    let d = detail_of(state, p, t)?;
    state.store.audit(&audit(
        state,
        p,
        "tip.view",
        serde_json::json!({"tip": id, "matches": d.matches.len()}),
    ))?;
    state.store.flush().await?;
    Ok(d)
}

/// `GET /api/v1/tips/{id}`.
pub async fn detail(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_tip_id(&id)?;
    Ok(HttpResponse::Ok().json(show_tip(&state, &person, &id).await?))
}

/// Checks a verdict (the proof exists) and records it on the tip's case.
pub async fn give_verdict(
    state: &AppState,
    p: &Person,
    id: &TipId,
    req: VerdictRequest,
) -> Result<CaseView, ApiError> {
    may_work(p)?;
    let tip = visible_tip(&state.store, p, id)?;
    if req.verdict == VerdictKind::Verified && req.passages.is_empty() && req.incidents.is_empty() {
        return Err(bad(
            "passages: a verified tip names the passages or incidents that prove it",
        ));
    }
    let mut proven: Option<PlateText> = req.plate.clone();
    for (i, pid) in req.passages.iter().enumerate() {
        let rec = state
            .store
            .passage(pid)?
            .ok_or_else(|| bad(format!("passages[{i}]: no passage {pid}")))?;
        if proven.is_none() {
            proven = rec.passage.plate.map(|r| r.text);
        }
    }
    for (i, iid) in req.incidents.iter().enumerate() {
        let rec = state
            .store
            .incident(iid)?
            .ok_or_else(|| bad(format!("incidents[{i}]: no incident {iid}")))?;
        if proven.is_none() {
            proven = state
                .store
                .passage(&rec.incident.passage_id)?
                .and_then(|p| p.passage.plate.map(|r| r.text));
        }
    }
    let verdict = Verdict {
        verdict: req.verdict,
        plate: proven.filter(|_| req.verdict == VerdictKind::Verified),
        passages: req.passages,
        incidents: req.incidents,
        note: text("note", req.note.as_deref(), MAX_NOTE)?,
        at: state.clock.now(),
        by: p.name().to_owned(),
    };
    let line = audit(
        state,
        p,
        "tip.verdict",
        serde_json::json!({"tip": id, "case": tip.case_id, "verdict": verdict.verdict,
            "plate": verdict.plate, "passages": verdict.passages, "incidents": verdict.incidents}),
    );
    let (store, rules, tid) = (state.store.clone(), state.config.tip_rules(), *id);
    let case = web::block(move || store.record_verdict(&tid, &verdict, &rules, &line)).await??;
    state.store.flush().await?;
    case_view(state, case)
}

/// `POST /api/v1/tips/{id}/verdict`.
pub async fn verdict(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = parse_tip_id(&id)?;
    let body = read_body(payload, state.config.body_limit).await?;
    let req: VerdictRequest = parse_json("verdict", &body)?;
    Ok(HttpResponse::Ok().json(give_verdict(&state, &person, &id, req).await?))
}

/// Moves a tip into another open case the person sees.
pub async fn link_tip(
    state: &AppState,
    p: &Person,
    id: &TipId,
    to: &CaseId,
) -> Result<CaseView, ApiError> {
    may_work(p)?;
    let tip = visible_tip(&state.store, p, id)?;
    visible_case(&state.store, p, to)?;
    let line = audit(
        state,
        p,
        "tip.link",
        serde_json::json!({"tip": id, "from": tip.case_id, "to": to}),
    );
    let (store, tid, cid) = (state.store.clone(), *id, *to);
    let case = web::block(move || store.link_tip(&tid, &cid, &line)).await??;
    state.store.flush().await?;
    case_view(state, case)
}

/// `POST /api/v1/tips/{id}/case`.
pub async fn link(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<String>,
    req: web::Json<LinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_tip_id(&id)?;
    Ok(HttpResponse::Ok().json(link_tip(&state, &person, &id, &req.case_id).await?))
}

/// `GET /api/v1/cases/{id}`.
pub async fn case(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_case_id(&id)?;
    let c = visible_case(&state.store, &person, &id)?;
    Ok(HttpResponse::Ok().json(case_view(&state, c)?))
}

/// Puts a verified case's plate on the hotlist; the new lists version.
pub async fn hotlist_case(state: &AppState, p: &Person, id: &CaseId) -> Result<u64, ApiError> {
    may_work(p)?;
    let c = visible_case(&state.store, p, id)?;
    let plate = c
        .verdict
        .as_ref()
        .and_then(|v| v.plate.clone())
        .filter(|_| c.status == TipStatus::Verified)
        .ok_or_else(|| {
            ApiError::Conflict(
                "only a verified case with a proven plate goes on the hotlist".into(),
            )
        })?;
    let now = state.clock.now();
    // The reason names the case, never the tipster: checkpoints and teams see it.
    let entry = ListEntry {
        plate,
        reason: format!("举报核实 tip case {id}"),
        company: None,
        expires_at: None,
        added_by: p.name().to_owned(),
        added_at: now,
    };
    let line = AuditEntry {
        at: now,
        who: p.name().to_owned(),
        what: "list.add".into(),
        reason: Some(entry.reason.clone()),
        detail: serde_json::json!({"list": "hotlist", "plate": entry.plate, "case": id}),
    };
    let (store, cid) = (state.store.clone(), *id);
    let version = web::block(move || store.hotlist_case(&cid, &entry, &line)).await??;
    state.store.flush().await?;
    Ok(version)
}

/// `POST /api/v1/cases/{id}/hotlist`.
pub async fn hotlist(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_case_id(&id)?;
    let version = hotlist_case(&state, &person, &id).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"version": version})))
}
