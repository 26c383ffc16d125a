//! Execution: the one layer that talks to PostgreSQL. It owns the pool, the
//! statement strategy ([`StatementMode`]), each user's fair share of the
//! pool, and the statement counter; reads, mutations and auth hand it SQL
//! and parameters and get rows back.

mod conn;
mod share;
mod statement;
mod url;

pub(crate) use conn::Conn;
pub(crate) use statement::{Arg, Prepared};
pub use statement::{StatementMode, MAX_CACHED_SQL, MAX_CACHED_STATEMENTS, MAX_PARAMS};

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::{DatabaseError, DbId, Result};
use share::Shares;

/// How to reach the database and how to share it.
pub(crate) struct ExecConfig {
    pub(crate) url: String,
    pub(crate) max_connections: usize,
    pub(crate) per_user_connections: usize,
    pub(crate) wait_timeout: Option<Duration>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) statement_timeout: Option<Duration>,
    pub(crate) mode: StatementMode,
}

/// The pool and the rules for using it.
pub(crate) struct Executor {
    pool: Pool,
    mode: StatementMode,
    /// Sent as `SET LOCAL` in every transaction when the timeout cannot be a
    /// connection setting (behind a transaction-pooling proxy).
    local_timeout: Option<String>,
    shares: Shares,
    /// Statements sent to the database (diagnostics: proves one read is one statement).
    statements: AtomicU64,
}

impl Executor {
    /// Builds the pool and makes sure the database answers.
    pub(crate) async fn connect(config: ExecConfig) -> Result<Executor> {
        let (url, pooler) = url::take_pooler_flag(&config.url);
        let mode = if pooler == Some(true) { StatementMode::Unnamed } else { config.mode };
        let mut pg_config: tokio_postgres::Config =
            url.parse().map_err(|e| DatabaseError::new("parsing the database URL", e))?;
        if let Some(timeout) = config.connect_timeout {
            pg_config.connect_timeout(timeout);
        }
        let mut local_timeout = None;
        if let Some(timeout) = config.statement_timeout {
            let ms = timeout.as_millis().max(1);
            if mode == StatementMode::Unnamed {
                // A proxy hands server connections from client to client:
                // no session setting is ours, and PgBouncer refuses the
                // `options` startup parameter. Each transaction sets it.
                local_timeout = Some(format!("; SET LOCAL statement_timeout = {ms}"));
            } else {
                let options = pg_config.get_options().map(str::to_owned).unwrap_or_default();
                pg_config.options(format!("{options} -c statement_timeout={ms}").trim());
            }
        }
        let manager =
            Manager::from_config(pg_config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(config.max_connections.max(1))
            .wait_timeout(config.wait_timeout)
            .create_timeout(config.connect_timeout)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| DatabaseError::new("building the connection pool", e))?;
        drop(pool.get().await?);
        Ok(Executor {
            pool,
            mode,
            local_timeout,
            shares: Shares::new(config.per_user_connections, config.wait_timeout),
            statements: AtomicU64::new(0),
        })
    }

    /// The pool, for the application's own queries.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The statement strategy.
    pub(crate) fn mode(&self) -> StatementMode {
        self.mode
    }

    /// Whether reads run in a transaction of their own, to carry the
    /// statement timeout (behind a transaction-pooling proxy).
    pub(crate) fn reads_carry_the_timeout(&self) -> bool {
        self.local_timeout.is_some()
    }

    /// `begin` with the statement timeout set for the transaction, if the
    /// connection cannot carry it.
    pub(crate) fn begin_statement(&self, begin: &'static str) -> std::borrow::Cow<'static, str> {
        match &self.local_timeout {
            Some(set) => format!("{begin}{set}").into(),
            None => begin.into(),
        }
    }

    /// A connection for the library's own work (auth, bootstrap).
    pub(crate) async fn conn(&self) -> Result<Conn<'_>> {
        Ok(Conn::new(self, self.pool.get().await?, None))
    }

    /// A connection for work on behalf of `user`: first one of the user's
    /// turns (at most their share of the pool at once), then the pool.
    pub(crate) async fn conn_for(&self, user: DbId) -> Result<Conn<'_>> {
        let turn = self.shares.turn(user).await?;
        Ok(Conn::new(self, self.pool.get().await?, Some(turn)))
    }

    /// Counts statements sent.
    pub(crate) fn count(&self, n: u64) {
        self.statements.fetch_add(n, Ordering::Relaxed);
    }

    /// Statements sent so far.
    pub(crate) fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}
