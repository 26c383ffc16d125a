//! The payload of each [`Error`](super::Error) kind.

use std::fmt;

/// Bad input. `path` names where (`[2].payload.title`, `where.userId.like`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
#[non_exhaustive]
pub struct ValidationError {
    /// Where in the input the problem is; empty for the input as a whole.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// The mutation index, when inside a batch.
    pub operation: Option<usize>,
}

impl ValidationError {
    /// A validation error at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationError { path: path.into(), message: message.into(), operation: None }
    }

    fn render(&self) -> String {
        let at = match self.operation {
            Some(i) => format!("operation {i}: "),
            None => String::new(),
        };
        if self.path.is_empty() {
            format!("{at}{}", self.message)
        } else {
            format!("{at}{}: {}", self.path, self.message)
        }
    }
}

/// A permitter said no. The message is the permitter's own and reaches the
/// caller as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct PermissionError {
    /// The permitter's message.
    pub message: String,
    /// The mutation index, when inside a batch.
    pub operation: Option<usize>,
}

impl PermissionError {
    /// A denial with this message.
    pub fn new(message: impl Into<String>) -> Self {
        PermissionError { message: message.into(), operation: None }
    }
}

impl Default for PermissionError {
    fn default() -> Self {
        PermissionError::new("Permission denied")
    }
}

/// The codes of [`AuthError`], as in the TypeScript library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthErrorCode {
    /// Malformed email, short password, malformed token.
    InvalidAuthInput,
    /// Unknown email or wrong password (never says which).
    InvalidCredentials,
    /// A password-reset token that is unknown, used or expired.
    InvalidResetToken,
    /// No live session for the token.
    SessionNotFound,
    /// The email is registered already.
    UsernameTaken,
    /// Too many attempts; retry after the error's `retry_after`.
    RateLimited,
    /// The account's email is not verified yet, and the configuration
    /// requires it before login.
    EmailNotVerified,
    /// An email-verification token that is unknown, used or expired.
    InvalidVerificationToken,
}

impl AuthErrorCode {
    /// The wire form: `INVALID_AUTH_INPUT`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthErrorCode::InvalidAuthInput => "INVALID_AUTH_INPUT",
            AuthErrorCode::InvalidCredentials => "INVALID_CREDENTIALS",
            AuthErrorCode::InvalidResetToken => "INVALID_RESET_TOKEN",
            AuthErrorCode::SessionNotFound => "SESSION_NOT_FOUND",
            AuthErrorCode::UsernameTaken => "USERNAME_TAKEN",
            AuthErrorCode::RateLimited => "RATE_LIMITED",
            AuthErrorCode::EmailNotVerified => "EMAIL_NOT_VERIFIED",
            AuthErrorCode::InvalidVerificationToken => "INVALID_VERIFICATION_TOKEN",
        }
    }

    /// The HTTP status that fits the code.
    pub const fn http_status(self) -> u16 {
        match self {
            AuthErrorCode::InvalidAuthInput
            | AuthErrorCode::InvalidResetToken
            | AuthErrorCode::InvalidVerificationToken => 400,
            AuthErrorCode::InvalidCredentials | AuthErrorCode::SessionNotFound => 401,
            AuthErrorCode::EmailNotVerified => 403,
            AuthErrorCode::UsernameTaken => 409,
            AuthErrorCode::RateLimited => 429,
        }
    }
}

impl fmt::Display for AuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authentication failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct AuthError {
    /// What kind of failure.
    pub code: AuthErrorCode,
    /// A message fit for the client.
    pub message: String,
    /// For `RATE_LIMITED`: when to try again.
    pub retry_after: Option<std::time::Duration>,
}

impl AuthError {
    /// An auth error with a code and message.
    pub fn new(code: AuthErrorCode, message: impl Into<String>) -> Self {
        AuthError { code, message: message.into(), retry_after: None }
    }

    /// `RATE_LIMITED`, to be retried after `retry_after`.
    pub fn rate_limited(retry_after: std::time::Duration) -> Self {
        AuthError {
            code: AuthErrorCode::RateLimited,
            message: "too many attempts; try again later".into(),
            retry_after: Some(retry_after),
        }
    }
}

/// A row an operation needs does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
#[non_exhaustive]
pub struct NotFoundError {
    /// The logical table name.
    pub entity: String,
    /// The id that was not found, base62.
    pub id: String,
    /// The mutation index, when inside a batch.
    pub operation: Option<usize>,
}

impl NotFoundError {
    /// `entity` has no row with `id`.
    pub fn new(entity: impl Into<String>, id: impl Into<String>) -> Self {
        NotFoundError { entity: entity.into(), id: id.into(), operation: None }
    }

    fn render(&self) -> String {
        let at = self.operation.map(|i| format!("operation {i}: ")).unwrap_or_default();
        format!("{at}{} {} not found", self.entity, self.id)
    }
}

/// A constraint refused a write (a unique value taken, a referenced row missing).
#[derive(Debug, thiserror::Error)]
#[error("{}", self.render())]
#[non_exhaustive]
pub struct ConflictError {
    /// A message fit for the client (never the database's text).
    pub message: String,
    /// The constraint's name, when known.
    pub constraint: Option<String>,
    /// The mutation index, when inside a batch.
    pub operation: Option<usize>,
    /// The database error.
    #[source]
    pub source: Option<tokio_postgres::Error>,
}

impl ConflictError {
    fn render(&self) -> String {
        let at = self.operation.map(|i| format!("operation {i}: ")).unwrap_or_default();
        format!("{at}{}", self.message)
    }
}

/// The database or the connection failed. `Display` says only what the
/// library was doing; the source carries the database's detail.
#[derive(Debug, thiserror::Error)]
#[error("database error while {context}")]
#[non_exhaustive]
pub struct DatabaseError {
    /// What the library was doing (`running a select`, `connecting`).
    pub context: &'static str,
    /// The mutation index, when inside a batch.
    pub operation: Option<usize>,
    /// The underlying failure.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl DatabaseError {
    /// A database failure while doing `context`.
    pub fn new(context: &'static str, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        DatabaseError { context, operation: None, source: Some(source.into()) }
    }

    /// Whether the server cancelled a statement that ran past the statement
    /// timeout.
    pub fn is_timeout(&self) -> bool {
        self.source
            .as_deref()
            .and_then(|e| e.downcast_ref::<tokio_postgres::Error>())
            .and_then(tokio_postgres::Error::code)
            .is_some_and(|code| *code == tokio_postgres::error::SqlState::QUERY_CANCELED)
    }

    /// Whether the connection to the database was lost.
    pub fn is_connection_lost(&self) -> bool {
        self.source
            .as_deref()
            .and_then(|e| e.downcast_ref::<tokio_postgres::Error>())
            .is_some_and(super::from_db::is_lost)
    }
}

/// The database is too busy to take the request now: a wait for a
/// connection (or for one of the user's turns) timed out, or the server is
/// out of a resource. Nothing was done; the client may retry after
/// `retry_after`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct BusyError {
    /// A message fit for the client.
    pub message: String,
    /// How long a client should wait before retrying.
    pub retry_after: std::time::Duration,
    /// The underlying failure, when there is one.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl BusyError {
    /// A busy error with this message, retry after one second.
    pub fn new(message: impl Into<String>) -> Self {
        BusyError { message: message.into(), retry_after: std::time::Duration::from_secs(1), source: None }
    }

    /// The same, with its cause.
    pub fn caused_by(mut self, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }
}

/// The connection was lost after a batch's `COMMIT` was sent and before its
/// answer came: the batch may or may not have been applied. Not retried by
/// the library; the application can reconcile (the batch's insert ids are
/// its own, so looking them up tells which).
#[derive(Debug, thiserror::Error)]
#[error("the connection was lost while committing: the batch may or may not have been applied")]
#[non_exhaustive]
pub struct CommitUnknownError {
    /// The underlying failure.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The application's schema is inconsistent; names entity, relation and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema error: {message}")]
#[non_exhaustive]
pub struct SchemaError {
    /// What is wrong, naming the entity, relation and column.
    pub message: String,
}

impl SchemaError {
    /// A schema error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        SchemaError { message: message.into() }
    }
}
