#![allow(missing_docs)] // test fixtures, not API
//! The reference app over real HTTP: a server on a random port, a real
//! database, every route, every error status, and ownership through every
//! route.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use trombase::DbId;
use trombase_tests::TestDb;

struct App {
    _db: TestDb,
    base: String,
    http: Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The database the app starts on.
#[derive(Clone, Copy)]
enum Layout {
    /// Empty: the app creates its tables.
    Fresh,
    /// Laid out by the TypeScript library (no column defaults), empty.
    TypeScript,
}

impl App {
    async fn start(layout: Layout) -> App {
        let db = TestDb::new().await;
        if let Layout::TypeScript = layout {
            trombase_tests::typescript::lay_out(&db.client().await).await;
        }
        let trom = notes_app::connect(db.url()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(notes_app::serve(listener, trom, async {
            let _ = stopped.await;
        }));
        App { _db: db, base, http: Client::new(), _stop: stop }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.header("x-session-token", token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: &'static str,
        content_type: &str,
    ) -> (StatusCode, Value) {
        let mut request =
            self.http.post(format!("{}{path}", self.base)).header("content-type", content_type).body(body);
        if let Some(token) = token {
            request = request.header("x-session-token", token);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path_and_query: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.http.get(format!("{}{path_and_query}", self.base));
        if let Some(token) = token {
            request = request.header("x-session-token", token);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.json().await.unwrap_or(Value::Null))
    }

    /// Registers a user: (token, user id).
    async fn user(&self, email: &str) -> (String, String) {
        let (status, body) =
            self.post("/api/auth/register", None, json!({"email": email, "password": "correct horse"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (
            body["session"]["token"].as_str().unwrap().to_owned(),
            body["user"]["id"].as_str().unwrap().to_owned(),
        )
    }

    async fn insert_note(&self, token: &str, user_id: &str, title: &str) -> String {
        let id = DbId::new().to_string();
        let (status, body) = self
            .post(
                "/api/db/mutations",
                Some(token),
                json!([{"action": "insert", "table": "notes", "payload": {"id": id, "title": title, "content": "c", "userId": user_id}}]),
            )
            .await;
        assert_eq!((status, body), (StatusCode::OK, json!({})));
        id
    }

    async fn titles(&self, token: &str) -> Vec<String> {
        let (status, rows) = self
            .post(
                "/api/db/select",
                Some(token),
                json!({"action": {"table": "notes", "orderBy": [{"field": "title"}]}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{rows}");
        rows.as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap().to_owned()).collect()
    }
}

fn assert_error(response: (StatusCode, Value), status: StatusCode, name: &str) -> Value {
    assert_eq!(response.0, status, "{}", response.1);
    assert_eq!(response.1["name"], name, "{}", response.1);
    assert!(response.1["message"].as_str().is_some_and(|m| !m.is_empty()));
    response.1
}

/// Every HTTP test, on a fresh database and on one the TypeScript library laid out.
macro_rules! http_suite {
    ($name:ident, $layout:expr) => {
        mod $name {
            use super::*;
            const LAYOUT: Layout = $layout;

#[tokio::test]
async fn auth_routes_answer_the_documented_shapes() {
    let app = App::start(LAYOUT).await;
    let (status, body) = app
        .post("/api/auth/register", None, json!({"email": " Ada@Example.COM", "password": "correct horse"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["email"], "ada@example.com");
    for key in ["id", "email", "createdAt", "updatedAt"] {
        assert!(body["user"].get(key).is_some(), "user.{key}");
    }
    for key in ["id", "userId", "token", "expiresAt"] {
        assert!(body["session"].get(key).is_some(), "session.{key}");
    }
    assert!(
        body["session"]["expiresAt"].is_i64() && body["user"]["createdAt"].is_i64(),
        "times are epoch milliseconds"
    );

    let (status, login) = app
        .post("/api/auth/login", None, json!({"email": "ada@example.com", "password": "correct horse"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(login["user"]["id"], body["user"]["id"]);

    let taken = app
        .post("/api/auth/register", None, json!({"email": "ADA@example.com", "password": "correct horse"}))
        .await;
    assert_eq!(assert_error(taken, StatusCode::CONFLICT, "AuthError")["code"], "USERNAME_TAKEN");
    let bad = app
        .post("/api/auth/login", None, json!({"email": "ada@example.com", "password": "wrong horse"}))
        .await;
    assert_eq!(assert_error(bad, StatusCode::UNAUTHORIZED, "AuthError")["code"], "INVALID_CREDENTIALS");
    let short =
        app.post("/api/auth/register", None, json!({"email": "bo@example.com", "password": "short"})).await;
    assert_eq!(assert_error(short, StatusCode::BAD_REQUEST, "AuthError")["code"], "INVALID_AUTH_INPUT");
    let missing = app.post("/api/auth/login", None, json!({"email": "ada@example.com"})).await;
    assert_error(missing, StatusCode::BAD_REQUEST, "ValidationError");
    let junk = app.post_raw("/api/auth/login", None, "{not json", "text/plain").await;
    assert_error(junk, StatusCode::BAD_REQUEST, "ValidationError");

    let (status, reset) =
        app.post("/api/auth/request-password-reset", None, json!({"email": "nobody@example.com"})).await;
    assert_eq!((status, reset), (StatusCode::OK, json!({"accepted": true})));
    let (status, reset) =
        app.post("/api/auth/request-password-reset", None, json!({"email": "ada@example.com"})).await;
    assert_eq!((status, reset), (StatusCode::OK, json!({"accepted": true})));
    let bad_token = app
        .post(
            "/api/auth/validate-password-reset",
            None,
            json!({"token": "x".repeat(43), "newPassword": "another horse"}),
        )
        .await;
    assert_eq!(assert_error(bad_token, StatusCode::BAD_REQUEST, "AuthError")["code"], "INVALID_RESET_TOKEN");

    let token = login["session"]["token"].as_str().unwrap();
    let (status, out) = app.post("/api/auth/logout", None, json!({"token": token})).await;
    assert_eq!((status, out), (StatusCode::OK, json!({"invalidated": true})));
    let (status, out) = app.post("/api/auth/logout", None, json!({"token": token})).await;
    assert_eq!((status, out), (StatusCode::OK, json!({"invalidated": false})));
    // A logged-out token is refused by the data routes.
    let refused = app.post("/api/db/select", Some(token), json!({"action": {"table": "notes"}})).await;
    assert_eq!(assert_error(refused, StatusCode::UNAUTHORIZED, "AuthError")["code"], "SESSION_NOT_FOUND");
}

#[tokio::test]
async fn data_routes_and_their_error_statuses() {
    let app = App::start(LAYOUT).await;
    let (token, me) = app.user("ada@example.com").await;
    let a = app.insert_note(&token, &me, "a").await;
    app.insert_note(&token, &me, "b").await;
    assert_eq!(app.titles(&token).await, ["a", "b"]);

    // update, delete
    let (status, _) = app
        .post(
            "/api/db/mutations",
            Some(&token),
            json!([{"action": "update", "table": "notes", "id": a, "payload": {"title": "a2"}}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.titles(&token).await, ["a2", "b"]);

    // No session, bad session: 401.
    assert_error(
        app.post("/api/db/select", None, json!({"action": {"table": "notes"}})).await,
        StatusCode::UNAUTHORIZED,
        "AuthError",
    );
    assert_error(
        app.get("/api/db/select?action[table]=notes", Some("garbage")).await,
        StatusCode::UNAUTHORIZED,
        "AuthError",
    );
    assert_error(
        app.post("/api/db/mutations", Some("garbage"), json!([])).await,
        StatusCode::UNAUTHORIZED,
        "AuthError",
    );
    // Invalid input: 400, including malformed and mistyped bodies.
    assert_error(
        app.post_raw("/api/db/mutations", Some(&token), "[{", "application/json").await,
        StatusCode::BAD_REQUEST,
        "ValidationError",
    );
    assert_error(
        app.post_raw("/api/db/select", Some(&token), "{\"action\": 5}", "text/plain").await,
        StatusCode::BAD_REQUEST,
        "ValidationError",
    );
    assert_error(
        app.post("/api/db/select", Some(&token), json!({"action": {"table": "secrets"}})).await,
        StatusCode::BAD_REQUEST,
        "ValidationError",
    );
    assert_error(
        app.post(
            "/api/db/mutations",
            Some(&token),
            json!([{"action": "update", "table": "notes", "id": a, "payload": {"userId": me}}]),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "ValidationError",
    );
    // Not found: 404.
    let missing = DbId::new().to_string();
    assert_error(
        app.post(
            "/api/db/mutations",
            Some(&token),
            json!([{"action": "delete", "table": "notes", "id": missing}]),
        )
        .await,
        StatusCode::NOT_FOUND,
        "NotFoundError",
    );
    // Conflict: 409 (an id taken).
    assert_error(
        app.post(
            "/api/db/mutations",
            Some(&token),
            json!([{"action": "insert", "table": "notes", "payload": {"id": a, "title": "dup", "content": "", "userId": me}}]),
        )
        .await,
        StatusCode::CONFLICT,
        "ConflictError",
    );
    // Users are read-only through the data API: 403.
    assert_error(
        app.post(
            "/api/db/mutations",
            Some(&token),
            json!([{"action": "delete", "table": "users", "id": me}]),
        )
        .await,
        StatusCode::FORBIDDEN,
        "PermissionError",
    );
    assert_eq!(app.titles(&token).await, ["a2", "b"], "no failed request changed anything");
}

#[tokio::test]
async fn another_users_notes_are_out_of_reach_through_every_route() {
    let app = App::start(LAYOUT).await;
    let (ada, ada_id) = app.user("ada@example.com").await;
    let (bob, bob_id) = app.user("bob@example.com").await;
    let adas = app.insert_note(&ada, &ada_id, "ada's").await;

    // Read: Bob sees none of Ada's notes, by any route or trick.
    assert!(app.titles(&bob).await.is_empty());
    let (_, rows) =
        app.get(&format!("/api/db/select?action[table]=notes&action[where][id]={adas}"), Some(&bob)).await;
    assert_eq!(rows, json!([]));
    let (_, users) = app
        .post(
            "/api/db/select",
            Some(&bob),
            json!({"action": {"table": "users", "with": {"notes": true}, "orderBy": [{"field": "email"}]}}),
        )
        .await;
    assert_eq!(users.as_array().unwrap().len(), 1, "a user reads only their own row: {users}");
    assert_eq!(users[0]["id"], json!(bob_id));
    assert!(users[0]["notes"].as_array().unwrap().is_empty(), "{users}");
    let (_, emails) = app
        .post(
            "/api/db/select",
            Some(&bob),
            json!({"action": {"table": "users", "where": {"email": "ada@example.com"}}}),
        )
        .await;
    assert_eq!(emails, json!([]), "no way to learn whether an email has an account");
    let (_, count) = app
        .post(
            "/api/db/select",
            Some(&bob),
            json!({"action": {"table": "notes", "aggregates": {"n": {"fn": "count"}}}}),
        )
        .await;
    assert_eq!(count, json!([{"n": 0}]));

    // Edit and delete: refused, and nothing changes.
    let edit = app
        .post(
            "/api/db/mutations",
            Some(&bob),
            json!([{"action": "update", "table": "notes", "id": adas, "payload": {"title": "bob's now"}}]),
        )
        .await;
    assert_error(edit, StatusCode::FORBIDDEN, "PermissionError");
    let delete = app
        .post("/api/db/mutations", Some(&bob), json!([{"action": "delete", "table": "notes", "id": [adas]}]))
        .await;
    assert_error(delete, StatusCode::FORBIDDEN, "PermissionError");
    // Create in Ada's name: refused.
    let forged = app
        .post(
            "/api/db/mutations",
            Some(&bob),
            json!([{"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(), "title": "x", "content": "", "userId": ada_id}}]),
        )
        .await;
    assert_error(forged, StatusCode::FORBIDDEN, "PermissionError");
    assert_eq!(app.titles(&ada).await, ["ada's"]);
    assert!(app.titles(&bob).await.is_empty());
    let _ = bob_id;
}

#[tokio::test]
async fn every_array_format_of_qs_reads_the_same() {
    let app = App::start(LAYOUT).await;
    let (token, me) = app.user("ada@example.com").await;
    for title in ["b", "a", "c"] {
        app.insert_note(&token, &me, title).await;
    }
    let forms = [
        // indices (qs's default), brackets, repeat; each as qs.stringify writes it
        "action[table]=notes&action[columns][0]=title&action[orderBy][0][field]=title&action[limit]=2",
        "action[table]=notes&action[columns][]=title&action[orderBy][][field]=title&action[orderBy][][direction]=asc&action[limit]=2",
        "action%5Btable%5D=notes&action%5Bcolumns%5D%5B%5D=title&action%5BorderBy%5D%5B%5D%5Bfield%5D=title&action%5Blimit%5D=2",
        "action[table]=notes&action[columns]=title&action[columns]=id&action[orderBy][0][field]=title&action[limit]=2",
    ];
    for query in forms {
        let (status, rows) = app.get(&format!("/api/db/select?{query}"), Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{query}: {rows}");
        let titles: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap()).collect();
        assert_eq!(titles, ["a", "b"], "{query}");
    }
}

#[tokio::test]
async fn the_query_string_select_works_as_qs_sends_it() {
    let app = App::start(LAYOUT).await;
    let (token, me) = app.user("ada@example.com").await;
    for title in ["one", "two", "three"] {
        app.insert_note(&token, &me, title).await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // qs's default encoding: brackets percent-encoded.
    let query = format!(
        "action%5Btable%5D=notes&action%5Bwhere%5D%5BuserId%5D={me}&action%5BorderBy%5D%5B0%5D%5Bfield%5D=createdAt\
         &action%5BorderBy%5D%5B0%5D%5Bdirection%5D=desc&action%5Blimit%5D=2&action%5Bwith%5D%5Bauthor%5D=true"
    );
    let (status, rows) = app.get(&format!("/api/db/select?{query}"), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["title"].as_str().unwrap()).collect::<Vec<_>>(), ["three", "two"]);
    assert_eq!(rows[0]["author"]["email"], "ada@example.com");
    // Unencoded brackets and a filter operator work too.
    let (_, rows) = app.get("/api/db/select?action[table]=notes&action[where][title][like]=t%25&action[orderBy][0][field]=title", Some(&token)).await;
    assert_eq!(
        rows.as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap()).collect::<Vec<_>>(),
        ["three", "two"]
    );
    // A malformed one is a 400.
    assert_error(
        app.get("/api/db/select?action[limit]=-1&action[table]=notes", Some(&token)).await,
        StatusCode::BAD_REQUEST,
        "ValidationError",
    );
    assert_error(
        app.get("/api/db/select?table=notes", Some(&token)).await,
        StatusCode::BAD_REQUEST,
        "ValidationError",
    );
}

#[tokio::test]
async fn the_web_ui_is_served_at_the_root() {
    let app = App::start(LAYOUT).await;
    let response = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("<title>TromBase notes</title>"));
}

#[tokio::test]
async fn every_error_status_has_a_json_body() {
    let app = App::start(LAYOUT).await;
    let (token, _) = app.user("ada@example.com").await;
    let is_error_body = |body: &Value| body["message"].is_string() && body["name"].is_string();

    let (status, body) = app.get("/no/such/route", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(is_error_body(&body), "{body}");

    let response = app.http.delete(format!("{}/api/db/select", app.base)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.headers().contains_key("allow"));
    assert!(is_error_body(&response.json().await.unwrap()));

    let huge = "x".repeat(3 * 1024 * 1024);
    let response = app
        .http
        .post(format!("{}/api/db/mutations", app.base))
        .header("x-session-token", &token)
        .header("content-type", "application/json")
        .body(format!("[\"{huge}\"]"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(is_error_body(&response.json().await.unwrap()));

    let (status, body) =
        app.get(&format!("/api/db/select?action[table]={}", "n".repeat(10_000)), Some(&token)).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    assert!(is_error_body(&body), "{body}");

    let mut request = app.http.get(format!("{}/api/db/select?action[table]=notes", app.base));
    for i in 0..80 {
        request = request.header(format!("x-filler-{i}"), "y");
    }
    let response = request.header("x-session-token", &token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(is_error_body(&response.json().await.unwrap()));
    let response =
        app.http.get(format!("{}/", app.base)).header("x-big", "z".repeat(20 * 1024)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
}

#[tokio::test]
async fn client_mistakes_in_queries_are_400s_with_a_path() {
    let app = App::start(LAYOUT).await;
    let (token, _) = app.user("ada@example.com").await;
    let (status, body) = app
        .post(
            "/api/db/select",
            Some(&token),
            json!({"action": {"table": "notes", "where": {"title": {"like": "abc\\"}}}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("where.title.like"), "{body}");
    let deep = json!({"action": {"table": "notes", "limit": 1000, "with": {"author": {"with": {"notes": {"limit": 1000}}}}}});
    let (status, body) = app.post("/api/db/select", Some(&token), deep).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["name"], json!("ValidationError"));
}

        }
    };
}

http_suite!(fresh, Layout::Fresh);
http_suite!(typescript_layout, Layout::TypeScript);
