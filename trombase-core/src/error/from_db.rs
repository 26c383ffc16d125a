//! SQLSTATE -> error kind, in one place.
//!
//! What a client can cause is a client error: values the server refuses
//! (class 22) and requests past the server's limits (class 54) are
//! validation errors; a server out of resources (class 53), refusing
//! connections for now, or a transaction that lost a race (40001, 40P01)
//! is busy; unique and foreign-key violations are conflicts. Everything
//! else is a database error. No message carries the database's text.

use tokio_postgres::error::SqlState;

use super::{BusyError, ConflictError, DatabaseError, Error, ValidationError};

impl Error {
    /// Classifies a database error (see the module docs). `context` says
    /// what the library was doing; the original error stays the source.
    pub fn from_db(err: tokio_postgres::Error, context: &'static str) -> Self {
        let Some(db) = err.as_db_error() else {
            return Error::Database(DatabaseError::new(context, err));
        };
        let code = db.code().code();
        let class = &code[..2.min(code.len())];
        let conflict = |message: &str, err: tokio_postgres::Error| {
            let constraint = err.as_db_error().and_then(|d| d.constraint()).map(str::to_owned);
            Error::Conflict(ConflictError {
                message: message.to_owned(),
                constraint,
                operation: None,
                source: Some(err),
            })
        };
        match *db.code() {
            SqlState::UNIQUE_VIOLATION => return conflict("a row with this value already exists", err),
            SqlState::FOREIGN_KEY_VIOLATION => {
                return conflict(
                    "the row references a row that does not exist, or is referenced by another row",
                    err,
                )
            }
            SqlState::T_R_SERIALIZATION_FAILURE | SqlState::T_R_DEADLOCK_DETECTED => {
                return BusyError::new("the request collided with a concurrent one; try again")
                    .caused_by(err)
                    .into()
            }
            SqlState::CANNOT_CONNECT_NOW => {
                return BusyError::new("the database is not taking requests right now").caused_by(err).into()
            }
            _ => {}
        }
        match class {
            "22" => Error::Validation(ValidationError::new(
                "",
                format!(
                    "the database refused a value of the request: {} (SQLSTATE {code})",
                    data_exception(code)
                ),
            )),
            "54" => Error::Validation(ValidationError::new(
                "",
                format!("the request is too large or too complex for the database (SQLSTATE {code})"),
            )),
            "53" => BusyError::new("the database is out of resources right now").caused_by(err).into(),
            _ => Error::Database(DatabaseError::new(context, err)),
        }
    }
}

/// Whether the connection is gone: closed, or the server ending it
/// (`57P01`..`57P05`: terminated, shutting down, crashed).
pub(crate) fn is_lost(err: &tokio_postgres::Error) -> bool {
    err.is_closed() || err.as_db_error().is_some_and(|d| d.code().code().starts_with("57P"))
}

/// What a data exception means, in the library's words.
fn data_exception(code: &str) -> &'static str {
    match code {
        "22025" | "22019" | "2200C" => "a pattern has an invalid escape",
        "22001" => "a value is too long",
        "22003" => "a number is out of range",
        "22007" | "22008" => "a date or time is invalid or out of range",
        "22012" => "division by zero",
        "22021" | "22P05" => "a text value holds a character the database cannot store",
        "22P02" => "a value is not of the expected form",
        _ => "a value is invalid here",
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        match err {
            deadpool_postgres::PoolError::Timeout(_) => {
                BusyError::new("no database connection became free in time; try again shortly")
                    .caused_by(err)
                    .into()
            }
            err => Error::Database(DatabaseError::new("getting a connection from the pool", err)),
        }
    }
}
