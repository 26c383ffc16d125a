use trombase::prelude::*;

fn not_a_permitter(_session: &Session) -> bool {
    true
}

#[derive(Entity)]
#[permit(read = not_a_permitter)]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
