//! How statements reach the server: named and cached per connection, or
//! unnamed (parsed, bound and run in one round trip, gone when it ends).
//!
//! Named statements save the server a parse on every repeat, but each one
//! holds backend memory until it is closed, and transaction-pooling proxies
//! (PgBouncer) cannot route them. So only small statements are ever cached,
//! a connection holds a bounded number of them, and one that failed to run
//! is closed; larger statements (the ones a client can shape to cost the
//! server megabytes), and everything in [`StatementMode::Unnamed`], run as
//! unnamed statements, which the server forgets when they end.

use std::borrow::Cow;

use tokio_postgres::types::{ToSql, Type};

/// How the library sends its statements.
///
/// ```
/// use trombase_core::StatementMode;
/// assert_eq!(StatementMode::default(), StatementMode::Cached);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StatementMode {
    /// Named prepared statements, cached per connection, for small
    /// statements (at most [`MAX_CACHED_SQL`] bytes of SQL, at most
    /// [`MAX_CACHED_STATEMENTS`] per connection); unnamed statements for the
    /// rest. For a direct connection to PostgreSQL (the default).
    #[default]
    Cached,
    /// Unnamed statements only: nothing outlives a statement on the server.
    /// For transaction-pooling proxies, and for servers whose memory must
    /// not hold client-shaped statements at all.
    Unnamed,
}

/// The longest SQL text kept as a named statement (bytes). Backend memory
/// of a cached statement grows with its size; longer statements are rare
/// and client-shaped, so they run unnamed.
pub const MAX_CACHED_SQL: usize = 2048;

/// The most named statements one connection keeps; past it the cache is
/// emptied (closing them on the server) and refilled.
pub const MAX_CACHED_STATEMENTS: usize = 128;

/// The most bind parameters one statement may carry. PostgreSQL's protocol
/// allows 65,535; far fewer are ever needed, and a statement near that many
/// costs the server megabytes to plan.
pub const MAX_PARAMS: usize = 32_767;

/// One bind parameter and its PostgreSQL type.
pub(crate) type Arg<'a> = (&'a (dyn ToSql + Sync), Type);

/// A statement ready to run on one connection: its SQL, its parameter
/// types, and the named statement when it is cached.
pub(crate) struct Prepared<'s> {
    pub(super) sql: Cow<'s, str>,
    pub(super) types: Vec<Type>,
    pub(super) named: Option<tokio_postgres::Statement>,
}

/// Whether `sql` may be kept as a named statement in `mode`.
pub(crate) fn cacheable(mode: StatementMode, sql: &str) -> bool {
    mode == StatementMode::Cached && sql.len() <= MAX_CACHED_SQL
}
