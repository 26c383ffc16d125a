use trombase::prelude::*;

#[derive(Entity)]
#[entity(casing = "kebab")]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
