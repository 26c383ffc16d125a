//! The one error type of the library, with kinds a caller can match on and
//! map to HTTP in one `match`.
//!
//! Messages (`Display`) are safe to show to clients: database error text
//! never appears in them. The full detail stays in the source chain
//! ([`std::error::Error::source`]) for logs.

mod body;
pub(crate) mod from_db;
mod kinds;

pub use body::ErrorBody;

pub use kinds::{
    AuthError, AuthErrorCode, BusyError, CommitUnknownError, ConflictError, DatabaseError, NotFoundError,
    PermissionError, SchemaError, ValidationError,
};

/// A `Result` with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the library.
///
/// ```
/// use trombase_core::Error;
/// fn status(err: &Error) -> u16 {
///     match err {
///         Error::Validation(_) => 400,
///         Error::Auth(_) => 401,
///         Error::Permission(_) => 403,
///         Error::NotFound(_) => 404,
///         Error::Conflict(_) => 409,
///         _ => 500,
///     }
/// }
/// # let _ = status;
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad input: a malformed or mistyped query, mutation or value. Says
    /// where (`path`) and what.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A permitter denied the operation; its message is shown.
    #[error(transparent)]
    Permission(#[from] PermissionError),
    /// An authentication failure, with its code.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A row that an operation needs does not exist.
    #[error(transparent)]
    NotFound(#[from] NotFoundError),
    /// A unique or foreign-key constraint refused the write.
    #[error(transparent)]
    Conflict(#[from] ConflictError),
    /// The database is too busy now (a pool wait timed out, or one user's
    /// share of the pool is in use); retry later.
    #[error(transparent)]
    Busy(#[from] BusyError),
    /// The connection was lost while a batch committed: it may or may not
    /// have been applied.
    #[error(transparent)]
    CommitUnknown(#[from] CommitUnknownError),
    /// The database or the connection failed. The message is generic; the
    /// source holds the detail.
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// The application's schema is inconsistent (found when it is built).
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

impl Error {
    /// The HTTP status that fits this error: 400, 401, 403, 404, 409, 429, 503
    /// (busy, or a statement that ran past the statement timeout) or 500.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::Validation(_) => 400,
            Error::Auth(err) => err.code.http_status(),
            Error::Permission(_) => 403,
            Error::NotFound(_) => 404,
            Error::Conflict(_) => 409,
            Error::Busy(_) => 503,
            Error::Database(err) if err.is_timeout() => 503,
            Error::CommitUnknown(_) | Error::Database(_) | Error::Schema(_) => 500,
        }
    }

    /// How long a client should wait before retrying, for errors that say
    /// "not now" (busy, statement timeout); `None` for the rest.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::Busy(err) => Some(err.retry_after),
            Error::Auth(err) => err.retry_after,
            Error::Database(err) if err.is_timeout() => Some(std::time::Duration::from_secs(1)),
            _ => None,
        }
    }

    /// The index of the mutation (in its batch) that failed, when the error
    /// comes from `do_mutations`.
    pub fn operation(&self) -> Option<usize> {
        match self {
            Error::Validation(err) => err.operation,
            Error::Permission(err) => err.operation,
            Error::NotFound(err) => err.operation,
            Error::Conflict(err) => err.operation,
            Error::Database(err) => err.operation,
            Error::Auth(_) | Error::Busy(_) | Error::CommitUnknown(_) | Error::Schema(_) => None,
        }
    }

    /// Tags the error with the index of the mutation that caused it.
    pub fn at_operation(mut self, index: usize) -> Self {
        match &mut self {
            Error::Validation(err) => err.operation = Some(index),
            Error::Permission(err) => err.operation = Some(index),
            Error::NotFound(err) => err.operation = Some(index),
            Error::Conflict(err) => err.operation = Some(index),
            Error::Database(err) => err.operation = Some(index),
            Error::Auth(_) | Error::Busy(_) | Error::CommitUnknown(_) | Error::Schema(_) => {}
        }
        self
    }

    /// A short name of the kind (`ValidationError`, `PermissionError`, ...),
    /// as the JSON error bodies of the HTTP API carry it.
    pub fn name(&self) -> &'static str {
        match self {
            Error::Validation(_) => "ValidationError",
            Error::Permission(_) => "PermissionError",
            Error::Auth(_) => "AuthError",
            Error::NotFound(_) => "NotFoundError",
            Error::Conflict(_) => "ConflictError",
            Error::Busy(_) => "BusyError",
            Error::CommitUnknown(_) => "CommitUnknownError",
            Error::Database(_) => "DatabaseError",
            Error::Schema(_) => "SchemaError",
        }
    }

    /// Whether the connection was lost before anything was committed (a
    /// read, or a batch before its `COMMIT` was sent): safe to run again on
    /// another connection.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self, Error::Database(err) if err.is_connection_lost())
    }

    /// A [`ValidationError`] for a JSON object key that is not one of
    /// `expected`, listing the keys that are.
    pub fn unknown_key(path: impl Into<String>, expected: &[&str]) -> Self {
        Error::validation(path, format!("unknown key; expected one of: {}", expected.join(", ")))
    }

    /// Shorthand for a [`ValidationError`] at `path`.
    pub fn validation(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(ValidationError::new(path, message))
    }
}
