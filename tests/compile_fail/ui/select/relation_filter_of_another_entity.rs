use trombase::prelude::*;

#[derive(Entity)]
pub struct User {
    pub id: DbId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity)]
#[relation(author = points_to(User, user_id -> id))]
pub struct Note {
    pub id: DbId,
    pub title: String,
    pub user_id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {
    // The condition must be over the related entity (User), not the note.
    let _ = Note::query().filter(Note::AUTHOR.any(Note::TITLE.eq("x")));
}
