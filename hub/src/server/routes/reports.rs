//! The ledger (台账) per county, checkpoint and China day: `GET /api/v1/reports` as
//! JSON and `GET /api/v1/reports.csv` for spreadsheets. People see their county's;
//! admins and auditors every county's.

use actix_web::{web, HttpResponse};
use chrono::{Duration, NaiveDate, Utc};
use serde::Deserialize;

use crate::api::{County, ReportRow};
use crate::server::extract::Person;
use crate::server::routes::{csv_response, to_csv};
use crate::server::{ApiError, AppState};
use crate::store::china_day;

/// Query of a report: China days `from..=to` (default: the last 7), optional county.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub county: Option<String>,
}

/// Longest range one report covers, days.
pub const MAX_DAYS: i64 = 366;

/// The checked range and county of `q` for `person`; `now` sets the default range.
pub fn scope(
    person: &Person,
    q: &ReportQuery,
    now: chrono::DateTime<Utc>,
) -> Result<(NaiveDate, NaiveDate, Option<County>), ApiError> {
    let day = |field: &str, raw: &Option<String>| -> Result<Option<NaiveDate>, ApiError> {
        match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    ApiError::BadRequest(format!("{field}: {s} is not a YYYY-MM-DD date"))
                }),
        }
    };
    let to = day("to", &q.to)?.unwrap_or_else(|| china_day(now));
    let from = day("from", &q.from)?.unwrap_or(to - Duration::days(6));
    if from > to {
        return Err(ApiError::BadRequest("from: after `to`".into()));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::BadRequest(format!(
            "from: the range is longer than {MAX_DAYS} days"
        )));
    }
    let asked = q
        .county
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(County::parse)
        .transpose()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let county = person.county_scope(asked)?;
    Ok((from, to, county))
}

/// The rows `q` asks for, as `person` may see them.
pub async fn rows(
    state: &AppState,
    person: &Person,
    q: &ReportQuery,
) -> Result<Vec<ReportRow>, ApiError> {
    let (from, to, county) = scope(person, q, state.clock.now())?;
    let store = state.store.clone();
    Ok(web::block(move || store.report(from, to, county.as_ref())).await??)
}

/// `GET /api/v1/reports`.
pub async fn json(
    state: web::Data<AppState>,
    person: Person,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(rows(&state, &person, &q).await?))
}

/// `GET /api/v1/reports.csv`.
pub async fn csv(
    state: web::Data<AppState>,
    person: Person,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let found = rows(&state, &person, &q).await?;
    let body = to_csv(
        ReportRow::csv_header(),
        found.iter().map(ReportRow::csv_record),
    )?;
    Ok(csv_response("report.csv", body))
}
