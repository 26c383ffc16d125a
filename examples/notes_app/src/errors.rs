//! Every error the app answers, as JSON `{"message","name"}` (plus `code`
//! for auth errors) with its status, in one place: the handlers' errors,
//! and the framework's own refusals (unknown route, wrong method, body too
//! large, URI or headers too long).

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// A handler error: a library error or a bad request the app itself spots.
#[derive(Debug)]
pub struct AppError(pub trombase::Error);

impl From<trombase::Error> for AppError {
    fn from(err: trombase::Error) -> Self {
        AppError(err)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let err = self.0;
        let status = StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = json!({"message": err.to_string(), "name": err.name()});
        if matches!(err, trombase::Error::Database(_) | trombase::Error::Schema(_))
            && status.is_server_error()
        {
            // Real faults are logged with their full chain; clients get nothing of it.
            let mut chain = format!("{err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                chain.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            tracing::error!(error = %chain, "request failed");
            body = json!({"message": "Internal server error", "name": "InternalError"});
        }
        if let trombase::Error::Auth(auth) = &err {
            body["code"] = json!(auth.code.as_str());
        }
        let mut response = (status, Json(body)).into_response();
        if let Some(after) = err.retry_after() {
            let seconds = after.as_secs().max(1).to_string();
            if let Ok(value) = HeaderValue::from_str(&seconds) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// The longest request target the app reads (bytes); longer is a 414.
const MAX_URI: usize = 8 * 1024;
/// The most header bytes and headers the app reads; more is a 431. (Both
/// below the HTTP server's own limits, which answer without a body.)
const MAX_HEADER_BYTES: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;

/// Refuses oversized requests with a JSON error, and gives every error
/// response the framework makes itself (404, 405, 413, ...) the JSON body
/// of the API's own errors.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let header_bytes: usize = request.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if request.uri().to_string().len() > MAX_URI {
        return framework_error(StatusCode::URI_TOO_LONG);
    }
    if request.headers().len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return framework_error(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let mut replaced = framework_error(status);
        if let Some(allow) = response.headers().get(header::ALLOW) {
            replaced.headers_mut().insert(header::ALLOW, allow.clone());
        }
        return replaced;
    }
    response
}

/// The JSON body for a status the framework answered by itself.
fn framework_error(status: StatusCode) -> Response {
    let (message, name) = match status {
        StatusCode::NOT_FOUND => ("No such route", "NotFoundError"),
        StatusCode::METHOD_NOT_ALLOWED => ("This route does not take that method", "MethodNotAllowedError"),
        StatusCode::PAYLOAD_TOO_LARGE => ("The request body is too large", "PayloadTooLargeError"),
        StatusCode::URI_TOO_LONG => ("The request URI is too long", "UriTooLongError"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            ("The request headers are too large", "HeadersTooLargeError")
        }
        s if s.is_server_error() => ("Internal server error", "InternalError"),
        _ => ("The request was refused", "RequestError"),
    };
    (status, Json(json!({"message": message, "name": name}))).into_response()
}

/// A handler's result.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    #[test]
    fn a_busy_database_is_a_503_with_retry_after() {
        let busy = trombase::Error::Busy(trombase::BusyError::new("no connection became free in time"));
        let response = AppError(busy).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("1"));
        let body = axum::body::to_bytes(response.into_body(), 1 << 16);
        let body = block_on(body).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["name"], "BusyError", "{body}");
    }
}
