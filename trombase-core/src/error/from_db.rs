//! SQLSTATE -> error kind, in one place.

use tokio_postgres::error::SqlState;

use super::{ConflictError, DatabaseError, Error};

impl Error {
    /// Classifies a database error: unique and foreign-key violations become
    /// [`Error::Conflict`], everything else [`Error::Database`]. The message
    /// never carries the database's text.
    pub fn from_db(err: tokio_postgres::Error, context: &'static str) -> Self {
        let Some(db) = err.as_db_error() else {
            return Error::Database(DatabaseError::new(context, err));
        };
        let constraint = db.constraint().map(str::to_owned);
        let message = match *db.code() {
            SqlState::UNIQUE_VIOLATION => "a row with this value already exists",
            SqlState::FOREIGN_KEY_VIOLATION => {
                "the row references a row that does not exist, or is referenced by another row"
            }
            _ => return Error::Database(DatabaseError::new(context, err)),
        };
        Error::Conflict(ConflictError {
            message: message.to_owned(),
            constraint,
            operation: None,
            source: Some(err),
        })
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        Error::Database(DatabaseError::new("getting a connection from the pool", err))
    }
}
