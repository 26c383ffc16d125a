//! What the API answers: a status, a JSON body, and the headers that go
//! with some statuses. Frameworks copy it into their own response type.

use serde::Serialize;

use crate::{Error, ErrorBody};

/// A response of the JSON API. The body is always JSON
/// (`application/json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Vec<u8>,
    /// `Retry-After` in seconds, for "not now" errors.
    pub retry_after: Option<u64>,
    /// `Allow`, for a 405.
    pub allow: Option<&'static str>,
}

impl Response {
    /// A 200 with `value` as its body.
    pub fn ok(value: &impl Serialize) -> Response {
        match serde_json::to_vec(value) {
            Ok(body) => Response { status: 200, body, retry_after: None, allow: None },
            Err(err) => {
                Response::error(&Error::Database(crate::DatabaseError::new("encoding a response", err)))
            }
        }
    }

    /// A `200` whose body is JSON text already written.
    pub fn json(body: Vec<u8>) -> Response {
        Response { status: 200, body, retry_after: None, allow: None }
    }

    /// The response for `err`: its status and [`Error::body`]. Server faults
    /// are logged here with their whole chain and answered with a generic
    /// body.
    pub fn error(err: &Error) -> Response {
        if err.is_server_fault() {
            tracing::error!(error = %err.report(), "request failed");
        }
        let retry_after = err.retry_after().map(|after| after.as_secs().max(1));
        Response { retry_after, ..Response::with_body(err.http_status(), &err.body()) }
    }

    /// The JSON error response for a status the web framework or the API's
    /// routing answers itself (404, 405, 413, 414, 431, ...).
    pub fn status(status: u16) -> Response {
        let (message, name) = match status {
            404 => ("No such route", "NotFoundError"),
            405 => ("This route does not take that method", "MethodNotAllowedError"),
            413 => ("The request body is too large", "PayloadTooLargeError"),
            414 => ("The request URI is too long", "UriTooLongError"),
            431 => ("The request headers are too large", "HeadersTooLargeError"),
            500.. => return Response::with_body(status, &ErrorBody::internal()),
            _ => ("The request was refused", "RequestError"),
        };
        Response::with_body(status, &ErrorBody::new(message, name))
    }

    /// A 405 naming the methods the route takes.
    pub fn method_not_allowed(allow: &'static str) -> Response {
        Response { allow: Some(allow), ..Response::status(405) }
    }

    fn with_body(status: u16, body: &ErrorBody) -> Response {
        let body = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
        Response { status, body, retry_after: None, allow: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BusyError;

    #[test]
    fn a_busy_database_is_a_503_with_retry_after() {
        let response = Response::error(&Error::Busy(BusyError::new("no connection became free in time")));
        assert_eq!((response.status, response.retry_after), (503, Some(1)));
        let body: ErrorBody = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body.name, "BusyError");
    }

    #[test]
    fn framework_statuses_get_the_same_body() {
        let body: ErrorBody = serde_json::from_slice(&Response::status(404).body).unwrap();
        assert_eq!(body, ErrorBody::new("No such route", "NotFoundError"));
        assert_eq!(Response::method_not_allowed("POST").allow, Some("POST"));
    }
}
