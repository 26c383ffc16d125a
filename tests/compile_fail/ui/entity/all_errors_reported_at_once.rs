use trombase::prelude::*;

#[derive(Entity)]
#[entity(tabel = "notes")]
pub struct Note {
    pub title: String,
    #[field(imutable)]
    pub user_id: DbId,
}

fn main() {}
