use trombase::prelude::*;

#[derive(Entity)]
pub struct Tag {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity)]
pub struct NoteTag {
    pub id: DbId,
    pub note_id: DbId,
    pub tag_number: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity)]
#[relation(tags = many_via(NoteTag, note_id -> id, tag_number -> Tag.id))]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
