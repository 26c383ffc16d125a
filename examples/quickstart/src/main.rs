//! The smallest TromBase app: two related entities, connect, create tables.
//!
//! Run with: `cargo run -p quickstart` (uses `DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`).

use trombase::prelude::*;

/// A person who writes notes.
#[derive(Entity, Debug, Clone)]
#[entity(table = "people")]
#[relation(notes = resolves_to_many(Memo, author_id -> id))]
#[permit(read = anyone)]
pub struct Person {
    /// The id.
    pub id: DbId,
    /// The person's name.
    pub name: String,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

/// A short note by a person.
#[derive(Entity, Debug, Clone)]
#[entity(table = "memos")]
#[relation(author = points_to(Person, author_id -> id))]
#[permit(read = anyone)]
pub struct Memo {
    /// The id.
    pub id: DbId,
    /// What the memo says.
    pub text: String,
    /// Who wrote it.
    #[field(immutable)]
    pub author_id: DbId,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

#[tokio::main]
async fn main() -> Result<(), trombase::Error> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let trom = TromBase::builder().database_url(url).entity::<Person>().entity::<Memo>().connect().await?;
    trom.create_tables().await?;
    for statement in trom.schema().ddl() {
        tracing_free_print(&statement);
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
fn tracing_free_print(line: &str) {
    println!("{line};");
}
