#![allow(missing_docs)] // test fixtures, not API
//! Faults: a connection killed mid-batch, an exhausted pool, a statement
//! that runs too long, the server restarted under a running client. Each fails cleanly, changes nothing, and the next
//! request works.

use std::time::{Duration, Instant};

use serde_json::json;
use trombase::prelude::*;
use trombase_tests::{session_for, Cluster, TestDb};

#[derive(Entity, Debug, Clone)]
#[entity(table = "items")]
#[permit(read = anyone, create = kill_on_request, update = kill_once, delete = anyone)]
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
/// terminate the batch's own connection, from another connection (every
/// time: the library's one retry meets it again).
async fn kill_on_request(_: &Session, sql: &Sql<'_>, op: &Operation<'_, Item>) -> Permit<Item> {
    if let Operation::Create(c) = op {
        if c.row.label == "kill" {
            kill_own_backend(sql).await;
        }
    }
    Permit::Allow
}

/// Terminates the batch's own connection, from another connection.
async fn kill_own_backend(sql: &Sql<'_>) {
    let pid: i32 = sql.query_opt("SELECT pg_backend_pid()", &[]).await.unwrap().unwrap().get(0);
    terminate(&[pid]).await;
}

async fn terminate(pids: &[i32]) {
    let (killer, connection) =
        tokio_postgres::connect(&trombase_tests::server_url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    for pid in pids {
        killer.execute("SELECT pg_terminate_backend($1)", &[pid]).await.unwrap();
    }
}

static KILLED_ONCE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Allows every update; the first one ever asked terminates its own
/// connection first (a failover mid-batch).
async fn kill_once(_: &Session, sql: &Sql<'_>, _: &Operation<'_, Item>) -> Permit<Item> {
    if !KILLED_ONCE.swap(true, std::sync::atomic::Ordering::SeqCst) {
        kill_own_backend(sql).await;
    }
    Permit::Allow
}

fn item(label: &str) -> Mutation {
    Mutation::insert(NewItem { id: DbId::new(), label: label.into() })
}

async fn count(db: &TestDb) -> i64 {
    db.client().await.query_one("SELECT count(*) FROM items", &[]).await.unwrap().get(0)
}

/// A deferred trigger makes COMMIT itself take a while when a row labelled
/// `slow` was inserted, so the connection can be cut while the COMMIT is
/// unanswered.
async fn slow_commits(db: &TestDb) {
    db.client()
        .await
        .batch_execute(
            "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.label = 'slow' THEN PERFORM pg_sleep(3); END IF; RETURN NULL; END $$; \
             CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON items DEFERRABLE INITIALLY DEFERRED \
             FOR EACH ROW EXECUTE FUNCTION slow_commit()",
        )
        .await
        .unwrap();
}

/// The backend of `db` running a COMMIT, once there is one.
async fn committing_backend(db: &TestDb) -> i32 {
    backend_running(db, "COMMIT").await
}

/// The backend of `db` running a statement that starts with `start`, once
/// there is one.
async fn backend_running(db: &TestDb, start: &str) -> i32 {
    let client = db.client().await;
    let pattern = format!("{start}%");
    loop {
        let rows = client
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE $2 AND state = 'active'",
                &[&db.name(), &pattern],
            )
            .await
            .unwrap();
        if let Some(row) = rows.first() {
            return row.get::<_, i32>(0);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn connections_dropped_while_idle_never_surface_and_a_batch_cut_before_commit_is_retried() {
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
    let id = DbId::new();
    data.do_mutations([Mutation::insert(NewItem { id, label: "a".into() })]).await.unwrap();
    for round in 0..3 {
        // Every idle connection of the pool is cut (a failover, a proxy restart).
        let pids = db.backend_pids().await;
        assert!(!pids.is_empty());
        terminate(&pids).await;
        let rows = data.select(Item::query()).await.expect("a read never sees the dead connection");
        assert_eq!(rows.len(), 1 + round);
        terminate(&db.backend_pids().await).await;
        data.do_mutations([item(&format!("after {round}"))]).await.expect("nor does a batch");
    }
    // The first update ever asked cuts its own connection mid-batch: the
    // batch is run again and applied once, every value as it was given
    // (the first try already judged the inserts and set their timestamps).
    let batch = [Mutation::update(id, [Item::LABEL.set("b")]), item("with the update"), item("and another")];
    data.do_mutations(batch).await.unwrap();
    assert_eq!(count(&db).await, 6);
    let label: String =
        db.client().await.query_one("SELECT label FROM items WHERE id = $1", &[&id]).await.unwrap().get(0);
    assert_eq!(label, "b");
    let inserted: Vec<String> = db
        .client()
        .await
        .query(
            "SELECT label FROM items WHERE label IN ('with the update', 'and another') ORDER BY label",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(inserted, ["and another", "with the update"]);
}

#[tokio::test]
async fn a_connection_lost_during_commit_is_reported_as_an_unknown_outcome() {
    let db = TestDb::new().await;
    let trom = TromBase::builder().database_url(db.url()).entity::<Item>().connect().await.unwrap();
    trom.create_tables().await.unwrap();
    slow_commits(&db).await;
    let data = trom.db.with_session(&session_for(DbId::new()));
    let kept = DbId::new();
    data.do_mutations([Mutation::insert(NewItem { id: kept, label: "kept".into() })]).await.unwrap();
    let batch = tokio::spawn({
        let data = data.clone();
        // Inserts and a delete: a batch of inserts of one entity alone is
        // one statement, without a transaction.
        async move { data.do_mutations([item("slow"), item("other"), Mutation::delete::<Item>([kept])]).await }
    });
    terminate(&[committing_backend(&db).await]).await;
    let err = batch.await.unwrap().unwrap_err();
    assert!(matches!(err, trombase::Error::CommitUnknown(_)), "{err:?}");
    assert_eq!(err.name(), "CommitUnknownError");
    // Not retried: the next batch is a batch of its own, and works.
    data.do_mutations([item("next")]).await.unwrap();
}

#[tokio::test]
async fn inserts_of_one_entity_run_as_one_statement_whose_lost_answer_is_an_unknown_outcome() {
    let db = TestDb::new().await;
    // On the server itself: behind a pooler a transaction carries the
    // statement timeout (`one_insert_behind_a_pooler_...` covers that).
    let trom = TromBase::builder().database_url(db.direct_url()).entity::<Item>().connect().await.unwrap();
    trom.create_tables().await.unwrap();
    slow_commits(&db).await;
    let data = trom.db.with_session(&session_for(DbId::new()));
    let before = trom.statements_executed();
    data.do_mutations([item("a"), item("b"), item("c")]).await.unwrap();
    assert_eq!(trom.statements_executed() - before, 1, "the INSERT ... unnest alone");
    // Its commit is its own (the slow trigger runs there): cut meanwhile,
    // the statement may have applied, and it is not run again.
    let batch = tokio::spawn({
        let data = data.clone();
        async move { data.do_mutations([item("slow"), item("other")]).await }
    });
    terminate(&[backend_running(&db, "INSERT").await]).await;
    let err = batch.await.unwrap().unwrap_err();
    assert!(matches!(err, trombase::Error::CommitUnknown(_)), "{err:?}");
    assert_eq!(count(&db).await, 3, "the cut statement was not applied, nor run again");
    data.do_mutations([item("next")]).await.unwrap();
    assert_eq!(count(&db).await, 4);
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
    assert!(matches!(err, trombase::Error::Busy(_)), "a pool wait that times out is a busy error: {err:?}");
    assert_eq!(err.http_status(), 503);
    assert!(err.retry_after().is_some());
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
    // The tables and rows come through a handle without the short timeout
    // (DDL on a loaded machine can take longer than 200 ms).
    let setup = TromBase::builder().database_url(db.url()).entity::<Item>().connect().await.unwrap();
    setup.create_tables().await.unwrap();
    setup
        .db
        .with_session(&session_for(DbId::new()))
        .do_mutations([item("a"), item("b"), item("c")])
        .await
        .unwrap();
    let data = trom.db.with_session(&session_for(DbId::new()));
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

#[tokio::test]
async fn a_server_restart_fails_requests_cleanly_and_the_client_recovers() {
    let server = Cluster::create();
    let trom = TromBase::builder()
        .database_url(server.url())
        .entity::<Item>()
        .max_connections(4)
        .wait_timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let data = trom.db.with_session(&session_for(DbId::new()));
    data.do_mutations([item("before")]).await.unwrap();
    assert_eq!(data.select(Item::query()).await.unwrap().len(), 1);

    server.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let err = data.select(Item::query()).await.unwrap_err();
        assert!(matches!(err, trombase::Error::Database(_)), "{err:?}");
        assert_eq!(err.http_status(), 500);
        assert!(started.elapsed() < Duration::from_secs(10), "fails, does not hang");
        let err = data.do_mutations([item("while down")]).await.unwrap_err();
        assert!(matches!(err, trombase::Error::Database(_)), "{err:?}");
    }

    server.start();
    // The same TromBase, no restart of the client: dead connections are replaced.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match data.select(Item::query()).await {
            Ok(rows) => {
                assert_eq!(rows.len(), 1, "only the acknowledged write is there");
                break;
            }
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("did not recover: {e:?}"),
        }
    }
    data.do_mutations([item("after")]).await.unwrap();
    assert_eq!(data.select(Item::query()).await.unwrap().len(), 2);
}

/// Pooler-safe mode (unnamed statements, the timeout carried by a
/// transaction): a batch of one insert sends `BEGIN; SET LOCAL ...`, the
/// `INSERT` and its `COMMIT` in one round trip. A refused insert makes the
/// `COMMIT` a rollback (nothing applied, the connection fine); an answer
/// lost while committing is an unknown outcome, never retried.
#[tokio::test]
async fn one_insert_behind_a_pooler_commits_in_one_round_trip_and_fails_cleanly() {
    let db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<Item>()
        .statement_mode(trombase::StatementMode::Unnamed)
        .max_connections(1)
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let data = trom.db.with_session(&session_for(DbId::new()));
    let id = DbId::new();
    let before = trom.statements_executed();
    data.do_mutations([Mutation::insert(NewItem { id, label: "first".into() })]).await.unwrap();
    assert_eq!(trom.statements_executed() - before, 3, "BEGIN (with the timeout), INSERT, COMMIT");
    let err = data.do_mutations([Mutation::insert(NewItem { id, label: "again".into() })]).await.unwrap_err();
    assert_eq!(err.http_status(), 409, "{err:?}");
    assert_eq!(count(&db).await, 1, "nothing of the refused insert");
    data.do_mutations([item("after")]).await.unwrap();
    assert_eq!(count(&db).await, 2, "the connection works after the rollback");

    slow_commits(&db).await;
    let batch = tokio::spawn({
        let data = data.clone();
        async move { data.do_mutations([item("slow")]).await }
    });
    terminate(&[committing_backend(&db).await]).await;
    let err = batch.await.unwrap().unwrap_err();
    assert!(matches!(err, trombase::Error::CommitUnknown(_)), "{err:?}");
    data.do_mutations([item("next")]).await.unwrap();
}

/// Behind a pooler the statement timeout rides in each transaction, unless
/// every server connection already starts with exactly that timeout (set
/// with `ALTER ROLE` or `ALTER DATABASE ... SET statement_timeout`): then a
/// one-insert batch is its `INSERT` alone, and the server's own timeout still
/// cancels a statement that runs past it. Another timeout is carried as before.
#[tokio::test]
async fn behind_a_pooler_a_timeout_every_connection_starts_with_is_not_carried_again() {
    let db = TestDb::new().await;
    let setting = format!("ALTER DATABASE \"{}\" SET statement_timeout = 1000", db.name());
    db.client().await.batch_execute(&setting).await.unwrap();
    let connect = |timeout: u64| {
        TromBase::builder()
            .database_url(db.url())
            .entity::<Item>()
            .statement_mode(trombase::StatementMode::Unnamed)
            .statement_timeout(Duration::from_millis(timeout))
            .connect()
    };
    let same = connect(1000).await.unwrap();
    same.create_tables().await.unwrap();
    let data = same.db.with_session(&session_for(DbId::new()));
    let before = same.statements_executed();
    data.do_mutations([item("one")]).await.unwrap();
    assert_eq!(same.statements_executed() - before, 1, "the INSERT alone");

    let other = connect(1500).await.unwrap();
    let before = other.statements_executed();
    other.db.with_session(&session_for(DbId::new())).do_mutations([item("two")]).await.unwrap();
    assert_eq!(other.statements_executed() - before, 3, "BEGIN (with its timeout), INSERT, COMMIT");

    let mut blocker = db.client().await;
    let lock = blocker.transaction().await.unwrap();
    lock.batch_execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let started = Instant::now();
    for err in
        [data.select(Item::query()).await.unwrap_err(), data.do_mutations([item("three")]).await.unwrap_err()]
    {
        match &err {
            trombase::Error::Database(e) => assert!(e.is_timeout(), "{err:?}"),
            other => panic!("expected a statement timeout, got {other:?}"),
        }
    }
    assert!(started.elapsed() < Duration::from_secs(10), "cut by the server's timeout");
    lock.rollback().await.unwrap();
    assert_eq!(count(&db).await, 2, "the cancelled insert wrote nothing");
}
