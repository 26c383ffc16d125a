#![allow(missing_docs)] // test fixtures, not API
//! Injection and bypass attempts against the reference app's rules (notes
//! readable and writable only by their owner): SQL metacharacters and
//! Unicode tricks in every name and value position of both JSON forms,
//! reads around the row filter, writes to other users' rows and to managed
//! or immutable fields, forged and replayed tokens. Each fails with the right
//! typed error and leaves the data as it was.

use notes_app::{Note, User};
use serde_json::{json, Value};
use trombase::prelude::*;
use trombase_tests::TestDb;

struct World {
    db: TestDb,
    trom: TromBase,
    ada: Session,
    bob: Session,
    adas_note: DbId,
}

async fn world() -> World {
    let db = TestDb::new().await;
    let trom = notes_app::connect(db.url()).await.unwrap();
    let ada =
        trom.auth.register_with_username_password("ada@example.com", "correct horse").await.unwrap().session;
    let bob =
        trom.auth.register_with_username_password("bob@example.com", "correct horse").await.unwrap().session;
    let adas_note = DbId::new();
    trom.db
        .with_session(&ada)
        .do_mutations([Mutation::insert(notes_app::NewNote {
            id: adas_note,
            title: "secret plan".into(),
            content: "ada only".into(),
            user_id: ada.user_id,
        })])
        .await
        .unwrap();
    World { db, trom, ada, bob, adas_note }
}

impl World {
    /// Every row of notes, as stored, to compare before and after.
    async fn notes(&self) -> Vec<Vec<String>> {
        let client = self.db.client().await;
        let rows = client.query("SELECT id, title, content, user_id, created_at::text, updated_at::text FROM notes ORDER BY id", &[]).await.unwrap();
        rows.iter().map(|r| (0..6).map(|i| r.get::<_, String>(i)).collect()).collect()
    }
}

const NASTY_NAMES: &[&str] = &[
    "title\"; DROP TABLE notes; --",
    "title' OR '1'='1",
    "notes\" WHERE 1=1 --",
    "title) UNION SELECT password_hash FROM trom_auth_users --",
    "tіtle",         // Cyrillic і
    "title\u{200b}", // zero-width space
    "\u{202e}eltit", // right-to-left override
    "ｔｉｔｌｅ",    // fullwidth
    "TITLE",
    "",
    "*",
    "user_id", // the physical name, not the logical one
];

#[tokio::test]
async fn names_in_every_position_of_both_json_forms_are_checked_against_the_schema() {
    let w = world().await;
    let before = w.notes().await;
    let db = w.trom.db.with_session(&w.bob);
    let me = w.bob.user_id.to_string();
    for name in NASTY_NAMES {
        let mutations = [
            json!([{"action": "insert", "table": name, "payload": {}}]),
            json!([{"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(), "title": "t", "content": "c", "userId": me, *name: "x"}}]),
            json!([{"action": "update", "table": "notes", "id": w.adas_note.to_string(), "payload": {*name: "x"}}]),
            json!([{"action": name, "table": "notes", "id": w.adas_note.to_string()}]),
        ];
        for m in &mutations {
            let err = db.do_mutations_json(m).await.unwrap_err();
            assert!(matches!(err, trombase::Error::Validation(_)), "{m}: {err:?}");
        }
        let selects = [
            json!({"table": name}),
            json!({"table": "notes", "columns": [name]}),
            json!({"table": "notes", "where": {*name: "x"}}),
            json!({"table": "notes", "where": {"title": {*name: "x"}}}),
            json!({"table": "notes", "with": {*name: true}}),
            json!({"table": "notes", "orderBy": [{"field": name}]}),
            json!({"table": "notes", "groupBy": [name], "aggregates": {"n": {"fn": "count"}}}),
            json!({"table": "notes", "aggregates": {*name: {"fn": "count"}}}),
            json!({"table": "notes", "aggregates": {"n": {"fn": name}}}),
            json!({"table": "notes", "aggregates": {"n": {"fn": "max", "field": name}}}),
        ];
        for s in &selects {
            match db.select_json(s).await {
                Err(trombase::Error::Validation(_)) => {}
                // An aggregate alias that is a plain identifier ("TITLE") is just a name.
                Ok(rows) if s["aggregates"].get(*name).is_some() => assert_eq!(rows, [json!({*name: 0})]),
                other => panic!("{s}: {other:?}"),
            }
        }
    }
    assert_eq!(w.notes().await, before);
}

#[tokio::test]
async fn hostile_values_are_stored_verbatim_or_refused() {
    let w = world().await;
    let db = w.trom.db.with_session(&w.bob);
    let me = w.bob.user_id.to_string();
    let values = [
        "'; DROP TABLE notes; --",
        "\" OR 1=1 --",
        "$1",
        "%_\\",
        "\u{202e}evil",
        "ｆｕｌｌ",
        "emoji 🦀 and \u{feff}bom",
        "$trombase$ END $trombase$",
    ];
    for value in values {
        let id = DbId::new();
        db.do_mutations_json(&json!([{"action": "insert", "table": "notes",
            "payload": {"id": id.to_string(), "title": value, "content": value, "userId": me}}]))
            .await
            .unwrap();
        let rows = db
            .select_json(&json!({"table": "notes", "where": {"id": id.to_string(), "title": value}}))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{value}");
        assert_eq!(rows[0]["title"], value);
        let typed = db.select(Note::query().filter(Note::TITLE.eq(value))).await.unwrap();
        assert_eq!(typed.len(), 1);
    }
    // NUL cannot be stored: a validation error, not a database error.
    let err = db
        .do_mutations_json(&json!([{"action": "insert", "table": "notes",
            "payload": {"id": DbId::new().to_string(), "title": "a\u{0}b", "content": "", "userId": me}}]))
        .await
        .unwrap_err();
    assert!(matches!(err, trombase::Error::Validation(_)), "{err:?}");
    let err = db.select_json(&json!({"table": "notes", "where": {"title": "a\u{0}"}})).await.unwrap_err();
    assert!(matches!(err, trombase::Error::Validation(_)), "{err:?}");
    // Ada's note is untouched and still hers alone.
    assert_eq!(w.trom.db.with_session(&w.ada).select(Note::query()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn reads_cannot_reach_around_the_row_filter() {
    let w = world().await;
    let db = w.trom.db.with_session(&w.bob);
    let ada_id = w.ada.user_id.to_string();
    let note = w.adas_note.to_string();
    let empty = |rows: &Vec<Value>| rows.is_empty();
    let attempts = [
        json!({"table": "notes"}),
        json!({"table": "notes", "where": {"id": note}}),
        json!({"table": "notes", "where": {"userId": ada_id}}),
        json!({"table": "notes", "where": {"id": {"in": [note]}}}),
        json!({"table": "notes", "where": {"title": {"like": "%"}}}),
        json!({"table": "notes", "where": {"or": [{"userId": ada_id}, {"title": {"ilike": "%secret%"}}]}}),
        json!({"table": "notes", "where": {"not": {"userId": w.bob.user_id.to_string()}}}),
        json!({"table": "notes", "orderBy": [{"field": "title", "direction": "desc"}], "offset": 0, "limit": 1000}),
        json!({"table": "notes", "offset": 1}),
    ];
    for attempt in &attempts {
        let rows = db.select_json(attempt).await.unwrap();
        assert!(empty(&rows), "{attempt} leaked {rows:?}");
    }
    // Through a relation, aggregates and group-by.
    let users = db
        .select_json(&json!({"table": "users", "with": {"notes": {"where": {"userId": ada_id}}}}))
        .await
        .unwrap();
    assert!(users.iter().all(|u| u["notes"] == json!([])), "{users:?}");
    let count = db.select_json(&json!({"table": "notes", "aggregates": {"n": {"fn": "count"}, "t": {"fn": "max", "field": "title"}}})).await.unwrap();
    assert_eq!(count, [json!({"n": 0, "t": null})]);
    let grouped = db
        .select_json(&json!({"table": "notes", "columns": ["userId"], "groupBy": ["userId"], "aggregates": {"n": {"fn": "count"}}}))
        .await
        .unwrap();
    assert!(grouped.is_empty(), "{grouped:?}");
    let nested = db
        .select_json(&json!({"table": "users", "with": {"notes": {"aggregates": {"n": {"fn": "count"}}}}}))
        .await
        .unwrap();
    assert!(nested.iter().all(|u| u["notes"] == json!([{"n": 0}])), "{nested:?}");
    let typed = db.select(User::query().with(User::NOTES)).await.unwrap();
    assert!(typed.iter().all(|(_, notes)| notes.is_empty()));
    // Users expose no password hash, whatever is asked.
    let err = db.select_json(&json!({"table": "users", "columns": ["passwordHash"]})).await.unwrap_err();
    assert!(matches!(err, trombase::Error::Validation(_)));
}

#[tokio::test]
async fn writes_cannot_touch_others_rows_or_protected_fields() {
    let w = world().await;
    let before = w.notes().await;
    let bob = w.trom.db.with_session(&w.bob);
    let ada = w.trom.db.with_session(&w.ada);
    let note = w.adas_note.to_string();
    let permission = [
        json!([{"action": "update", "table": "notes", "id": note, "payload": {"title": "mine now"}}]),
        json!([{"action": "delete", "table": "notes", "id": note}]),
        json!([{"action": "delete", "table": "notes", "id": [DbId::new().to_string(), note]}]),
        json!([{"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(), "title": "x", "content": "", "userId": w.ada.user_id.to_string()}}]),
        json!([{"action": "delete", "table": "users", "id": w.ada.user_id.to_string()}]),
        json!([{"action": "update", "table": "users", "id": w.ada.user_id.to_string(), "payload": {"email": "bob@evil.example"}}]),
    ];
    for attempt in &permission {
        let err = bob.do_mutations_json(attempt).await.unwrap_err();
        assert!(
            matches!(err, trombase::Error::Permission(_) | trombase::Error::NotFound(_)),
            "{attempt}: {err:?}"
        );
    }
    // Even the owner cannot change managed or immutable fields.
    for field in ["id", "createdAt", "updatedAt", "userId"] {
        let value = if field.ends_with("At") {
            json!("2020-01-01T00:00:00Z")
        } else {
            json!(w.bob.user_id.to_string())
        };
        let err = ada
            .do_mutations_json(
                &json!([{"action": "update", "table": "notes", "id": note, "payload": {field: value}}]),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, trombase::Error::Validation(_)), "{field}: {err:?}");
    }
    let err = ada
        .do_mutations_json(&json!([{"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(),
            "title": "x", "content": "", "userId": w.ada.user_id.to_string(), "createdAt": "2020-01-01T00:00:00Z"}}]))
        .await
        .unwrap_err();
    assert!(matches!(err, trombase::Error::Validation(_)));
    assert_eq!(w.notes().await, before);
}

#[tokio::test]
async fn forged_truncated_and_replayed_tokens_are_refused() {
    let w = world().await;
    let signed_in =
        w.trom.auth.login_with_username_password("ada@example.com", "correct horse").await.unwrap();
    let token = signed_in.session.token.clone().unwrap();
    assert!(w.trom.auth.get_session_by_token(&token).await.unwrap().is_some());
    let mut flipped = token.clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let forged = [
        String::new(),
        "A".repeat(43),
        token[..42].to_owned(),
        format!("{token}A"),
        format!("{token}="),
        String::from_utf8(flipped).unwrap(),
        token.replace(['-', '_'], "+"),
        "' OR 1=1 --".to_owned(),
        signed_in.session.id.to_string(),
    ];
    for candidate in &forged {
        if candidate == &token {
            continue;
        }
        assert!(w.trom.auth.get_session_by_token(candidate).await.unwrap().is_none(), "{candidate:?}");
        let err = w.trom.auth.require_session(candidate).await.unwrap_err();
        assert!(
            matches!(&err, trombase::Error::Auth(a) if a.code == trombase::AuthErrorCode::SessionNotFound),
            "{err:?}"
        );
    }
    // Replayed after logout.
    assert!(w.trom.auth.invalidate_session_token(&token).await.unwrap().invalidated);
    assert!(w.trom.auth.get_session_by_token(&token).await.unwrap().is_none());
    assert!(!w.trom.auth.invalidate_session_token(&token).await.unwrap().invalidated);
}
