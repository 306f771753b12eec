//! The uplink: drains the outbox to the hub and keeps the lists in sync (DESIGN.md
//! step 8).
//!
//! Each round takes up to `batch_size` outbox entries in order and sends their
//! evidence first (PUT, idempotent on the digest), then their passages in one
//! request, then their incidents in one request (idempotent on the ids). An entry
//! leaves the outbox only after a 2xx. The hub client classifies failures:
//!
//! - 5xx, 408, 429, connect errors and timeouts end the round; it is retried after a
//!   capped exponential backoff with full jitter. A hub outage of any length is
//!   survived: the outbox only grows, and drains when the hub is back.
//! - 401 (the hub refused the token) is a configuration problem, not a property of
//!   any record: records stay queued, the status page says so, and the uplink keeps
//!   retrying at the backoff cap until the token is fixed.
//! - other 4xx are permanent: a batch refused for good is retried record by record,
//!   so that only the records the hub refuses are moved to the `failed` tree
//!   (counted in metrics, listed on the status page), never silently dropped.
//!
//! Lists: `GET /api/v1/lists` with the last ETag every `lists_every`; fresh lists are
//! stored locally (the judge works offline) and swapped into the shared index.

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::Utc;
use hub::api::{Incident, IngestResponse, Passage};
use hub::client::{ClientError, HubClient, ListsFetch};
use rand::Rng;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use crate::config::UplinkSettings;
use crate::judge::ListIndex;
use crate::metrics::Metrics;
use crate::store::{OutboxEntry, OutboxItem, Store, StoreError};

/// Why a round stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    /// The hub is down, slow or busy: try again later.
    #[error(transparent)]
    Retry(ClientError),
    /// The hub refused the checkpoint's token.
    #[error("the hub refused the checkpoint token: {0}")]
    Auth(ClientError),
    /// The local log failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A delay before retry attempt `attempt` (1-based): uniformly random in
/// `[0, min(max, initial * 2^(attempt-1))]` ("full jitter").
pub fn backoff(attempt: u32, initial: Duration, max: Duration) -> Duration {
    let cap = initial
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
        .min(max);
    let ms = cap.as_millis() as u64;
    Duration::from_millis(rand::rng().random_range(0..=ms))
}

/// The uplink task and what it needs.
pub struct Uplink {
    pub store: Store,
    pub client: HubClient,
    pub settings: UplinkSettings,
    pub metrics: Arc<Metrics>,
    /// The lists the judge reads; replaced on every fresh sync.
    pub lists: Arc<RwLock<ListIndex>>,
    /// Notified when new records are committed.
    pub wake: Arc<Notify>,
}

/// A record type the hub ingests in batches.
trait Ingest: Sized + Sync {
    const KIND: &'static str;
    fn post(
        client: &HubClient,
        batch: &[Self],
    ) -> impl Future<Output = Result<IngestResponse, ClientError>> + Send;
}

impl Ingest for Passage {
    const KIND: &'static str = "passage";
    fn post(
        client: &HubClient,
        batch: &[Self],
    ) -> impl Future<Output = Result<IngestResponse, ClientError>> + Send {
        client.post_passages(batch)
    }
}

impl Ingest for Incident {
    const KIND: &'static str = "incident";
    fn post(
        client: &HubClient,
        batch: &[Self],
    ) -> impl Future<Output = Result<IngestResponse, ClientError>> + Send {
        client.post_incidents(batch)
    }
}

impl Uplink {
    /// Runs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut attempt = 0u32;
        let mut etag = self.store.lists().ok().flatten().and_then(|(_, e)| e);
        let mut next_lists = Instant::now();
        loop {
            if *shutdown.borrow() {
                break;
            }
            if Instant::now() >= next_lists {
                self.sync_lists(&mut etag).await;
                next_lists = Instant::now() + self.settings.lists_every;
            }
            let delay = match self.round().await {
                Ok(0) => {
                    attempt = 0;
                    let idle = self
                        .settings
                        .idle_poll
                        .min(next_lists.saturating_duration_since(Instant::now()));
                    tokio::select! {
                        _ = tokio::time::sleep(idle) => {}
                        _ = self.wake.notified() => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
                Ok(_) => {
                    attempt = 0;
                    continue;
                }
                Err(RoundError::Auth(e)) => {
                    self.metrics
                        .upload_errors
                        .with_label_values(&["auth"])
                        .inc();
                    self.metrics.uplink_error(e.to_string(), true);
                    tracing::error!(error = %e, "hub refused the checkpoint token; records stay queued");
                    self.settings.backoff_max
                }
                Err(e) => {
                    attempt = attempt.saturating_add(1);
                    self.metrics
                        .upload_errors
                        .with_label_values(&["retryable"])
                        .inc();
                    self.metrics.uplink_error(e.to_string(), false);
                    let d = backoff(
                        attempt,
                        self.settings.backoff_initial,
                        self.settings.backoff_max,
                    );
                    tracing::warn!(error = %e, attempt, retry_in_ms = d.as_millis() as u64, outbox = self.store.outbox_depth(), "upload failed, will retry");
                    d
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(outbox = self.store.outbox_depth(), "uplink stopped");
    }

    /// One round: up to `batch_size` entries. Returns how many entries it handled.
    pub async fn round(&self) -> Result<usize, RoundError> {
        let batch = self.store.outbox_batch(self.settings.batch_size)?;
        if batch.is_empty() {
            return Ok(0);
        }
        let started = std::time::Instant::now();
        // Evidence first: the hub then has the photos a passage refers to.
        for e in batch
            .iter()
            .filter(|e| matches!(e.item, OutboxItem::Evidence(_)))
        {
            let OutboxItem::Evidence(sha) = e.item else {
                continue;
            };
            let jpeg = match self.store.evidence(&sha) {
                Ok(Some(j)) => j,
                Ok(None) => {
                    self.fail(*e, None, "evidence is missing from the local store")?;
                    continue;
                }
                Err(err @ StoreError::Corrupt { .. }) => {
                    self.fail(*e, None, &err.to_string())?;
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            match self.client.put_evidence(&sha, jpeg).await {
                Ok(()) => self.acked(&[*e], "evidence")?,
                Err(err) => self.classify(*e, err)?,
            }
        }
        let mut passages = Vec::new();
        let mut incidents = Vec::new();
        for e in &batch {
            match e.item {
                OutboxItem::Evidence(_) => {}
                OutboxItem::Passage(id) => match self.store.passage(&id) {
                    Ok(Some(p)) => passages.push((*e, p.passage)),
                    Ok(None) => self.fail(*e, None, "passage is missing from the local store")?,
                    Err(err @ StoreError::Corrupt { .. }) => {
                        self.fail(*e, None, &err.to_string())?
                    }
                    Err(err) => return Err(err.into()),
                },
                OutboxItem::Incident(id) => match self.store.incident(&id) {
                    Ok(Some(i)) => incidents.push((*e, i.incident)),
                    Ok(None) => self.fail(*e, None, "incident is missing from the local store")?,
                    Err(err @ StoreError::Corrupt { .. }) => {
                        self.fail(*e, None, &err.to_string())?
                    }
                    Err(err) => return Err(err.into()),
                },
            }
        }
        self.send(passages).await?;
        self.send(incidents).await?;
        self.metrics
            .stage_seconds
            .with_label_values(&["uplink"])
            .observe(started.elapsed().as_secs_f64());
        Ok(batch.len())
    }

    /// Sends one batch; on a permanent refusal, record by record.
    async fn send<T: Ingest>(&self, batch: Vec<(OutboxEntry, T)>) -> Result<(), RoundError> {
        if batch.is_empty() {
            return Ok(());
        }
        let (entries, records): (Vec<OutboxEntry>, Vec<T>) = batch.into_iter().unzip();
        match T::post(&self.client, &records).await {
            Ok(resp) => {
                if resp.accepted + resp.duplicates != records.len() as u64 {
                    tracing::warn!(
                        kind = T::KIND,
                        sent = records.len(),
                        accepted = resp.accepted,
                        duplicates = resp.duplicates,
                        "hub's count differs from the batch"
                    );
                }
                if resp.duplicates > 0 {
                    tracing::debug!(
                        kind = T::KIND,
                        duplicates = resp.duplicates,
                        "hub already had some (a resend after a lost answer)"
                    );
                }
                self.acked(&entries, T::KIND)
            }
            Err(e) if e.status() == Some(401) => Err(RoundError::Auth(e)),
            Err(e) if e.is_retryable() => Err(RoundError::Retry(e)),
            Err(e) if records.len() == 1 => self.classify(entries[0], e),
            Err(e) => {
                tracing::warn!(kind = T::KIND, error = %e, "batch refused; sending record by record to find the culprit");
                for (entry, record) in entries.into_iter().zip(records) {
                    match T::post(&self.client, std::slice::from_ref(&record)).await {
                        Ok(_) => self.acked(&[entry], T::KIND)?,
                        Err(e) => self.classify(entry, e)?,
                    }
                }
                Ok(())
            }
        }
    }

    /// Sorts a failed request for one entry: retry later, auth, or permanent.
    fn classify(&self, entry: OutboxEntry, e: ClientError) -> Result<(), RoundError> {
        if e.status() == Some(401) {
            return Err(RoundError::Auth(e));
        }
        if e.is_retryable() {
            return Err(RoundError::Retry(e));
        }
        self.fail(entry, e.status(), &e.to_string())?;
        Ok(())
    }

    fn fail(
        &self,
        entry: OutboxEntry,
        status: Option<u16>,
        message: &str,
    ) -> Result<(), StoreError> {
        tracing::error!(item = %entry.item, status, message, "record refused for good; kept in the failed tree");
        self.store.fail(entry, status, message)?;
        self.metrics
            .upload_errors
            .with_label_values(&["permanent"])
            .inc();
        self.metrics
            .uplink_error(format!("{}: {message}", entry.item), false);
        Ok(())
    }

    fn acked(&self, entries: &[OutboxEntry], kind: &str) -> Result<(), RoundError> {
        self.store.ack(entries)?;
        let now = Utc::now();
        self.store.set_last_upload(now)?;
        self.metrics
            .uploaded
            .with_label_values(&[kind])
            .inc_by(entries.len() as u64);
        self.metrics
            .last_upload
            .set(now.timestamp_millis() as f64 / 1000.0);
        self.metrics.uplink_ok();
        Ok(())
    }

    /// Fetches the lists if they changed; failures are logged and retried next time.
    pub async fn sync_lists(&self, etag: &mut Option<String>) {
        match self.client.get_lists(etag.as_deref()).await {
            Ok(ListsFetch::NotModified) => tracing::debug!("lists unchanged"),
            Ok(ListsFetch::Fresh { lists, etag: tag }) => {
                if let Err(e) = self.store.put_lists(&lists, tag.as_deref()) {
                    tracing::error!(error = %e, "cannot store the lists; using them in memory");
                }
                let index = ListIndex::new(&lists);
                tracing::info!(
                    version = lists.version,
                    whitelist = lists.whitelist.len(),
                    hotlist = lists.hotlist.len(),
                    "lists updated"
                );
                self.metrics.lists_version.set(lists.version as i64);
                *self.lists.write().unwrap_or_else(|p| p.into_inner()) = index;
                *etag = tag;
            }
            Err(e) => tracing::warn!(error = %e, "lists sync failed; keeping the stored lists"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_full_jitter() {
        let (i, m) = (Duration::from_millis(100), Duration::from_secs(2));
        for attempt in 1..40 {
            let cap = (i * 2u32.pow((attempt - 1).min(20))).min(m);
            for _ in 0..50 {
                assert!(backoff(attempt, i, m) <= cap);
            }
        }
        // Full jitter: spread over the whole range, not clustered at the cap.
        let xs: Vec<_> = (0..200).map(|_| backoff(10, i, m)).collect();
        assert!(xs.iter().any(|d| *d < m / 4) && xs.iter().any(|d| *d > m * 3 / 4));
    }
}
