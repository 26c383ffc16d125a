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

async fn write(trom: TromBase) {
    // Without `with_session(&session)` there is nothing to call.
    trom.db.do_mutations([Mutation::delete::<Note>([DbId::new()])]).await.unwrap();
}

fn main() {}
