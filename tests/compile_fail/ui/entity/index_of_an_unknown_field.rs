use trombase::prelude::*;

#[derive(Entity)]
#[entity(table = "notes", index(user_id, created))]
pub struct Note {
    pub id: DbId,
    pub user_id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
