use trombase::prelude::*;

#[derive(Entity)]
pub struct User {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity)]
#[relation(owner = points_to(User, user_id -> id))]
pub struct Expense {
    pub id: DbId,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity)]
#[relation(expenses = resolves_to_many(Expense, user_id -> id))]
pub struct Account {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
