//! People log in with name and password (argon2) and get a session token, as JSON and
//! as an HttpOnly, SameSite=Strict cookie for the pages.

use std::sync::OnceLock;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::{LoginRequest, LoginResponse};
use crate::auth;
use crate::server::extract::{session_token, SESSION_COOKIE};
use crate::server::{ApiError, AppState};
use crate::store::{AuditEntry, SessionRecord};

/// A hash to verify against when the user does not exist, so that unknown names take
/// as long as wrong passwords.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| auth::hash_password("not a real password").unwrap_or_default())
}

/// Checks the password and opens a session; the new token.
pub async fn open_session(
    state: &AppState,
    name: &str,
    password: &str,
) -> Result<String, ApiError> {
    let user = state.store.user(name)?;
    let hash = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_owned(), |u| u.password_hash.clone());
    let pw = password.to_owned();
    let ok = web::block(move || auth::verify_password(&pw, &hash)).await?;
    let user = match user {
        Some(u) if ok => u,
        _ => return Err(ApiError::Unauthorized("wrong name or password")),
    };
    let token = auth::new_token();
    let expires_at =
        state.clock.now() + chrono::Duration::seconds(state.config.session_secs as i64);
    state.store.add_session(
        &auth::token_hash(&token),
        &SessionRecord {
            user: user.name.clone(),
            expires_at,
        },
    )?;
    state.store.audit(&AuditEntry {
        at: state.clock.now(),
        who: user.name.to_string(),
        what: "login".into(),
        reason: None,
        detail: serde_json::Value::Null,
    })?;
    state.store.flush().await?;
    Ok(token)
}

/// The session cookie carrying `token` (empty and expired to log out).
pub fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    let max_age = if token.is_empty() {
        0
    } else {
        state.config.session_secs as i64
    };
    Cookie::build(SESSION_COOKIE, token.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookie)
        .max_age(CookieDuration::seconds(max_age))
        .finish()
}

/// `POST /api/v1/login`.
pub async fn login(
    state: web::Data<AppState>,
    req: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = open_session(&state, &req.name, &req.password).await?;
    Ok(HttpResponse::Ok()
        .cookie(session_cookie(&state, &token))
        .json(LoginResponse { token }))
}

/// Ends the caller's session (bearer or cookie).
pub fn close_session(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    if let Some(t) = session_token(req) {
        state.store.remove_session(&auth::token_hash(&t))?;
    }
    Ok(())
}

/// `POST /api/v1/logout`.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    close_session(&state, &req)?;
    Ok(HttpResponse::NoContent()
        .cookie(session_cookie(&state, ""))
        .finish())
}
