//! The hub's integration tests: the real server on 127.0.0.1:0 with a fresh data dir,
//! driven over HTTP with reqwest and the crate's own client.

#[path = "api/helpers.rs"]
mod helpers;

#[path = "api/audit.rs"]
mod audit;
#[path = "api/cli.rs"]
mod cli;
#[path = "api/evidence.rs"]
mod evidence;
#[path = "api/incidents.rs"]
mod incidents;
#[path = "api/ingest.rs"]
mod ingest;
#[path = "api/list_csv.rs"]
mod list_csv;
#[path = "api/lists.rs"]
mod lists;
#[path = "api/live.rs"]
mod live;
#[path = "api/ops.rs"]
mod ops;
#[path = "api/outcomes.rs"]
mod outcomes;
#[path = "api/pages.rs"]
mod pages;
#[path = "api/plates.rs"]
mod plates;
#[path = "api/reports.rs"]
mod reports;
#[path = "api/restart.rs"]
mod restart;
#[path = "api/tips.rs"]
mod tips;
