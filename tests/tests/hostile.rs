#![allow(missing_docs)] // test fixtures, not API
//! A hostile signed-in client, replayed: each attack of the threat model in
//! HARDENING.md, against a real PostgreSQL, refused or bounded.
//!
//! - the error oracle through a `like` pattern, with sequential scans forced;
//! - server memory through many distinct large statements;
//! - amplification through nested limits, unbounded group-by results, and
//!   oversized filters and parameter lists;
//! - pool starvation by one user's flood;
//! - a client aggregate alias colliding with the library's column names;
//! - database errors a client can cause answering 5xx.

use std::time::Duration;

use notes_app::{NewNote, Note};
use serde_json::{json, Value};
use trombase::prelude::*;
use trombase::query::{CompareOp, Predicate, ReadLimits, SelectNode};
use trombase::render::{render_select, RowForm};
use trombase::{EntityHandle, Error};
use trombase_tests::{named_statements, session_for, TestDb};

/// Two users of the reference app (notes readable only by their owner):
/// ada with one secret note, bob (the attacker) with many notes of his own.
struct World {
    db: TestDb,
    trom: TromBase,
    ada: Session,
    bob: Session,
}

/// The reference app on a database whose planner never uses an index, so
/// that every condition of a read is evaluated on every row of the table
/// unless something fences it.
async fn world_with_sequential_scans() -> World {
    let db = TestDb::new().await;
    db.client()
        .await
        .batch_execute(&format!(
            "ALTER DATABASE \"{0}\" SET enable_indexscan = off; ALTER DATABASE \"{0}\" SET enable_bitmapscan = off",
            db.name()
        ))
        .await
        .unwrap();
    let trom = notes_app::connect(db.url()).await.unwrap();
    let ada =
        trom.auth.register_with_username_password("ada@example.com", "correct horse").await.unwrap().session;
    let bob =
        trom.auth.register_with_username_password("bob@example.com", "correct horse").await.unwrap().session;
    note(&trom, &ada, "secret plan").await;
    let bobs = (0..200).map(|i| {
        Mutation::insert(NewNote {
            id: DbId::new(),
            title: format!("bob note {i}"),
            content: "x".into(),
            user_id: bob.user_id,
        })
    });
    trom.db.with_session(&bob).do_mutations(bobs).await.unwrap();
    db.client().await.batch_execute("ANALYZE").await.unwrap();
    World { db, trom, ada, bob }
}

async fn note(trom: &TromBase, owner: &Session, title: &str) -> DbId {
    let id = DbId::new();
    let new = NewNote { id, title: title.into(), content: "content".into(), user_id: owner.user_id };
    trom.db.with_session(owner).do_mutations([Mutation::insert(new)]).await.unwrap();
    id
}

/// A read's outcome as an HTTP client sees it: the status and the body.
fn answer(result: trombase::Result<Vec<Value>>) -> (u16, String) {
    match result {
        Ok(rows) => (200, Value::Array(rows).to_string()),
        Err(err) => (err.http_status(), err.to_string()),
    }
}

// ---- 1. the error oracle ----

#[tokio::test]
async fn a_like_pattern_cannot_tell_whether_another_users_rows_match() {
    let w = world_with_sequential_scans().await;
    let bob = w.trom.db.with_session(&w.bob);
    let probe = |prefix: &str| {
        let action = json!({"table": "notes", "where": {"title": {"like": format!("{prefix}\\")}}});
        let bob = bob.clone();
        async move { answer(bob.select_json(&action).await) }
    };
    // "secret" is the prefix of ada's title, "zzzzzz" of nothing.
    let (matching, other) = (probe("secret").await, probe("zzzzzz").await);
    assert_eq!(matching.0, 400, "a dangling escape is refused before any SQL runs: {matching:?}");
    assert_eq!(matching, (other.0, other.1.replace("zzzzzz", "secret")), "same answer either way");
    assert!(matching.1.contains("where.title.like"), "names the path: {}", matching.1);

    // Valid patterns: only bob's own rows can answer.
    for pattern in ["secret%", "%plan", "zzzzzz%"] {
        let rows =
            bob.select_json(&json!({"table": "notes", "where": {"title": {"like": pattern}}})).await.unwrap();
        assert!(rows.is_empty(), "{pattern}: {rows:?}");
    }
    let query = json!({"table": "notes", "where": {"or": [{"title": {"ilike": "SECRET%"}}, {"title": "bob note 1"}]}});
    assert_eq!(bob.select_json(&query).await.unwrap().len(), 1);
    drop(w.db);
}

/// The barrier itself, below the parser's check: a read whose filter raises
/// on any row it is evaluated on (a pattern with a dangling escape, built
/// straight into the query IR) is rendered so that it only meets rows the
/// row filter lets through. Without the fence the same pattern raises on
/// ada's row.
#[tokio::test]
async fn row_filters_fence_conditions_that_can_raise() {
    let w = world_with_sequential_scans().await;
    let client = w.db.client().await;
    let title = Note::TITLE.meta();
    let raising = Predicate::Compare {
        field: title,
        op: CompareOp::Like,
        value: trombase::Value::Text("secret\\".into()),
    };
    let leakproof =
        Predicate::Compare { field: title, op: CompareOp::Ne, value: trombase::Value::Text("x".into()) };
    let mut node = SelectNode::new(EntityHandle::of::<Note>());
    node.filter = Some(Predicate::And(vec![leakproof, raising.clone()]));
    node.row_filters = vec![Note::USER_ID.eq(w.bob.user_id).into_predicate()];
    let rendered = render_select(&node, RowForm::Json);
    assert!(rendered.sql.contains("OFFSET 0)"), "the row filter is a fence: {}", rendered.sql);
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        rendered.params.iter().map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
    let rows = client.query(&rendered.sql, &params).await.expect("the pattern never meets ada's row");
    assert!(rows.is_empty());

    // The attack's precondition: unfenced, the pattern is evaluated on ada's row and raises.
    let err = client
        .query("SELECT id FROM notes WHERE title LIKE $1 AND user_id = $2", &[&"secret\\", &w.bob.user_id])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22025"), "{err:?}");
    // And a matching pattern on bob's own rows raises, which only tells bob about his own rows.
    node.filter = Some(Predicate::Compare {
        field: title,
        op: CompareOp::Like,
        value: trombase::Value::Text("bob\\".into()),
    });
    let rendered = render_select(&node, RowForm::Json);
    let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
        rendered.params.iter().map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
    assert!(client.query(&rendered.sql, &params).await.is_err());
    drop(w.ada);
}

// ---- 2. server memory ----

/// Private memory of every backend connected to the test database, in bytes
/// (procfs `smaps_rollup`: the backends run on this machine).
async fn backend_memory(db: &TestDb) -> u64 {
    let mut total = 0;
    for pid in db.backend_pids().await {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else { continue };
        for line in text.lines() {
            if line.starts_with("Private_Clean:") || line.starts_with("Private_Dirty:") {
                let kb: u64 = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
                total += kb * 1024;
            }
        }
    }
    total
}

/// The reference app's entities on `db`, through a pool of `connections`.
async fn notes_on(db: &TestDb, connections: usize) -> TromBase {
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<notes_app::User>()
        .entity::<Note>()
        .max_connections(connections)
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    trom
}

#[tokio::test]
async fn distinct_large_queries_leave_no_memory_behind() {
    let db = TestDb::new().await;
    let trom = notes_on(&db, 4).await;
    let bob = session_for(DbId::new());
    let data = trom.db.with_session(&bob);
    // Open every connection of the pool, then measure.
    let warm: Vec<_> = (0..4)
        .map(|_| {
            let data = data.clone();
            tokio::spawn(async move {
                data.select_json(&json!({"table": "notes", "where": {"title": "x"}})).await
            })
        })
        .collect();
    for task in warm {
        task.await.unwrap().unwrap();
    }
    let before = backend_memory(&db).await;
    for i in 0..100 {
        // Each a shape of its own, each at the filter budget's edge.
        let terms: Vec<Value> =
            (0..(156 + i)).map(|n| json!({"title": {"ilike": format!("%{n}%")}})).collect();
        let action = json!({"table": "notes", "where": {"or": terms, "content": {"ne": "x"}}, "limit": 5});
        data.select_json(&action).await.unwrap();
    }
    let after = backend_memory(&db).await;
    let grown = after.saturating_sub(before);
    assert!(grown < 50 * 1024 * 1024, "backends grew by {} MB", grown / (1024 * 1024));
    for count in named_statements(&trom, 4).await {
        assert!(count <= 4, "large statements are never kept as named statements: {count}");
    }
}

#[tokio::test]
async fn a_connection_keeps_a_bounded_number_of_named_statements_and_none_that_failed() {
    let db = TestDb::new().await;
    let trom = notes_on(&db, 1).await;
    let bob = session_for(DbId::new());
    let data = trom.db.with_session(&bob);
    for i in 0..300 {
        let columns: Vec<&str> =
            ["id", "title", "content", "userId", "createdAt"].into_iter().take(1 + i % 5).collect();
        let action = json!({"table": "notes", "columns": columns, "where": {"or": vec![json!({"title": "a"}); 1 + i / 5]}});
        data.select_json(&action).await.unwrap();
    }
    let counts = named_statements(&trom, 1).await;
    assert!(counts[0] <= trombase::MAX_CACHED_STATEMENTS, "{counts:?}");

    // A write that fails (bob is no registered user: the foreign key
    // refuses his note) leaves no statement of its own behind.
    let before = named_statements(&trom, 1).await[0];
    let insert = Mutation::insert(NewNote {
        id: DbId::new(),
        title: "t".into(),
        content: "c".into(),
        user_id: bob.user_id,
    });
    let failed = data.do_mutations([insert]).await.unwrap_err();
    assert!(matches!(failed, Error::Conflict(_)), "{failed:?}");
    assert_eq!(named_statements(&trom, 1).await[0], before, "the failed insert's statement was closed");
}

// ---- 3. amplification ----

#[tokio::test]
async fn the_rows_one_query_can_return_are_bounded() {
    let w = world_with_sequential_scans().await;
    let bob = w.trom.db.with_session(&w.bob);
    // 200 bytes asking for 20 x 100 x 100 rows and their authors.
    let amplified = json!({"table": "notes", "limit": 20, "with": {"author": {"with": {"notes": {"limit": 100,
        "with": {"author": {"with": {"notes": {"limit": 100}}}}}}}}});
    let err = bob.select_json(&amplified).await.unwrap_err();
    assert_eq!(err.http_status(), 400, "{err:?}");
    assert!(err.to_string().contains("at most 20000"), "{err}");
    // Within the budget, the same shape is fine.
    let modest =
        json!({"table": "notes", "limit": 10, "with": {"author": {"with": {"notes": {"limit": 10}}}}});
    assert_eq!(bob.select_json(&modest).await.unwrap().len(), 10);

    // Group-by results are capped like rows: the default limit, and the maximum.
    let grouped = json!({"table": "notes", "aggregates": {"n": {"fn": "count"}}, "groupBy": ["id"]});
    assert_eq!(bob.select_json(&grouped).await.unwrap().len(), 100, "the default limit");
    let mut too_many = grouped.clone();
    too_many["limit"] = json!(100_000);
    assert_eq!(bob.select_json(&too_many).await.unwrap_err().http_status(), 400);
    let ungrouped = json!({"table": "notes", "aggregates": {"n": {"fn": "count"}}});
    assert_eq!(bob.select_json(&ungrouped).await.unwrap(), vec![json!({"n": 200})], "only bob's rows count");
}

#[tokio::test]
async fn filters_and_parameters_are_bounded() {
    let w = world_with_sequential_scans().await;
    let bob = w.trom.db.with_session(&w.bob);
    let terms: Vec<Value> = (0..20_000).map(|n| json!({"title": format!("t{n}")})).collect();
    let err = bob.select_json(&json!({"table": "notes", "where": {"or": terms}})).await.unwrap_err();
    assert_eq!(err.http_status(), 400, "{err:?}");
    assert!(err.to_string().contains("terms"), "{err}");
    let ids: Vec<String> = (0..70_000).map(|_| DbId::new().to_string()).collect();
    let err = bob.select_json(&json!({"table": "notes", "where": {"id": {"in": ids}}})).await.unwrap_err();
    assert_eq!(err.http_status(), 400, "{err:?}");

    // The parameter budget counts what the statement carries (row filters too).
    let strict = TromBase::builder()
        .database_url(w.db.url())
        .entity::<notes_app::User>()
        .entity::<Note>()
        .read_limits(ReadLimits::default().max_params(2))
        .connect()
        .await
        .unwrap();
    let data = strict.db.with_session(&w.bob);
    assert!(data.select_json(&json!({"table": "notes", "where": {"title": "a"}})).await.is_ok());
    let err = data
        .select_json(&json!({"table": "notes", "where": {"title": "a", "content": "b"}}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("parameters"), "{err}");
    assert_eq!(err.http_status(), 400);
}

// ---- 4. pool starvation ----

/// Reports: reading them is slow for the heavy user (their read permitter
/// takes a second on the database), instant for everyone else.
#[derive(Entity, Debug, Clone)]
#[entity(table = "reports")]
#[permit(read = slow_for_heavy)]
pub struct Report {
    pub id: DbId,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

static HEAVY: std::sync::LazyLock<DbId> = std::sync::LazyLock::new(DbId::new);

async fn slow_for_heavy<E>(session: &Session, sql: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    if session.user_id == *HEAVY {
        if let Err(err) = sql.query("SELECT pg_sleep(1)", &[]).await {
            return Permit::deny(err.to_string());
        }
    }
    Permit::Allow
}

#[tokio::test]
async fn one_users_flood_leaves_the_pool_to_others() {
    let db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<Report>()
        .max_connections(8)
        .per_user_connections(4)
        .wait_timeout(Duration::from_millis(1500))
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let heavy = trom.db.with_session(&session_for(*HEAVY));
    let flood: Vec<_> = (0..24)
        .map(|_| {
            let heavy = heavy.clone();
            tokio::spawn(async move { heavy.select(Report::query()).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let light = trom.db.with_session(&session_for(DbId::new()));
    light.select(Report::query()).await.expect("another user is served while the flood runs");
    let (mut served, mut busy) = (0, 0);
    for task in flood {
        match task.await.unwrap() {
            Ok(_) => served += 1,
            Err(err) => {
                assert!(matches!(err, Error::Busy(_)), "past its share, a user is told to wait: {err:?}");
                assert_eq!(err.http_status(), 503);
                busy += 1;
            }
        }
    }
    assert!(served >= 4, "the heavy user still gets its share: served {served}, busy {busy}");
}

// ---- 5. aggregate aliases ----

#[tokio::test]
async fn client_aggregate_aliases_cannot_collide_with_the_librarys_names() {
    let w = world_with_sequential_scans().await;
    let bob = w.trom.db.with_session(&w.bob);
    let action = json!({"table": "notes", "aggregates": {
        "__agg1": {"fn": "count"}, "agg0": {"fn": "count", "field": "title", "distinct": true}, "__agg0": {"fn": "min", "field": "title"}}});
    let rows = bob.select_json(&action).await.unwrap();
    assert_eq!(rows, vec![json!({"__agg1": 200, "agg0": 200, "__agg0": "bob note 0"})]);
    let err = bob
        .select_json(&json!({"table": "notes", "aggregates": {"#agg0": {"fn": "count"}}}))
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 400);
}

// ---- 6. database errors a client can cause ----

/// Items whose read permitter runs SQL that the server refuses, the way a
/// value from a client could make it: the refusal is a client error.
#[derive(Entity, Debug, Clone)]
#[entity(table = "items")]
#[permit(read = refused_by_the_server)]
pub struct Item {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn refused_by_the_server<E>(_: &Session, sql: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    match sql.query("SELECT 'not a number'::int", &[]).await {
        Ok(_) => Permit::Allow,
        Err(err) if err.http_status() == 400 => Permit::deny(format!("400: {err}")),
        Err(err) => Permit::deny(format!("{}: {err:?}", err.http_status())),
    }
}

#[tokio::test]
async fn data_errors_of_the_server_are_client_errors_without_its_text() {
    let db = TestDb::new().await;
    let trom = TromBase::builder().database_url(db.url()).entity::<Item>().connect().await.unwrap();
    trom.create_tables().await.unwrap();
    let err = trom.db.with_session(&session_for(DbId::new())).select(Item::query()).await.unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("400: "), "{message}");
    assert!(message.contains("SQLSTATE 22P02"), "{message}");
    assert!(!message.contains("invalid input syntax"), "never the server's own text: {message}");
}

// ---- read shapes rendered once ----

#[tokio::test]
async fn a_cached_read_shape_carries_no_values_across_users_and_a_flood_of_shapes_stays_correct() {
    let db = TestDb::new().await;
    let trom = notes_app::connect(db.url()).await.unwrap();
    let register = |email: &'static str| trom.auth.register_with_username_password(email, "correct horse");
    let ada = register("ada@example.com").await.unwrap().session;
    let bob = register("bob@example.com").await.unwrap().session;
    note(&trom, &ada, "ada's secret").await;
    note(&trom, &bob, "bob's note").await;
    let titled = |title: &str| json!({"table": "notes", "columns": ["title"], "where": {"title": title}});
    let titles =
        |rows: Vec<Value>| rows.iter().map(|r| r["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>();

    // Bob's read makes the shape; ada's of the same shape binds her values
    // and her row filter, and bob's again finds nothing of hers.
    let (as_ada, as_bob) = (trom.db.with_session(&ada), trom.db.with_session(&bob));
    assert_eq!(titles(as_bob.select_json(&titled("bob's note")).await.unwrap()), ["bob's note"]);
    assert_eq!(titles(as_ada.select_json(&titled("ada's secret")).await.unwrap()), ["ada's secret"]);
    assert!(as_bob.select_json(&titled("ada's secret")).await.unwrap().is_empty());

    // A client making up more shapes than the cache keeps (a new limit each
    // time): every answer is still its own, and the first shape still works.
    // (The cache keeps 1,024 shapes; limits go up to 1,000.)
    for columns in [json!(["title"]), json!(["title", "content"])] {
        for limit in 1..=700u64 {
            let read = json!({"table": "notes", "columns": columns, "limit": limit});
            assert_eq!(titles(as_bob.select_json(&read).await.unwrap()), ["bob's note"]);
        }
    }
    assert_eq!(titles(as_ada.select_json(&titled("ada's secret")).await.unwrap()), ["ada's secret"]);
    assert!(as_bob.select_json(&titled("ada's secret")).await.unwrap().is_empty());
}
