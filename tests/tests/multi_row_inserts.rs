#![allow(missing_docs)] // test fixtures, not API
//! A multi-row insert sends a value every row shares once, and an array
//! where rows differ: either way each row stores exactly what it holds
//! (`0.0` and `-0.0` are different values, a NaN is never "the same",
//! nulls and JSON shared or not), and a refused row is still named by its
//! own index.

use serde_json::json;
use trombase::prelude::*;
use trombase::Mutation;
use trombase_tests::{named_statements, session_for, TestDb};

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "shared_readings")]
#[permit(all = anyone)]
pub struct Reading {
    pub id: DbId,
    pub label: String,
    pub value: f64,
    pub note: Option<String>,
    pub extra: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Nine free columns: 512 ways for a batch's rows to share some of them.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "shared_wide")]
#[permit(all = anyone)]
pub struct Wide {
    pub id: DbId,
    pub a: i32,
    pub b: i32,
    pub c: i32,
    pub d: i32,
    pub e: i32,
    pub f: i32,
    pub g: i32,
    pub h: i32,
    pub i: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

fn reading(label: &str, value: f64, note: Option<&str>, extra: Option<serde_json::Value>) -> NewReading {
    NewReading { id: DbId::new(), label: label.into(), value, note: note.map(Into::into), extra }
}

/// Each stored row equals the row inserted, bit for bit in its `value`.
async fn assert_stored(db: &SessionDb, rows: &[NewReading]) {
    let ids: Vec<DbId> = rows.iter().map(|r| r.id).collect();
    let stored: Vec<Reading> = db.select(Reading::query().filter(Reading::ID.is_in(ids))).await.unwrap();
    assert_eq!(stored.len(), rows.len());
    for row in rows {
        let got = stored.iter().find(|s| s.id == row.id).expect("row stored");
        assert_eq!((&got.label, &got.note, &got.extra), (&row.label, &row.note, &row.extra));
        assert_eq!(
            got.value.to_bits(),
            row.value.to_bits(),
            "value of {}: {} vs {}",
            row.label,
            got.value,
            row.value
        );
    }
}

#[tokio::test]
async fn rows_sharing_a_value_or_not_store_exactly_what_each_holds() {
    let test_db = TestDb::new().await;
    let trom = TromBase::builder().database_url(test_db.url()).entity::<Reading>().connect().await.unwrap();
    trom.create_tables().await.unwrap();
    let session = session_for(DbId::new());
    let db = trom.db.with_session(&session);
    let extra = json!({"n": -0.0, "list": [1, null]});
    let batches: Vec<Vec<NewReading>> = vec![
        // Every column but the id shared: -0.0, a null, a JSON value.
        (0..4).map(|_| reading("same", -0.0, None, Some(extra.clone()))).collect(),
        // 0.0 and -0.0 differ; a null beside a value; JSON beside a null.
        vec![
            reading("zero", 0.0, None, Some(extra.clone())),
            reading("zero", -0.0, Some(""), None),
            reading("zero", 0.0, Some("x"), Some(json!(null))),
        ],
        // NaN in every row: still stored as NaN in each.
        (0..3).map(|_| reading("nan", f64::NAN, Some("n"), None)).collect(),
        // Everything differs.
        vec![
            reading("a", 1.5, Some("a"), Some(json!(1))),
            reading("b", f64::INFINITY, Some("b"), Some(json!([]))),
        ],
    ];
    // Behind a pooler, in a transaction carrying the timeout.
    let statements = if test_db.through_pooler() { 3 } else { 1 };
    for rows in &batches {
        let before = trom.statements_executed();
        db.do_mutations(rows.iter().cloned().map(Mutation::insert)).await.unwrap();
        assert_eq!(trom.statements_executed() - before, statements, "one INSERT … unnest per batch");
        assert_stored(&db, rows).await;
    }
    let nan: Vec<Reading> = db.select(Reading::query().filter(Reading::LABEL.eq("nan"))).await.unwrap();
    assert!(nan.len() == 3 && nan.iter().all(|r| r.value.is_nan()));

    // A refused row among rows sharing every other value is named by its index.
    let first = reading("dup", 1.0, None, None);
    let mut again = reading("dup", 1.0, None, None);
    again.id = first.id;
    let rows = vec![reading("dup", 1.0, None, None), first, reading("dup", 1.0, None, None), again];
    let err = db.do_mutations(rows.into_iter().map(Mutation::insert)).await.unwrap_err();
    assert_eq!((err.http_status(), err.operation()), (409, Some(3)), "{err}");
    let dups: Vec<Reading> = db.select(Reading::query().filter(Reading::LABEL.eq("dup"))).await.unwrap();
    assert!(dups.is_empty(), "nothing of the refused batch is stored");
}

/// A client that varies which columns its rows share makes a new statement
/// shape with each batch (512 here): the one connection's named statements
/// stay bounded, and every row is still stored as sent.
#[tokio::test]
async fn a_flood_of_insert_shapes_keeps_the_statements_bounded_and_the_rows_exact() {
    let test_db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(test_db.url())
        .entity::<Wide>()
        .max_connections(1)
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let session = session_for(DbId::new());
    let db = trom.db.with_session(&session);
    let mut sent = Vec::new();
    for mask in 0..512_i32 {
        // Column k differs between the two rows when bit k of `mask` is set.
        let row = |n: i32| {
            let v = |k: i32| if mask & (1 << k) != 0 { n * 10 + k } else { k };
            NewWide {
                id: DbId::new(),
                a: v(0),
                b: v(1),
                c: v(2),
                d: v(3),
                e: v(4),
                f: v(5),
                g: v(6),
                h: v(7),
                i: v(8),
            }
        };
        let rows = [row(1), row(2)];
        db.do_mutations(rows.iter().cloned().map(Mutation::insert)).await.unwrap();
        sent.extend(rows);
    }
    let stored: Vec<Wide> = db.select(Wide::query()).await.unwrap();
    assert_eq!(stored.len(), sent.len());
    for row in &sent {
        let got = stored.iter().find(|w| w.id == row.id).expect("row stored");
        assert_eq!(
            [got.a, got.b, got.c, got.d, got.e, got.f, got.g, got.h, got.i],
            [row.a, row.b, row.c, row.d, row.e, row.f, row.g, row.h, row.i]
        );
    }
    let named = named_statements(&trom, 1).await[0];
    assert!(named <= trombase::MAX_CACHED_STATEMENTS + 1, "{named} named statements on the connection");
}
