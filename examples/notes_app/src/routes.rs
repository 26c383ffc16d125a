//! The HTTP API of SPEC §9. Bodies are read as raw bytes and parsed by the
//! library, so malformed or mistyped JSON is a 400 with a message, never a
//! framework's 415 or 422.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use trombase::{Error, SessionDb, TromBase};

use crate::errors::AppResult;
use crate::query_string;

/// Every route of the API.
pub fn api() -> Router<TromBase> {
    Router::new()
        .route("/api/auth/register", post(register))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/request-password-reset", post(request_password_reset))
        .route("/api/auth/validate-password-reset", post(validate_password_reset))
        .route("/api/db/mutations", post(mutations))
        .route("/api/db/select", post(select_post).get(select_get))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    email: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailBody {
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NewPasswordBody {
    token: String,
    new_password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SelectBody {
    action: Value,
}

/// A JSON body of type `T`; anything else is a validation error.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Error> {
    let json = trombase::parse_json_body(bytes)?;
    serde_json::from_value(json).map_err(|e| Error::validation("", format!("invalid request body: {e}")))
}

async fn register(State(trom): State<TromBase>, bytes: Bytes) -> AppResult<Json<Value>> {
    let Credentials { email, password } = body(&bytes)?;
    let signed_in = trom.auth.register_with_username_password(&email, &password).await?;
    Ok(Json(json!(signed_in)))
}

async fn login(State(trom): State<TromBase>, bytes: Bytes) -> AppResult<Json<Value>> {
    let Credentials { email, password } = body(&bytes)?;
    let signed_in = trom.auth.login_with_username_password(&email, &password).await?;
    Ok(Json(json!(signed_in)))
}

async fn logout(State(trom): State<TromBase>, bytes: Bytes) -> AppResult<Json<Value>> {
    let TokenBody { token } = body(&bytes)?;
    Ok(Json(json!(trom.auth.invalidate_session_token(&token).await?)))
}

async fn request_password_reset(State(trom): State<TromBase>, bytes: Bytes) -> AppResult<Json<Value>> {
    let EmailBody { email } = body(&bytes)?;
    Ok(Json(json!(trom.auth.request_password_reset(&email).await?)))
}

async fn validate_password_reset(State(trom): State<TromBase>, bytes: Bytes) -> AppResult<Json<Value>> {
    let NewPasswordBody { token, new_password } = body(&bytes)?;
    Ok(Json(json!(trom.auth.validate_password_reset(&token, &new_password).await?)))
}

/// The data handle of the request's session (`x-session-token`), checked
/// against the database on every request.
async fn session_db(trom: &TromBase, headers: &HeaderMap) -> Result<SessionDb, Error> {
    let token = headers.get("x-session-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    let session = trom.auth.require_session(token).await?;
    Ok(trom.db.with_session(&session))
}

async fn mutations(State(trom): State<TromBase>, headers: HeaderMap, bytes: Bytes) -> AppResult<Json<Value>> {
    let db = session_db(&trom, &headers).await?;
    db.do_mutations_json(&trombase::parse_json_body(&bytes)?).await?;
    Ok(Json(json!({})))
}

async fn select_post(
    State(trom): State<TromBase>,
    headers: HeaderMap,
    bytes: Bytes,
) -> AppResult<Json<Value>> {
    let db = session_db(&trom, &headers).await?;
    let SelectBody { action } = body(&bytes)?;
    Ok(Json(Value::Array(db.select_json(&action).await?)))
}

async fn select_get(
    State(trom): State<TromBase>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> AppResult<Json<Value>> {
    let db = session_db(&trom, &headers).await?;
    let action = query_string::select_action(query.as_deref().unwrap_or(""))?;
    Ok(Json(Value::Array(db.select_json_from_query_string(&action).await?)))
}
