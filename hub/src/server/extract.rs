//! Who is calling: a checkpoint (bearer token) or a person (bearer token or the
//! session cookie). Extractors answer 401 for a missing, unknown, expired or revoked
//! credential.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

use crate::api::County;
use crate::auth;
use crate::server::{ApiError, AppState};
use crate::store::{CheckpointRecord, UserRecord};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "kadian_session";

/// The bearer token of `req`, if any.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    let h = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn state(req: &HttpRequest) -> Result<&web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("no app state".into()))
}

/// An authenticated, unrevoked checkpoint.
pub struct CheckpointCaller(pub CheckpointRecord);

impl FromRequest for CheckpointCaller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            checkpoint(req)
                .and_then(|c| {
                    c.ok_or(ApiError::Unauthorized(
                        "unknown or revoked checkpoint token",
                    ))
                })
                .map(CheckpointCaller),
        )
    }
}

fn checkpoint(req: &HttpRequest) -> Result<Option<CheckpointRecord>, ApiError> {
    let Some(token) = bearer(req) else {
        return Ok(None);
    };
    Ok(state(req)?
        .store
        .checkpoint_by_token(&auth::token_hash(&token))?)
}

/// A logged-in person.
pub struct Person(pub UserRecord);

impl Person {
    /// Whether this person may see records of `county`.
    pub fn sees(&self, county: &County) -> bool {
        self.0.role.all_counties() || self.0.county == *county
    }
    pub fn name(&self) -> &str {
        self.0.name.as_str()
    }
    /// The county a query of `asked` covers: any for admins and auditors (`None`: all),
    /// one's own for everyone else (another county: 403).
    pub fn county_scope(&self, asked: Option<County>) -> Result<Option<County>, ApiError> {
        if self.0.role.all_counties() {
            return Ok(asked);
        }
        match asked {
            Some(c) if c != self.0.county => Err(ApiError::Forbidden(format!(
                "you see county {} only",
                self.0.county
            ))),
            _ => Ok(Some(self.0.county.clone())),
        }
    }
}

/// A person's session token: the bearer token, else the session cookie.
pub fn session_token(req: &HttpRequest) -> Option<String> {
    bearer(req).or_else(|| req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()))
}

/// The person behind the bearer token or session cookie, if any.
pub fn person(req: &HttpRequest) -> Result<Option<UserRecord>, ApiError> {
    let Some(token) = session_token(req) else {
        return Ok(None);
    };
    let state = state(req)?;
    Ok(state
        .store
        .session(&auth::token_hash(&token), state.clock.now())?)
}

impl FromRequest for Person {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            person(req)
                .and_then(|p| {
                    p.ok_or(ApiError::Unauthorized(
                        "log in first: missing, unknown or expired session",
                    ))
                })
                .map(Person),
        )
    }
}

/// Either kind of caller (the lists are read by both).
pub enum Caller {
    Checkpoint(CheckpointRecord),
    Person(UserRecord),
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = checkpoint(req).and_then(|c| match c {
            Some(c) => Ok(Some(Caller::Checkpoint(c))),
            None => person(req).map(|p| p.map(Caller::Person)),
        });
        ready(found.and_then(|c| c.ok_or(ApiError::Unauthorized("unknown or revoked token"))))
    }
}
