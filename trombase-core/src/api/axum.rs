//! axum integration (feature `axum`): [`SessionDb`] and [`Session`] as
//! extractors, [`Error`] as a response, and the whole JSON API as a
//! [`Router`] to merge into an app.
//!
//! ```no_run
//! use axum::routing::get;
//! use axum::{Json, Router};
//! use trombase::{SessionDb, TromBase};
//!
//! async fn me(db: SessionDb) -> trombase::Result<Json<serde_json::Value>> {
//!     Ok(Json(serde_json::json!({ "userId": db.session().user_id })))
//! }
//!
//! # async fn run(trom: TromBase) {
//! let app: Router = Router::new()
//!     .merge(trombase::api::axum::router(trom.clone())) // /api/auth/..., /api/db/..., /api/openapi.json
//!     .route("/me", get(me))
//!     .fallback(trombase::api::axum::not_found)
//!     .with_state(trom);
//! # let _ = app; }
//! ```

use axum::body::Body;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;

use super::{
    allowed_methods, refuse_oversized, replace_bare_error, routes_by_path, session_token, Api, Method,
    Request as ApiRequest, Response, MAX_BODY_BYTES,
};
use crate::{Error, Session, SessionDb, TromBase};

/// The JSON API of SPEC §9 (every route of [`ENDPOINTS`](super::ENDPOINTS)) as a router over
/// any state. Each route answers its own errors as JSON, a wrong method
/// with a JSON 405 included.
pub fn router<S: Clone + Send + Sync + 'static>(trom: TromBase) -> Router<S> {
    let api = Api::new(trom);
    let mut router = Router::new();
    for (path, endpoints) in routes_by_path() {
        let mut methods: MethodRouter<S> = MethodRouter::new();
        for endpoint in endpoints {
            let (api, route) = (api.clone(), endpoint.route);
            let filter = match endpoint.method {
                Method::Get => MethodFilter::GET,
                Method::Post => MethodFilter::POST,
            };
            let handler = move |request: Request| async move { serve(&api, route, request).await };
            methods = methods.merge(on(filter, handler));
        }
        let allow = allowed_methods(path);
        methods = methods.fallback(move || async move { into_response(Response::method_not_allowed(allow)) });
        router = router.route(path, methods);
    }
    router
}

async fn serve(api: &Api, route: super::Route, request: Request) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(response) => return into_response(response),
    };
    // The peer address, when the app serves with
    // `into_make_service_with_connect_info::<SocketAddr>()`.
    let client = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip().to_string());
    let request = ApiRequest {
        token: token(&parts.headers),
        query: parts.uri.query(),
        body: &body,
        client: client.as_deref(),
    };
    into_response(api.handle(route, request).await)
}

/// The body, at most [`MAX_BODY_BYTES`] of it (more: a 413).
async fn read_body(body: Body) -> Result<axum::body::Bytes, Response> {
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|err| {
        let too_large = err.into_inner().is::<http_body_util::LengthLimitError>();
        Response::status(if too_large { 413 } else { 400 })
    })
}

fn token(headers: &HeaderMap) -> Option<&str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    session_token(header(header::AUTHORIZATION.as_str()), header("x-session-token"))
}

/// The API's response as axum's.
pub fn into_response(response: Response) -> axum::response::Response {
    let mut out = axum::response::Response::new(Body::from(response.body));
    *out.status_mut() = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = out.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(seconds) = response.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if let Some(allow) = response.allow {
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    out
}

/// Errors answer with their status and JSON body; server faults are
/// logged and answered with a generic body.
impl axum::response::IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        into_response(Response::error(&self))
    }
}

/// The live session of the request (`Authorization: Bearer` or
/// `x-session-token`); a 401 with the standard body when there is none.
impl<S: Send + Sync> FromRequestParts<S> for Session
where
    TromBase: FromRef<S>,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let trom = TromBase::from_ref(state);
        trom.auth.require_session(token(&parts.headers).unwrap_or("")).await
    }
}

/// The data handle of the request's live session; a 401 with the standard
/// body when there is none.
impl<S: Send + Sync> FromRequestParts<S> for SessionDb
where
    TromBase: FromRef<S>,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        Ok(TromBase::from_ref(state).db.with_session(&session))
    }
}

/// A JSON 404, for an app's `fallback`.
pub async fn not_found() -> axum::response::Response {
    into_response(Response::status(404))
}

/// Middleware (`axum::middleware::from_fn(json_errors)`) that refuses
/// oversized request targets (414) and headers (431) with the API's JSON
/// error body ([`refuse_oversized`]), and gives every error response
/// without a JSON body (the framework's own 404, 405, 413, ...) that body.
pub async fn json_errors(request: Request, next: Next) -> axum::response::Response {
    let uri_bytes = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    let headers = request.headers().iter().map(|(name, value)| (name.as_str().len(), value.len()));
    if let Some(refusal) = refuse_oversized(uri_bytes, headers) {
        return into_response(refusal);
    }
    let response = next.run(request).await;
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let Some(replacement) = replace_bare_error(response.status().as_u16(), content_type) else {
        return response;
    };
    let mut replaced = into_response(replacement);
    if let Some(allow) = response.headers().get(header::ALLOW) {
        replaced.headers_mut().insert(header::ALLOW, allow.clone());
    }
    replaced
}
