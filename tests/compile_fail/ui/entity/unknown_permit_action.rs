use trombase::prelude::*;

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

#[derive(Entity)]
#[permit(write = anyone)]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn main() {}
