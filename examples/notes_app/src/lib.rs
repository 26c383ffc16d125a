//! The TromBase reference app: users and notes behind the HTTP API of the
//! TypeScript library's example, with a web UI at `/`.
//!
//! Run with: `bash scripts/run-notes-app.sh` (or `cargo run -p notes_app`
//! with a `DATABASE_URL`).

pub mod database;
mod entities;

pub use database::ensure_database;
pub use entities::{NewNote, Note, User};

use std::future::Future;

use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use tower_http::trace::TraceLayer;
use trombase::TromBase;

/// The web UI: one page of plain HTML and JavaScript.
const INDEX_HTML: &str = include_str!("../static/index.html");

/// Connects, registers the app's entities and creates the tables.
pub async fn connect(database_url: &str) -> trombase::Result<TromBase> {
    let trom =
        TromBase::builder().database_url(database_url).entity::<User>().entity::<Note>().connect().await?;
    trom.create_tables().await?;
    Ok(trom)
}

/// The whole app: the library's JSON API, the UI, JSON errors for the rest,
/// and a trace span per request (logged at DEBUG, under `tower_http`).
///
/// `/favicon.ico` answers 204 No Content: the page names an empty icon
/// (`data:,`), so browsers do not ask, and whoever asks anyway gets no 404.
pub fn router(trom: TromBase) -> Router {
    Router::new()
        .merge(trombase::api::axum::router(trom))
        .route("/", get(|| async { Html(INDEX_HTML) }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .fallback(trombase::api::axum::not_found)
        .layer(axum::middleware::from_fn(trombase::api::axum::json_errors))
        .layer(TraceLayer::new_for_http())
}

/// Serves the app on `listener` until `shutdown` completes, then finishes
/// the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    trom: TromBase,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address is the client key of the auth throttling.
    let app = router(trom).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
