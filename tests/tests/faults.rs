#![allow(missing_docs)] // test fixtures, not API
//! Faults: a connection killed mid-batch, an exhausted pool, a statement
//! that runs too long. Each fails cleanly, changes nothing, and the next
//! request works.

use std::time::{Duration, Instant};

use serde_json::json;
use trombase::prelude::*;
use trombase_tests::{session_for, TestDb};

#[derive(Entity, Debug, Clone)]
#[entity(table = "items")]
#[permit(read = anyone, create = kill_on_request, update = anyone, delete = anyone)]
pub struct Item {
    pub id: DbId,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

/// Allows every insert, but one labelled "kill" first has the server
/// terminate the batch's own connection, from another connection.
async fn kill_on_request(_: &Session, sql: &Sql<'_>, op: &Operation<'_, Item>) -> Permit<Item> {
    if let Operation::Create(c) = op {
        if c.row.label == "kill" {
            let pid: i32 = sql.query_opt("SELECT pg_backend_pid()", &[]).await.unwrap().unwrap().get(0);
            let url = trombase_tests::server_url();
            let (killer, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            killer.execute("SELECT pg_terminate_backend($1)", &[&pid]).await.unwrap();
        }
    }
    Permit::Allow
}

fn item(label: &str) -> Mutation {
    Mutation::insert(NewItem { id: DbId::new(), label: label.into() })
}

async fn count(db: &TestDb) -> i64 {
    db.client().await.query_one("SELECT count(*) FROM items", &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn a_connection_killed_mid_batch_rolls_back_and_the_pool_recovers() {
    let db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<Item>()
        .max_connections(2)
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let data = trom.db.with_session(&session_for(DbId::new()));

    let err = data.do_mutations([item("one"), item("two"), item("kill"), item("four")]).await.unwrap_err();
    match &err {
        trombase::Error::Database(e) => assert!(e.is_connection_lost(), "{err:?}"),
        other => panic!("expected a database error, got {other:?}"),
    }
    assert!(!err.to_string().contains("terminat"), "no server text in the message: {err}");
    assert_eq!(count(&db).await, 0, "nothing of the batch was applied");
    // The pool drops the dead connection and serves the next requests.
    for _ in 0..3 {
        data.do_mutations([item("after")]).await.unwrap();
    }
    assert_eq!(count(&db).await, 3);
    assert_eq!(data.select(Item::query()).await.unwrap().len(), 3);
}

#[tokio::test]
async fn an_exhausted_pool_answers_a_timeout_not_a_hang() {
    let db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<Item>()
        .max_connections(1)
        .wait_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let data = trom.db.with_session(&session_for(DbId::new()));
    let held = trom.pool().get().await.unwrap();
    let started = Instant::now();
    let err = data.select(Item::query()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "it waits about the configured time");
    match &err {
        trombase::Error::Database(e) => assert!(e.is_pool_timeout(), "{err:?}"),
        other => panic!("expected a pool timeout, got {other:?}"),
    }
    assert_eq!(err.http_status(), 500);
    drop(held);
    assert!(data.select(Item::query()).await.is_ok(), "works again once a connection is free");
}

#[tokio::test]
async fn statement_timeouts_are_enforced_for_json_selects() {
    let db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<Item>()
        .statement_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let data = trom.db.with_session(&session_for(DbId::new()));
    data.do_mutations([item("a"), item("b"), item("c")]).await.unwrap();
    // Another connection holds the table: the select waits past its timeout.
    let mut blocker = db.client().await;
    let lock = blocker.transaction().await.unwrap();
    lock.batch_execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let started = Instant::now();
    let err =
        data.select_json(&json!({"table": "items", "where": {"label": {"like": "%"}}})).await.unwrap_err();
    match &err {
        trombase::Error::Database(e) => assert!(e.is_timeout(), "{err:?}"),
        other => panic!("expected a statement timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    lock.rollback().await.unwrap();
    // The connection is fine afterwards.
    assert_eq!(data.select_json(&json!({"table": "items", "limit": 2})).await.unwrap().len(), 2);
}
