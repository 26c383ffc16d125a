use trombase::prelude::*;

#[derive(Entity)]
#[entity(tabel = "notes")]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
