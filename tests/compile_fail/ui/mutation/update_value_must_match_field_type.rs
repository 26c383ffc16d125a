use trombase::prelude::*;
use trombase::Mutation;

#[derive(Entity)]
#[entity(table = "notes")]
pub struct Note {
    pub id: DbId,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {
    let _ = Mutation::update(DbId::new(), [Note::TITLE.set(5)]);
}
