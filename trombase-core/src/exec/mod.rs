//! Execution: the one layer that talks to PostgreSQL. It owns the pool, the
//! statement strategy ([`StatementMode`]), each user's fair share of the
//! pool, and the statement counter; reads, mutations and auth hand it SQL
//! and parameters and get rows back.

mod conn;
mod replica;
mod share;
mod statement;
mod url;

pub(crate) use conn::Conn;

pub(crate) use statement::{Arg, Prepared};
pub use statement::{StatementMode, MAX_CACHED_SQL, MAX_CACHED_STATEMENTS, MAX_PARAMS};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::{DatabaseError, DbId, Result};
use replica::Replicas;
use share::Shares;

/// A pool for `url` with the settings of `config`, connected once to make
/// sure the server answers; and the `SET LOCAL` that carries the statement
/// timeout, if it must: not when every server connection already starts
/// with exactly that timeout (set on the role or the database, the way to
/// give a pooler's connections a timeout), and no replica might differ.
async fn build_pool(config: &ExecConfig, url: &str, mode: StatementMode) -> Result<(Pool, Option<String>)> {
    let (pool, mut local_timeout) = pool_for(config, url, mode)?;
    let conn = pool.get().await?;
    if let (Some(_), Some(timeout)) = (&local_timeout, config.statement_timeout) {
        if config.replicas.is_empty() && starting_timeout_ms(&conn).await? == Some(timeout_ms(timeout)) {
            local_timeout = None;
        }
    }
    Ok((pool, local_timeout))
}

/// The statement timeout a server connection starts with (its role's,
/// database's or server's setting, not a session's `SET`), in ms.
async fn starting_timeout_ms(conn: &tokio_postgres::Client) -> Result<Option<u128>> {
    // A simple query: no statement is named behind a pooler.
    let sql = "SELECT reset_val FROM pg_settings WHERE name = 'statement_timeout'";
    let messages =
        conn.simple_query(sql).await.map_err(|e| DatabaseError::new("reading the statement timeout", e))?;
    Ok(messages.iter().find_map(|message| match message {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).and_then(|ms| ms.parse().ok()),
        _ => None,
    }))
}

fn timeout_ms(timeout: Duration) -> u128 {
    timeout.as_millis().max(1)
}

/// A pool for `url` that has not connected yet.
fn pool_for(config: &ExecConfig, url: &str, mode: StatementMode) -> Result<(Pool, Option<String>)> {
    let (url, _) = url::take_pooler_flag(url);
    let mut pg_config: tokio_postgres::Config =
        url.parse().map_err(|e| DatabaseError::new("parsing the database URL", e))?;
    if let Some(timeout) = config.connect_timeout {
        pg_config.connect_timeout(timeout);
    }
    let mut local_timeout = None;
    if let Some(timeout) = config.statement_timeout {
        let ms = timeout_ms(timeout);
        if mode == StatementMode::Unnamed {
            // A proxy hands server connections from client to client: no
            // session setting is ours, and PgBouncer refuses the `options`
            // startup parameter. Each transaction sets it.
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
    Ok((pool, local_timeout))
}

/// How to reach the database and how to share it.
pub(crate) struct ExecConfig {
    pub(crate) url: String,
    pub(crate) max_connections: usize,
    pub(crate) per_user_connections: usize,
    pub(crate) wait_timeout: Option<Duration>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) statement_timeout: Option<Duration>,
    pub(crate) mode: StatementMode,
    /// Read replicas' URLs, and how far behind one may be to answer reads.
    pub(crate) replicas: Vec<String>,
    pub(crate) replica_max_lag: Duration,
}

/// The pool and the rules for using it.
pub(crate) struct Executor {
    pool: Pool,
    mode: StatementMode,
    /// Sent as `SET LOCAL` in every transaction when the timeout cannot be a
    /// connection setting (behind a transaction-pooling proxy).
    local_timeout: Option<String>,
    shares: Shares,
    replicas: Option<Arc<Replicas>>,
    /// Statements sent to the database (diagnostics: proves one read is one statement).
    statements: AtomicU64,
    /// Reads a replica answered (diagnostics).
    replica_reads: AtomicU64,
}

/// Where a read may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadFrom {
    /// A replica that has the user's writes, else the primary.
    AnyServer,
    /// The primary only.
    Primary,
}

impl Executor {
    /// Builds the pools and makes sure the database answers.
    pub(crate) async fn connect(config: ExecConfig) -> Result<Executor> {
        // One statement mode for every server: a pooler in front of any of
        // them makes it Unnamed.
        let behind_pooler = std::iter::once(&config.url)
            .chain(&config.replicas)
            .any(|url| url::take_pooler_flag(url).1 == Some(true));
        let mode = if behind_pooler { StatementMode::Unnamed } else { config.mode };
        let (pool, local_timeout) = build_pool(&config, &config.url, mode).await?;
        let mut replica_pools = Vec::with_capacity(config.replicas.len());
        for url in &config.replicas {
            // Not connected now: a replica down at start-up is fine, reads
            // go to the primary until the poller finds it caught up.
            replica_pools.push(pool_for(&config, url, mode)?.0);
        }
        let replicas = (!replica_pools.is_empty())
            .then(|| Replicas::start(pool.clone(), replica_pools, config.replica_max_lag));
        Ok(Executor {
            pool,
            mode,
            local_timeout,
            shares: Shares::new(config.per_user_connections, config.wait_timeout),
            replicas,
            statements: AtomicU64::new(0),
            replica_reads: AtomicU64::new(0),
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

    /// A connection for a read of `user`: a replica that has the user's own
    /// writes, when `from` allows one and one is fresh enough, else the
    /// primary. The replica's index comes with it.
    pub(crate) async fn read_conn_for(
        &self,
        user: DbId,
        from: ReadFrom,
    ) -> Result<(Conn<'_>, Option<usize>)> {
        let replica = match (&self.replicas, from) {
            (Some(replicas), ReadFrom::AnyServer) => replicas.pick(user),
            _ => None,
        };
        let turn = self.shares.turn(user).await?;
        if let Some((index, pool)) = replica {
            match pool.get().await {
                Ok(object) => {
                    self.replica_reads.fetch_add(1, Ordering::Relaxed);
                    return Ok((Conn::new(self, object, Some(turn)), Some(index)));
                }
                Err(_) => self.replica_down(index),
            }
        }
        Ok((Conn::new(self, self.pool.get().await?, Some(turn)), None))
    }

    /// A read on replica `index` lost its connection: the replica is left
    /// out until it catches up again.
    pub(crate) fn replica_down(&self, index: usize) {
        if let Some(replicas) = &self.replicas {
            replicas.down(index);
        }
    }

    /// A connection to the primary was lost: the server may have restarted
    /// or failed over, so every idle connection is suspect. They are closed,
    /// and the next checkout connects afresh.
    pub(crate) fn forget_idle_connections(&self) {
        self.pool.retain(|_, _| false);
    }

    /// `user`'s batch committed: their reads see it from now on.
    pub(crate) fn wrote(&self, user: DbId) {
        if let Some(replicas) = &self.replicas {
            replicas.wrote(user);
        }
    }

    /// Counts statements sent (and, for the traced call running in this
    /// task, its own: [`crate::trace`]).
    pub(crate) fn count(&self, n: u64) {
        self.statements.fetch_add(n, Ordering::Relaxed);
        crate::trace::sent(n);
    }

    /// Reads that went to a replica so far.
    pub(crate) fn replica_reads(&self) -> u64 {
        self.replica_reads.load(Ordering::Relaxed)
    }

    /// Statements sent so far.
    pub(crate) fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}
