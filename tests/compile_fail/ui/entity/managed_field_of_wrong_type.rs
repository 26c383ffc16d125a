use trombase::prelude::*;

#[derive(Entity)]
pub struct Note {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: i64,
}

fn main() {}
