//! The OpenAPI 3.1 document of the JSON API, built from the registered
//! entities: per-entity schemas of rows, insert and update payloads, filters
//! and select actions, so clients can generate typed code
//! (openapi-typescript, Swagger UI, ...).

mod entities;

use serde_json::{json, Map, Value as Json};

use crate::auth::password;
use crate::permit::Action;
use crate::TromBase;

/// The whole document.
pub(super) fn document(trom: &TromBase) -> Json {
    let limits = trom.limits();
    let handles = trom.schema().handles();
    let mut schemas = base_schemas();
    let mut inserts_and_changes = Vec::new();
    let mut selects = Vec::new();
    let mut rows = Vec::new();
    for handle in handles {
        let entity = handle.meta();
        let declared = handle.declared_actions();
        for (name, schema) in entities::schemas(trom.schema(), entity, &limits.reads) {
            schemas.insert(name, schema);
        }
        for (action, name) in
            [(Action::Create, "Insert"), (Action::Update, "Update"), (Action::Delete, "Delete")]
        {
            if declared.contains(&action) && schemas.contains_key(&format!("{}{name}", entity.rust_name)) {
                inserts_and_changes.push(reference(&format!("{}{name}", entity.rust_name)));
            }
        }
        if declared.contains(&Action::Read) {
            selects.push(reference(&format!("{}Select", entity.rust_name)));
            rows.push(reference(&format!("{}Row", entity.rust_name)));
        }
    }
    schemas.insert(
        "Mutations".into(),
        json!({
            "description": "A batch of mutations, applied atomically in order: all or none.",
            "type": "array",
            "maxItems": limits.max_batch,
            "items": one_of(inserts_and_changes),
        }),
    );
    schemas.insert("SelectAction".into(), one_of(selects));
    schemas.insert(
        "Rows".into(),
        json!({
            "description": "The rows a select returns, keyed by logical names: the columns asked for, \
                embedded relations under their names, aggregates under their names.",
            "type": "array",
            "items": any_of(rows),
        }),
    );
    let table_names: Vec<&str> = handles
        .iter()
        .filter(|h| h.declared_actions().contains(&Action::Read))
        .map(|h| h.meta().name)
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "TromBase JSON API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Auth and permission-checked data access over the registered entities. \
                Every error is JSON {\"message\",\"name\"} (plus \"code\" for auth errors).",
        },
        "paths": paths(&table_names),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The session token from register or login."},
                "sessionToken": {"type": "apiKey", "in": "header", "name": "x-session-token",
                    "description": "The session token, as the TypeScript library's clients send it."},
            },
        },
    })
}

fn paths(tables: &[&str]) -> Json {
    json!({
        "/api/auth/register": {"post": operation("register", "Creates an account and its first session.",
            Some(body("Registration")), "SignedIn", &[400, 409], false)},
        "/api/auth/login": {"post": operation("login", "Signs in with email and password.",
            Some(body("Credentials")), "SignedIn", &[400, 401], false)},
        "/api/auth/logout": {"post": operation("logout", "Ends the session of a token.",
            Some(body("TokenBody")), "LogoutResult", &[400], false)},
        "/api/auth/request-password-reset": {"post": operation("requestPasswordReset",
            "Sends a reset token to the email if it has an account; always accepted.",
            Some(body("EmailBody")), "ResetRequested", &[400], false)},
        "/api/auth/validate-password-reset": {"post": operation("validatePasswordReset",
            "Sets a new password with a reset token, ends every session of the user, and signs in.",
            Some(body("NewPasswordBody")), "SignedIn", &[400], false)},
        "/api/db/mutations": {"post": operation("mutations",
            "Inserts, updates and deletes, each checked by the entity's permitter, in one transaction.",
            Some(body("Mutations")), "Empty", &[400, 401, 403, 404, 409], true)},
        "/api/db/select": {
            "post": operation("select", "Reads rows the session may read, with embedded relations or aggregates.",
                Some(body("SelectBody")), "Rows", &[400, 401, 403], true),
            "get": select_by_query(tables),
        },
        "/api/openapi.json": {"get": {
            "operationId": "openapi",
            "summary": "This document.",
            "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
        }},
    })
}

/// `GET /api/db/select`: the action as a `deepObject` query parameter.
/// OpenAPI describes one level of it; the rest of the JSON form is accepted
/// too (see the description).
fn select_by_query(tables: &[&str]) -> Json {
    let mut op = operation_fields(
        "selectByQuery",
        "The select of POST /api/db/select, from the query string.",
        None,
        "Rows",
        &[400, 401, 403],
        true,
    );
    op.insert(
        "parameters".into(),
        json!([{
            "name": "action",
            "in": "query",
            "required": true,
            "style": "deepObject",
            "explode": true,
            "description": "The select action in the nested query-string encoding of the `qs` library \
                (`action[table]=notes&action[where][title][like]=%25a%25&action[orderBy][0][field]=title`); \
                numbers and booleans as strings. Every key of the JSON form is accepted.",
            "schema": {
                "type": "object",
                "required": ["table"],
                "properties": {
                    "table": {"enum": tables},
                    "limit": {"type": "integer", "minimum": 0},
                    "offset": {"type": "integer", "minimum": 0},
                },
            },
        }]),
    );
    Json::Object(op)
}

fn operation(
    id: &str,
    summary: &str,
    request: Option<Json>,
    ok: &str,
    errors: &[u16],
    session: bool,
) -> Json {
    Json::Object(operation_fields(id, summary, request, ok, errors, session))
}

fn operation_fields(
    id: &str,
    summary: &str,
    request: Option<Json>,
    ok: &str,
    errors: &[u16],
    session: bool,
) -> Map<String, Json> {
    let mut responses = Map::new();
    responses.insert("200".into(), json!({"description": "Done.", "content": json_content(reference(ok))}));
    let standard: &[u16] = if request.is_some() { &[413, 500, 503] } else { &[500, 503] };
    let mut statuses: Vec<u16> = errors.iter().chain(standard).copied().collect();
    if session && !statuses.contains(&401) {
        statuses.push(401);
    }
    statuses.sort_unstable();
    for status in statuses {
        responses.insert(
            status.to_string(),
            json!({"description": error_description(status), "content": json_content(reference("Error"))}),
        );
    }
    let mut op = Map::new();
    op.insert("operationId".into(), json!(id));
    op.insert("summary".into(), json!(summary));
    if let Some(request) = request {
        op.insert("requestBody".into(), request);
    }
    op.insert("responses".into(), Json::Object(responses));
    if session {
        op.insert("security".into(), json!([{"bearer": []}, {"sessionToken": []}]));
    }
    op
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Invalid input; the message names the path.",
        401 => "No live session, or wrong credentials.",
        403 => "A permitter denied the operation.",
        404 => "A row the operation needs does not exist.",
        409 => "A unique or foreign-key constraint refused the write, or the email is taken.",
        413 => "The body is too large.",
        503 => "The database is busy; retry after the Retry-After header's seconds.",
        _ => "A server fault (logged; the body says nothing of it).",
    }
}

fn body(schema: &str) -> Json {
    json!({"required": true, "content": json_content(reference(schema))})
}

fn json_content(schema: Json) -> Json {
    json!({"application/json": {"schema": schema}})
}

pub(super) fn reference(name: &str) -> Json {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn one_of(items: Vec<Json>) -> Json {
    if items.is_empty() {
        json!({"not": {}})
    } else {
        json!({"oneOf": items})
    }
}

fn any_of(items: Vec<Json>) -> Json {
    if items.is_empty() {
        json!({"not": {}})
    } else {
        json!({"anyOf": items})
    }
}

/// The shape of the addresses the auth system takes (it also bounds the
/// local part to 64 characters and each domain label to 63).
const EMAIL_PATTERN: &str = "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@\
     [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$";

/// The schemas of the auth routes and the error body.
fn base_schemas() -> Map<String, Json> {
    let strict = |properties: Json, required: &[&str]| json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties});
    let epoch_ms = json!({"type": "integer", "description": "Milliseconds since the Unix epoch."});
    let id = entities::id_schema(false);
    let email = json!({"type": "string", "maxLength": 254, "pattern": EMAIL_PATTERN,
        "description": "Trimmed and lower-cased by the server."});
    let new_password =
        json!({"type": "string", "minLength": password::MIN_CHARS, "maxLength": password::MAX_CHARS});
    let schemas = json!({
        "Error": strict(json!({
            "message": {"type": "string"},
            "name": {"type": "string"},
            "code": {"enum": ["INVALID_AUTH_INPUT", "INVALID_CREDENTIALS", "INVALID_RESET_TOKEN", "SESSION_NOT_FOUND", "USERNAME_TAKEN"]},
        }), &["message", "name"]),
        "Credentials": strict(json!({"email": {"type": "string"}, "password": {"type": "string"}}), &["email", "password"]),
        "Registration": strict(json!({"email": email, "password": new_password}), &["email", "password"]),
        "TokenBody": strict(json!({"token": {"type": "string"}}), &["token"]),
        "EmailBody": strict(json!({"email": email}), &["email"]),
        "NewPasswordBody": strict(json!({"token": {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"}, "newPassword": new_password}), &["token", "newPassword"]),
        "SelectBody": strict(json!({"action": reference("SelectAction")}), &["action"]),
        "AuthUser": strict(json!({"id": id, "email": {"type": "string"}, "createdAt": epoch_ms, "updatedAt": epoch_ms}),
            &["id", "email", "createdAt", "updatedAt"]),
        "Session": strict(json!({"id": id, "userId": id, "token": {"type": ["string", "null"]}, "expiresAt": epoch_ms}),
            &["id", "userId", "expiresAt"]),
        "SignedIn": strict(json!({"user": reference("AuthUser"), "session": reference("Session")}), &["user", "session"]),
        "LogoutResult": strict(json!({"invalidated": {"type": "boolean"}}), &["invalidated"]),
        "ResetRequested": strict(json!({"accepted": {"const": true}}), &["accepted"]),
        "Empty": strict(json!({}), &[]),
    });
    match schemas {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}
