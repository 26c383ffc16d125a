use trombase::prelude::*;

#[derive(Entity)]
#[entity(table = "users")]
#[relation(notes = resolves_to_many(Note, user_id -> id))]
pub struct User {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity)]
#[entity(table = "notes")]
#[relation(author = points_to(User, user_id -> id))]
pub struct Note {
    pub id: DbId,
    pub title: String,
    pub stars: i32,
    pub body: Option<String>,
    pub user_id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {
    let _ = Note::query().filter(Note::STARS.like("5%"));
}
