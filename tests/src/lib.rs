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
