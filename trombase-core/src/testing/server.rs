//! Talking to the server test databases live on: connecting, creating a
//! database (with a clear word when that is refused), and dropping one
//! while connections to it may still be open.

use std::time::Duration;

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

use super::url::redacted;

/// Connects to `url` and drives the connection on the current runtime;
/// panics with what to check when the server cannot be reached.
pub(crate) async fn connect(url: &str, what: &str) -> Client {
    match try_connect(url).await {
        Ok(client) => client,
        Err(e) => panic!(
            "trombase::testing: cannot connect to {what} ({}): {}. Is PostgreSQL running there? \
             Set DATABASE_URL to a server whose user may create databases \
             (default: {}).",
            redacted(url),
            describe(&e),
            super::url::DEFAULT_SERVER_URL,
        ),
    }
}

pub(crate) async fn try_connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// Creates the database `name`; `Ok(false)` when one of that name exists
/// already. Panics with the missing permission when the server refuses.
pub(crate) async fn create_database(admin: &Client, server: &str, name: &str) -> bool {
    let err = match admin.batch_execute(&format!("CREATE DATABASE {}", quoted(name))).await {
        Ok(()) => return true,
        Err(err) => err,
    };
    if err.code() == Some(&SqlState::DUPLICATE_DATABASE) {
        return false;
    }
    if err.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
        let role = match admin.query_one("SELECT current_user::text", &[]).await {
            Ok(row) => row.get::<_, String>(0),
            Err(_) => "the user of DATABASE_URL".to_owned(),
        };
        panic!(
            "trombase::testing: the server DATABASE_URL names ({}) refused to create a test \
             database: {}. Each test gets a database of its own, so the role `{role}` needs the \
             CREATEDB privilege (`ALTER ROLE \"{role}\" CREATEDB;` as a superuser), or DATABASE_URL \
             must name a role that has it.",
            redacted(server),
            describe(&err),
        );
    }
    panic!(
        "trombase::testing: cannot create the test database {name} on the server DATABASE_URL \
         names ({}): {}",
        redacted(server),
        describe(&err)
    );
}

/// Drops the database `name`, ending the sessions still connected to it:
/// `WITH (FORCE)` on PostgreSQL 13 and later; before 13, by terminating
/// their backends and retrying while the database is still in use.
pub(crate) async fn drop_database(server: &str, name: &str) -> Result<(), tokio_postgres::Error> {
    let admin = try_connect(server).await?;
    let version: i32 =
        admin.query_one("SELECT current_setting('server_version_num')::int", &[]).await?.get(0);
    if version >= 130_000 {
        return admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quoted(name))).await;
    }
    let mut attempt = 0;
    loop {
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&name],
            )
            .await?;
        match admin.batch_execute(&format!("DROP DATABASE IF EXISTS {}", quoted(name))).await {
            Err(err) if err.code() == Some(&SqlState::OBJECT_IN_USE) && attempt < 50 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            done => return done,
        }
    }
}

/// A database name as a quoted identifier.
pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The server's own words for an error when it sent some.
pub(crate) fn describe(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    }
}
