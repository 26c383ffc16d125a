//! Run with: `bash scripts/run-notes-app.sh`, or `cargo run -p notes_app`.
//!
//! Reads `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/notes_app`:
//! a database of the app's own, created on first start when the server lets
//! the user create databases; see [`notes_app::ensure_database`]),
//! `HOST` (default `127.0.0.1`) and `PORT` (default 3000).
//!
//! Logs at INFO by default (start-up, shutdown, warnings), not a line per
//! request. `RUST_LOG` sets the filter: `RUST_LOG=info,tower_http=debug`
//! adds the per-request lines of tower-http's `TraceLayer`.

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let database_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/notes_app".into());
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);

    notes_app::ensure_database(&database_url).await?;
    let trom = notes_app::connect(&database_url).await?;
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    tracing::info!("notes app listening on http://{}", listener.local_addr()?);
    notes_app::serve(listener, trom, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
