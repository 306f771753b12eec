//! Prometheus metrics: requests and latency by matched route pattern (never the raw
//! path, which would explode the label set), records ingested, store size.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The hub's metrics, registered in their own registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    /// Passages stored (replays not counted).
    pub passages: IntCounter,
    /// Incidents stored (replays not counted).
    pub incidents: IntCounter,
    /// Evidence images stored.
    pub evidence: IntCounter,
    /// Live incident streams open now.
    pub live_streams: IntGauge,
    store_bytes: IntGauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new_custom(Some("hub".into()), None).expect("valid prefix");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route pattern, method and status",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route pattern",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route"],
        )
        .expect("valid metric");
        let passages =
            IntCounter::new("passages_ingested_total", "Passages stored").expect("valid metric");
        let incidents =
            IntCounter::new("incidents_ingested_total", "Incidents stored").expect("valid metric");
        let evidence = IntCounter::new("evidence_stored_total", "Evidence images stored")
            .expect("valid metric");
        let live_streams =
            IntGauge::new("live_streams", "Live incident streams open now").expect("valid metric");
        let store_bytes = IntGauge::new("store_size_bytes", "Bytes the store takes on disk")
            .expect("valid metric");
        for m in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(passages.clone()),
            Box::new(incidents.clone()),
            Box::new(evidence.clone()),
            Box::new(live_streams.clone()),
            Box::new(store_bytes.clone()),
        ] {
            registry.register(m).expect("metric registered once");
        }
        Metrics {
            registry,
            requests,
            latency,
            passages,
            incidents,
            evidence,
            live_streams,
            store_bytes,
        }
    }

    /// The text exposition, with the store size sampled now.
    pub fn render(&self, store_bytes: u64) -> String {
        self.store_bytes.set(store_bytes as i64);
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding cannot fail");
        String::from_utf8(buf).unwrap_or_default()
    }

    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.latency.with_label_values(&[route]).observe(seconds);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Middleware: times every request and counts it under its route pattern.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let metrics = req.app_data::<actix_web::web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let res = next.call(req).await?;
    if let Some(m) = metrics {
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        m.observe(
            &route,
            &method,
            res.status().as_u16(),
            start.elapsed().as_secs_f64(),
        );
    }
    Ok(res)
}
