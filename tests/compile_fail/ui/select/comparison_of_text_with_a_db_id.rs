use trombase::prelude::*;

#[derive(Entity)]
#[entity(table = "expenses")]
pub struct Expense {
    pub id: DbId,
    pub note: String,
    pub memo: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {
    // `String: From<DbId>` exists, but a comparison makes no conversion.
    let _ = Expense::query().filter(Expense::NOTE.eq(DbId::new()));
    let _ = Expense::query().filter(Expense::MEMO.ne(DbId::new()));
    let _ = Expense::query().filter(Expense::NOTE.like(DbId::new()));
    let _ = Expense::query().filter(Expense::NOTE.is_in([DbId::new()]));
}
