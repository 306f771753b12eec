//! The Kadian hub: where every checkpoint's passages and incidents land, and where
//! county enforcement teams and tip-line investigators work them.
//!
//! A checkpoint posts batches of passages and incidents (idempotent on their ids) and
//! uploads evidence JPEGs by SHA-256; the hub stores them durably in sled *before*
//! answering, indexes them by plate, checkpoint, county and status, and serves people
//! a JSON API and tablet pages: the live incident queue (server-sent events), incident
//! detail with actions and outcomes, a plate's timeline across checkpoints (every
//! search audited), the lists, the ledger with its charts, and the audit log.
//!
//! Modules, in the order a record flows through them:
//! - [`api`]: wire types and validating newtypes (plates per GA 36, ids, hashes);
//! - [`client`]: the typed checkpoint client (retryable vs permanent errors);
//!
//! and with the `server` feature (default):
//! - `config`: the one typed configuration (defaults → TOML → `KADIAN_*`);
//! - `clock`: where "now" comes from (system clock, or a settable one in tests);
//! - `store`: the `Store` over sled, its keys and invariants;
//! - `auth`: checkpoint tokens, passwords, sessions;
//! - `tips`: tip-line rules kept pure: plate matching for the cross-check, deadlines;
//! - `server`: the actix-web application, its routes, live updates, errors, metrics,
//!   OpenAPI;
//! - `pages`: tablet pages (HTML, Chinese and English words, CSS, one small script);
//! - `cli`: the `hub` command line.

// The OpenAPI document is one `serde_json::json!` literal; its nesting outgrows the
// default macro recursion limit.
#![recursion_limit = "512"]

pub mod api;
pub mod client;

#[cfg(feature = "server")]
pub mod config;

#[cfg(feature = "server")]
pub mod clock;

#[cfg(feature = "server")]
pub mod store;

#[cfg(feature = "server")]
pub mod auth;

#[cfg(feature = "server")]
pub mod tips;

#[cfg(feature = "server")]
pub mod server;

#[cfg(feature = "server")]
pub mod pages;

#[cfg(feature = "server")]
pub mod cli;
