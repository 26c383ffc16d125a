//! Run with: `bash scripts/run-expenses-app.sh`, or `cargo run -p expenses_app`.
//!
//! Reads `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! `HOST` (default `127.0.0.1`), `PORT` (default 3001) and `RUST_LOG`
//! (default `info`).

use tracing_subscriber::EnvFilter;

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let database_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3001);

    let trom = expenses_app::connect(&database_url).await?;
    let listener = std::net::TcpListener::bind((host.as_str(), port))?;
    tracing::info!("expenses app listening on http://{}", listener.local_addr()?);
    // actix-web stops on Ctrl-C and SIGTERM, finishing the requests in flight.
    expenses_app::server(listener, trom, 2)?.await?;
    tracing::info!("stopped");
    Ok(())
}
