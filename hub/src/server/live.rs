//! Live incident updates: the ingest and action routes publish each new or changed
//! incident, *after* it is durable, to a `tokio::sync::broadcast` channel; every open
//! `GET /api/v1/incidents/events` stream filters it by its person's counties.
//!
//! A slow tablet that falls behind the channel gets a `resync` event (and reloads its
//! queue) instead of holding memory for it: the store, not the channel, is the truth.
//!
//! Streams never end by themselves, so a graceful stop would wait the whole shutdown
//! timeout for them: [`Closer::close`] ends them first (the browsers reconnect to the
//! next server on their own).

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use crate::api::IncidentView;
use crate::store::{IncidentRecord, Store};

/// How many changes a stream may lag before it is told to resync.
const CAPACITY: usize = 256;

/// The sending side, shared by every worker.
pub struct Live {
    tx: broadcast::Sender<IncidentView>,
    closing: Arc<watch::Sender<bool>>,
}

/// Ends every open stream, for shutdown.
#[derive(Clone)]
pub struct Closer(Arc<watch::Sender<bool>>);

impl Closer {
    pub fn close(&self) {
        self.0.send_replace(true);
    }
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Live {
    pub fn new() -> Live {
        Live {
            tx: broadcast::channel(CAPACITY).0,
            closing: Arc::new(watch::channel(false).0),
        }
    }

    pub fn closer(&self) -> Closer {
        Closer(self.closing.clone())
    }

    /// Changes to `true` when the streams must end.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<IncidentView> {
        self.tx.subscribe()
    }

    /// Tells every open stream about `rec` as it is now. Nobody listening is fine.
    pub fn publish(&self, store: &Store, rec: IncidentRecord) {
        match crate::server::routes::incidents::view(store, rec) {
            Ok(v) => {
                let _ = self.tx.send(v);
            }
            Err(e) => tracing::warn!(error = %e, "cannot build the live view of an incident"),
        }
    }
}
