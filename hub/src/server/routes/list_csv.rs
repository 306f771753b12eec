//! Bulk list edits as CSV: `GET /api/v1/lists/{list}/csv` exports every entry (expired
//! ones too, so nothing is lost in a round trip); `POST` imports a file, keeps every
//! valid row in one version bump and reports each rejected row with its line number,
//! the field and why.
//!
//! Columns, by header name in any order: `plate`, `reason` (required), `company`
//! (required on the whitelist), `expires_at` (RFC 3339, or a date: the end of that
//! China day), `added_by`/`added_at` (ignored on import: the importer adds them).

use std::collections::HashSet;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::api::{ListEntry, ListName, PlateText};
use crate::server::extract::Person;
use crate::server::routes::lists::{check_entry, editor, list_name};
use crate::server::routes::{csv_response, read_body, to_csv};
use crate::server::{ApiError, AppState};
use crate::store::AuditEntry;

/// A row the import left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    /// Line in the file (the header is line 1).
    pub row: u64,
    pub field: String,
    pub why: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub version: u64,
    pub imported: usize,
    pub rejected: Vec<Rejected>,
}

const COLUMNS: [&str; 6] = [
    "plate",
    "reason",
    "company",
    "expires_at",
    "added_by",
    "added_at",
];

/// `2026-12-31` means until the end of that day in China (UTC+8).
pub fn parse_expiry(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(d.succ_opt()?.and_hms_opt(0, 0, 0)?.and_utc() - chrono::Duration::hours(8))
}

/// Reads `text` as a list file; the valid entries and the rejected rows.
pub fn parse(
    list: ListName,
    text: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(Vec<ListEntry>, Vec<Rejected>), ApiError> {
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = rd
        .headers()
        .map_err(|e| ApiError::BadRequest(format!("csv: cannot read the header: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    for (i, h) in headers.iter().enumerate() {
        if !COLUMNS.contains(&h) {
            return Err(ApiError::BadRequest(format!(
                "csv: column {} `{h}` is unknown (expected {})",
                i + 1,
                COLUMNS.join(", ")
            )));
        }
    }
    let (Some(plate_col), Some(reason_col)) = (col("plate"), col("reason")) else {
        return Err(ApiError::BadRequest(
            "csv: the header needs `plate` and `reason` columns".into(),
        ));
    };
    let (company_col, expiry_col) = (col("company"), col("expires_at"));
    let mut ok = Vec::new();
    let mut rejected = Vec::new();
    let mut seen = HashSet::new();
    for (i, rec) in rd.records().enumerate() {
        // Line of the record; the header is line 1.
        let row = i as u64 + 2;
        let reject = |field: &str, why: String| Rejected {
            row,
            field: field.to_owned(),
            why,
        };
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                rejected.push(reject("row", format!("unreadable: {e}")));
                continue;
            }
        };
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("");
        let plate = match PlateText::parse(get(Some(plate_col))) {
            Ok(p) => p,
            Err(e) => {
                rejected.push(reject("plate", e.to_string()));
                continue;
            }
        };
        let reason = get(Some(reason_col));
        let company = Some(get(company_col)).filter(|c| !c.is_empty());
        if let Err((field, why)) = check_entry(list, reason, company) {
            rejected.push(reject(field, why));
            continue;
        }
        let raw_expiry = get(expiry_col);
        let expires_at = if raw_expiry.is_empty() {
            None
        } else {
            match parse_expiry(raw_expiry) {
                Some(t) if t <= now => {
                    rejected.push(reject("expires_at", format!("{raw_expiry} has passed")));
                    continue;
                }
                Some(t) => Some(t),
                None => {
                    rejected.push(reject(
                        "expires_at",
                        format!("{raw_expiry}: not RFC 3339 or YYYY-MM-DD"),
                    ));
                    continue;
                }
            }
        };
        if !seen.insert(plate.clone()) {
            rejected.push(reject("plate", format!("{plate} is on an earlier line")));
            continue;
        }
        ok.push(ListEntry {
            plate,
            reason: reason.to_owned(),
            company: company.map(str::to_owned),
            expires_at,
            added_by: by.to_owned(),
            added_at: now,
        });
    }
    Ok((ok, rejected))
}

/// Imports `text` into `list` as `person`; durable and audited on return.
pub async fn import(
    state: &AppState,
    person: &Person,
    list: ListName,
    text: &str,
) -> Result<ImportReport, ApiError> {
    editor(person)?;
    let now = state.clock.now();
    let (entries, rejected) = parse(list, text, person.name(), now)?;
    let store = state.store.clone();
    let plates: Vec<String> = entries.iter().map(|e| e.plate.to_string()).collect();
    let n = entries.len();
    let version = web::block(move || store.put_list_entries(list, &entries)).await??;
    state.store.audit(&AuditEntry {
        at: now,
        who: person.name().to_owned(),
        what: "list.import".into(),
        reason: None,
        detail: serde_json::json!({"list": list, "imported": plates, "rejected": rejected.len()}),
    })?;
    state.store.flush().await?;
    Ok(ImportReport {
        version,
        imported: n,
        rejected,
    })
}

/// The CSV of `entries`, in the import's column order.
pub fn export(entries: &[ListEntry]) -> Result<Vec<u8>, ApiError> {
    to_csv(
        COLUMNS,
        entries.iter().map(|e| {
            [
                e.plate.to_string(),
                e.reason.clone(),
                e.company.clone().unwrap_or_default(),
                e.expires_at.map_or(String::new(), |t| t.to_rfc3339()),
                e.added_by.clone(),
                e.added_at.to_rfc3339(),
            ]
        }),
    )
}

/// `GET /api/v1/lists/{list}/csv`.
pub async fn get(
    state: web::Data<AppState>,
    person: Person,
    list: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    editor(&person)?;
    let list = list_name(&list)?;
    let body = export(&state.store.list_entries(list)?)?;
    Ok(csv_response(&format!("{}.csv", list.as_str()), body))
}

/// `POST /api/v1/lists/{list}/csv`.
pub async fn post(
    state: web::Data<AppState>,
    person: Person,
    list: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let list = list_name(&list)?;
    let body = read_body(payload, state.config.body_limit).await?;
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest("csv: not UTF-8".into()))?;
    Ok(HttpResponse::Ok().json(import(&state, &person, list, text).await?))
}
