#![allow(missing_docs)] // test fixtures, not API
//! The example apps over real HTTP: a server on a random port, a real
//! database, every route, every error status, and ownership through every
//! route. The same walk runs against the axum reference app (notes) and the
//! actix-web example (expenses), both serving the library's JSON API.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use trombase::DbId;
use trombase_tests::TestDb;

/// Which example app serves.
#[derive(Clone, Copy)]
enum Example {
    /// examples/notes_app (axum).
    Notes,
    /// examples/expenses_app (actix-web).
    Expenses,
}

impl Example {
    /// The owned entity.
    const fn table(self) -> &'static str {
        match self {
            Example::Notes => "notes",
            Example::Expenses => "expenses",
        }
    }

    /// A text field of it, to filter and order by.
    const fn label(self) -> &'static str {
        match self {
            Example::Notes => "title",
            Example::Expenses => "description",
        }
    }

    /// Its points-to relation to the owner.
    const fn owner_relation(self) -> &'static str {
        match self {
            Example::Notes => "author",
            Example::Expenses => "owner",
        }
    }

    /// The users' resolves-to-many relation to it.
    const fn users_rows(self) -> &'static str {
        self.table()
    }

    /// An insert payload of a row of `user_id` with this label.
    fn payload(self, id: &str, label: &str, user_id: &str) -> Value {
        let mut payload = match self {
            Example::Notes => json!({"content": "c"}),
            Example::Expenses => json!({"amountCents": 1250, "category": "food"}),
        };
        payload["id"] = json!(id);
        payload[self.label()] = json!(label);
        payload["userId"] = json!(user_id);
        payload
    }
}

struct App {
    _db: TestDb,
    base: String,
    http: Client,
    _stop: Stop,
}

/// Stops the server when dropped.
enum Stop {
    Axum(#[allow(dead_code)] tokio::sync::oneshot::Sender<()>),
    Actix(actix_web::dev::ServerHandle),
}

impl Drop for Stop {
    fn drop(&mut self) {
        if let Stop::Actix(handle) = self {
            drop(handle.stop(false));
        }
    }
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
    async fn start(example: Example, layout: Layout) -> App {
        let db = TestDb::new().await;
        if let Layout::TypeScript = layout {
            trombase_tests::typescript::lay_out(&db.client().await).await;
        }
        let (base, stop) = match example {
            Example::Notes => {
                let trom = notes_app::connect(db.url()).await.unwrap();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let base = format!("http://{}", listener.local_addr().unwrap());
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                tokio::spawn(notes_app::serve(listener, trom, async {
                    let _ = stopped.await;
                }));
                (base, Stop::Axum(stop))
            }
            Example::Expenses => {
                let trom = expenses_app::connect(db.url()).await.unwrap();
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let base = format!("http://{}", listener.local_addr().unwrap());
                let server = expenses_app::server(listener, trom, 1).unwrap();
                let handle = server.handle();
                // actix-web runs on its own runtime, in its own thread.
                std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
                (base, Stop::Actix(handle))
            }
        };
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

    async fn insert_row(&self, example: Example, token: &str, user_id: &str, label: &str) -> String {
        let id = DbId::new().to_string();
        let payload = example.payload(&id, label, user_id);
        let (status, body) = self
            .post(
                "/api/db/mutations",
                Some(token),
                json!([{"action": "insert", "table": example.table(), "payload": payload}]),
            )
            .await;
        assert_eq!((status, body), (StatusCode::OK, json!({})));
        id
    }

    /// The labels of the rows `token` reads, in order.
    async fn labels(&self, example: Example, token: &str) -> Vec<String> {
        let label = example.label();
        let (status, rows) = self
            .post(
                "/api/db/select",
                Some(token),
                json!({"action": {"table": example.table(), "orderBy": [{"field": label}]}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{rows}");
        rows.as_array().unwrap().iter().map(|r| r[label].as_str().unwrap().to_owned()).collect()
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
    ($name:ident, $example:expr, $layout:expr) => {
        mod $name {
            use super::*;
            const EXAMPLE: Example = $example;
            const LAYOUT: Layout = $layout;
            const TABLE: &str = EXAMPLE.table();
            const LABEL: &str = EXAMPLE.label();
            const OWNER: &str = EXAMPLE.owner_relation();
            const USERS_ROWS: &str = EXAMPLE.users_rows();

#[tokio::test]
async fn auth_routes_answer_the_documented_shapes() {
    let app = App::start(EXAMPLE, LAYOUT).await;
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
    let refused = app.post("/api/db/select", Some(token), json!({"action": {"table": TABLE}})).await;
    assert_eq!(assert_error(refused, StatusCode::UNAUTHORIZED, "AuthError")["code"], "SESSION_NOT_FOUND");
}

#[tokio::test]
async fn mutations_answer_the_written_rows_when_asked() {
    let app = App::start(EXAMPLE, LAYOUT).await;
    let (token, me) = app.user("ada@example.com").await;
    let id = DbId::new().to_string();
    let insert = json!([{"action": "insert", "table": TABLE, "payload": EXAMPLE.payload(&id, "first", &me)}]);
    let (status, body) = app.post("/api/db/mutations?returning=true", Some(&token), insert).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, fresh) = app.post("/api/db/select", Some(&token), json!({"action": {"table": TABLE}})).await;
    assert_eq!(body, json!({"rows": [fresh[0].clone()]}));
    // An upsert of the same id updates it; asked for nothing, the answer is `{}`.
    let mut payload = EXAMPLE.payload(&id, "second", &me);
    payload["id"] = json!(id);
    let upsert = json!([{"action": "upsert", "table": TABLE, "payload": payload}]);
    assert_eq!(app.post("/api/db/mutations", Some(&token), upsert.clone()).await, (StatusCode::OK, json!({})));
    assert_eq!(app.labels(EXAMPLE, &token).await, ["second"]);
    let (status, body) = app.post("/api/db/mutations?returning=false", Some(&token), upsert).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert_error(
        app.post("/api/db/mutations?returning=yes", Some(&token), json!([])).await,
        StatusCode::BAD_REQUEST,
        "ValidationError",
    );
    assert_error(
        app.post("/api/db/mutations?rows=1", Some(&token), json!([])).await,
        StatusCode::BAD_REQUEST,
        "ValidationError",
    );
}

#[tokio::test]
async fn data_routes_and_their_error_statuses() {
    let app = App::start(EXAMPLE, LAYOUT).await;
    let (token, me) = app.user("ada@example.com").await;
    let a = app.insert_row(EXAMPLE, &token, &me, "a").await;
    app.insert_row(EXAMPLE, &token, &me, "b").await;
    assert_eq!(app.labels(EXAMPLE, &token).await, ["a", "b"]);

    // update, delete
    let (status, _) = app
        .post(
            "/api/db/mutations",
            Some(&token),
            json!([{"action": "update", "table": TABLE, "id": a, "payload": {LABEL: "a2"}}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.labels(EXAMPLE, &token).await, ["a2", "b"]);

    // No session, bad session: 401.
    assert_error(
        app.post("/api/db/select", None, json!({"action": {"table": TABLE}})).await,
        StatusCode::UNAUTHORIZED,
        "AuthError",
    );
    assert_error(
        app.get(&format!("/api/db/select?action[table]={TABLE}"), Some("garbage")).await,
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
            json!([{"action": "update", "table": TABLE, "id": a, "payload": {"userId": me}}]),
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
            json!([{"action": "delete", "table": TABLE, "id": missing}]),
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
            json!([{"action": "insert", "table": TABLE, "payload": EXAMPLE.payload(&a, "dup", &me)}]),
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
    assert_eq!(app.labels(EXAMPLE, &token).await, ["a2", "b"], "no failed request changed anything");
}

#[tokio::test]
async fn another_users_rows_are_out_of_reach_through_every_route() {
    let app = App::start(EXAMPLE, LAYOUT).await;
    let (ada, ada_id) = app.user("ada@example.com").await;
    let (bob, bob_id) = app.user("bob@example.com").await;
    let adas = app.insert_row(EXAMPLE, &ada, &ada_id, "ada's").await;

    // Read: Bob sees none of Ada's rows, by any route or trick.
    assert!(app.labels(EXAMPLE, &bob).await.is_empty());
    let (_, rows) =
        app.get(&format!("/api/db/select?action[table]={TABLE}&action[where][id]={adas}"), Some(&bob)).await;
    assert_eq!(rows, json!([]));
    let (_, users) = app
        .post(
            "/api/db/select",
            Some(&bob),
            json!({"action": {"table": "users", "with": {USERS_ROWS: true}, "orderBy": [{"field": "email"}]}}),
        )
        .await;
    assert_eq!(users.as_array().unwrap().len(), 1, "a user reads only their own row: {users}");
    assert_eq!(users[0]["id"], json!(bob_id));
    assert!(users[0][USERS_ROWS].as_array().unwrap().is_empty(), "{users}");
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
            json!({"action": {"table": TABLE, "aggregates": {"n": {"fn": "count"}}}}),
        )
        .await;
    assert_eq!(count, json!([{"n": 0}]));

    // Edit and delete: refused, and nothing changes.
    let edit = app
        .post(
            "/api/db/mutations",
            Some(&bob),
            json!([{"action": "update", "table": TABLE, "id": adas, "payload": {LABEL: "bob's now"}}]),
        )
        .await;
    assert_error(edit, StatusCode::FORBIDDEN, "PermissionError");
    let delete = app
        .post("/api/db/mutations", Some(&bob), json!([{"action": "delete", "table": TABLE, "id": [adas]}]))
        .await;
    assert_error(delete, StatusCode::FORBIDDEN, "PermissionError");
    // Create in Ada's name: refused.
    let forged = app
        .post(
            "/api/db/mutations",
            Some(&bob),
            json!([{"action": "insert", "table": TABLE, "payload": EXAMPLE.payload(&DbId::new().to_string(), "x", &ada_id)}]),
        )
        .await;
    assert_error(forged, StatusCode::FORBIDDEN, "PermissionError");
    assert_eq!(app.labels(EXAMPLE, &ada).await, ["ada's"]);
    assert!(app.labels(EXAMPLE, &bob).await.is_empty());
    let _ = bob_id;
}

#[tokio::test]
async fn every_array_format_of_qs_reads_the_same() {
    let app = App::start(EXAMPLE, LAYOUT).await;
    let (token, me) = app.user("ada@example.com").await;
    for title in ["b", "a", "c"] {
        app.insert_row(EXAMPLE, &token, &me, title).await;
    }
    let forms = [
        // indices (qs's default), brackets, repeat; each as qs.stringify writes it
        "action[table]=notes&action[columns][0]=title&action[orderBy][0][field]=title&action[limit]=2",
        "action[table]=notes&action[columns][]=title&action[orderBy][][field]=title&action[orderBy][][direction]=asc&action[limit]=2",
        "action%5Btable%5D=notes&action%5Bcolumns%5D%5B%5D=title&action%5BorderBy%5D%5B%5D%5Bfield%5D=title&action%5Blimit%5D=2",
        "action[table]=notes&action[columns]=title&action[columns]=id&action[orderBy][0][field]=title&action[limit]=2",
    ]
    .map(|form| form.replace("=notes", &format!("={TABLE}")).replace("title", LABEL));
    for query in forms {
        let (status, rows) = app.get(&format!("/api/db/select?{query}"), Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{query}: {rows}");
        let titles: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r[LABEL].as_str().unwrap()).collect();
        assert_eq!(titles, ["a", "b"], "{query}");
    }
}

#[tokio::test]
async fn the_query_string_select_works_as_qs_sends_it() {
    let app = App::start(EXAMPLE, LAYOUT).await;
    let (token, me) = app.user("ada@example.com").await;
    for title in ["one", "two", "three"] {
        app.insert_row(EXAMPLE, &token, &me, title).await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // qs's default encoding: brackets percent-encoded.
    let query = format!(
        "action%5Btable%5D={TABLE}&action%5Bwhere%5D%5BuserId%5D={me}&action%5BorderBy%5D%5B0%5D%5Bfield%5D=createdAt\
         &action%5BorderBy%5D%5B0%5D%5Bdirection%5D=desc&action%5Blimit%5D=2&action%5Bwith%5D%5B{OWNER}%5D=true"
    );
    let (status, rows) = app.get(&format!("/api/db/select?{query}"), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r[LABEL].as_str().unwrap()).collect::<Vec<_>>(), ["three", "two"]);
    assert_eq!(rows[0][OWNER]["email"], "ada@example.com");
    // Unencoded brackets and a filter operator work too.
    let (_, rows) = app.get(&format!("/api/db/select?action[table]={TABLE}&action[where][{LABEL}][like]=t%25&action[orderBy][0][field]={LABEL}"), Some(&token)).await;
    assert_eq!(
        rows.as_array().unwrap().iter().map(|r| r[LABEL].as_str().unwrap()).collect::<Vec<_>>(),
        ["three", "two"]
    );
    // A malformed one is a 400.
    assert_error(
        app.get(&format!("/api/db/select?action[limit]=-1&action[table]={TABLE}"), Some(&token)).await,
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
async fn every_error_status_has_a_json_body() {
    let app = App::start(EXAMPLE, LAYOUT).await;
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

    let mut request = app.http.get(format!("{}/api/db/select?action[table]={TABLE}", app.base));
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
    let app = App::start(EXAMPLE, LAYOUT).await;
    let (token, _) = app.user("ada@example.com").await;
    let (status, body) = app
        .post(
            "/api/db/select",
            Some(&token),
            json!({"action": {"table": TABLE, "where": {LABEL: {"like": "abc\\"}}}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains(&format!("where.{LABEL}.like")), "{body}");
    let deep = json!({"action": {"table": TABLE, "limit": 1000, "with": {OWNER: {"with": {USERS_ROWS: {"limit": 1000}}}}}});
    let (status, body) = app.post("/api/db/select", Some(&token), deep).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["name"], json!("ValidationError"));
}

#[tokio::test]
async fn account_routes_change_the_password_list_and_end_sessions() {
    let app = App::start(EXAMPLE, LAYOUT).await;
    let (first, _) = app.user("ada@example.com").await;
    let (status, login) =
        app.post("/api/auth/login", None, json!({"email": "ada@example.com", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::OK);
    let second = login["session"]["token"].as_str().unwrap().to_owned();

    let (status, sessions) = app.get("/api/auth/sessions", Some(&second)).await;
    assert_eq!(status, StatusCode::OK, "{sessions}");
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(sessions.iter().all(|s| s.get("token").is_none() && s["expiresAt"].is_i64()));
    assert_error(app.get("/api/auth/sessions", None).await, StatusCode::UNAUTHORIZED, "AuthError");

    let wrong = app
        .post("/api/auth/change-password", Some(&second),
            json!({"currentPassword": "not it at all", "newPassword": "a new passphrase"}))
        .await;
    assert_eq!(assert_error(wrong, StatusCode::UNAUTHORIZED, "AuthError")["code"], "INVALID_CREDENTIALS");
    let (status, user) = app
        .post("/api/auth/change-password", Some(&second),
            json!({"currentPassword": "correct horse", "newPassword": "a new passphrase"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["email"], "ada@example.com");
    let ended = app.get("/api/auth/sessions", Some(&first)).await;
    assert_eq!(assert_error(ended, StatusCode::UNAUTHORIZED, "AuthError")["code"], "SESSION_NOT_FOUND");
    let old = app.post("/api/auth/login", None, json!({"email": "ada@example.com", "password": "correct horse"})).await;
    assert_error(old, StatusCode::UNAUTHORIZED, "AuthError");

    let (status, body) = app.post("/api/auth/request-email-verification", Some(&second), json!(null)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"accepted": true})));
    let bad = app.post("/api/auth/verify-email", None, json!({"token": "x".repeat(43)})).await;
    assert_eq!(assert_error(bad, StatusCode::BAD_REQUEST, "AuthError")["code"], "INVALID_VERIFICATION_TOKEN");

    let (status, body) = app.post("/api/auth/end-sessions", Some(&second), json!(null)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"ended": 1})));
    assert_error(app.get("/api/auth/sessions", Some(&second)).await, StatusCode::UNAUTHORIZED, "AuthError");
}

#[tokio::test]
async fn password_guessing_over_http_is_answered_429_with_retry_after() {
    let app = App::start(EXAMPLE, LAYOUT).await;
    app.user("ada@example.com").await;
    let guess = || {
        app.http
            .post(format!("{}/api/auth/login", app.base))
            .json(&json!({"email": "ada@example.com", "password": "wrong guess"}))
            .send()
    };
    for _ in 0..10 {
        assert_eq!(guess().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let response = guess().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 60 && retry_after <= 900, "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED", "{body}");
    let right = app.post("/api/auth/login", None, json!({"email": "ada@example.com", "password": "correct horse"})).await;
    assert_eq!(right.0, StatusCode::TOO_MANY_REQUESTS, "the right password waits out the lockout too");
}

#[tokio::test]
async fn the_token_is_read_from_a_bearer_header_too() {
    let app = App::start(EXAMPLE, LAYOUT).await;
    let (token, me) = app.user("ada@example.com").await;
    app.insert_row(EXAMPLE, &token, &me, "mine").await;
    let select = |authorization: String| {
        app.http
            .post(format!("{}/api/db/select", app.base))
            .header("authorization", authorization)
            .json(&json!({"action": {"table": TABLE, "columns": [LABEL]}}))
            .send()
    };
    let response = select(format!("Bearer {token}")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!([{LABEL: "mine"}]));
    let response = select(format!("bearer {token}")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the scheme in any case");
    // One credential per request: an Authorization header that holds no
    // live Bearer token is not rescued by a good x-session-token.
    let both = app
        .http
        .post(format!("{}/api/db/select", app.base))
        .header("authorization", "Bearer garbage")
        .header("x-session-token", &token)
        .json(&json!({"action": {"table": TABLE}}))
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), StatusCode::UNAUTHORIZED);
    for refused in ["Bearer garbage".to_owned(), format!("Basic {token}"), "Bearer ".to_owned()] {
        let response = select(refused.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{refused}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "SESSION_NOT_FOUND", "{refused}: {body}");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_entity() {
    let app = App::start(EXAMPLE, LAYOUT).await;
    let (status, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for endpoint in trombase::api::ENDPOINTS {
        let method = match endpoint.method {
            trombase::api::Method::Get => "get",
            trombase::api::Method::Post => "post",
        };
        assert!(doc["paths"][endpoint.path][method].is_object(), "{} {}", method, endpoint.path);
    }
    let schemas = &doc["components"]["schemas"];
    let rust_name = match EXAMPLE {
        Example::Notes => "Note",
        Example::Expenses => "Expense",
    };
    for suffix in ["Row", "Insert", "Upsert", "Update", "Delete", "Filter", "Select", "Embed"] {
        assert!(schemas[format!("{rust_name}{suffix}")].is_object(), "{rust_name}{suffix}");
    }
    // Users are read-only: no mutation of them is offered.
    let mutations = schemas["Mutations"]["items"]["oneOf"].as_array().unwrap();
    assert_eq!(mutations.len(), 3, "{mutations:?}");
    assert!(!mutations.iter().any(|m| m["$ref"].as_str().unwrap().contains("User")));
    let insert = &schemas[format!("{rust_name}Insert")]["properties"]["payload"];
    assert!(insert["required"].as_array().unwrap().contains(&json!(LABEL)), "{insert}");
    assert!(insert["properties"].get("createdAt").is_none(), "managed timestamps are not payload: {insert}");
}

        }
    };
}

http_suite!(notes, Example::Notes, Layout::Fresh);
http_suite!(notes_on_typescript_layout, Example::Notes, Layout::TypeScript);
http_suite!(expenses, Example::Expenses, Layout::Fresh);

#[tokio::test]
async fn the_web_ui_is_served_at_the_root() {
    let app = App::start(Example::Notes, Layout::Fresh).await;
    let response = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("<title>TromBase notes</title>"));
}

/// The actix-web example's own typed routes: a filtered, ordered list and
/// totals by aggregate, each of the session's rows only.
#[tokio::test]
async fn the_expenses_app_lists_and_totals_only_the_sessions_expenses() {
    let app = App::start(Example::Expenses, Layout::Fresh).await;
    let (ada, ada_id) = app.user("ada@example.com").await;
    let (bob, bob_id) = app.user("bob@example.com").await;
    let expense = |id: String, description: &str, cents: i64, category: &str, user: &str| {
        json!({"action": "insert", "table": "expenses", "payload": {"id": id, "description": description,
            "amountCents": cents, "category": category, "userId": user}})
    };
    let new_id = || DbId::new().to_string();
    let (status, _) = app
        .post(
            "/api/db/mutations",
            Some(&ada),
            json!([
                expense(new_id(), "lunch", 1200, "food", &ada_id),
                expense(new_id(), "train", 5000, "travel", &ada_id)
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, _) = app
        .post("/api/db/mutations", Some(&ada), json!([expense(new_id(), "dinner", 3000, "food", &ada_id)]))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post("/api/db/mutations", Some(&bob), json!([expense(new_id(), "bob's", 99, "food", &bob_id)]))
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, food) = app.get("/expenses?category=food", Some(&ada)).await;
    assert_eq!(status, StatusCode::OK, "{food}");
    let descriptions: Vec<&str> =
        food.as_array().unwrap().iter().map(|e| e["description"].as_str().unwrap()).collect();
    assert_eq!(descriptions, ["dinner", "lunch"], "newest first, food only, Ada's only");
    assert_eq!(food[0]["amountCents"], 3000);

    let (status, totals) = app.get("/expenses/totals", Some(&ada)).await;
    assert_eq!(status, StatusCode::OK, "{totals}");
    assert_eq!(
        totals,
        json!([{"category": "travel", "totalCents": 5000, "count": 1}, {"category": "food", "totalCents": 4200, "count": 2}])
    );
    let (_, totals) = app.get("/expenses/totals", Some(&bob)).await;
    assert_eq!(totals, json!([{"category": "food", "totalCents": 99, "count": 1}]));

    assert_error(app.get("/expenses", None).await, StatusCode::UNAUTHORIZED, "AuthError");
    assert_error(
        app.get("/expenses?limit=many", Some(&ada)).await,
        StatusCode::BAD_REQUEST,
        "ValidationError",
    );
}
