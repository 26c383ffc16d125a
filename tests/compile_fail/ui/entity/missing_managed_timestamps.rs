use trombase::prelude::*;

#[derive(Entity)]
pub struct Note {
    pub id: DbId,
    pub title: String,
}

fn main() {}
