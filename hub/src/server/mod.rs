//! The HTTP server: one actix-web application for checkpoints (ingest, evidence,
//! lists), people (login, incidents, plate search) and the tablet pages.
//!
//! [`Application::build`] binds nothing itself: it takes a listener, so tests run the
//! real server on `127.0.0.1:0`. [`run`] is what `hub serve` calls.

pub mod error;
pub mod extract;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod routes;

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::store::{Store, StoreError};

pub use error::ApiError;
pub use live::Live;
pub use metrics::Metrics;

/// What every handler can reach.
pub struct AppState {
    pub store: Store,
    pub config: Config,
    /// Every "now" of a request (sessions, deadlines, audit times).
    pub clock: Arc<dyn Clock>,
    /// Incident changes for the open live streams.
    pub live: Live,
}

/// Why the server could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// A built, not yet running, hub.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    store: Store,
    streams: live::Closer,
}

impl Application {
    /// Builds the server on `listener` over `store`, on the system clock.
    pub fn build(
        config: Config,
        store: Store,
        listener: TcpListener,
    ) -> std::io::Result<Application> {
        Self::build_with_clock(config, store, listener, Arc::new(SystemClock))
    }

    /// [`Application::build`] on `clock` (tests pass a settable clock to move time).
    pub fn build_with_clock(
        config: Config,
        store: Store,
        listener: TcpListener,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Application> {
        let addr = listener.local_addr()?;
        let live = Live::new();
        let streams = live.closer();
        let state = web::Data::new(AppState {
            store: store.clone(),
            config: config.clone(),
            clock,
            live,
        });
        let metrics = web::Data::new(Metrics::new());
        let workers = if config.workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            config.workers
        };
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(metrics.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(state.config.body_limit)
                        .error_handler(error::json_error),
                )
                .app_data(web::QueryConfig::default().error_handler(error::query_error))
                .app_data(web::PathConfig::default().error_handler(error::path_error))
                .app_data(web::FormConfig::default().limit(64 << 10))
                .wrap(from_fn(crate::pages::localize_errors))
                .wrap(from_fn(metrics::track))
                .configure(routes::configure)
                .configure(crate::pages::configure)
                .default_service(web::to(routes::not_found))
        })
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(10)
        .listen(listener)?
        .run();
        Ok(Application {
            addr,
            server,
            store,
            streams,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to stop it (`handle.stop(true)` drains in-flight requests).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Ends the open live streams; call before a graceful stop, which would otherwise
    /// wait for them until its timeout.
    pub fn stream_closer(&self) -> live::Closer {
        self.streams.clone()
    }

    /// Serves until stopped, then flushes the store.
    pub async fn run_until_stopped(self) -> Result<(), ServeError> {
        let Application { server, store, .. } = self;
        let served = server.await;
        store.flush().await?;
        tracing::info!("hub stopped, store flushed");
        Ok(served?)
    }
}

/// Opens the store under `config.data`, serves on `listener` until `shutdown`
/// resolves, then drains requests and flushes the store.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let store = Store::open(&config.data, config.cache_mb << 20)?;
    let app = Application::build(config, store, listener)?;
    tracing::info!(addr = %app.addr(), "hub listening");
    let handle = app.handle();
    let streams = app.stream_closer();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down");
        streams.close();
        handle.stop(true).await;
    });
    app.run_until_stopped().await
}
