use trombase::prelude::*;

#[derive(Entity)]
#[entity(table = "my notes; drop table x")]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
