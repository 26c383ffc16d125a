//! Test support: every test gets its own fresh PostgreSQL database, dropped
//! when the test ends (pass or panic), so tests run in parallel and leave
//! nothing behind.
//!
//! The server is the one `DATABASE_URL` names (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); its user must be allowed to
//! create databases. With `TROMBASE_TEST_POOLER_URL` set (a PgBouncer in
//! transaction mode in front of that server: `scripts/ensure-pgbouncer.sh`),
//! the library under test reaches each test database through the pooler
//! ([`TestDb::url`]); the tests' own raw clients ([`TestDb::client`]) still
//! talk to the server.

mod cluster;
mod outbox;
pub mod typescript;

pub use cluster::Cluster;
pub use outbox::Outbox;
use tokio_postgres::NoTls;

/// The server tests run against.
pub fn server_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The pooler tests run the library through, if any.
pub fn pooler_url() -> Option<String> {
    std::env::var("TROMBASE_TEST_POOLER_URL").ok().filter(|u| !u.is_empty())
}

/// A database that exists for the life of one test.
pub struct TestDb {
    name: String,
    url: String,
    direct_url: String,
}

impl TestDb {
    /// Creates a fresh, empty database with a random name.
    pub async fn new() -> TestDb {
        let name = format!("trombase_test_{:016x}", rand::random::<u64>());
        let admin = connect(&server_url()).await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let direct_url = with_database(&server_url(), &name);
        let url = match pooler_url() {
            Some(pooler) => with_flag(&with_database(&pooler, &name), "pgbouncer=true"),
            None => direct_url.clone(),
        };
        TestDb { url, direct_url, name }
    }

    /// The URL the library under test connects with: the database on the
    /// server, or through the pooler when one is configured.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL of this database on the server itself, never through a pooler.
    pub fn direct_url(&self) -> &str {
        &self.direct_url
    }

    /// Whether the library under test goes through a pooler.
    pub fn through_pooler(&self) -> bool {
        self.url != self.direct_url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process ids of the backends serving this database (the library's
    /// connections, or a pooler's server connections for it), seen from a
    /// connection of the test's own that is not counted.
    pub async fn backend_pids(&self) -> Vec<i32> {
        let rows = self
            .client()
            .await
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&self.name],
            )
            .await
            .unwrap_or_else(|e| panic!("cannot list the backends of {}: {e}", self.name));
        rows.iter().map(|r| r.get(0)).collect()
    }

    /// A plain tokio-postgres client on this database, for checking what the
    /// library wrote.
    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.direct_url).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run inside a runtime (or while panicking), so do the async
        // work on a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&server_url(), NoTls).await?;
                tokio::spawn(connection);
                client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("could not drop test database {}", self.name);
        }
    }
}

async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap_or_else(|e| {
        panic!("cannot connect to {url}: {e} (is PostgreSQL running? see scripts/ensure-postgres.sh)")
    });
    tokio::spawn(connection);
    client
}

/// `url` with its database name replaced by `name` (put in as is: a name
/// with characters special in URLs must come percent-encoded).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// `url` with one more query option.
fn with_flag(url: &str, flag: &str) -> String {
    if url.contains('?') {
        format!("{url}&{flag}")
    } else {
        format!("{url}?{flag}")
    }
}

/// A live session of `user_id`, valid for an hour, as the auth system would
/// hand one out.
pub fn session_for(user_id: trombase::DbId) -> trombase::Session {
    trombase::Session {
        id: trombase::DbId::new(),
        user_id,
        expires_at: chrono::Utc::now() + chrono::TimeDelta::hours(1),
        token: None,
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(with_database("postgres://u@h:1/postgres", "x"), "postgres://u@h:1/x");
        assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
