//! The reward ledger: one reward per verified case, due within the configured days
//! of the verdict, marked paid by an investigator. Rows name the case and the
//! rewardee's tip, never the rewardee: whoever pays looks the name up on the tip.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::api::{CaseId, RewardView};
use crate::server::extract::Person;
use crate::server::routes::tips::{may_read, may_work, parse_case_id, visible_case};
use crate::server::{ApiError, AppState};
use crate::store::AuditEntry;
use crate::tips::reward_overdue;

/// The rewards `p` may see: unpaid first, then by due date.
pub fn ledger(state: &AppState, p: &Person) -> Result<Vec<RewardView>, ApiError> {
    may_read(p)?;
    let now = state.clock.now();
    let mut rows: Vec<RewardView> = state
        .store
        .rewards()?
        .into_iter()
        .filter(|r| p.sees(&r.county))
        .map(|r| RewardView {
            overdue: reward_overdue(&r, now),
            reward: r,
        })
        .collect();
    rows.sort_by_key(|r| (r.reward.paid_at.is_some(), r.reward.due_by));
    Ok(rows)
}

/// The ledger as CSV (the 台账 export).
fn to_csv(rows: &[RewardView]) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| ApiError::Internal(format!("reward csv: {e}"));
    w.write_record([
        "case_id",
        "tip_id",
        "county",
        "yuan",
        "verified_at",
        "due_by",
        "paid_at",
        "paid_by",
        "overdue",
    ])
    .map_err(fail)?;
    for r in rows {
        let x = &r.reward;
        w.write_record([
            x.case_id.to_string(),
            x.tip_id.to_string(),
            x.county.to_string(),
            x.yuan.to_string(),
            x.verified_at.to_rfc3339(),
            x.due_by.to_rfc3339(),
            x.paid_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            x.paid_by.clone().unwrap_or_default(),
            r.overdue.to_string(),
        ])
        .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| ApiError::Internal(format!("reward csv: {e}")))
}

/// Query of `GET /api/v1/rewards`.
#[derive(Debug, Default, Deserialize)]
pub struct LedgerQuery {
    /// `csv` for a download; JSON otherwise.
    pub format: Option<String>,
}

/// `GET /api/v1/rewards`.
pub async fn list(
    state: web::Data<AppState>,
    person: Person,
    q: web::Query<LedgerQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = ledger(&state, &person)?;
    match q.format.as_deref() {
        None | Some("json") => Ok(HttpResponse::Ok().json(rows)),
        Some("csv") => Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                "attachment; filename=\"rewards.csv\"",
            ))
            .body(to_csv(&rows)?)),
        Some(other) => Err(ApiError::BadRequest(format!(
            "format: must be json or csv, not {other:.20}"
        ))),
    }
}

/// Marks a case's reward paid now; durable on return.
pub async fn pay(state: &AppState, p: &Person, case: &CaseId) -> Result<RewardView, ApiError> {
    may_work(p)?;
    visible_case(&state.store, p, case)?;
    let now = state.clock.now();
    let line = AuditEntry {
        at: now,
        who: p.name().to_owned(),
        what: "reward.paid".into(),
        reason: None,
        detail: serde_json::json!({"case": case}),
    };
    let (store, cid, by) = (state.store.clone(), *case, p.name().to_owned());
    let reward = web::block(move || store.mark_reward_paid(&cid, &by, now, &line)).await??;
    state.store.flush().await?;
    Ok(RewardView {
        overdue: false,
        reward,
    })
}

/// `POST /api/v1/rewards/{case}/paid`.
pub async fn paid(
    state: web::Data<AppState>,
    person: Person,
    case: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let case = parse_case_id(&case)?;
    Ok(HttpResponse::Ok().json(pay(&state, &person, &case).await?))
}
