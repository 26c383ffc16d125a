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
    let _ = Mutation::update(DbId::new(), [Expense::ID.set(DbId::new())]);
    let _ = Mutation::update(DbId::new(), [Expense::CREATED_AT.set(Utc::now())]);
    let _ = Mutation::update(DbId::new(), [Expense::UPDATED_AT.set(Utc::now())]);
}
