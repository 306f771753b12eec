//! `/audit`: the audit log for auditors and admins, newest first, filtered by who and
//! by action. Read-only: there is no form that writes it.

use actix_web::{web, HttpResponse};
use maud::html;

use crate::server::routes::audit::{self, AuditQuery};
use crate::server::AppState;

use super::{layout, local, page as html_page, Lang, PageError, PagePerson};

/// `GET /audit?who=&what=`.
pub async fn page(
    state: web::Data<AppState>,
    who: PagePerson,
    Lang(t): Lang,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    let lines = audit::read(&state, &who.0, &q)?;
    let body = html! {
        h1 { (t.audit) }
        form.action method="get" action="/audit" {
            label { (t.who) input name="who" value=(q.who.as_deref().unwrap_or("")); }
            label { (t.what) input name="what" value=(q.what.as_deref().unwrap_or("")) placeholder="plate.search"; }
            button.primary type="submit" { (t.search) }
        }
        div.scroll { table #audit {
            tr { th { (t.when) } th { (t.who) } th { (t.what) } th { (t.why) } th { (t.detail) } }
            @for e in &lines {
                tr {
                    td { (local(e.at)) } td { (e.who) } td { (e.what) }
                    td { (e.reason.as_deref().unwrap_or("")) }
                    td { code { (e.detail.to_string()) } }
                }
            }
        } }
    };
    Ok(html_page(layout(t, t.audit, Some(&who.0), body)))
}
