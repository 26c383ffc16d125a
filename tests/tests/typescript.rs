#![allow(missing_docs)] // test fixtures, not API
//! The compatibility suite: the reference app on a database the TypeScript
//! library created and used (its layout, no column defaults, UUID users,
//! its token hashes, argon2id hashes from another implementation, notes
//! whose `user_id` is a UUID). Old users log in, old sessions work, old
//! notes read, update and delete, new users register and are isolated,
//! logout ends an old session, and what this library writes the TypeScript
//! library can read back.

use base64::Engine;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use sha2::Digest;
use trombase::DbId;
use trombase_tests::typescript::{self, OldUser};
use trombase_tests::TestDb;

struct App {
    db: TestDb,
    base: String,
    http: Client,
    alice: OldUser,
    bob: OldUser,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn app() -> App {
    let db = TestDb::new().await;
    let client = db.client().await;
    typescript::lay_out(&client).await;
    let alice = typescript::old_user(&client, "alice@example.com", 2).await;
    let bob = typescript::old_user(&client, "bob@example.com", 1).await;
    // The app starts as it always does: its create_tables leaves the tables as they are.
    let trom = notes_app::connect(db.url()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(notes_app::serve(listener, trom, async {
        let _ = stopped.await;
    }));
    App { db, base, http: Client::new(), alice, bob, _stop: stop }
}

impl App {
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.header("x-session-token", token);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.json().await.unwrap_or(Value::Null))
    }

    async fn notes(&self, token: &str) -> Vec<Value> {
        let (status, rows) = self
            .post(
                "/api/db/select",
                Some(token),
                json!({"action": {"table": "notes", "orderBy": [{"field": "title"}]}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{rows}");
        rows.as_array().unwrap().clone()
    }
}

#[tokio::test]
async fn the_reference_app_runs_on_a_typescript_database_as_it_is() {
    let app = app().await;
    let (alice, bob) = (&app.alice, &app.bob);
    assert_eq!(alice.id.len(), 36, "UUID user ids");

    // Old users log in with passwords hashed by another implementation.
    let (status, body) = app
        .post("/api/auth/login", None, json!({"email": alice.email, "password": typescript::PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], json!(alice.id));
    assert_eq!(body["session"]["userId"], json!(alice.id));
    let (status, _) =
        app.post("/api/auth/login", None, json!({"email": alice.email, "password": "wrong horse"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Old sessions work: each sees exactly their old notes, times in UTC with a Z.
    let notes = app.notes(&alice.token).await;
    let titles: Vec<&str> = notes.iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert_eq!(titles, [alice.notes[0].1.as_str(), alice.notes[1].1.as_str()]);
    assert!(notes.iter().all(|n| n["userId"] == json!(alice.id)));
    let created = notes[0]["createdAt"].as_str().unwrap().to_owned();
    assert!(created.ends_with('Z'), "{created}");
    let (_, same) = app
        .post(
            "/api/db/select",
            Some(&alice.token),
            json!({"action": {"table": "notes", "where": {"createdAt": created}}}),
        )
        .await;
    assert!(
        same.as_array().unwrap().iter().any(|n| n["id"] == notes[0]["id"]),
        "a row time sent back is exact"
    );
    assert_eq!(app.notes(&bob.token).await.len(), 1);
    let (_, with_author) = app
        .post(
            "/api/db/select",
            Some(&bob.token),
            json!({"action": {"table": "notes", "with": {"author": true}}}),
        )
        .await;
    assert_eq!(with_author[0]["author"]["id"], json!(bob.id), "{with_author}");

    // Old notes update and delete; a new note references a UUID user.
    let (old_id, _) = &alice.notes[0];
    let batch = json!([
        {"action": "update", "table": "notes", "id": old_id, "payload": {"title": "edited here"}},
        {"action": "delete", "table": "notes", "id": alice.notes[1].0},
        {"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(), "title": "new here",
            "content": "c", "userId": alice.id}},
    ]);
    let (status, body) = app.post("/api/db/mutations", Some(&alice.token), batch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let titles: Vec<String> =
        app.notes(&alice.token).await.iter().map(|n| n["title"].as_str().unwrap().to_owned()).collect();
    assert_eq!(titles, ["edited here", "new here"]);

    // Bob cannot touch Alice's notes.
    let steal = json!([{"action": "update", "table": "notes", "id": old_id, "payload": {"title": "bob's"}}]);
    let (status, _) = app.post("/api/db/mutations", Some(&bob.token), steal).await;
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND, "{status}");

    // A new user registers beside the old ones and is isolated from them.
    let (status, carol) = app
        .post("/api/auth/register", None, json!({"email": "carol@example.com", "password": "correct horse"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{carol}");
    let carol_token = carol["session"]["token"].as_str().unwrap().to_owned();
    assert_eq!(carol["user"]["id"].as_str().unwrap().len(), 11, "new users get base62 ids");
    assert!(app.notes(&carol_token).await.is_empty());
    let (status, _) = app
        .post(
            "/api/db/mutations",
            Some(&carol_token),
            json!([{"action": "delete", "table": "notes", "id": old_id}]),
        )
        .await;
    assert!(status.is_client_error());

    // What this library wrote, the TypeScript library reads back: the new
    // session's hash is the hex SHA-256 of the token's 32 bytes; every column set.
    let client = app.db.client().await;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&carol_token).unwrap();
    let expected: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let row = client
        .query_one(
            "SELECT s.token_hash, s.created_at IS NOT NULL, u.created_at IS NOT NULL AND u.updated_at IS NOT NULL \
             FROM trom_auth_sessions s JOIN trom_auth_users u ON u.id = s.user_id WHERE u.email = 'carol@example.com'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), expected);
    assert!(row.get::<_, bool>(1) && row.get::<_, bool>(2));

    // Logout ends an old session.
    let (status, body) = app.post("/api/auth/logout", None, json!({"token": alice.token})).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"invalidated": true})));
    let (status, _) =
        app.post("/api/db/select", Some(&alice.token), json!({"action": {"table": "notes"}})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Addresses the TypeScript library stored in a spelling the canonical form
/// rewrites (it only trimmed and lower-cased: a punycode domain, fullwidth
/// letters) still sign in, typed either way, get reset emails, and cannot
/// be registered a second time in the canonical spelling.
#[tokio::test]
async fn addresses_stored_in_an_earlier_spelling_keep_their_accounts() {
    let db = TestDb::new().await;
    let client = db.client().await;
    typescript::lay_out(&client).await;
    typescript::old_user(&client, "jürgen@xn--bcher-kva.de", 0).await;
    typescript::old_user(&client, "ａｌｉｃｅ@example.com", 0).await;
    let trom = notes_app::connect(db.url()).await.unwrap();
    for typed in ["jürgen@xn--bcher-kva.de", "jürgen@bücher.de", "JÜRGEN@BÜCHER.DE"] {
        trom.auth
            .login_with_username_password(typed, typescript::PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{typed}: {e}"));
    }
    trom.auth.login_with_username_password("ＡＬＩＣＥ@example.com", typescript::PASSWORD).await.unwrap();
    for again in ["jürgen@bücher.de", "ａｌｉｃｅ@example.com"] {
        let err = trom.auth.register_with_username_password(again, "another password").await.unwrap_err();
        assert!(
            matches!(&err, trombase::Error::Auth(e) if e.code == trombase::AuthErrorCode::UsernameTaken),
            "{again}: {err}"
        );
    }
    trom.auth.request_password_reset("jürgen@bücher.de").await.unwrap();
    let resets: i64 =
        client.query_one("SELECT count(*) FROM trom_auth_password_resets", &[]).await.unwrap().get(0);
    assert_eq!(resets, 1, "the reset found the account stored in the earlier spelling");
}
