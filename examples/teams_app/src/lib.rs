//! A multi-tenant TromBase example: users, teams, memberships, and notes
//! readable by their team's members, the tenant rule written as one row
//! filter (see [`entities`]). The library's JSON API is mounted at `/api`;
//! the app adds one typed route:
//!
//! - `GET /teams/{id}/notes?limit=20&after=<cursor>`: a page of the team's
//!   notes, newest first, each with its author, the total, and the cursor of
//!   the next page (`{"rows": [...], "total": 12, "next": "..." | null}`).
//!
//! Run with: `bash scripts/run-teams-app.sh` (or `cargo run -p teams_app`
//! with a `DATABASE_URL`).

pub mod entities;

pub use entities::{Membership, NewMembership, NewNote, NewTeam, Note, Team, User};

use std::future::Future;

use axum::extract::{Path, Query};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use trombase::prelude::*;
use trombase::query::Cursor;
use trombase::{SessionDb, TromBase};

/// Connects, registers the app's entities and creates the tables.
pub async fn connect(database_url: &str) -> trombase::Result<TromBase> {
    let trom = TromBase::builder()
        .database_url(database_url)
        .entity::<User>()
        .entity::<Team>()
        .entity::<Membership>()
        .entity::<Note>()
        .connect()
        .await?;
    trom.create_tables().await?;
    Ok(trom)
}

/// The query of `GET /teams/{id}/notes`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<u64>,
    after: Option<String>,
}

/// A page of a team's notes with their authors. A team the session is not
/// a member of has no notes for it (an empty page with a total of 0).
async fn team_notes(
    db: SessionDb,
    Path(team): Path<String>,
    Query(page): Query<PageQuery>,
) -> trombase::Result<Json<serde_json::Value>> {
    let team: DbId = team.parse().map_err(|e| trombase::Error::validation("id", format!("{e}")))?;
    let query = Note::query()
        .filter(Note::TEAM_ID.eq(team))
        .with(Note::AUTHOR)
        .order_by(Note::CREATED_AT.desc())
        .limit(page.limit.unwrap_or(20).min(100));
    let after: Option<Cursor> = page.after.map(|a| a.parse().unwrap_or_else(|never| match never {}));
    let notes = db.page(query.clone(), after.as_ref()).await?;
    Ok(Json(serde_json::json!({
        "rows": query.json(&notes.rows),
        "total": notes.total,
        "next": notes.next,
    })))
}

/// The whole app: the JSON API, the typed route, JSON errors for the rest.
pub fn router(trom: TromBase) -> Router {
    Router::new()
        .merge(trombase::api::axum::router(trom.clone()))
        .route("/teams/{id}/notes", get(team_notes))
        .with_state(trom)
        .fallback(trombase::api::axum::not_found)
        .layer(axum::middleware::from_fn(trombase::api::axum::json_errors))
}

/// Serves the app on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    trom: TromBase,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(trom).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
