use trombase::prelude::*;

#[derive(Entity)]
#[entity(table = "expenses")]
pub struct Expense {
    pub id: DbId,
    pub note: String,
    #[field(immutable)]
    pub user_id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {
    let _ = Mutation::update(DbId::new(), [Expense::USER_ID.set(DbId::new())]);
}
