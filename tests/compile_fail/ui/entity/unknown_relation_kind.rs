use trombase::prelude::*;

#[derive(Entity)]
#[relation(author = belongs_to(Note, id -> id))]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
