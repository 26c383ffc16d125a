//! The JSON API of the reference app (SPEC §9), framework-free: the routes,
//! what each one does, and the OpenAPI document describing them. The
//! `axum` and `actix-web` features serve it; any other framework can too,
//! by handing [`Api::handle`] the route, the session token, the query string
//! and the body.
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `POST /api/auth/register`, `POST /api/auth/login` | `{"email","password"}` | `{"user","session"}` |
//! | `POST /api/auth/logout` | `{"token"}` | `{"invalidated"}` |
//! | `POST /api/auth/request-password-reset` | `{"email"}` | `{"accepted":true}` |
//! | `POST /api/auth/validate-password-reset` | `{"token","newPassword"}` | `{"user","session"}` |
//! | `POST /api/auth/change-password` (session) | `{"currentPassword","newPassword"}` | the user |
//! | `GET /api/auth/sessions` (session) | | the user's live sessions |
//! | `POST /api/auth/end-sessions` (session) | | `{"ended":n}`: every session, this one included |
//! | `POST /api/auth/request-email-verification` (session) | | `{"accepted":true}` |
//! | `POST /api/auth/verify-email` | `{"token"}` | the user |
//! | `POST /api/db/mutations` (session) | the mutation list | `{}` |
//! | `GET /api/db/select?action[table]=...` (session) | | rows |
//! | `POST /api/db/select` (session) | `{"action":{...}}` | rows |
//! | `GET /api/openapi.json` | | the OpenAPI 3.1 document |
//!
//! The session comes from `Authorization: Bearer <token>` or
//! `x-session-token` ([`session_token`]). Every error is JSON
//! `{"message","name"}` (plus `code` for auth errors) with the status of
//! [`Error::http_status`](crate::Error::http_status).
//!
//! ```no_run
//! use trombase_core::api::{Api, Request, Route};
//! # async fn run(trom: trombase_core::TromBase) {
//! let api = Api::new(trom);
//! let response = api
//!     .handle(Route::Login, Request::body(br#"{"email":"a@example.com","password":"longenough"}"#))
//!     .await;
//! assert_eq!(response.status, 401);
//! # }
//! ```

mod bodies;
mod openapi;
mod query_string;
mod response;
mod token;

#[cfg(feature = "actix-web")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;

use std::sync::Arc;

pub use query_string::select_action;
pub use response::Response;
pub use token::{session_token, TOKEN_HEADERS};

use crate::{Error, Result, SessionDb, TromBase};
use bodies::{ChangePasswordBody, Credentials, EmailBody, NewPasswordBody, SelectBody, TokenBody};

/// The most bytes of a request body the API reads; more is a 413.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// The longest request target (path and query) the `json_errors`
/// middlewares let through; longer is a 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes the `json_errors` middlewares let through; more
/// is a 431. (Below the HTTP servers' own limits, which answer without a
/// body.)
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The most headers the `json_errors` middlewares let through; more is a 431.
pub const MAX_HEADERS: usize = 64;

/// The JSON refusal of a request whose target or headers are too large:
/// 414 past [`MAX_URI_BYTES`], 431 past [`MAX_HEADERS`] or
/// [`MAX_HEADER_BYTES`] (`headers` as `(name, value)` lengths; each
/// header counts its name, value and 4 bytes).
pub fn refuse_oversized(uri_bytes: usize, headers: impl Iterator<Item = (usize, usize)>) -> Option<Response> {
    if uri_bytes > MAX_URI_BYTES {
        return Some(Response::status(414));
    }
    let (count, bytes) =
        headers.fold((0, 0), |(count, bytes), (name, value)| (count + 1, bytes + name + value + 4));
    (count > MAX_HEADERS || bytes > MAX_HEADER_BYTES).then(|| Response::status(431))
}

/// The JSON error response that replaces a bare error response (an error
/// status whose body is not JSON: a web framework's own 404, 405, 413,
/// ...), so every error a client gets has the API's body; `None` for
/// responses that keep theirs.
pub fn replace_bare_error(status: u16, content_type: Option<&str>) -> Option<Response> {
    let is_json = content_type.is_some_and(|v| v.starts_with("application/json"));
    (status >= 400 && !is_json).then(|| Response::status(status))
}

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// `POST /api/auth/register`.
    Register,
    /// `POST /api/auth/login`.
    Login,
    /// `POST /api/auth/logout`.
    Logout,
    /// `POST /api/auth/request-password-reset`.
    RequestPasswordReset,
    /// `POST /api/auth/validate-password-reset`.
    ValidatePasswordReset,
    /// `POST /api/auth/change-password`.
    ChangePassword,
    /// `GET /api/auth/sessions`.
    Sessions,
    /// `POST /api/auth/end-sessions`.
    EndSessions,
    /// `POST /api/auth/request-email-verification`.
    RequestEmailVerification,
    /// `POST /api/auth/verify-email`.
    VerifyEmail,
    /// `POST /api/db/mutations`.
    Mutations,
    /// `POST /api/db/select`, the action in the body.
    SelectPost,
    /// `GET /api/db/select`, the action in the query string.
    SelectGet,
    /// `GET /api/openapi.json`.
    OpenApi,
}

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

/// One route of the API: method, path, and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The method.
    pub method: Method,
    /// The path, from the root (`/api/auth/login`).
    pub path: &'static str,
    /// What it does.
    pub route: Route,
}

/// Every route of the API, as a framework registers them.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint { method: Method::Post, path: "/api/auth/register", route: Route::Register },
    Endpoint { method: Method::Post, path: "/api/auth/login", route: Route::Login },
    Endpoint { method: Method::Post, path: "/api/auth/logout", route: Route::Logout },
    Endpoint {
        method: Method::Post,
        path: "/api/auth/request-password-reset",
        route: Route::RequestPasswordReset,
    },
    Endpoint {
        method: Method::Post,
        path: "/api/auth/validate-password-reset",
        route: Route::ValidatePasswordReset,
    },
    Endpoint { method: Method::Post, path: "/api/auth/change-password", route: Route::ChangePassword },
    Endpoint { method: Method::Get, path: "/api/auth/sessions", route: Route::Sessions },
    Endpoint { method: Method::Post, path: "/api/auth/end-sessions", route: Route::EndSessions },
    Endpoint {
        method: Method::Post,
        path: "/api/auth/request-email-verification",
        route: Route::RequestEmailVerification,
    },
    Endpoint { method: Method::Post, path: "/api/auth/verify-email", route: Route::VerifyEmail },
    Endpoint { method: Method::Post, path: "/api/db/mutations", route: Route::Mutations },
    Endpoint { method: Method::Get, path: "/api/db/select", route: Route::SelectGet },
    Endpoint { method: Method::Post, path: "/api/db/select", route: Route::SelectPost },
    Endpoint { method: Method::Get, path: "/api/openapi.json", route: Route::OpenApi },
];

/// The distinct paths of [`ENDPOINTS`], each with its endpoints: what a
/// framework registers a route (with its methods) for.
pub fn routes_by_path() -> impl Iterator<Item = (&'static str, impl Iterator<Item = &'static Endpoint>)> {
    let mut paths: Vec<&'static str> = ENDPOINTS.iter().map(|e| e.path).collect();
    paths.sort_unstable();
    paths.dedup();
    paths.into_iter().map(|path| (path, ENDPOINTS.iter().filter(move |e| e.path == path)))
}

/// The methods a path takes, for the `Allow` header of a 405.
pub fn allowed_methods(path: &str) -> &'static str {
    match path {
        "/api/db/select" => "GET, POST",
        "/api/openapi.json" | "/api/auth/sessions" => "GET",
        _ => "POST",
    }
}

/// What a framework hands the API of one request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// The session token ([`session_token`] of the headers).
    pub token: Option<&'a str>,
    /// The raw query string (without `?`).
    pub query: Option<&'a str>,
    /// The body (at most [`MAX_BODY_BYTES`]).
    pub body: &'a [u8],
    /// The client's key for the auth throttling: its IP address, or what
    /// the app trusts to tell clients apart (see
    /// [`Auth::with_client`](crate::Auth::with_client)).
    pub client: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A request with only a body.
    pub fn body(body: &'a [u8]) -> Self {
        Request { body, ..Request::default() }
    }
}

/// The JSON API over one [`TromBase`]: cheap to clone, shared by every
/// request.
#[derive(Clone)]
pub struct Api {
    trom: TromBase,
    openapi: Arc<[u8]>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

impl Api {
    /// The API of `trom`'s registered entities (the OpenAPI document is
    /// built here, once).
    pub fn new(trom: TromBase) -> Api {
        let document = openapi::document(&trom);
        let openapi = serde_json::to_vec(&document).unwrap_or_default().into();
        Api { trom, openapi }
    }

    /// The OpenAPI 3.1 document of the API, as `GET /api/openapi.json`
    /// serves it.
    pub fn openapi(&self) -> serde_json::Value {
        serde_json::from_slice(&self.openapi).unwrap_or_default()
    }

    /// The client it serves.
    pub fn trombase(&self) -> &TromBase {
        &self.trom
    }

    /// Answers one request of `route`. Never fails: errors are answered
    /// with their JSON body and status.
    pub async fn handle(&self, route: Route, request: Request<'_>) -> Response {
        match self.answer(route, request).await {
            Ok(response) => response,
            Err(err) => Response::error(&err),
        }
    }

    async fn answer(&self, route: Route, request: Request<'_>) -> Result<Response> {
        let auth = &match request.client {
            Some(client) => self.trom.auth.with_client(client),
            None => self.trom.auth.clone(),
        };
        Ok(match route {
            Route::Register => {
                let Credentials { email, password } = bodies::parse(request.body)?;
                Response::ok(&auth.register_with_username_password(&email, &password).await?)
            }
            Route::Login => {
                let Credentials { email, password } = bodies::parse(request.body)?;
                Response::ok(&auth.login_with_username_password(&email, &password).await?)
            }
            Route::Logout => {
                let TokenBody { token } = bodies::parse(request.body)?;
                Response::ok(&auth.invalidate_session_token(&token).await?)
            }
            Route::RequestPasswordReset => {
                let EmailBody { email } = bodies::parse(request.body)?;
                Response::ok(&auth.request_password_reset(&email).await?)
            }
            Route::ValidatePasswordReset => {
                let NewPasswordBody { token, new_password } = bodies::parse(request.body)?;
                Response::ok(&auth.validate_password_reset(&token, &new_password).await?)
            }
            Route::ChangePassword => {
                let session = self.session(request.token).await?;
                let ChangePasswordBody { current_password, new_password } = bodies::parse(request.body)?;
                Response::ok(&auth.change_password(&session, &current_password, &new_password).await?)
            }
            Route::Sessions => Response::ok(&auth.sessions(&self.session(request.token).await?).await?),
            Route::EndSessions => {
                let ended = auth.end_all_sessions(&self.session(request.token).await?).await?;
                Response::ok(&serde_json::json!({ "ended": ended }))
            }
            Route::RequestEmailVerification => {
                auth.request_email_verification(&self.session(request.token).await?).await?;
                Response::ok(&crate::ResetRequested::ACCEPTED)
            }
            Route::VerifyEmail => {
                let TokenBody { token } = bodies::parse(request.body)?;
                Response::ok(&auth.verify_email(&token).await?)
            }
            Route::Mutations => {
                let db = self.session_db(request.token).await?;
                let batch = crate::parse_json_body(request.body)?;
                if returning_asked(request.query)? {
                    Response::ok(&serde_json::json!({"rows": db.do_mutations_json_returning(&batch).await?}))
                } else {
                    db.do_mutations_json(&batch).await?;
                    Response::ok(&serde_json::json!({}))
                }
            }
            Route::SelectPost => {
                let db = self.session_db(request.token).await?;
                let SelectBody { action } = bodies::parse(request.body)?;
                if action.get("page").is_some() {
                    Response::ok(&db.page_json(&action).await?)
                } else {
                    Response::json(db.select_json_text(&action).await?)
                }
            }
            Route::SelectGet => {
                let db = self.session_db(request.token).await?;
                let action = select_action(request.query.unwrap_or(""))?;
                if action.get("page").is_some() {
                    Response::ok(&db.page_json_from_query_string(&action).await?)
                } else {
                    Response::json(db.select_json_text_from_query_string(&action).await?)
                }
            }
            Route::OpenApi => Response::json(self.openapi.to_vec()),
        })
    }

    /// The live session of the request's token.
    pub async fn session(&self, token: Option<&str>) -> Result<crate::Session, Error> {
        self.trom.auth.require_session(token.unwrap_or("")).await
    }

    /// The data handle of the request's session, checked against the
    /// database.
    pub async fn session_db(&self, token: Option<&str>) -> Result<SessionDb, Error> {
        Ok(self.trom.db.with_session(&self.session(token).await?))
    }
}

/// Whether a mutation request asks for the written rows: `?returning=true`
/// (`false` or no query: not).
fn returning_asked(query: Option<&str>) -> Result<bool, Error> {
    let mut asked = false;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=').unwrap_or((pair, "")) {
            ("returning", "true") => asked = true,
            ("returning", "false") => asked = false,
            ("returning", _) => return Err(Error::validation("returning", "expected true or false")),
            (key, _) => return Err(Error::unknown_key(crate::value::clip(key), &["returning"])),
        }
    }
    Ok(asked)
}
