//! Run with: `bash scripts/run-teams-app.sh`, or `cargo run -p teams_app`.
//!
//! Reads `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! `HOST` (default `127.0.0.1`) and `PORT` (default 3002).

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let database_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3002);

    let trom = teams_app::connect(&database_url).await?;
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    tracing::info!("teams app listening on http://{}", listener.local_addr()?);
    teams_app::serve(listener, trom, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
