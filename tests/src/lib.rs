//! Test support: every test gets its own fresh PostgreSQL database, dropped
//! when the test ends (pass or panic), so tests run in parallel and leave
//! nothing behind. The per-test databases are the library's public test
//! harness, `trombase::testing` (its `TestDb`, `TestApp`, `session_for` and
//! `#[trombase::test]`), re-exported here; what is only the suite's own
//! (throwaway clusters, an email outbox, the TypeScript library's rows)
//! lives next to them.
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
pub use trombase::testing::{pooler_url, server_url, session_for, with_database, TestApp, TestDb};

/// The named statements each of `connections` of the pool's connections
/// holds (all of them held at once, so each is counted once).
///
/// # Panics
///
/// When a connection cannot be had or cannot be asked.
pub async fn named_statements(trom: &trombase::TromBase, connections: usize) -> Vec<usize> {
    let mut held = Vec::new();
    for _ in 0..connections {
        held.push(trom.pool().get().await.unwrap());
    }
    let mut counts = Vec::new();
    for conn in &held {
        let messages = conn.simple_query("SELECT count(*) FROM pg_prepared_statements").await.unwrap();
        let count = messages.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).and_then(|n| n.parse().ok()),
            _ => None,
        });
        counts.push(count.unwrap_or(usize::MAX));
    }
    counts
}
