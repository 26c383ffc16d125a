use trombase::prelude::*;

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

async fn owner_only(session: &Session, _sql: &Sql<'_>, op: &Operation<'_, Note>) -> Permit<Note> {
    match op {
        Operation::Update(u) if u.current.user_id == session.user_id => Permit::Allow,
        _ => Permit::deny("not yours"),
    }
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "users", casing = "camel")]
#[relation(notes = resolves_to_many(Note, user_id -> id))]
#[permit(read = anyone)]
pub struct User {
    pub id: DbId,
    #[field(unique)]
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "notes")]
#[relation(author = points_to(User, user_id -> id))]
#[relation(editor = points_to(User, editor_id -> id))]
#[permit(all = owner_only, read = anyone)]
pub struct Note {
    pub id: DbId,
    #[field(name = "heading")]
    pub title: String,
    pub body: Option<String>,
    pub stars: i32,
    pub data: serde_json::Value,
    #[field(immutable)]
    pub user_id: DbId,
    pub editor_id: Option<DbId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {
    let _: Field<Note, String> = Note::TITLE;
    let _: Field<Note, Option<DbId>> = Note::EDITOR_ID;
    let _: Relation<Note, User, trombase::One> = Note::AUTHOR;
    let _: Relation<User, Note, trombase::Many> = User::NOTES;
    assert_eq!(Note::TITLE.name(), "heading");
    assert_eq!(<User as Entity>::META.relations[0].foreign_key, "userId");
}
