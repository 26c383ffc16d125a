use trombase::prelude::*;

#[derive(Entity)]
pub struct Note {
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
