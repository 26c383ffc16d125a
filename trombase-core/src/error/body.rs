//! The JSON view of an [`Error`]: the body every HTTP error response of the
//! API carries, `{"message","name"}` plus `code` for auth errors, as the
//! TypeScript library's clients read it.

use serde::{Deserialize, Serialize};

use super::Error;

/// The JSON body of an error response.
///
/// ```
/// use trombase_core::{Error, ErrorBody};
/// let body = Error::validation("where.title", "unknown field of `notes`").body();
/// assert_eq!(body, ErrorBody::new("where.title: unknown field of `notes`", "ValidationError"));
/// assert_eq!(
///     serde_json::to_string(&body).unwrap(),
///     r#"{"message":"where.title: unknown field of `notes`","name":"ValidationError"}"#,
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, safe to show to the client.
    pub message: String,
    /// The kind of error (`ValidationError`, `AuthError`, ...).
    pub name: String,
    /// The auth error code (`SESSION_NOT_FOUND`, ...), for auth errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl ErrorBody {
    /// A body without a code.
    pub fn new(message: impl Into<String>, name: impl Into<String>) -> Self {
        ErrorBody { message: message.into(), name: name.into(), code: None }
    }

    /// The body of a 500: nothing of the fault itself.
    pub fn internal() -> Self {
        ErrorBody::new("Internal server error", "InternalError")
    }
}

impl Error {
    /// Whether this is a fault of the server (a database or schema failure,
    /// not a busy database): its detail is for the logs, never the client.
    pub fn is_server_fault(&self) -> bool {
        match self {
            Error::Database(err) => !err.is_timeout(),
            Error::Schema(_) => true,
            _ => false,
        }
    }

    /// The JSON body a client gets for this error. Server faults get a
    /// generic body ([`ErrorBody::internal`]); log them with
    /// [`report`](Self::report).
    pub fn body(&self) -> ErrorBody {
        if self.is_server_fault() {
            return ErrorBody::internal();
        }
        let mut body = ErrorBody::new(self.to_string(), self.name());
        if let Error::Auth(auth) = self {
            body.code = Some(auth.code.as_str().to_owned());
        }
        body
    }

    /// [`body`](Self::body) as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.body()).unwrap_or_default()
    }

    /// The error with its whole source chain, for logs (may hold database
    /// error text: never send it to a client).
    pub fn report(&self) -> String {
        let mut chain = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        chain
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuthError, AuthErrorCode, DatabaseError};

    #[test]
    fn auth_errors_carry_their_code() {
        let body = Error::Auth(AuthError::new(AuthErrorCode::SessionNotFound, "no live session")).body();
        assert_eq!(body.code.as_deref(), Some("SESSION_NOT_FOUND"));
        assert_eq!(body.name, "AuthError");
    }

    #[test]
    fn server_faults_hide_their_detail_but_report_it() {
        let err =
            Error::Database(DatabaseError::new("running a select", "relation \"secret\" does not exist"));
        assert!(err.is_server_fault());
        assert_eq!(err.body(), ErrorBody::internal());
        assert!(err.report().contains("relation \"secret\" does not exist"), "{}", err.report());
    }
}
