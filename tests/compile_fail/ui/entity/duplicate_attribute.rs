use trombase::prelude::*;

#[derive(Entity)]
#[entity(table = "notes", table = "memos")]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
