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
            "items": union("oneOf", inserts_and_changes),
        }),
    );
    schemas.insert("SelectAction".into(), union("oneOf", selects));
    schemas.insert(
        "Rows".into(),
        json!({
            "description": "The rows a select returns, keyed by logical names: the columns asked for, \
                embedded relations under their names, aggregates under their names.",
            "type": "array",
            "items": union("anyOf", rows),
        }),
    );
    schemas.insert(
        "Page".into(),
        json!({
            "description": "A page (a select with a `page` key): its rows, the total of rows the select \
                matches (row filters applied; null when not asked for), and the cursor of the next page \
                (null on the last).",
            "type": "object",
            "additionalProperties": false,
            "required": ["rows", "total", "next"],
            "properties": {
                "rows": reference("Rows"),
                "total": {"type": ["integer", "null"], "minimum": 0},
                "next": {"type": ["string", "null"]},
            },
        }),
    );
    schemas.insert("SelectResult".into(), json!({"anyOf": [reference("Rows"), reference("Page")]}));
    schemas.insert(
        "MutationsResult".into(),
        json!({"anyOf": [reference("Empty"), {
            "type": "object",
            "additionalProperties": false,
            "required": ["rows"],
            "properties": {"rows": {"type": "array", "items": {"anyOf": [
                {"type": "object"}, {"type": "array", "items": {"type": "object"}}
            ]}}},
        }]}),
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
        "/api/auth/register": {"post": Operation { id: "register", summary: "Creates an account and its first session.",
            body: Some("Registration"), ok: "SignedIn", errors: &[400, 409, 429], session: false }.json()},
        "/api/auth/login": {"post": Operation { id: "login", summary: "Signs in with email and password.",
            body: Some("Credentials"), ok: "SignedIn", errors: &[400, 401, 403, 429], session: false }.json()},
        "/api/auth/logout": {"post": Operation { id: "logout", summary: "Ends the session of a token.",
            body: Some("TokenBody"), ok: "LogoutResult", errors: &[400], session: false }.json()},
        "/api/auth/request-password-reset": {"post": Operation { id: "requestPasswordReset",
            summary: "Sends a reset token to the email if it has an account; always accepted.",
            body: Some("EmailBody"), ok: "ResetRequested", errors: &[400, 429], session: false }.json()},
        "/api/auth/validate-password-reset": {"post": Operation { id: "validatePasswordReset",
            summary: "Sets a new password with a reset token, ends every session of the user, and signs in.",
            body: Some("NewPasswordBody"), ok: "SignedIn", errors: &[400], session: false }.json()},
        "/api/auth/change-password": {"post": Operation { id: "changePassword",
            summary: "Changes the password (the current one is needed) and ends every other session.",
            body: Some("ChangePasswordBody"), ok: "AuthUser", errors: &[400, 429], session: true }.json()},
        "/api/auth/sessions": {"get": Operation { id: "sessions",
            summary: "The live sessions of the signed-in user, newest first.",
            body: None, ok: "SessionList", errors: &[], session: true }.json()},
        "/api/auth/end-sessions": {"post": Operation { id: "endSessions",
            summary: "Ends every session of the signed-in user, this one included.",
            body: None, ok: "Ended", errors: &[], session: true }.json()},
        "/api/auth/request-email-verification": {"post": Operation { id: "requestEmailVerification",
            summary: "Sends the signed-in user a fresh email-verification token.",
            body: None, ok: "ResetRequested", errors: &[429], session: true }.json()},
        "/api/auth/verify-email": {"post": Operation { id: "verifyEmail",
            summary: "Redeems an email-verification token.",
            body: Some("TokenBody"), ok: "AuthUser", errors: &[400], session: false }.json()},
        "/api/db/mutations": {"post": mutations()},
        "/api/db/select": {
            "post": Operation { id: "select",
                summary: "Reads rows the session may read, with embedded relations or aggregates.",
                body: Some("SelectBody"), ok: "SelectResult", errors: &[400, 403], session: true }.json(),
            "get": select_by_query(tables),
        },
        "/api/openapi.json": {"get": {
            "operationId": "openapi",
            "summary": "This document.",
            "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
        }},
    })
}

/// `POST /api/db/mutations`, and `?returning=true` for the written rows.
fn mutations() -> Json {
    let mut op = Operation {
        id: "mutations",
        summary: "Inserts, updates, upserts and deletes, each checked by the entity's permitter, in one transaction.",
        body: Some("Mutations"),
        ok: "MutationsResult",
        errors: &[400, 403, 404, 409],
        session: true,
    }
    .fields();
    op.insert(
        "parameters".into(),
        json!([{
            "name": "returning",
            "in": "query",
            "required": false,
            "description": "`true`: answer the rows each operation wrote, as stored (`{\"rows\": [...]}`: an \
                object per insert, update and upsert, a list per delete); otherwise `{}`.",
            "schema": {"type": "boolean"},
        }]),
    );
    Json::Object(op)
}

/// `GET /api/db/select`: the action as a `deepObject` query parameter.
/// OpenAPI describes one level of it; the rest of the JSON form is accepted
/// too (see the description).
fn select_by_query(tables: &[&str]) -> Json {
    let mut op = Operation {
        id: "selectByQuery",
        summary: "The select of POST /api/db/select, from the query string.",
        body: None,
        ok: "SelectResult",
        errors: &[400, 403],
        session: true,
    }
    .fields();
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

/// One operation of the document.
struct Operation<'a> {
    id: &'a str,
    summary: &'a str,
    /// The schema of the JSON body, if it takes one.
    body: Option<&'a str>,
    /// The schema of the 200 answer.
    ok: &'a str,
    /// The error statuses of its own (401 is added for `session`; 413, 500
    /// and 503 for every operation that takes a body).
    errors: &'a [u16],
    /// Whether it needs a session.
    session: bool,
}

impl Operation<'_> {
    fn fields(&self) -> Map<String, Json> {
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({"description": "Done.", "content": json_content(reference(self.ok))}),
        );
        let standard: &[u16] = if self.body.is_some() { &[413, 500, 503] } else { &[500, 503] };
        let mut statuses: Vec<u16> = self.errors.iter().chain(standard).copied().collect();
        if self.session && !statuses.contains(&401) {
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
        op.insert("operationId".into(), json!(self.id));
        op.insert("summary".into(), json!(self.summary));
        if let Some(body) = self.body {
            op.insert(
                "requestBody".into(),
                json!({"required": true, "content": json_content(reference(body))}),
            );
        }
        op.insert("responses".into(), Json::Object(responses));
        if self.session {
            op.insert("security".into(), json!([{"bearer": []}, {"sessionToken": []}]));
        }
        op
    }

    fn json(&self) -> Json {
        Json::Object(self.fields())
    }
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Invalid input; the message names the path.",
        401 => "No live session, or wrong credentials.",
        403 => "A permitter denied the operation.",
        404 => "A row the operation needs does not exist.",
        409 => "A unique or foreign-key constraint refused the write, or the email is taken.",
        413 => "The body is too large.",
        429 => "Too many attempts (RATE_LIMITED); retry after the Retry-After header's seconds.",
        503 => "The database is busy; retry after the Retry-After header's seconds.",
        _ => "A server fault (logged; the body says nothing of it).",
    }
}

fn json_content(schema: Json) -> Json {
    json!({"application/json": {"schema": schema}})
}

pub(super) fn reference(name: &str) -> Json {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// `{"oneOf": items}` or `{"anyOf": items}`; with no items, a schema
/// nothing matches.
fn union(keyword: &str, items: Vec<Json>) -> Json {
    if items.is_empty() {
        json!({"not": {}})
    } else {
        json!({ keyword: items })
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
            "code": {"enum": ["INVALID_AUTH_INPUT", "INVALID_CREDENTIALS", "INVALID_RESET_TOKEN", "SESSION_NOT_FOUND",
                "USERNAME_TAKEN", "RATE_LIMITED", "EMAIL_NOT_VERIFIED", "INVALID_VERIFICATION_TOKEN"]},
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
        "ChangePasswordBody": strict(json!({"currentPassword": {"type": "string"}, "newPassword": new_password}),
            &["currentPassword", "newPassword"]),
        "SessionList": {"type": "array", "items": strict(json!({"id": id, "createdAt": epoch_ms, "expiresAt": epoch_ms,
            "current": {"type": "boolean"}}), &["id", "createdAt", "expiresAt", "current"])},
        "Ended": strict(json!({"ended": {"type": "integer", "minimum": 0}}), &["ended"]),
        "ResetRequested": strict(json!({"accepted": {"const": true}}), &["accepted"]),
        "Empty": strict(json!({}), &[]),
    });
    match schemas {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}
