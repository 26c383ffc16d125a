#![allow(missing_docs)] // test fixtures, not API
//! The public test harness itself (`trombase::testing`, `#[trombase::test]`):
//! databases are created fresh and dropped afterwards, also after a panic
//! and with the app's connections still open; apps get their tables;
//! sessions for new users are real ones.

use trombase::prelude::*;
use trombase::testing::{server_url, session_for, TestApp, TestDb};
use trombase::Mutation;

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "notes")]
#[permit(all = owner_only)]
pub struct Note {
    pub id: DbId,
    pub title: String,
    #[field(immutable)]
    pub user_id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn owner_only(session: &Session, _: &Sql<'_>, op: &Operation<'_, Note>) -> Permit<Note> {
    match op {
        Operation::Read(_) => Permit::filter(Note::USER_ID.eq(session.user_id)),
        Operation::Create(c) if c.row.user_id == session.user_id => Permit::Allow,
        _ => Permit::deny("not your note"),
    }
}

/// Whether a database of that name exists on the server.
async fn exists(name: &str) -> bool {
    let (client, connection) = tokio_postgres::connect(&server_url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let row =
        client.query_one("SELECT count(*) FROM pg_database WHERE datname = $1", &[&name]).await.unwrap();
    row.get::<_, i64>(0) == 1
}

#[trombase::test]
async fn a_test_db_is_fresh_and_empty(db: TestDb) {
    assert!(db.name().starts_with("trombase_test_"), "{}", db.name());
    assert!(exists(db.name()).await);
    let client = db.client().await;
    let current: String = client.query_one("SELECT current_database()", &[]).await.unwrap().get(0);
    assert_eq!(current, db.name());
    let tables: i64 = client
        .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 0);
}

#[tokio::test]
async fn the_database_is_dropped_with_the_app_still_connected() {
    let app = TestApp::new(|builder| builder.entity::<Note>()).await;
    let name = app.test_db().name().to_owned();
    // Connections of the app's pool, and a client of the test's own, open.
    let _ = app.as_user(&session_for(DbId::new())).select(Note::query()).await.unwrap();
    let client = app.test_db().client().await;
    assert!(!app.test_db().backend_pids().await.is_empty());
    drop(app);
    assert!(!exists(&name).await, "{name} is gone");
    assert!(client.query_one("SELECT 1", &[]).await.is_err(), "its sessions were ended");
}

#[test]
fn the_database_is_dropped_when_the_test_panics() {
    let (tx, rx) = std::sync::mpsc::channel();
    let panicked = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let db = TestDb::new().await;
            let _client = db.client().await;
            tx.send(db.name().to_owned()).unwrap();
            panic!("the test fails");
        })
    })
    .join();
    assert!(panicked.is_err());
    let name = rx.recv().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    assert!(!runtime.block_on(exists(&name)), "{name} is gone");
}

#[trombase::test(entities(Note))]
async fn an_app_has_its_tables_and_real_sessions(app: TestApp) {
    let ann = app.session_for_new_user().await;
    let token = ann.session.token.clone().expect("a fresh session carries its token");
    // The session row exists: the token signs in.
    let found = app.trom.auth.require_session(&token).await.unwrap();
    assert_eq!((found.id, found.user_id), (ann.session.id, ann.user.id));
    let bob = app.session_for_new_user().await;
    assert_ne!(ann.user.email, bob.user.email);

    let note = NewNote { id: DbId::new(), title: "mine".into(), user_id: ann.user.id };
    app.as_user(&ann.session).do_mutations([Mutation::insert(note.clone())]).await.unwrap();
    let seen = app.as_user(&ann.session).select(Note::query()).await.unwrap();
    assert_eq!(seen.iter().map(|n| n.id).collect::<Vec<_>>(), [note.id]);
    assert!(app.as_user(&bob.session).select(Note::query()).await.unwrap().is_empty());
    assert!(app.as_user(&session_for(DbId::new())).select(Note::query()).await.unwrap().is_empty());
}

#[trombase::test(entities(Note), multi_thread)]
async fn a_test_can_return_a_result_and_run_on_workers(app: TestApp) -> Result<(), trombase::Error> {
    let flavor = tokio::runtime::Handle::current().runtime_flavor();
    assert_eq!(flavor, tokio::runtime::RuntimeFlavor::MultiThread);
    let me = session_for(DbId::new());
    let spawned = tokio::spawn({
        let db = app.as_user(&me);
        async move { db.select(Note::query()).await }
    });
    assert!(spawned.await.unwrap()?.is_empty());
    Ok(())
}

#[trombase::test]
#[should_panic(expected = "the body's own panic")]
async fn other_attributes_are_kept(_db: TestDb) {
    panic!("the body's own panic");
}

#[trombase::test]
async fn a_test_db_builds_an_app_on_request(db: TestDb) {
    let trom = db.trombase(|builder| builder.entity::<Note>().max_connections(2)).await;
    let signed_in =
        trom.auth.register_with_username_password("ann@example.com", "correct horse").await.unwrap();
    let logged_in = trom.auth.login_with_username_password("ann@example.com", "correct horse").await.unwrap();
    assert_eq!(signed_in.user.id, logged_in.user.id);
    let count: i64 = db.client().await.query_one("SELECT count(*) FROM notes", &[]).await.unwrap().get(0);
    assert_eq!(count, 0);
}

/// The expansion's own names do not capture the test's.
#[trombase::test]
async fn configure(fixture: TestDb) {
    assert!(fixture.name().starts_with("trombase_test_"));
}
