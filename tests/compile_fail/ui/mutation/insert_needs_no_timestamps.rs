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
    // The insert type has no managed timestamps to invent.
    let _ = Mutation::insert(NewNote { id: DbId::new(), title: "x".into(), created_at: Utc::now() });
}
