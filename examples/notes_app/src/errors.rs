//! Every error a handler returns, as JSON `{"message","name"}` (plus `code`
//! for auth errors) with its status, in one place.

use axum::http::StatusCode;
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
        if status.is_server_error() {
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
        (status, Json(body)).into_response()
    }
}

/// A handler's result.
pub type AppResult<T> = Result<T, AppError>;
