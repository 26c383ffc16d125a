use trombase::prelude::*;

pub struct User {
    pub id: DbId,
}

#[derive(Entity)]
#[relation(author = points_to(User, user_id -> id))]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub user_id: DbId,
}

fn main() {}
