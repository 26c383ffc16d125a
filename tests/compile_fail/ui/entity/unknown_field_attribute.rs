use trombase::prelude::*;

#[derive(Entity)]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[field(imutable)]
    pub user_id: DbId,
}

fn main() {}
