//! Test support for apps built on TromBase (the `testing` feature): each
//! test gets a fresh database of its own, dropped when the test ends.
//!
//! Applications use it as `trombase::testing`, where the guide is, with
//! the `#[trombase::test]` attribute.

mod app;
mod database;
mod fixture;
mod server;
mod session;
mod url;

pub use app::{test_auth_config, TestApp};
pub use database::TestDb;
pub use session::session_for;
pub use url::{pooler_url, server_url, with_database, DEFAULT_SERVER_URL};

/// What `#[trombase::test]` expands to uses; not public API.
#[doc(hidden)]
pub mod __private {
    pub use super::fixture::*;
}
