use trombase::prelude::*;

#[derive(Entity)]
pub struct User {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity)]
#[relation(author = points_to(User, owner_id -> id))]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub user_id: DbId,
}

fn main() {}
