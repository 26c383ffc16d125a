use trombase::prelude::*;

#[derive(Entity)]
#[entity(table = "expenses")]
pub struct Expense {
    pub id: DbId,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {
    let _ = Expense::query().filter(Expense::NOTE.eq(42i64));
}
