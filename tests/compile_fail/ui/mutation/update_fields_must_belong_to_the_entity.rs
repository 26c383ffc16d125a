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

#[derive(Entity)]
#[entity(table = "users")]
pub struct User {
    pub id: DbId,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {
    let _ = Mutation::update::<Note>(DbId::new(), [User::EMAIL.set("x")]);
}
