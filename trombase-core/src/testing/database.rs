//! [`TestDb`]: a fresh database for one test, dropped when the test ends.

use super::server;
use super::url::{pooler_url, server_url, with_database, with_option};

/// A database that exists for the life of one test: created empty with a
/// unique name on the server `DATABASE_URL` names (default
/// `postgres://postgres@127.0.0.1:5432/postgres`), and dropped when the
/// `TestDb` is, whether the test passed or panicked. Sessions still
/// connected to it then are ended (`DROP DATABASE ... WITH (FORCE)` on
/// PostgreSQL 13 and later, terminated backends before), so a test need
/// not close its pools first.
///
/// `DATABASE_URL`'s user must be allowed to create databases (the
/// `CREATEDB` privilege); [`TestDb::new`] panics saying so when it is not.
///
/// With `TROMBASE_TEST_POOLER_URL` set (a PgBouncer in transaction mode in
/// front of that server), the app reaches the database through the pooler:
/// [`url`](Self::url) leads there, with `pgbouncer=true`, while
/// [`client`](Self::client) still talks to the server directly.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    server: String,
    url: String,
    direct_url: String,
}

impl TestDb {
    /// Creates a fresh, empty database with a unique name.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached, or refuses to create a database
    /// (the message names `DATABASE_URL` and the missing privilege).
    pub async fn new() -> TestDb {
        let server = server_url();
        let admin = server::connect(&server, "the PostgreSQL server DATABASE_URL names").await;
        let name = loop {
            let name = format!("trombase_test_{:016x}", rand::random::<u64>());
            if server::create_database(&admin, &server, &name).await {
                break name;
            }
        };
        let direct_url = with_database(&server, &name);
        let url = match pooler_url() {
            Some(pooler) => with_option(&with_database(&pooler, &name), "pgbouncer=true"),
            None => direct_url.clone(),
        };
        TestDb { name, server, url, direct_url }
    }

    /// The URL the app under test connects with: the database on the
    /// server, or through the pooler when `TROMBASE_TEST_POOLER_URL` is set.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL of this database on the server itself, never through a pooler.
    pub fn direct_url(&self) -> &str {
        &self.direct_url
    }

    /// Whether the app under test goes through a pooler.
    pub fn through_pooler(&self) -> bool {
        self.url != self.direct_url
    }

    /// The database's name (`trombase_test_` and 16 hex digits).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A plain tokio-postgres client on this database (on the server, not
    /// through a pooler), to look at what the app wrote or to set up rows
    /// by hand.
    ///
    /// # Panics
    ///
    /// When the database cannot be reached.
    pub async fn client(&self) -> tokio_postgres::Client {
        server::connect(&self.direct_url, "the test database").await
    }

    /// The process ids of the backends connected to this database (the
    /// app's pool, or a pooler's server connections for it), seen from a
    /// connection of its own that is not counted.
    ///
    /// # Panics
    ///
    /// When the database cannot be reached.
    pub async fn backend_pids(&self) -> Vec<i32> {
        let rows = self
            .client()
            .await
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&self.name],
            )
            .await
            .unwrap_or_else(|e| {
                panic!("cannot list the backends of {}: {}", self.name, server::describe(&e))
            });
        rows.iter().map(|r| r.get(0)).collect()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop may run inside a runtime (a current-thread one, blocked here),
        // or while panicking: do the async work on a thread with a runtime
        // of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(server::drop_database(&server, &name))?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        let failure = match dropped {
            Ok(Ok(())) => return,
            Ok(Err(e)) => match e.downcast_ref::<tokio_postgres::Error>() {
                Some(e) => server::describe(e),
                None => e.to_string(),
            },
            Err(_) => "the thread dropping it panicked".to_owned(),
        };
        if !std::thread::panicking() {
            panic!("trombase::testing: could not drop the test database {}: {failure}", self.name);
        }
    }
}
