//! The hand-written reference for the reference app's select route: an
//! axum handler on raw tokio-postgres (the same deadpool pool, prepared
//! statements cached per connection) doing what the route does for
//! `{"action":{"table":"notes"}}`: look the bearer token's session up,
//! read the session user's notes, answer them as a JSON array. What a
//! careful developer writes without the library: no action to parse, no
//! permitter, the owner condition written into the query.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The session of a bearer token, as the library stores it: the SHA-256 of
/// the token's 32 bytes in hex.
const SESSION_SQL: &str = "SELECT user_id FROM trom_auth_sessions \
                           WHERE token_hash = $1 AND invalidated_at IS NULL AND expires_at > now()";
/// The session user's notes.
const NOTES_SQL: &str =
    "SELECT id, title, content, user_id, created_at, updated_at FROM notes WHERE user_id = $1";

/// A note as the API answers it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Note {
    id: String,
    title: String,
    content: String,
    user_id: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// `POST /api/db/select` over `pool`.
pub fn router(pool: Pool) -> Router {
    Router::new().route("/api/db/select", post(select)).with_state(pool)
}

async fn select(State(pool): State<Pool>, headers: HeaderMap) -> Response {
    match notes(&pool, &headers).await {
        Ok(Some(body)) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Ok(None) => {
            (StatusCode::UNAUTHORIZED, [(header::CONTENT_TYPE, "application/json")], "{}").into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn notes(pool: &Pool, headers: &HeaderMap) -> Result<Option<Vec<u8>>, Error> {
    let Some(hash) = token_hash(headers) else { return Ok(None) };
    let client = pool.get().await?;
    let session = client.prepare_cached(SESSION_SQL).await?;
    let Some(row) = client.query_opt(&session, &[&hash]).await? else { return Ok(None) };
    let user_id: String = row.try_get(0)?;
    let notes = client.prepare_cached(NOTES_SQL).await?;
    let rows = client.query(&notes, &[&user_id]).await?;
    let notes = rows
        .iter()
        .map(|row| {
            Ok(Note {
                id: row.try_get(0)?,
                title: row.try_get(1)?,
                content: row.try_get(2)?,
                user_id: row.try_get(3)?,
                created_at: row.try_get(4)?,
                updated_at: row.try_get(5)?,
            })
        })
        .collect::<Result<Vec<Note>, tokio_postgres::Error>>()?;
    Ok(Some(serde_json::to_vec(&notes)?))
}

fn token_hash(headers: &HeaderMap) -> Option<String> {
    let token = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?;
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let digest = Sha256::digest(bytes);
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}
