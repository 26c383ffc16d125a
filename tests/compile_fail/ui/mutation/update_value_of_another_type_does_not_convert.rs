use trombase::prelude::*;

#[derive(Entity)]
#[entity(table = "expenses")]
pub struct Expense {
    pub id: DbId,
    pub note: String,
    pub memo: Option<String>,
    pub cents: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {
    // `String: From<DbId>` exists, but a text field is not set from an id.
    let _ = Mutation::update(DbId::new(), [Expense::NOTE.set(DbId::new())]);
    let _ = Mutation::update(DbId::new(), [Expense::MEMO.set(DbId::new())]);
    // No conversion between numbers either.
    let _ = Mutation::update(DbId::new(), [Expense::CENTS.set(1.5)]);
}
