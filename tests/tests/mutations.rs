#![allow(missing_docs)] // test fixtures, not API
//! Mutations: both forms through one engine, permitters, validation, and
//! all-or-nothing batches, against a real PostgreSQL.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;
use trombase::prelude::*;
use trombase::{Mutation, SessionDb};
use trombase_tests::{session_for, TestDb};

// ---- the schema under test ----

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "users")]
#[permit(read = anyone, create = anyone)]
pub struct User {
    pub id: DbId,
    #[field(unique)]
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "notes")]
#[relation(author = points_to(User, user_id -> id))]
#[permit(all = owner_only)]
pub struct Note {
    pub id: DbId,
    pub title: String,
    pub body: Option<String>,
    pub stars: i32,
    #[field(immutable)]
    pub user_id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "tags")]
#[permit(create = own_note_exists)]
pub struct Tag {
    pub id: DbId,
    pub note_id: DbId,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "counters")]
#[permit(create = anyone, update = slow_recording_rule)]
pub struct Counter {
    pub id: DbId,
    pub value: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

/// Rows that have an owner.
pub trait Owned {
    fn owner(&self) -> DbId;
}

impl Owned for Note {
    fn owner(&self) -> DbId {
        self.user_id
    }
}

/// One rule for every owned entity and every action.
async fn owner_only<E: Owned>(session: &Session, _: &Sql<'_>, op: &Operation<'_, E>) -> Permit<E> {
    match op {
        Operation::Create(c) if c.row.owner() == session.user_id => Permit::Allow,
        Operation::Update(u) if u.current.owner() == session.user_id => Permit::Allow,
        Operation::Delete(d) if d.rows.iter().all(|r| r.owner() == session.user_id) => Permit::Allow,
        _ => Permit::deny("not your row"),
    }
}

/// Queries through the permitter's SQL handle, inside the batch's transaction.
async fn own_note_exists(session: &Session, sql: &Sql<'_>, op: &Operation<'_, Tag>) -> Permit<Tag> {
    let Operation::Create(c) = op else { return Permit::deny("tags are create-only") };
    match sql.query_opt("SELECT user_id FROM notes WHERE id = $1", &[&c.row.note_id]).await {
        Ok(Some(row)) if row.get::<_, DbId>(0) == session.user_id => Permit::Allow,
        Ok(_) => Permit::deny("no such note of yours"),
        Err(_) => Permit::deny("lookup failed"),
    }
}

/// What each update permitter of a counter saw, in the order they ran.
static COUNTER_SEEN: Mutex<Vec<i64>> = Mutex::new(Vec::new());

/// Records the locked current value, then holds the lock for a while.
async fn slow_recording_rule(_: &Session, _: &Sql<'_>, op: &Operation<'_, Counter>) -> Permit<Counter> {
    if let Operation::Update(u) = op {
        COUNTER_SEEN.lock().unwrap().push(u.current.value);
        tokio::time::sleep(Duration::from_millis(300)).await;
        return Permit::Allow;
    }
    Permit::deny("no")
}

// ---- fixtures ----

struct Fixture {
    db: TestDb,
    trom: TromBase,
    alice: Session,
    bob: Session,
}

impl Fixture {
    async fn new() -> Fixture {
        let db = TestDb::new().await;
        let trom = TromBase::builder()
            .database_url(db.url())
            .entity::<User>()
            .entity::<Note>()
            .entity::<Tag>()
            .entity::<Counter>()
            .connect()
            .await
            .unwrap();
        trom.create_tables().await.unwrap();
        let (alice, bob) = (session_for(DbId::new()), session_for(DbId::new()));
        let f = Fixture { db, trom, alice, bob };
        f.as_user(&f.alice)
            .do_mutations([
                Mutation::insert(NewUser { id: f.alice.user_id, email: "alice@example.com".into() }),
                Mutation::insert(NewUser { id: f.bob.user_id, email: "bob@example.com".into() }),
            ])
            .await
            .unwrap();
        f
    }

    fn as_user(&self, session: &Session) -> SessionDb {
        self.trom.db.with_session(session)
    }

    async fn notes(&self) -> Vec<Note> {
        let client = self.db.client().await;
        let rows = client
            .query(
                "SELECT id, title, body, stars, user_id, created_at, updated_at FROM notes ORDER BY title",
                &[],
            )
            .await
            .unwrap();
        rows.iter().map(|r| Note::from_row(r).unwrap()).collect()
    }

    async fn count(&self, table: &str) -> i64 {
        let client = self.db.client().await;
        client.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await.unwrap().get(0)
    }
}

fn new_note(owner: &Session, title: &str) -> NewNote {
    NewNote { id: DbId::new(), title: title.into(), body: None, stars: 0, user_id: owner.user_id }
}

/// What a validation error says: (path, message, operation index).
type Said<'a> = (&'a str, &'a str, Option<usize>);

fn validation(err: &trombase::Error) -> Said<'_> {
    match err {
        trombase::Error::Validation(v) => (v.path.as_str(), v.message.as_str(), v.operation),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

// ---- happy paths ----

#[tokio::test]
async fn typed_insert_update_delete() {
    let f = Fixture::new().await;
    let db = f.as_user(&f.alice);
    let (first, second) = (new_note(&f.alice, "a"), new_note(&f.alice, "b"));
    let (first_id, second_id) = (first.id, second.id);
    db.do_mutations([Mutation::insert(first), Mutation::insert(second)]).await.unwrap();
    let notes = f.notes().await;
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0].created_at, notes[0].updated_at, "timestamps set by the library");

    db.do_mutations([Mutation::update(
        first_id,
        [Note::TITLE.set("a2"), Note::BODY.set(Some("text".to_owned())), Note::STARS.set(5)],
    )])
    .await
    .unwrap();
    let updated = f.notes().await.into_iter().find(|n| n.id == first_id).unwrap();
    assert_eq!((updated.title.as_str(), updated.body.as_deref(), updated.stars), ("a2", Some("text"), 5));
    assert!(updated.updated_at > updated.created_at, "updatedAt moves on update");
    assert_eq!(updated.created_at, notes[0].created_at, "createdAt never moves");

    db.do_mutations([Mutation::delete::<Note>([first_id, second_id])]).await.unwrap();
    assert_eq!(f.count("notes").await, 0);
}

#[tokio::test]
async fn json_insert_update_delete() {
    let f = Fixture::new().await;
    let db = f.as_user(&f.alice);
    let (a, b) = (DbId::new(), DbId::new());
    let me = f.alice.user_id.to_string();
    db.do_mutations_json(&json!([
        {"action": "insert", "table": "notes", "payload": {"id": a.to_string(), "title": "a", "stars": 1, "userId": me}},
        {"action": "insert", "table": "notes", "payload": {"id": b.to_string(), "title": "b", "body": null, "stars": 2, "userId": me}},
        {"action": "update", "table": "notes", "id": a.to_string(), "payload": {"title": "a2", "body": "hello"}},
    ]))
    .await
    .unwrap();
    let notes = f.notes().await;
    assert_eq!(notes.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["a2", "b"]);
    assert_eq!(notes[0].body.as_deref(), Some("hello"));

    db.do_mutations_json(&json!([{"action": "delete", "table": "notes", "id": a.to_string()}]))
        .await
        .unwrap();
    db.do_mutations_json(&json!([{"action": "delete", "table": "notes", "id": [b.to_string()]}]))
        .await
        .unwrap();
    assert_eq!(f.count("notes").await, 0);
}

#[tokio::test]
async fn a_batch_can_link_rows_it_creates() {
    let f = Fixture::new().await;
    let note = new_note(&f.alice, "linked");
    let note_id = note.id;
    // The tag's permitter queries the note inserted one step earlier in the same transaction.
    f.as_user(&f.alice)
        .do_mutations([
            Mutation::insert(note),
            Mutation::insert(NewTag { id: DbId::new(), note_id, label: "x".into() }),
        ])
        .await
        .unwrap();
    assert_eq!(f.count("tags").await, 1);
    // Without the note earlier in the batch, the same permitter finds nothing.
    let err = f
        .as_user(&f.alice)
        .do_mutations([Mutation::insert(NewTag { id: DbId::new(), note_id: DbId::new(), label: "y".into() })])
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "no such note of yours");
}

// ---- permissions ----

#[tokio::test]
async fn a_deny_in_the_middle_applies_nothing() {
    let f = Fixture::new().await;
    let existing = new_note(&f.alice, "existing");
    let existing_id = existing.id;
    f.as_user(&f.alice).do_mutations([Mutation::insert(existing)]).await.unwrap();
    let before = f.notes().await;

    let err = f
        .as_user(&f.alice)
        .do_mutations([
            Mutation::insert(new_note(&f.alice, "one")),
            Mutation::update(existing_id, [Note::TITLE.set("changed")]),
            Mutation::insert(new_note(&f.bob, "not mine")), // operation 2 of 0..5: denied
            Mutation::insert(new_note(&f.alice, "four")),
            Mutation::delete::<Note>([existing_id]),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, trombase::Error::Permission(_)), "{err:?}");
    assert_eq!(err.operation(), Some(2));
    assert_eq!(err.to_string(), "not your row");
    assert_eq!(f.notes().await, before, "nothing of the batch applied");
}

#[tokio::test]
async fn update_and_delete_permitters_see_the_stored_row() {
    let f = Fixture::new().await;
    let bobs = new_note(&f.bob, "bob's");
    let bobs_id = bobs.id;
    f.as_user(&f.bob).do_mutations([Mutation::insert(bobs)]).await.unwrap();
    // Alice cannot take Bob's note, whatever her payload says.
    let err = f.as_user(&f.alice).do_mutations([Mutation::update(bobs_id, [Note::TITLE.set("mine")])]).await;
    assert_eq!(err.unwrap_err().to_string(), "not your row");
    let err = f.as_user(&f.alice).do_mutations([Mutation::delete::<Note>([bobs_id])]).await;
    assert_eq!(err.unwrap_err().to_string(), "not your row");
    assert_eq!(f.notes().await[0].title, "bob's");
    // Bob can.
    f.as_user(&f.bob)
        .do_mutations([Mutation::update(bobs_id, [Note::TITLE.set("still bob's")])])
        .await
        .unwrap();
    f.as_user(&f.bob).do_mutations([Mutation::delete::<Note>([bobs_id])]).await.unwrap();
}

#[tokio::test]
async fn undeclared_actions_are_denied() {
    let f = Fixture::new().await;
    let err =
        f.as_user(&f.alice).do_mutations([Mutation::delete::<User>([f.alice.user_id])]).await.unwrap_err();
    assert!(matches!(err, trombase::Error::Permission(_)));
    assert_eq!(err.to_string(), "Permission denied");
    assert_eq!(f.count("users").await, 2);
}

#[tokio::test]
async fn concurrent_updates_of_one_row_serialize() {
    let f = Fixture::new().await;
    let id = DbId::new();
    f.as_user(&f.alice).do_mutations([Mutation::insert(NewCounter { id, value: 0 })]).await.unwrap();
    let (a, b) = (f.as_user(&f.alice), f.as_user(&f.bob));
    let (ra, rb) = tokio::join!(
        a.do_mutations([Mutation::update(id, [Counter::VALUE.set(1)])]),
        b.do_mutations([Mutation::update(id, [Counter::VALUE.set(2)])]),
    );
    ra.unwrap();
    rb.unwrap();
    let seen = COUNTER_SEEN.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0], 0, "the first permitter sees the stored value");
    assert!(seen[1] == 1 || seen[1] == 2, "the second sees the first's write, not the old row: {seen:?}");
}

// ---- validation: each error names operation and field, and changes nothing ----

#[tokio::test]
async fn typed_validation_errors() {
    let f = Fixture::new().await;
    let note = new_note(&f.alice, "keep");
    let id = note.id;
    f.as_user(&f.alice).do_mutations([Mutation::insert(note)]).await.unwrap();
    let before = f.notes().await;
    let db = f.as_user(&f.alice);

    // Setting an immutable or managed field does not compile in the typed
    // API (ui/mutation/update_of_an_*_field.rs); the JSON API refuses it
    // when it validates the batch (json_validation_errors).
    let cases: Vec<(Vec<Mutation>, Said)> = vec![
        (
            vec![Mutation::insert(new_note(&f.alice, "ok")), Mutation::update::<Note>(id, [])],
            ("payload", "an update must change at least one field", Some(1)),
        ),
        (
            vec![Mutation::update::<Note>(id, [])],
            ("payload", "an update must change at least one field", Some(0)),
        ),
        (vec![Mutation::delete::<Note>([])], ("id", "a delete needs at least one id", Some(0))),
        (
            vec![Mutation::update(id, [Note::TITLE.set("x"), Note::TITLE.set("y")])],
            ("payload.title", "is set twice", Some(0)),
        ),
    ];
    for (batch, expected) in cases {
        let err = db.do_mutations(batch).await.unwrap_err();
        assert_eq!(validation(&err), expected);
    }
    // Missing rows.
    let missing = DbId::new();
    let err = db
        .do_mutations([
            Mutation::insert(new_note(&f.alice, "x")),
            Mutation::update(missing, [Note::TITLE.set("x")]),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, trombase::Error::NotFound(_)), "{err:?}");
    assert_eq!(err.to_string(), format!("operation 1: notes {missing} not found"));
    let err = db.do_mutations([Mutation::delete::<Note>([id, missing])]).await.unwrap_err();
    assert_eq!(err.to_string(), format!("operation 0: notes {missing} not found"));
    assert_eq!(f.notes().await, before);
}

#[tokio::test]
async fn json_validation_errors() {
    let f = Fixture::new().await;
    let note = new_note(&f.alice, "keep");
    let id = note.id.to_string();
    f.as_user(&f.alice).do_mutations([Mutation::insert(note)]).await.unwrap();
    let before = f.notes().await;
    let db = f.as_user(&f.alice);
    let me = f.alice.user_id.to_string();
    let good = json!({"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(), "title": "t", "stars": 1, "userId": me}});

    let cases = vec![
        (json!({"not": "an array"}), ("", "expected an array of mutations, got an object", None)),
        (json!([good, "text"]), ("", "expected an object, got a string", Some(1))),
        (
            json!([{"action": "merge", "table": "notes"}]),
            ("action", "unknown action `merge`; expected insert, update, upsert or delete", Some(0)),
        ),
        (json!([{"action": "upsert", "table": "notes"}]), ("payload", "is required", Some(0))),
        (json!([{"action": 1, "table": "notes"}]), ("action", "expected a string, got a number", Some(0))),
        (json!([{"table": "notes"}]), ("action", "is required", Some(0))),
        (json!([{"action": "insert", "table": "nope"}]), ("table", "unknown table `nope`", Some(0))),
        (
            json!([{"action": "insert", "table": "notes", "payload": {}, "extra": 1}]),
            ("extra", "unknown key for an insert; expected one of: action, table, payload", Some(0)),
        ),
        (
            json!([{"action": "insert", "table": "notes", "payload": []}]),
            ("payload", "expected an object, got an array", Some(0)),
        ),
        (
            json!([{"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(), "title": "t", "stars": 1, "userId": me, "color": "red"}}]),
            ("payload.color", "unknown field of `notes`", Some(0)),
        ),
        (
            json!([{"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(), "title": 5, "stars": 1, "userId": me}}]),
            ("payload.title", "expected text, got a number", Some(0)),
        ),
        (
            json!([{"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(), "title": "t", "stars": 1.5, "userId": me}}]),
            ("payload.stars", "expected 32-bit integer, got a number", Some(0)),
        ),
        (
            json!([{"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(), "stars": 1, "userId": me}}]),
            ("payload.title", "is required", Some(0)),
        ),
        (
            json!([{"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(), "title": null, "stars": 1, "userId": me}}]),
            ("payload.title", "is required", Some(0)),
        ),
        (
            json!([{"action": "insert", "table": "notes", "payload": {"title": "t", "stars": 1, "userId": me}}]),
            ("payload.id", "is required", Some(0)),
        ),
        (
            json!([{"action": "insert", "table": "notes", "payload": {"id": "not-an-id", "title": "t", "stars": 1, "userId": me}}]),
            (
                "payload.id",
                "invalid DbId: expected 11 base62 characters or a 36-character UUID, got 9",
                Some(0),
            ),
        ),
        (
            json!([{"action": "insert", "table": "notes", "payload": {"id": DbId::new().to_string(), "title": "t", "stars": 1, "userId": me, "createdAt": "2024-01-01T00:00:00Z"}}]),
            ("payload.createdAt", "is managed by the library and cannot be set", Some(0)),
        ),
        (
            json!([good, {"action": "update", "table": "notes", "id": id, "payload": {"updatedAt": "2024-01-01T00:00:00Z"}}]),
            ("payload.updatedAt", "is managed by the library and cannot be changed", Some(1)),
        ),
        (
            json!([{"action": "update", "table": "notes", "id": id, "payload": {"userId": me}}]),
            ("payload.userId", "is immutable and cannot be changed", Some(0)),
        ),
        (
            json!([{"action": "update", "table": "notes", "id": id, "payload": {"id": DbId::new().to_string()}}]),
            ("payload.id", "is managed by the library and cannot be changed", Some(0)),
        ),
        (
            json!([good, {"action": "update", "table": "notes", "id": id, "payload": {"createdAt": "2024-01-01T00:00:00Z"}}]),
            ("payload.createdAt", "is managed by the library and cannot be changed", Some(1)),
        ),
        (
            json!([{"action": "update", "table": "notes", "id": id, "payload": {}}]),
            ("payload", "an update must change at least one field", Some(0)),
        ),
        (
            json!([{"action": "update", "table": "notes", "payload": {"title": "x"}}]),
            ("id", "is required", Some(0)),
        ),
        (
            json!([{"action": "update", "table": "notes", "id": id, "payload": {"body": 7}}]),
            ("payload.body", "expected text, got a number", Some(0)),
        ),
        (
            json!([{"action": "delete", "table": "notes", "id": []}]),
            ("id", "a delete needs at least one id", Some(0)),
        ),
        (
            json!([{"action": "delete", "table": "notes", "id": [id, 5]}]),
            ("id[1]", "expected a string, got a number", Some(0)),
        ),
        (
            json!([{"action": "delete", "table": "notes", "id": {"$ne": null}}]),
            ("id", "expected a string, got an object", Some(0)),
        ),
    ];
    for (batch, expected) in cases {
        let err = db.do_mutations_json(&batch).await.unwrap_err();
        assert_eq!(validation(&err), expected, "for {batch}");
    }
    let err = db
        .do_mutations_json(&json!([{"action": "delete", "table": "notes", "id": DbId::new().to_string()}]))
        .await
        .unwrap_err();
    assert!(matches!(err, trombase::Error::NotFound(_)));
    assert_eq!(f.notes().await, before, "no case changed anything");
}

#[tokio::test]
async fn a_unique_violation_is_a_conflict_at_its_operation() {
    let f = Fixture::new().await;
    let err = f
        .as_user(&f.alice)
        .do_mutations([
            Mutation::insert(NewUser { id: DbId::new(), email: "carol@example.com".into() }),
            Mutation::insert(NewUser { id: DbId::new(), email: "alice@example.com".into() }),
            Mutation::insert(NewUser { id: DbId::new(), email: "dave@example.com".into() }),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, trombase::Error::Conflict(_)), "{err:?}");
    assert_eq!(err.operation(), Some(1));
    assert_eq!(err.http_status(), 409);
    assert!(!err.to_string().contains("duplicate key"), "no database text: {err}");
    assert_eq!(f.count("users").await, 2);
}

#[tokio::test]
async fn an_expired_session_is_refused_before_any_sql() {
    let f = Fixture::new().await;
    let mut expired = f.alice.clone();
    expired.expires_at = Utc::now() - chrono::TimeDelta::seconds(1);
    let err =
        f.as_user(&expired).do_mutations([Mutation::insert(new_note(&f.alice, "x"))]).await.unwrap_err();
    assert!(
        matches!(&err, trombase::Error::Auth(a) if a.code == trombase::AuthErrorCode::SessionNotFound),
        "{err:?}"
    );
    let err = f.as_user(&expired).do_mutations_json(&json!("junk")).await.unwrap_err();
    assert!(matches!(err, trombase::Error::Auth(_)), "expiry is checked before parsing");
    assert_eq!(f.count("notes").await, 0);
}

#[tokio::test]
async fn big_batches_are_all_or_nothing() {
    let f = Fixture::new().await;
    let db = f.as_user(&f.alice);
    let notes: Vec<NewNote> = (0..500).map(|i| new_note(&f.alice, &format!("n{i:03}"))).collect();
    let ids: Vec<DbId> = notes.iter().map(|n| n.id).collect();
    db.do_mutations(notes.into_iter().map(Mutation::insert)).await.unwrap();
    assert_eq!(f.count("notes").await, 500);
    // One delete of 500 ids, then a failing insert: the delete is undone.
    let dup = NewNote { id: ids[0], ..new_note(&f.alice, "dup") };
    let err = db
        .do_mutations([
            Mutation::delete::<Note>(ids.clone()),
            Mutation::insert(new_note(&f.alice, "x")),
            Mutation::insert(dup.clone()),
            Mutation::insert(dup),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.operation(), Some(3), "{err}");
    assert_eq!(f.count("notes").await, 500);
    db.do_mutations([Mutation::delete::<Note>(ids)]).await.unwrap();
    assert_eq!(f.count("notes").await, 0);
}

// ---- hostile JSON: typed errors, never a panic ----

fn schema() -> trombase::schema::Schema {
    use trombase::EntityHandle;
    trombase::schema::Schema::from_handles(vec![
        EntityHandle::of::<User>(),
        EntityHandle::of::<Note>(),
        EntityHandle::of::<Tag>(),
        EntityHandle::of::<Counter>(),
    ])
    .unwrap()
}

#[test]
fn malformed_json_text_is_a_validation_error() {
    for text in [
        &b"[{\"action\": \"insert\""[..],
        b"[\"\\udc00\"]",  // lone surrogate escape
        b"[\"\xff\xfe\"]", // not UTF-8
        b"",
        b"nul",
    ] {
        let err = trombase::parse_json_body(text).unwrap_err();
        assert!(matches!(err, trombase::Error::Validation(_)), "{err:?}");
        assert!(err.to_string().starts_with("invalid JSON: "), "{err}");
    }
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let err = trombase::parse_json_body(deep.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");
}

#[test]
fn hostile_batches_get_typed_errors() {
    let schema = schema();
    let id = DbId::new().to_string();
    let nested = (0..100).fold(json!(1), |inner, _| json!([inner]));
    let cases = [
        json!(null),
        json!(5),
        json!([null]),
        json!([[]]),
        json!([{"action": ["insert"], "table": "notes"}]),
        json!([{"action": "insert", "table": ["notes"]}]),
        json!([{"action": "insert", "table": "notes\"; DROP TABLE notes; --"}]),
        json!([{"action": "insert", "table": "notes", "payload": {"id": id, "title": nested, "stars": 1, "userId": id}}]),
        json!([{"action": "insert", "table": "notes", "payload": {"id": id, "title": "t", "stars": 1e300, "userId": id}}]),
        json!([{"action": "insert", "table": "notes", "payload": {"id": id, "title": "t", "stars": -2147483649i64, "userId": id}}]),
        json!([{"action": "update", "table": "notes", "id": 12, "payload": {"title": "x"}}]),
        json!([{"action": "update", "table": "notes", "id": id, "payload": {"title\"--": "x"}}]),
        json!([{"action": "delete", "table": "notes", "id": null}]),
        json!([{"action": "delete", "table": "notes", "id": [[id]]}]),
    ];
    for case in cases {
        let err = Mutation::parse_json_batch(&schema, &case, 10_000).unwrap_err();
        assert!(matches!(err, trombase::Error::Validation(_)), "{case}: {err:?}");
    }
    let huge =
        serde_json::Value::Array(vec![json!({"action": "delete", "table": "notes", "id": id}); 10_001]);
    let err = Mutation::parse_json_batch(&schema, &huge, 10_000).unwrap_err();
    assert_eq!(err.to_string(), "a batch may hold at most 10000 mutations, got 10001");
}

mod generated {
    use super::*;
    use proptest::prelude::*;

    /// Any JSON value, biased towards the keys and values mutations use.
    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let key = prop_oneof![
            Just("action".to_owned()),
            Just("table".to_owned()),
            Just("payload".to_owned()),
            Just("id".to_owned()),
            Just("title".to_owned()),
            Just("userId".to_owned()),
            Just("stars".to_owned()),
            Just("createdAt".to_owned()),
            ".*",
        ];
        let leaf = prop_oneof![
            Just(json!(null)),
            any::<bool>().prop_map(|b| json!(b)),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|n| json!(n)),
            prop_oneof![
                Just("insert".to_owned()),
                Just("update".to_owned()),
                Just("delete".to_owned()),
                Just("notes".to_owned()),
                Just("users".to_owned()),
                Just(DbId::new().to_string()),
                ".*",
            ]
            .prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(5, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(key.clone(), inner, 0..8)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn the_json_parser_never_panics(json in any_json()) {
            let schema = schema();
            match Mutation::parse_json_batch(&schema, &json, 100) {
                Ok(batch) => prop_assert!(json.as_array().is_some_and(|a| a.len() == batch.len())),
                Err(err) => prop_assert!(matches!(err, trombase::Error::Validation(_)), "{:?}", err),
            }
        }

        #[test]
        fn the_json_text_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = trombase::parse_json_body(&bytes);
        }
    }
}
