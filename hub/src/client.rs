//! A typed client for the checkpoint endpoints of the hub (reqwest, rustls).
//!
//! Every error says whether it is worth retrying ([`ClientError::is_retryable`]): 5xx,
//! 408, 429, connect errors and timeouts are; other 4xx are permanent and the caller
//! must record them, never drop the record silently. A 2xx is the only success: the
//! status is always checked before a body is trusted.

use std::time::Duration;

use reqwest::StatusCode;

use crate::api::{ErrorBody, Incident, IngestResponse, Lists, Passage, Sha256};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The hub could not be reached (refused, DNS, TLS, reset).
    #[error("cannot reach the hub: {0}")]
    Connect(#[source] reqwest::Error),
    /// No answer in time.
    #[error("hub timed out: {0}")]
    Timeout(#[source] reqwest::Error),
    /// The hub answered with a non-success status.
    #[error("hub answered {status}: {message}")]
    Status { status: u16, message: String },
    /// Anything else at the transport level (body read, redirect loop, ...).
    #[error("request failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// A 2xx whose body is not what the contract says.
    #[error("unexpected answer from the hub: {0}")]
    Decode(String),
    /// The base URL or token is unusable.
    #[error("bad client configuration: {0}")]
    Config(String),
}

impl ClientError {
    /// Worth retrying later with backoff: 5xx, 408, 429, connect errors, timeouts and
    /// other transport failures. Other 4xx (and a body that breaks the contract) are
    /// permanent.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Connect(_) | ClientError::Timeout(_) | ClientError::Transport(_) => true,
            ClientError::Status { status, .. } => {
                *status >= 500 || *status == 408 || *status == 429
            }
            ClientError::Decode(_) | ClientError::Config(_) => false,
        }
    }

    /// The HTTP status, if the hub answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            ClientError::Timeout(e)
        } else if e.is_connect() {
            ClientError::Connect(e)
        } else if e.is_builder() {
            ClientError::Config(e.to_string())
        } else {
            ClientError::Transport(e)
        }
    }
}

/// The result of [`HubClient::get_lists`].
#[derive(Debug, Clone, PartialEq)]
pub enum ListsFetch {
    /// The hub's lists are still those of the ETag sent.
    NotModified,
    /// New lists and their ETag, to send next time.
    Fresh { lists: Lists, etag: Option<String> },
}

/// A checkpoint's connection to the hub.
#[derive(Debug, Clone)]
pub struct HubClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl HubClient {
    /// `base` is the hub's root URL (`http://hub:8080`); `token` the checkpoint token.
    pub fn new(base: &str, token: &str) -> Result<Self, ClientError> {
        Self::with_timeout(base, token, Duration::from_secs(30))
    }

    /// As [`HubClient::new`], with a per-request timeout.
    pub fn with_timeout(base: &str, token: &str, timeout: Duration) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| ClientError::Config(e.to_string()))?;
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Config(format!(
                "base URL must start with http:// or https://: {base}"
            )));
        }
        Ok(HubClient {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{}", self.base, path)
    }

    /// Sends a batch of passages; idempotent on each id.
    pub async fn post_passages(&self, passages: &[Passage]) -> Result<IngestResponse, ClientError> {
        let req = self
            .http
            .post(self.url("/passages"))
            .bearer_auth(&self.token)
            .json(passages);
        json_answer(req).await
    }

    /// Sends a batch of incidents; idempotent on each id.
    pub async fn post_incidents(
        &self,
        incidents: &[Incident],
    ) -> Result<IngestResponse, ClientError> {
        let req = self
            .http
            .post(self.url("/incidents"))
            .bearer_auth(&self.token)
            .json(incidents);
        json_answer(req).await
    }

    /// Uploads one evidence JPEG under its SHA-256; idempotent.
    pub async fn put_evidence(&self, sha256: &Sha256, jpeg: Vec<u8>) -> Result<(), ClientError> {
        let req = self
            .http
            .put(self.url(&format!("/evidence/{sha256}")))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "image/jpeg")
            .body(jpeg);
        let resp = req.send().await.map_err(ClientError::from_reqwest)?;
        check(resp).await.map(|_| ())
    }

    /// Fetches the whitelist and hotlist; with `etag` (from the last fetch) the hub
    /// answers [`ListsFetch::NotModified`] when nothing changed.
    pub async fn get_lists(&self, etag: Option<&str>) -> Result<ListsFetch, ClientError> {
        let mut req = self.http.get(self.url("/lists")).bearer_auth(&self.token);
        if let Some(tag) = etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, tag);
        }
        let resp = req.send().await.map_err(ClientError::from_reqwest)?;
        if resp.status() == StatusCode::NOT_MODIFIED {
            return Ok(ListsFetch::NotModified);
        }
        let resp = check(resp).await?;
        let etag = resp
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let lists = resp
            .json::<Lists>()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok(ListsFetch::Fresh { lists, etag })
    }
}

async fn json_answer<T: serde::de::DeserializeOwned>(
    req: reqwest::RequestBuilder,
) -> Result<T, ClientError> {
    let resp = req.send().await.map_err(ClientError::from_reqwest)?;
    let resp = check(resp).await?;
    resp.json::<T>()
        .await
        .map_err(|e| ClientError::Decode(e.to_string()))
}

/// Turns a non-2xx answer into [`ClientError::Status`] with the hub's message.
async fn check(resp: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let text = resp.text().await.unwrap_or_default();
    let message = serde_json::from_str::<ErrorBody>(&text)
        .map(|b| b.error)
        .unwrap_or(text);
    Err(ClientError::Status {
        status: status.as_u16(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statuses() {
        let st = |s| ClientError::Status {
            status: s,
            message: String::new(),
        };
        for s in [500, 502, 503, 408, 429] {
            assert!(st(s).is_retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 413] {
            assert!(!st(s).is_retryable(), "{s}");
        }
    }
}
