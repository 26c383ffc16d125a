//! What the typed API accepts: comparisons and assignments with values of
//! the field's own type (text also from `&str`, nullable fields from their
//! inner type or `None`), the access marker of each field reference, and
//! every aggregate form.
use trombase::prelude::*;
use trombase::{Immutable, Managed, Settable};

#[derive(Entity, Debug, Clone)]
#[entity(table = "expenses")]
pub struct Expense {
    pub id: DbId,
    pub note: String,
    pub memo: Option<String>,
    pub cents: i64,
    pub quantity: i32,
    pub small: i16,
    pub rate: f64,
    pub paid: bool,
    pub due: Option<DateTime<Utc>>,
    pub data: serde_json::Value,
    pub tags: Json<Vec<String>>,
    #[field(immutable)]
    pub user_id: DbId,
    pub approver_id: Option<DbId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {
    let (id, user) = (DbId::new(), DbId::new());
    let text = String::from("lunch");

    // Access markers.
    let _: Field<Expense, String> = Expense::NOTE;
    let _: Field<Expense, String, Settable> = Expense::NOTE;
    let _: Field<Expense, DbId, Immutable> = Expense::USER_ID;
    let _: Field<Expense, DbId, Managed> = Expense::ID;
    let _: Field<Expense, DateTime<Utc>, Managed> = Expense::CREATED_AT;

    // Comparisons: the field's own type; text also from `&str` and `&String`.
    let _ = Expense::query()
        .filter(Expense::NOTE.eq("lunch"))
        .filter(Expense::NOTE.ne(&text))
        .filter(Expense::NOTE.gt(text.clone()))
        .filter(Expense::NOTE.ilike("%lu%"))
        .filter(Expense::NOTE.like(&text))
        .filter(Expense::MEMO.eq("x"))
        .filter(Expense::MEMO.is_null())
        .filter(Expense::CENTS.gte(5_000_000_000))
        .filter(Expense::QUANTITY.lt(3))
        .filter(Expense::SMALL.lte(3))
        .filter(Expense::RATE.gt(0.5))
        .filter(Expense::PAID.eq(true))
        .filter(Expense::DUE.lt(Utc::now()))
        .filter(Expense::DATA.eq(serde_json::json!({"a": 1})))
        .filter(Expense::TAGS.eq(Json(vec!["a".to_owned()])))
        .filter(Expense::USER_ID.eq(user))
        .filter(Expense::APPROVER_ID.eq(user))
        .filter(Expense::ID.is_in([id, user]))
        .filter(Expense::NOTE.is_in(["a", "b"]))
        .filter(Expense::CREATED_AT.lt(Utc::now()));

    // Assignments: settable fields only, with values of their type.
    let _ = Mutation::update(
        id,
        [
            Expense::NOTE.set("dinner"),
            Expense::NOTE.set(text.clone()),
            Expense::MEMO.set("x"),
            Expense::MEMO.set(&text),
            Expense::MEMO.set(None),
            Expense::MEMO.set(Some(text)),
            Expense::CENTS.set(5_000_000_000),
            Expense::QUANTITY.set(2),
            Expense::SMALL.set(2),
            Expense::RATE.set(1.5),
            Expense::PAID.set(false),
            Expense::DUE.set(Utc::now()),
            Expense::DUE.set(None),
            Expense::DATA.set(serde_json::json!([])),
            Expense::TAGS.set(Json(vec![])),
            Expense::APPROVER_ID.set(user),
            Expense::APPROVER_ID.set(None),
        ],
    );

    // Aggregates: rows, then one method per field.
    let _ = Expense::query().aggregate((
        Expense::count_rows(),
        Expense::MEMO.count(),
        Expense::USER_ID.count_distinct(),
        Expense::CENTS.sum(),
        Expense::RATE.avg(),
        Expense::DUE.min(),
        Expense::NOTE.max(),
    ));
    // The free function stays, for code written before `count_rows`.
    let _ = Expense::query().group_by((Expense::USER_ID,)).aggregate((count().named("n"),));
}
