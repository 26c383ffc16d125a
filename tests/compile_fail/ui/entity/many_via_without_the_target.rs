use trombase::prelude::*;

#[derive(Entity)]
#[relation(tags = many_via(NoteTag, note_id -> id, tag_id -> id))]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
