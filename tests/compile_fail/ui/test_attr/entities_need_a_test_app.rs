use trombase::prelude::*;
use trombase::testing::TestDb;

#[derive(Entity)]
#[entity(table = "notes")]
pub struct Note {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[trombase::test(entities(Note))]
async fn checks_something(db: TestDb) {
    let _ = db;
}

fn main() {}
