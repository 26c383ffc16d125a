//! [`TromBase`]: the connection pool, the schema and the email sender, wired
//! together; and its builder.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;

use crate::auth::{Auth, AuthConfig, DatabaseLimiter, InProcessLimiter, RateLimiter};

/// Where the auth throttling counts live.
enum LimiterChoice {
    InProcess,
    Database,
    Custom(Arc<dyn RateLimiter>),
}
use crate::db::{DataCore, Db, Limits};
use crate::email::{EmailSender, LogEmailSender};
use crate::error::SchemaError;
use crate::exec::{ExecConfig, Executor, StatementMode};
use crate::permit::EntityHandle;
use crate::query::ReadLimits;
use crate::render::RenderCache;
use crate::schema::Schema;
use crate::{Entity, Result};

/// A connected TromBase: a PostgreSQL pool, the application's schema and its
/// email sender. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct TromBase {
    /// Entity data: `trom.db.with_session(&session)`.
    pub db: Db,
    /// Registration, login, sessions and password resets.
    pub auth: Auth,
    core: Arc<DataCore>,
}

impl std::fmt::Debug for TromBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TromBase").field("schema", &self.core.schema).finish_non_exhaustive()
    }
}

impl TromBase {
    /// Starts configuring a TromBase.
    pub fn builder() -> TromBaseBuilder {
        TromBaseBuilder::default()
    }

    /// The checked schema.
    pub fn schema(&self) -> &Schema {
        &self.core.schema
    }

    /// How many statements the library has sent to the database so far
    /// (diagnostics and tests: a select is one statement).
    pub fn statements_executed(&self) -> u64 {
        self.core.exec.statements()
    }

    /// How many reads a read replica has answered so far (diagnostics: the
    /// rest went to the primary).
    pub fn replica_reads(&self) -> u64 {
        self.core.exec.replica_reads()
    }

    /// The connection pool, for the application's own queries.
    pub fn pool(&self) -> &Pool {
        self.core.exec.pool()
    }

    /// The guard rails of untrusted input.
    pub(crate) fn limits(&self) -> &crate::db::Limits {
        &self.core.limits
    }

    /// The statement strategy in use.
    pub fn statement_mode(&self) -> StatementMode {
        self.core.exec.mode()
    }

    /// Creates the schema's tables (with keys and indexes) and the auth
    /// tables, where missing, in one transaction. Safe to call at every
    /// start-up and from several processes at once.
    ///
    /// PostgreSQL's notices about what exists already ("relation ...
    /// already exists, skipping") are not sent; what exists is logged at
    /// DEBUG instead (target `trombase::schema`).
    pub async fn create_tables(&self) -> Result<()> {
        let span = crate::trace::schema_span("create_tables");
        crate::trace::run(span, crate::bootstrap::create_tables(&self.core.exec, &self.core.schema)).await
    }
}

/// Configures and connects a [`TromBase`].
///
/// ```no_run
/// # async fn run() -> trombase_core::Result<()> {
/// use std::time::Duration;
/// let trom = trombase_core::TromBase::builder()
///     .database_url("postgres://postgres@127.0.0.1:5432/postgres")
///     .max_connections(16)
///     .wait_timeout(Duration::from_secs(5))
///     .connect()
///     .await?;
/// trom.create_tables().await?;
/// # Ok(()) }
/// ```
pub struct TromBaseBuilder {
    database_url: Option<String>,
    entities: Vec<EntityHandle>,
    max_connections: usize,
    per_user_connections: usize,
    statement_mode: StatementMode,
    replicas: Vec<String>,
    replica_max_lag: Duration,
    wait_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    statement_timeout: Option<Duration>,
    email: Arc<dyn EmailSender>,
    limits: Limits,
    auth: AuthConfig,
    limiter: LimiterChoice,
}

impl Default for TromBaseBuilder {
    fn default() -> Self {
        TromBaseBuilder {
            database_url: None,
            entities: Vec::new(),
            max_connections: 16,
            per_user_connections: 4,
            statement_mode: StatementMode::default(),
            replicas: Vec::new(),
            replica_max_lag: Duration::from_secs(1),
            wait_timeout: Some(Duration::from_secs(10)),
            connect_timeout: Some(Duration::from_secs(10)),
            statement_timeout: Some(Duration::from_secs(30)),
            email: Arc::new(LogEmailSender),
            limits: Limits::default(),
            auth: AuthConfig::default(),
            limiter: LimiterChoice::InProcess,
        }
    }
}

impl TromBaseBuilder {
    /// The PostgreSQL URL (`postgres://user:pass@host:port/db`) or key-value
    /// connection string. Required.
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    /// Registers an entity.
    pub fn entity<E: Entity>(mut self) -> Self {
        self.entities.push(EntityHandle::of::<E>());
        self
    }

    /// The most connections the pool opens (default 16).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// The most connections one user's requests hold at once (default 4):
    /// past it, that user's requests wait their turn (up to the wait
    /// timeout, then a busy error) while other users are served. One
    /// account, however many sessions it opens, cannot take the whole pool.
    pub fn per_user_connections(mut self, n: usize) -> Self {
        self.per_user_connections = n.max(1);
        self
    }

    /// How statements are sent (default [`StatementMode::Cached`]; use
    /// [`StatementMode::Unnamed`] behind a transaction-pooling proxy).
    pub fn statement_mode(mut self, mode: StatementMode) -> Self {
        self.statement_mode = mode;
        self
    }

    /// A streaming-replication read replica (call once per replica). Reads
    /// go to a replica that has replayed the reading user's own writes and
    /// is at most [`replica_max_lag`](Self::replica_max_lag) behind; all
    /// other reads, every write, auth and table creation go to the primary
    /// (`database_url`). A replica that is down or lagging is left out until
    /// it catches up. Read-your-writes holds for writes made through this
    /// process.
    pub fn read_replica(mut self, url: impl Into<String>) -> Self {
        self.replicas.push(url.into());
        self
    }

    /// How far behind the primary a replica may be and still answer reads
    /// (default 1 s).
    pub fn replica_max_lag(mut self, lag: Duration) -> Self {
        self.replica_max_lag = lag;
        self
    }

    /// How long a request waits for a free connection (or for one of its
    /// user's turns) before failing with a busy error (default 10 s; `None`
    /// waits forever).
    pub fn wait_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.wait_timeout = timeout.into();
        self
    }

    /// How long opening a new connection may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// The longest any one statement may run before the server cancels it
    /// (default 30 s; `None` for the server's setting). A cancelled statement
    /// is an [`Error::Database`](crate::Error::Database) whose `is_timeout()` is true; a read or batch
    /// it belonged to changes nothing.
    ///
    /// Directly on the server it is a setting of each connection. Behind a
    /// pooler every transaction carries it (`SET LOCAL`), and reads run in a
    /// transaction for it, unless every server connection already starts
    /// with exactly this timeout (`ALTER ROLE app SET statement_timeout =
    /// '30s'`, read when the library connects) and no replica is configured.
    pub fn statement_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.statement_timeout = timeout.into();
        self
    }

    /// Where the library's emails go (default: [`LogEmailSender`]).
    pub fn email_sender(mut self, sender: impl EmailSender) -> Self {
        self.email = Arc::new(sender);
        self
    }

    /// Session and reset-token lifetimes, password hashing parameters.
    pub fn auth_config(mut self, config: AuthConfig) -> Self {
        self.auth = config;
        self
    }

    /// Guard rails for untrusted JSON reads (depth, default and maximum
    /// limit, `in` list length, and the cost budget: rows, filter terms and
    /// parameters per query).
    pub fn read_limits(mut self, limits: ReadLimits) -> Self {
        self.limits.reads = limits;
        self
    }

    /// The most mutations one JSON batch may hold (default 10,000).
    pub fn max_batch_size(mut self, n: usize) -> Self {
        self.limits.max_batch = n;
        self
    }

    /// Keeps the auth throttling counts in the database
    /// ([`DatabaseLimiter`]), so that every instance of the app on this
    /// database shares them. (The default counts in this process.)
    pub fn rate_limits_in_database(mut self) -> Self {
        self.limiter = LimiterChoice::Database;
        self
    }

    /// Keeps the auth throttling counts in a store of the app's own.
    pub fn rate_limiter(mut self, limiter: impl RateLimiter) -> Self {
        self.limiter = LimiterChoice::Custom(Arc::new(limiter));
        self
    }

    /// Checks the schema, builds the pool and makes sure the database answers.
    pub async fn connect(self) -> Result<TromBase> {
        let schema = Schema::from_handles(self.entities)?;
        let url = self.database_url.ok_or_else(|| SchemaError::new("no database URL was configured"))?;
        let exec = Arc::new(
            Executor::connect(ExecConfig {
                url,
                max_connections: self.max_connections,
                per_user_connections: self.per_user_connections,
                wait_timeout: self.wait_timeout,
                connect_timeout: self.connect_timeout,
                statement_timeout: self.statement_timeout,
                mode: self.statement_mode,
                replicas: self.replicas,
                replica_max_lag: self.replica_max_lag,
            })
            .await?,
        );
        let limiter: Arc<dyn RateLimiter> = match self.limiter {
            LimiterChoice::InProcess => Arc::new(InProcessLimiter::new()),
            LimiterChoice::Database => Arc::new(DatabaseLimiter::new(Arc::clone(&exec))),
            LimiterChoice::Custom(limiter) => limiter,
        };
        let auth = Auth::new(Arc::clone(&exec), self.auth, self.email, limiter);
        let core = Arc::new(DataCore { exec, schema, renders: RenderCache::default(), limits: self.limits });
        Ok(TromBase { db: Db::new(Arc::clone(&core)), auth, core })
    }
}
