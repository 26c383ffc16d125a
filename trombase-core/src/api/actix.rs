//! actix-web integration (feature `actix-web`): [`SessionDb`] and
//! [`Session`] as extractors, [`Error`] as a `ResponseError`, and the whole
//! JSON API as a [`Scope`] to mount.
//!
//! The extractors find the client in the app data, as
//! `web::Data<TromBase>` or a plain `TromBase`.
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer, Responder};
//! use trombase::{SessionDb, TromBase};
//!
//! async fn me(db: SessionDb) -> trombase::Result<impl Responder> {
//!     Ok(web::Json(serde_json::json!({ "userId": db.session().user_id })))
//! }
//!
//! # async fn run(trom: TromBase) -> std::io::Result<()> {
//! HttpServer::new(move || {
//!     App::new()
//!         .app_data(web::Data::new(trom.clone()))
//!         .service(trombase::api::actix::scope(trom.clone())) // /api/auth/..., /api/db/..., /api/openapi.json
//!         .route("/me", web::get().to(me))
//!         .default_service(web::to(trombase::api::actix::not_found))
//!         .wrap(actix_web::middleware::from_fn(trombase::api::actix::json_errors))
//! })
//! .bind(("127.0.0.1", 3000))?
//! .run()
//! .await
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError, Scope};
use futures_util::StreamExt;

use super::{
    allowed_methods, refuse_oversized, replace_bare_error, routes_by_path, session_token, Api, Method,
    Request, Response, Route, MAX_BODY_BYTES,
};
use crate::{Error, SchemaError, Session, SessionDb, TromBase};

/// The prefix every path of [`ENDPOINTS`](super::ENDPOINTS) starts with: the scope's path.
const PREFIX: &str = "/api";

/// The JSON API of SPEC §9 (every route of [`ENDPOINTS`](super::ENDPOINTS)) as a scope at
/// `/api`. Each route answers its own errors as JSON, a wrong method with a
/// JSON 405 included, and so does an unknown path under `/api`.
pub fn scope(trom: TromBase) -> Scope {
    let api = Api::new(trom);
    let mut scope = web::scope(PREFIX);
    for (path, endpoints) in routes_by_path() {
        let mut resource = web::resource(path.strip_prefix(PREFIX).unwrap_or(path));
        for endpoint in endpoints {
            let (api, route) = (api.clone(), endpoint.route);
            let method = match endpoint.method {
                Method::Get => web::get(),
                Method::Post => web::post(),
            };
            resource = resource.route(method.to(move |request: HttpRequest, payload: web::Payload| {
                let api = api.clone();
                async move { serve(&api, route, request, payload).await }
            }));
        }
        let allow = allowed_methods(path);
        resource = resource.default_service(web::to(move || async move {
            into_response(Response::method_not_allowed(allow))
        }));
        scope = scope.service(resource);
    }
    scope.default_service(web::to(not_found))
}

async fn serve(api: &Api, route: Route, request: HttpRequest, payload: web::Payload) -> HttpResponse {
    let body = match read_body(payload).await {
        Ok(body) => body,
        Err(response) => return into_response(response),
    };
    let client = request.peer_addr().map(|peer| peer.ip().to_string());
    let request = Request {
        token: token(request.headers()),
        query: Some(request.query_string()),
        body: &body,
        client: client.as_deref(),
    };
    into_response(api.handle(route, request).await)
}

/// The body, at most [`MAX_BODY_BYTES`] of it (more: a 413).
async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, Response> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| Response::status(400))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(Response::status(413));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn token(headers: &HeaderMap) -> Option<&str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    session_token(header(header::AUTHORIZATION.as_str()), header("x-session-token"))
}

/// The API's response as actix-web's.
pub fn into_response(response: Response) -> HttpResponse {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = HttpResponse::build(status);
    out.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")));
    if let Some(seconds) = response.retry_after {
        out.insert_header((header::RETRY_AFTER, seconds.to_string()));
    }
    if let Some(allow) = response.allow {
        out.insert_header((header::ALLOW, allow));
    }
    out.body(response.body)
}

/// Errors answer with their status and JSON body; server faults are
/// logged and answered with a generic body.
impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        into_response(Response::error(self))
    }
}

/// Middleware (`.wrap(actix_web::middleware::from_fn(json_errors))`) that
/// refuses oversized request targets (414) and headers (431) with the API's
/// JSON error body ([`refuse_oversized`]), and gives every error response
/// without a JSON body (the framework's own 404, 405, 413, ...) that body.
pub async fn json_errors(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let uri_bytes = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    let headers = request.headers().iter().map(|(name, value)| (name.as_str().len(), value.len()));
    if let Some(refusal) = refuse_oversized(uri_bytes, headers) {
        return Ok(request.into_response(into_response(refusal)));
    }
    let response = next.call(request).await?;
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let Some(replacement) = replace_bare_error(response.status().as_u16(), content_type) else {
        return Ok(response.map_into_boxed_body());
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let (request, _) = response.into_parts();
    let mut replaced = into_response(replacement);
    if let Some(allow) = allow {
        replaced.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ServiceResponse::new(request, replaced))
}

/// A JSON 404, for an app's `default_service`.
pub async fn not_found() -> HttpResponse {
    into_response(Response::status(404))
}

/// The client registered in the app data.
fn trombase(request: &HttpRequest) -> Result<TromBase, Error> {
    if let Some(data) = request.app_data::<web::Data<TromBase>>() {
        return Ok(data.get_ref().clone());
    }
    request.app_data::<TromBase>().cloned().ok_or_else(|| {
        Error::Schema(SchemaError::new("no TromBase in the app data: add `.app_data(web::Data::new(trom))`"))
    })
}

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, Error>>>>;

/// The live session of the request (`Authorization: Bearer` or
/// `x-session-token`); a 401 with the standard body when there is none.
impl FromRequest for Session {
    type Error = Error;
    type Future = Extracted<Session>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trom = trombase(request);
        let token = token(request.headers()).unwrap_or("").to_owned();
        Box::pin(async move { trom?.auth.require_session(&token).await })
    }
}

/// The data handle of the request's live session; a 401 with the standard
/// body when there is none.
impl FromRequest for SessionDb {
    type Error = Error;
    type Future = Extracted<SessionDb>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let trom = trombase(request);
        let session = Session::from_request(request, payload);
        Box::pin(async move { Ok(trom?.db.with_session(&session.await?)) })
    }
}
