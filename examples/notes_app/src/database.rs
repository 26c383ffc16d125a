//! The app's own database: created on first start when it is missing.
//!
//! The app keeps its tables in a database of its own (`notes_app` by
//! default), not in the server's `postgres` maintenance database. On a fresh
//! server that database does not exist yet, so [`ensure_database`] makes it,
//! if the server lets the URL's user create databases.

use std::fmt;

use tokio_postgres::error::SqlState;
use tokio_postgres::{Config, NoTls};

/// Why the database named by a URL could not be made ready.
#[derive(Debug)]
pub struct DatabaseError {
    message: String,
    source: Option<tokio_postgres::Error>,
}

impl DatabaseError {
    fn new(message: String, source: impl Into<Option<tokio_postgres::Error>>) -> Self {
        DatabaseError { message, source: source.into() }
    }
}

impl fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            // tokio-postgres's own text ("db error") hides the server's message.
            match source.as_db_error() {
                Some(db) => write!(f, ": {}", db.message())?,
                None => write!(f, ": {source}")?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for DatabaseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// Makes sure the database `url` names exists on its server, creating it
/// when it does not.
///
/// First connects to that database: if that works (or fails for any reason
/// other than the database not existing), nothing is created. When the
/// server answers that the database does not exist (SQLSTATE 3D000), this
/// connects to the same server's `postgres` database, as the same user, and
/// runs `CREATE DATABASE` with the name quoted as an identifier (so any name
/// works, with capitals, spaces or quotes). Another process creating it at
/// the same moment is fine (SQLSTATE 42P04 is ignored). If the server
/// refuses (the user may not create databases), the error names the
/// database, so whoever reads it knows what to create.
///
/// Idempotent: calling it again finds the database and does nothing. A URL
/// without a database name uses the server's default (the user's name),
/// which is left alone. The `pgbouncer` option TromBase understands is
/// ignored here; through a pooler the database must already exist.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// notes_app::ensure_database("postgres://postgres@127.0.0.1:5432/notes_app").await?;
/// # Ok(()) }
/// ```
pub async fn ensure_database(url: &str) -> Result<(), DatabaseError> {
    let config: Config = without_pooler_flag(url)
        .parse()
        .map_err(|e| DatabaseError::new("DATABASE_URL is not a PostgreSQL connection URL".into(), e))?;
    let Some(name) = config.get_dbname().map(str::to_owned) else { return Ok(()) };
    match config.connect(NoTls).await {
        Ok((client, connection)) => {
            // Dropping the client ends the connection politely.
            drop(client);
            let _ = connection.await;
            return Ok(());
        }
        Err(e) if e.code() == Some(&SqlState::INVALID_CATALOG_NAME) => {}
        Err(e) => return Err(DatabaseError::new(format!("cannot connect to database \"{name}\""), e)),
    }

    let mut admin = config.clone();
    admin.dbname("postgres");
    let (client, connection) = admin.connect(NoTls).await.map_err(|e| {
        DatabaseError::new(
            format!("database \"{name}\" does not exist, and the server's \"postgres\" database, to create it from, cannot be reached"),
            e,
        )
    })?;
    let connection = tokio::spawn(connection);
    let created = client.batch_execute(&format!("CREATE DATABASE {}", quote_identifier(&name))).await;
    drop(client);
    let _ = connection.await;
    match created {
        Ok(()) => {
            tracing::info!("created database \"{name}\"");
            Ok(())
        }
        Err(e) if e.code() == Some(&SqlState::DUPLICATE_DATABASE) => Ok(()),
        Err(e) => Err(DatabaseError::new(
            format!("database \"{name}\" does not exist and cannot be created (create it, or set DATABASE_URL to one that exists)"),
            e,
        )),
    }
}

/// `name` as a PostgreSQL identifier: in double quotes, inner ones doubled.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `url` without a `pgbouncer=...` option, which tokio-postgres does not know.
fn without_pooler_flag(url: &str) -> String {
    let keep = |pair: &&str| !pair.is_empty() && !pair.starts_with("pgbouncer=");
    if url.contains("://") {
        let Some((base, query)) = url.split_once('?') else { return url.to_owned() };
        let kept: Vec<&str> = query.split('&').filter(keep).collect();
        if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        }
    } else {
        url.split_whitespace().filter(keep).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::{quote_identifier, without_pooler_flag};

    #[test]
    fn quotes_names_as_identifiers() {
        assert_eq!(quote_identifier("notes_app"), "\"notes_app\"");
        assert_eq!(quote_identifier("my \"app\""), "\"my \"\"app\"\"\"");
    }

    #[test]
    fn drops_the_pooler_flag() {
        assert_eq!(without_pooler_flag("postgres://h/db?pgbouncer=true"), "postgres://h/db");
        assert_eq!(
            without_pooler_flag("postgres://h/db?sslmode=disable&pgbouncer=true"),
            "postgres://h/db?sslmode=disable"
        );
        assert_eq!(without_pooler_flag("host=h dbname=db pgbouncer=true"), "host=h dbname=db");
        assert_eq!(without_pooler_flag("postgres://h/db"), "postgres://h/db");
    }
}
