//! A second TromBase example, in actix-web: owner-only expenses. The
//! library's JSON API is mounted as one scope (`/api/...`); the app adds two
//! typed routes of its own:
//!
//! - `GET /expenses?category=food&limit=20`: the session's expenses, newest
//!   first, optionally of one category;
//! - `GET /expenses/totals`: the session's total and count per category.
//!
//! Run with: `bash scripts/run-expenses-app.sh` (or `cargo run -p
//! expenses_app` with a `DATABASE_URL`).

mod entities;

pub use entities::{Expense, NewExpense, User};

use actix_web::{web, App, HttpServer};
use serde::Deserialize;
use trombase::prelude::*;
use trombase::{SessionDb, TromBase};

/// Connects, registers the app's entities and creates the tables.
pub async fn connect(database_url: &str) -> trombase::Result<TromBase> {
    let trom =
        TromBase::builder().database_url(database_url).entity::<User>().entity::<Expense>().connect().await?;
    trom.create_tables().await?;
    Ok(trom)
}

/// The query of `GET /expenses`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    category: Option<String>,
    limit: Option<u64>,
}

/// The session's expenses, newest first.
async fn list(
    db: SessionDb,
    query: web::Query<ListQuery>,
) -> trombase::Result<web::Json<Vec<serde_json::Value>>> {
    let mut expenses =
        Expense::query().order_by(Expense::CREATED_AT.desc()).limit(query.limit.unwrap_or(50).min(500));
    if let Some(category) = &query.category {
        expenses = expenses.filter(Expense::CATEGORY.eq(category.clone()));
    }
    let rows = db.select(expenses.clone()).await?;
    Ok(web::Json(expenses.json(&rows).to_values()))
}

/// The session's total and number of expenses per category.
async fn totals(db: SessionDb) -> trombase::Result<web::Json<Vec<serde_json::Value>>> {
    let totals = Expense::query()
        .group_by((Expense::CATEGORY,))
        .aggregate((Expense::AMOUNT_CENTS.sum().named("totalCents"), Expense::count_rows().named("count")))
        .order_by_aggregate(0, Direction::Desc);
    let rows = db.select(totals.clone()).await?;
    Ok(web::Json(totals.json(&rows).to_values()))
}

/// The app's routes: the library's JSON API, the two typed routes, and
/// JSON errors for everything else.
pub fn configure(trom: TromBase) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config
            .app_data(web::Data::new(trom.clone()))
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|err, _| trombase::Error::validation("query", err.to_string()).into()),
            )
            .service(trombase::api::actix::scope(trom))
            .route("/expenses", web::get().to(list))
            .route("/expenses/totals", web::get().to(totals))
            .default_service(web::to(trombase::api::actix::not_found));
    }
}

/// The server on `listener`, with `workers` worker threads; await it to
/// serve (its handle stops it).
pub fn server(
    listener: std::net::TcpListener,
    trom: TromBase,
    workers: usize,
) -> std::io::Result<actix_web::dev::Server> {
    Ok(HttpServer::new(move || {
        App::new()
            .configure(configure(trom.clone()))
            .wrap(actix_web::middleware::from_fn(trombase::api::actix::json_errors))
            .wrap(actix_web::middleware::Logger::default())
    })
    .workers(workers)
    .listen(listener)?
    .run())
}
