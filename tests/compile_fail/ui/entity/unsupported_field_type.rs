use trombase::prelude::*;

#[derive(Entity)]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub views: u32,
}

fn main() {}
