//! `/lists`: the whitelist (licensed supply fleets with their company) and the hotlist,
//! with add, remove and CSV import/export, for admins and dispatchers. Every edit goes
//! through the same store calls and audit lines as the JSON routes.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use crate::api::{ListEntry, ListName, NewListEntry, PlateText};
use crate::server::routes::list_csv::{self, ImportReport};
use crate::server::routes::lists::{add_entry, editor, list_name, remove_entry};
use crate::server::{ApiError, AppState};

use super::i18n::Ui;
use super::{layout, local, see_other, Lang, PageError, PagePerson};

fn list_title(t: &Ui, list: ListName) -> &'static str {
    match list {
        ListName::Whitelist => t.whitelist,
        ListName::Hotlist => t.hotlist,
    }
}

fn table(t: &Ui, list: ListName, entries: &[ListEntry], now: DateTime<Utc>) -> Markup {
    html! {
        h2 { (list_title(t, list)) " "
            a.button href={ "/api/v1/lists/" (list.as_str()) "/csv" } download { (t.export_csv) } }
        div.scroll { table {
            tr { th { (t.plate) } th { (t.list_reason) } th { (t.company) } th { (t.expires_at) } th { (t.added_by) } th {} }
            @for e in entries {
                @let expired = e.expires_at.is_some_and(|x| x <= now);
                tr.expired[expired] {
                    td.plate { (e.plate) }
                    td { (e.reason) }
                    td { (e.company.as_deref().unwrap_or("")) }
                    td { @if let Some(x) = e.expires_at { (local(x)) @if expired { " (" (t.expired) ")" } } }
                    td { (e.added_by) " · " (local(e.added_at)) }
                    td { form.inline method="post" action="/lists/remove" {
                        input type="hidden" name="list" value=(list.as_str());
                        input type="hidden" name="plate" value=(e.plate.as_str());
                        input name="reason" maxlength="500" placeholder=(t.list_reason) aria-label=(t.list_reason);
                        button.primary type="submit" { (t.remove) }
                    } }
                }
            }
        } }
        form.action method="post" action="/lists/add" {
            input type="hidden" name="list" value=(list.as_str());
            label { (t.plate) input name="plate" required; }
            label { (t.list_reason) input name="reason" required maxlength="500"; }
            label { (t.company) input name="company" maxlength="200" required[list == ListName::Whitelist]; }
            label { (t.expires_at) input name="expires_at" type="date"; }
            button.primary type="submit" { (t.add) }
        }
        form.action method="post" action="/lists/import" {
            input type="hidden" name="list" value=(list.as_str());
            label { (t.import_csv) textarea name="csv" rows="4" placeholder=(t.import_hint) required {} }
            button.primary type="submit" { (t.import_csv) }
        }
    }
}

fn report(t: &Ui, r: &ImportReport) -> Markup {
    html! {
        p { (t.imported) ": " (r.imported) " · " (t.version) " " (r.version) }
        @if !r.rejected.is_empty() {
            h2 { (t.rejected) }
            table.rejected {
                tr { th { (t.row) } th { (t.field) } th { (t.why) } }
                @for x in &r.rejected { tr { td { (x.row) } td { (x.field) } td { (x.why) } } }
            }
        }
    }
}

async fn render(
    state: &AppState,
    who: &PagePerson,
    t: &'static Ui,
    imported: Option<&ImportReport>,
) -> Result<HttpResponse, PageError> {
    editor(&who.0)?;
    let lists = state.store.lists()?;
    let now = state.clock.now();
    let body = html! {
        h1 { (t.lists) " · " (t.version) " " (lists.version) }
        @if let Some(r) = imported { (report(t, r)) }
        (table(t, ListName::Whitelist, &lists.whitelist, now))
        (table(t, ListName::Hotlist, &lists.hotlist, now))
    };
    Ok(super::page(layout(t, t.lists, Some(&who.0), body)))
}

/// `GET /lists`.
pub async fn page(
    state: web::Data<AppState>,
    who: PagePerson,
    Lang(t): Lang,
) -> Result<HttpResponse, PageError> {
    render(&state, &who, t, None).await
}

#[derive(Deserialize)]
pub struct AddForm {
    list: String,
    plate: String,
    reason: String,
    company: Option<String>,
    expires_at: Option<String>,
}

fn bad(field: &str, why: impl std::fmt::Display) -> PageError {
    PageError(ApiError::BadRequest(format!("{field}: {why}")))
}

/// `POST /lists/add`.
pub async fn add(
    state: web::Data<AppState>,
    who: PagePerson,
    form: web::Form<AddForm>,
) -> Result<HttpResponse, PageError> {
    let f = form.into_inner();
    let list = list_name(&f.list)?;
    let plate = PlateText::parse(f.plate.trim()).map_err(|e| bad("plate", e))?;
    let expires_at = match f
        .expires_at
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(d) => Some(list_csv::parse_expiry(d).ok_or_else(|| bad("expires_at", "not a date"))?),
    };
    let entry = NewListEntry {
        plate,
        reason: f.reason,
        company: f.company,
        expires_at,
    };
    add_entry(&state, &who.0, list, entry).await?;
    Ok(see_other("/lists"))
}

#[derive(Deserialize)]
pub struct RemoveForm {
    list: String,
    plate: String,
    reason: Option<String>,
}

/// `POST /lists/remove`.
pub async fn remove(
    state: web::Data<AppState>,
    who: PagePerson,
    form: web::Form<RemoveForm>,
) -> Result<HttpResponse, PageError> {
    let list = list_name(&form.list)?;
    let plate = PlateText::parse(form.plate.trim()).map_err(|e| bad("plate", e))?;
    remove_entry(&state, &who.0, list, &plate, form.reason.as_deref()).await?;
    Ok(see_other("/lists"))
}

#[derive(Deserialize)]
pub struct ImportForm {
    list: String,
    csv: String,
}

/// `POST /lists/import`: the lists page with the import's report on top.
pub async fn import(
    state: web::Data<AppState>,
    who: PagePerson,
    Lang(t): Lang,
    form: web::Form<ImportForm>,
) -> Result<HttpResponse, PageError> {
    let list = list_name(&form.list)?;
    let r = list_csv::import(&state, &who.0, list, &form.csv).await?;
    render(&state, &who, t, Some(&r)).await
}
