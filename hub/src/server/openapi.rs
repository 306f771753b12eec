//! The OpenAPI 3.1 document of `/api/v1`, kept by hand next to the routes (a test
//! checks that every route in `routes::configure` is described here).

use actix_web::HttpResponse;
use serde_json::{json, Value};

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn body(name: &str) -> Value {
    json!({"content": {"application/json": {"schema": schema(name)}}})
}

fn errors(codes: &[&str]) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    for c in codes {
        let what = match *c {
            "400" => "Malformed or invalid input; the message names the field",
            "401" => "Missing, unknown, expired or revoked token",
            "403" => "Not allowed for this caller",
            "404" => "Unknown id (or another county's incident)",
            "409" => "Action does not fit the incident's status",
            "413" => "Body larger than the configured limit",
            _ => "Error",
        };
        m.insert((*c).into(), json!({"description": what, "content": {"application/json": {"schema": schema("Error")}}}));
    }
    m
}

fn responses(ok_code: &str, ok: Value, errs: &[&str]) -> Value {
    let mut m = errors(errs);
    m.insert(ok_code.into(), ok);
    Value::Object(m)
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

fn query_param(name: &str, description: &str, required: bool) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": description, "schema": {"type": "string"}})
}

/// The document.
pub fn spec() -> Value {
    let checkpoint = json!([{"checkpointToken": []}]);
    let person = json!([{"sessionToken": []}, {"sessionCookie": []}]);
    let ingest_ok = json!({"description": "Stored (replays count as duplicates)", "content": {"application/json": {"schema": schema("IngestResponse")}}});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Kadian hub", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Checkpoints post passages, incidents and evidence; people work incidents and search plates."},
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/login": {"post": {"summary": "Log in; answers a session token and sets it as an HttpOnly cookie",
                "requestBody": body("LoginRequest"),
                "responses": responses("200", json!({"description": "Logged in", "content": {"application/json": {"schema": schema("LoginResponse")}}}), &["400", "401"])}},
            "/logout": {"post": {"summary": "End the session", "security": person,
                "responses": {"204": {"description": "Logged out"}}}},
            "/passages": {"post": {"summary": "Ingest a batch of passages (idempotent on id; durable when answered)",
                "security": checkpoint, "requestBody": {"content": {"application/json": {"schema": {"type": "array", "items": schema("Passage")}}}},
                "responses": responses("200", ingest_ok.clone(), &["400", "401", "403", "413"])}},
            "/incidents": {
                "post": {"summary": "Ingest a batch of incidents (idempotent on id; durable when answered)",
                    "security": checkpoint, "requestBody": {"content": {"application/json": {"schema": {"type": "array", "items": schema("Incident")}}}},
                    "responses": responses("200", ingest_ok, &["400", "401", "403", "413"])},
                "get": {"summary": "Incidents newest first, scoped to the caller's county (admins and auditors: all)",
                    "security": person,
                    "parameters": [query_param("status", "new | claimed | dispatched | closed", false),
                                   query_param("county", "county (others than one's own: 403 unless admin/auditor)", false),
                                   query_param("kind", "incident kind", false),
                                   query_param("limit", "page size (default 50, capped by max_page)", false),
                                   query_param("before", "the `next` cursor of the previous page", false)],
                    "responses": responses("200", json!({"description": "A page", "content": {"application/json": {"schema": schema("IncidentPage")}}}), &["400", "401", "403"])}},
            "/incidents/{id}": {"get": {"summary": "One incident with its passage, evidence and history",
                "security": person, "parameters": [path_param("id", "incident id (UUID)")],
                "responses": responses("200", json!({"description": "The incident", "content": {"application/json": {"schema": schema("IncidentDetail")}}}), &["400", "401", "404"])}},
            "/incidents/{id}/actions": {"post": {"summary": "claim, dispatch, outcome or note; appended to history and the audit log",
                "security": person, "parameters": [path_param("id", "incident id (UUID)")], "requestBody": body("ActionRequest"),
                "responses": responses("200", json!({"description": "The incident after the action", "content": {"application/json": {"schema": schema("IncidentDetail")}}}), &["400", "401", "403", "404", "409"])}},
            "/evidence/{sha256}": {
                "put": {"summary": "Upload a JPEG under its SHA-256 (idempotent; before or after the records naming it)",
                    "security": checkpoint, "parameters": [path_param("sha256", "64 hex digits")],
                    "requestBody": {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}},
                    "responses": responses("201", json!({"description": "Stored now (200: already stored)"}), &["400", "401", "413"])},
                "get": {"summary": "The JPEG", "security": person, "parameters": [path_param("sha256", "64 hex digits")],
                    "responses": responses("200", json!({"description": "JPEG", "content": {"image/jpeg": {}}}), &["400", "401", "404"])}},
            "/evidence/{sha256}/thumb": {"get": {"summary": "A cached thumbnail of the JPEG", "security": person,
                "parameters": [path_param("sha256", "64 hex digits")],
                "responses": responses("200", json!({"description": "JPEG", "content": {"image/jpeg": {}}}), &["400", "401", "404"])}},
            "/lists": {"get": {"summary": "Whitelist and hotlist with their version; ETag, 304 on If-None-Match",
                "security": [{"checkpointToken": []}, {"sessionToken": []}],
                "parameters": [{"name": "If-None-Match", "in": "header", "required": false, "schema": {"type": "string"}}],
                "responses": responses("200", json!({"description": "The lists", "content": {"application/json": {"schema": schema("Lists")}}}), &["401"])}},
            "/lists/{list}/entries": {"post": {"summary": "Add or replace a list entry (admin)", "security": person,
                "parameters": [path_param("list", "whitelist | hotlist")], "requestBody": body("NewListEntry"),
                "responses": responses("200", json!({"description": "New lists version"}), &["400", "401", "403"])}},
            "/lists/{list}/entries/{plate}": {"delete": {"summary": "Remove a list entry (admin)", "security": person,
                "parameters": [path_param("list", "whitelist | hotlist"), path_param("plate", "GA 36 plate"), query_param("reason", "why, for the audit log", false)],
                "responses": responses("200", json!({"description": "New lists version"}), &["400", "401", "403", "404"])}},
            "/plates/{plate}/passages": {"get": {"summary": "A plate's passages across all checkpoints in time order; audited",
                "security": person,
                "parameters": [path_param("plate", "GA 36 plate"), query_param("from", "RFC 3339", false),
                               query_param("to", "RFC 3339", false), query_param("reason", "why you search (required, audited)", true)],
                "responses": responses("200", json!({"description": "The timeline", "content": {"application/json": {"schema": schema("PlateTimeline")}}}), &["400", "401"])}},
            "/tips": {
                "post": {"summary": "File a tip (investigators of its county, admins); audited without the tipster's identity",
                    "security": person, "requestBody": body("NewTip"),
                    "responses": responses("201", json!({"description": "The tip with its cross-check", "content": {"application/json": {"schema": schema("TipDetail")}}}), &["400", "401", "403", "413"])},
                "get": {"summary": "Tips, open ones by deadline then the rest newest first, with deadline marks, county-scoped (investigators, admins, auditors); never the tipster's identity",
                    "security": person,
                    "parameters": [query_param("status", "open | verified | unfounded", false),
                                   query_param("due", "open | due_soon | overdue | done", false)],
                    "responses": responses("200", json!({"description": "Tips", "content": {"application/json": {"schema": {"type": "array", "items": schema("TipView")}}}}), &["400", "401", "403"])}},
            "/tips/{id}": {"get": {"summary": "One tip with its ranked cross-check and suggested cases; the tipster only for investigators and admins; audited",
                "security": person, "parameters": [path_param("id", "tip id (UUID)")],
                "responses": responses("200", json!({"description": "The tip", "content": {"application/json": {"schema": schema("TipDetail")}}}), &["400", "401", "403", "404"])}},
            "/tips/{id}/verdict": {"post": {"summary": "Verified or unfounded, for the tip's whole case, with the passages and incidents that prove it; a verified case gets its one reward",
                "security": person, "parameters": [path_param("id", "tip id (UUID)")], "requestBody": body("VerdictRequest"),
                "responses": responses("200", json!({"description": "The case", "content": {"application/json": {"schema": schema("CaseView")}}}), &["400", "401", "403", "404", "409"])}},
            "/tips/{id}/case": {"post": {"summary": "Group the tip with another open case",
                "security": person, "parameters": [path_param("id", "tip id (UUID)")], "requestBody": body("LinkRequest"),
                "responses": responses("200", json!({"description": "The case it joined", "content": {"application/json": {"schema": schema("CaseView")}}}), &["400", "401", "403", "404", "409"])}},
            "/cases/{id}": {"get": {"summary": "A case: its tips, verdict, reward", "security": person,
                "parameters": [path_param("id", "case id (UUID)")],
                "responses": responses("200", json!({"description": "The case", "content": {"application/json": {"schema": schema("CaseView")}}}), &["400", "401", "403", "404"])}},
            "/cases/{id}/hotlist": {"post": {"summary": "Put a verified case's plate on the hotlist (bumps the lists version; reason names the case)",
                "security": person, "parameters": [path_param("id", "case id (UUID)")],
                "responses": responses("200", json!({"description": "New lists version"}), &["400", "401", "403", "404", "409"])}},
            "/rewards": {"get": {"summary": "The reward ledger, unpaid first, county-scoped; `format=csv` downloads it",
                "security": person, "parameters": [query_param("format", "json (default) | csv", false)],
                "responses": responses("200", json!({"description": "Rewards", "content": {"application/json": {"schema": {"type": "array", "items": schema("RewardView")}}, "text/csv": {}}}), &["400", "401", "403"])}},
            "/rewards/{case}/paid": {"post": {"summary": "Mark a case's reward paid (once)", "security": person,
                "parameters": [path_param("case", "case id (UUID)")],
                "responses": responses("200", json!({"description": "The reward", "content": {"application/json": {"schema": schema("RewardView")}}}), &["400", "401", "403", "404", "409"])}},
            "/incidents/events": {"get": {"summary": "Live incident queue as server-sent events: `event: incident` with {incident: IncidentView, html: the queue row}, on every new incident and status change of the caller's counties; `: keep-alive` comments every sse_keepalive_secs; `event: resync` when the stream fell behind",
                "security": person,
                "responses": responses("200", json!({"description": "text/event-stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}), &["401"])}},
            "/lists/{list}/csv": {
                "get": {"summary": "Export a list as CSV (plate, reason, company, expires_at, added_by, added_at; expired entries included) (admin, dispatcher)",
                    "security": person, "parameters": [path_param("list", "whitelist | hotlist")],
                    "responses": responses("200", json!({"description": "CSV", "content": {"text/csv": {}}}), &["400", "401", "403"])},
                "post": {"summary": "Import a CSV; valid rows kept in one version bump, each rejected row reported with its line, field and why (admin, dispatcher)",
                    "security": person, "parameters": [path_param("list", "whitelist | hotlist")],
                    "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}},
                    "responses": responses("200", json!({"description": "What was imported", "content": {"application/json": {"schema": schema("ImportReport")}}}), &["400", "401", "403", "413"])}},
            "/reports": {"get": {"summary": "Ledger rows per China day (UTC+8), county and checkpoint (a row without checkpoint: the county's line with tips and rewards)",
                "security": person,
                "parameters": [query_param("from", "YYYY-MM-DD (default: 6 days before `to`)", false), query_param("to", "YYYY-MM-DD (default: today in China)", false),
                               query_param("county", "county (others than one's own: 403 unless admin/auditor)", false)],
                "responses": responses("200", json!({"description": "Rows", "content": {"application/json": {"schema": {"type": "array", "items": schema("ReportRow")}}}}), &["400", "401", "403"])}},
            "/reports.csv": {"get": {"summary": "The same rows as CSV", "security": person,
                "parameters": [query_param("from", "YYYY-MM-DD", false), query_param("to", "YYYY-MM-DD", false), query_param("county", "county", false)],
                "responses": responses("200", json!({"description": "CSV", "content": {"text/csv": {}}}), &["400", "401", "403"])}},
            "/audit": {"get": {"summary": "The audit log, newest first (auditors and admins); nothing writes it but the actions themselves",
                "security": person,
                "parameters": [query_param("who", "exact user name, checkpoint:<id> or cli", false), query_param("what", "prefix of the action, e.g. plate.search", false),
                               query_param("limit", "lines (default 200, at most 1000)", false)],
                "responses": responses("200", json!({"description": "Lines", "content": {"application/json": {"schema": {"type": "array", "items": schema("AuditEntry")}}}}), &["401", "403"])}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}}
        },
        "components": {
            "securitySchemes": {
                "checkpointToken": {"type": "http", "scheme": "bearer", "description": "per-checkpoint token from `hub checkpoint add`"},
                "sessionToken": {"type": "http", "scheme": "bearer", "description": "token from /login"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "kadian_session"}
            },
            "schemas": schemas()
        }
    })
}

fn schemas() -> Value {
    let s = |t: &str| json!({"type": t});
    let e = |vals: &[&str]| json!({"type": "string", "enum": vals});
    let uuid = json!({"type": "string", "format": "uuid"});
    let time = json!({"type": "string", "format": "date-time"});
    let sha = json!({"type": "string", "pattern": "^[0-9a-fA-F]{64}$"});
    let plate = json!({"type": "string", "description": "GA 36 plate, e.g. 晋H93513, 冀A1234挂, 京AD12345"});
    json!({
        "Error": {"type": "object", "required": ["error"], "properties": {"error": s("string")}},
        "LoginRequest": {"type": "object", "required": ["name", "password"], "properties": {"name": s("string"), "password": s("string")}},
        "LoginResponse": {"type": "object", "required": ["token"], "properties": {"token": s("string")}},
        "PlateRead": {"type": "object", "required": ["text", "color", "layout", "confidence"], "properties": {
            "text": plate, "color": e(&["blue", "yellow", "green", "yellow_green", "white", "black", "unknown"]),
            "layout": e(&["single", "double"]), "confidence": s("number")}},
        "CargoRead": {"type": "object", "required": ["cover", "material", "confidence"], "properties": {
            "cover": e(&["empty", "open", "partial", "tarped", "enclosed"]),
            "material": e(&["coal", "briquette", "other_bulk", "none"]), "confidence": s("number")}},
        "EvidenceRef": {"type": "object", "required": ["sha256", "kind"], "properties": {"sha256": sha, "kind": e(&["frame", "plate", "load"])}},
        "Passage": {"type": "object", "required": ["id", "checkpoint_id", "seen_at", "lane", "direction"], "properties": {
            "id": uuid, "checkpoint_id": s("string"), "seen_at": time, "lane": s("integer"),
            "direction": e(&["inbound", "outbound", "unknown"]),
            "plate": {"oneOf": [schema("PlateRead"), {"type": "null"}]},
            "cargo": {"oneOf": [schema("CargoRead"), {"type": "null"}]},
            "evidence": {"type": "array", "items": schema("EvidenceRef")}}},
        "Incident": {"type": "object", "required": ["id", "passage_id", "checkpoint_id", "kind", "severity", "created_at"], "properties": {
            "id": uuid, "passage_id": uuid, "checkpoint_id": s("string"),
            "kind": {"type": "string", "description": "snake_case, e.g. suspected_loose_coal, uncovered_load, hotlist_hit"},
            "severity": e(&["high", "medium", "low"]), "created_at": time}},
        "IngestResponse": {"type": "object", "required": ["accepted", "duplicates"], "properties": {"accepted": s("integer"), "duplicates": s("integer")}},
        "IncidentView": {"allOf": [schema("Incident"), {"type": "object", "properties": {
            "county": s("string"), "status": e(&["new", "claimed", "dispatched", "closed"]), "received_at": time,
            "plate": {"type": ["string", "null"]}, "frame": {"type": ["string", "null"]}}}]},
        "IncidentPage": {"type": "object", "properties": {"items": {"type": "array", "items": schema("IncidentView")}, "next": {"type": ["string", "null"]}}},
        "HistoryEntry": {"type": "object", "properties": {"at": time, "by": s("string"), "action": e(&["claim", "dispatch", "outcome", "note"]),
            "from": s("string"), "to": s("string"), "note": s("string"), "outcome": s("string"), "tonnes": s("number"), "fine_yuan": s("integer"), "team": s("string"),
            "legal_basis": s("string"), "papers": s("string"), "quality_report": s("string"), "sample_no": s("string")}},
        "IncidentDetail": {"allOf": [schema("IncidentView"), {"type": "object", "properties": {
            "passage": {"oneOf": [schema("Passage"), {"type": "null"}]},
            "evidence": {"type": "array", "items": schema("EvidenceRef")},
            "history": {"type": "array", "items": schema("HistoryEntry")}}}]},
        "ActionRequest": {"type": "object", "required": ["action"], "properties": {
            "action": e(&["claim", "dispatch", "outcome", "note"]), "note": s("string"),
            "outcome": e(&["stopped", "turned_back", "sampled", "seized", "fined", "released_with_papers", "false_alarm"]),
            "tonnes": {"type": "number", "description": "seized: required, (0, 1000]"},
            "fine_yuan": {"type": "integer", "description": "fined: required, 2000-20000"},
            "legal_basis": {"type": "string", "description": "fined: required, the article the fine rests on"},
            "papers": {"type": "string", "enum": ["licensed_supply", "anthracite", "semi_coke"], "description": "released_with_papers: required"},
            "quality_report": {"type": "string", "description": "released_with_papers of anthracite or semi_coke: required, the quality report number"},
            "sample_no": {"type": "string", "description": "sampled: required, the sample bag's number"},
            "team": s("string")},
            "description": "Each outcome takes its own fields; a missing one, or one of another outcome, is a 400 naming it"},
        "ListEntry": {"type": "object", "properties": {"plate": plate, "reason": s("string"), "company": s("string"), "expires_at": time, "added_by": s("string"), "added_at": time}},
        "NewListEntry": {"type": "object", "required": ["plate", "reason"], "properties": {"plate": s("string"), "reason": s("string"), "company": {"type": "string", "description": "required on the whitelist"}, "expires_at": time}},
        "ImportReport": {"type": "object", "properties": {"version": s("integer"), "imported": s("integer"),
            "rejected": {"type": "array", "items": {"type": "object", "properties": {"row": {"type": "integer", "description": "line in the file, header = 1"}, "field": s("string"), "why": s("string")}}}}},
        "ReportRow": {"type": "object", "properties": {"day": {"type": "string", "format": "date"}, "county": s("string"), "checkpoint": {"type": ["string", "null"]},
            "passages": s("integer"), "incidents": s("integer"),
            "by_kind": {"type": "array", "items": s("integer"), "description": "suspected_loose_coal, uncovered_load, hotlist_hit, other"},
            "outcomes": {"type": "array", "items": s("integer"), "description": "stopped, turned_back, sampled, seized, fined, released_with_papers, false_alarm"},
            "tips": s("integer"), "rewards_due": s("integer"), "rewards_paid": s("integer")}},
        "AuditEntry": {"type": "object", "properties": {"at": time, "who": s("string"), "what": s("string"), "reason": {"type": ["string", "null"]}, "detail": {}}},
        "Lists": {"type": "object", "properties": {"version": s("integer"), "whitelist": {"type": "array", "items": schema("ListEntry")}, "hotlist": {"type": "array", "items": schema("ListEntry")}}},
        "PlateTimeline": {"type": "object", "properties": {"plate": s("string"), "passages": {"type": "array", "items": schema("Passage")}}},
        "NewTip": {"type": "object", "required": ["channel", "plate", "county", "window_from", "window_to"], "properties": {
            "channel": e(&["hotline_12315", "online", "walk_in"]), "received_at": time,
            "tipster_name": s("string"), "tipster_phone": s("string"),
            "plate": {"type": "string", "description": "plate as heard; ? one character, * any run, e.g. 晋A?23*, *5678"},
            "county": s("string"), "place": s("string"), "window_from": time, "window_to": time, "said": s("string")}},
        "TipView": {"type": "object", "properties": {"id": uuid, "case_id": uuid, "county": s("string"),
            "channel": e(&["hotline_12315", "online", "walk_in"]), "received_at": time, "plate": s("string"), "place": s("string"),
            "window_from": time, "window_to": time, "status": e(&["open", "verified", "unfounded"]), "deadline": time,
            "due": e(&["done", "open", "due_soon", "overdue"]), "real_name": s("boolean")}},
        "TipMatch": {"type": "object", "properties": {"passage_id": uuid, "checkpoint_id": s("string"), "county": s("string"),
            "seen_at": time, "plate": plate, "kind": e(&["exact", "wildcard", "confusable"]), "area": e(&["in_county", "neighbour"]),
            "cargo": {"oneOf": [schema("CargoRead"), {"type": "null"}]}, "evidence": {"type": "array", "items": schema("EvidenceRef")}}},
        "Verdict": {"type": "object", "properties": {"verdict": e(&["verified", "unfounded"]), "plate": {"type": ["string", "null"]},
            "passages": {"type": "array", "items": uuid}, "incidents": {"type": "array", "items": uuid}, "note": {"type": ["string", "null"]},
            "at": time, "by": s("string")}},
        "VerdictRequest": {"type": "object", "required": ["verdict"], "properties": {"verdict": e(&["verified", "unfounded"]),
            "plate": s("string"), "passages": {"type": "array", "items": uuid}, "incidents": {"type": "array", "items": uuid}, "note": s("string")}},
        "TipDetail": {"allOf": [schema("TipView"), {"type": "object", "properties": {
            "said": s("string"), "recorded_by": s("string"), "recorded_at": time,
            "tipster": {"type": "object", "description": "investigators and admins only", "properties": {"name": s("string"), "phone": s("string")}},
            "verdict": {"oneOf": [schema("Verdict"), {"type": "null"}]},
            "matches": {"type": "array", "items": schema("TipMatch")}, "suggested_cases": {"type": "array", "items": uuid}}}]},
        "LinkRequest": {"type": "object", "required": ["case_id"], "properties": {"case_id": uuid}},
        "RewardView": {"type": "object", "properties": {"case_id": uuid, "tip_id": uuid, "county": s("string"), "yuan": s("integer"),
            "verified_at": time, "due_by": time, "paid_at": {"type": ["string", "null"]}, "paid_by": {"type": ["string", "null"]}, "overdue": s("boolean")}},
        "CaseView": {"type": "object", "properties": {"id": uuid, "county": s("string"), "opened_at": time,
            "status": e(&["open", "verified", "unfounded"]), "tips": {"type": "array", "items": schema("TipView")},
            "verdict": {"oneOf": [schema("Verdict"), {"type": "null"}]}, "reward": {"oneOf": [schema("RewardView"), {"type": "null"}]},
            "hotlisted": s("boolean")}}
    })
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(spec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route of `routes::configure` under /api/v1, as (method, path).
    const ROUTES: &[(&str, &str)] = &[
        ("get", "/openapi.json"),
        ("post", "/login"),
        ("post", "/logout"),
        ("post", "/passages"),
        ("post", "/incidents"),
        ("get", "/incidents"),
        ("get", "/incidents/{id}"),
        ("post", "/incidents/{id}/actions"),
        ("put", "/evidence/{sha256}"),
        ("get", "/evidence/{sha256}"),
        ("get", "/evidence/{sha256}/thumb"),
        ("get", "/lists"),
        ("post", "/lists/{list}/entries"),
        ("delete", "/lists/{list}/entries/{plate}"),
        ("get", "/plates/{plate}/passages"),
        ("post", "/tips"),
        ("get", "/tips"),
        ("get", "/tips/{id}"),
        ("post", "/tips/{id}/verdict"),
        ("post", "/tips/{id}/case"),
        ("get", "/cases/{id}"),
        ("post", "/cases/{id}/hotlist"),
        ("get", "/rewards"),
        ("post", "/rewards/{case}/paid"),
        ("get", "/incidents/events"),
        ("get", "/lists/{list}/csv"),
        ("post", "/lists/{list}/csv"),
        ("get", "/reports"),
        ("get", "/reports.csv"),
        ("get", "/audit"),
    ];

    #[test]
    fn every_route_is_described() {
        let doc = spec();
        for (method, path) in ROUTES {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} missing from openapi.json"
            );
        }
        let source = include_str!("routes/mod.rs");
        let registered = source.matches(".route(").count() - 2; // minus /healthz, /metrics
        assert_eq!(
            registered,
            ROUTES.len(),
            "routes::configure and ROUTES disagree"
        );
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc = spec();
        let text = doc.to_string();
        for piece in text.split("#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "schema {name} missing"
            );
        }
    }
}
