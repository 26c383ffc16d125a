//! The app's data: users (read-only, straight from the auth users table) and
//! notes, with one ownership rule for every action on notes.

use trombase::prelude::*;
use trombase::Immutable;

/// A user, as the auth system stores them. The entity maps onto the library's
/// own `trom_auth_users` table (`sql_table`), exposing only the id, the email
/// and the timestamps (never the password hash); it declares only a read
/// permitter, so it cannot be written through the data API. A user reads
/// only their own row: the only author of the notes they may read, and no
/// list of other accounts' emails.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "users", sql_table = "trom_auth_users")]
#[relation(notes = resolves_to_many(Note, user_id -> id))]
#[permit(read = oneself)]
pub struct User {
    /// The user's id.
    pub id: DbId,
    /// The user's email address.
    #[field(unique)]
    pub email: String,
    /// When the user registered.
    pub created_at: DateTime<Utc>,
    /// When the user last changed.
    pub updated_at: DateTime<Utc>,
}

/// A note, owned by the user who wrote it.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "notes")]
#[relation(author = points_to(User, user_id -> id))]
#[permit(all = owner_only)]
pub struct Note {
    /// The note's id (chosen by the client).
    pub id: DbId,
    /// The title.
    pub title: String,
    /// The text.
    pub content: String,
    /// The owner; never changes.
    #[field(immutable)]
    pub user_id: DbId,
    /// When the note was written.
    pub created_at: DateTime<Utc>,
    /// When the note last changed.
    pub updated_at: DateTime<Utc>,
}

/// Rows that belong to a user.
pub trait Owned: Entity {
    /// The owner field, for read filters (immutable: no update moves a row
    /// to another owner).
    const OWNER: Field<Self, DbId, Immutable>;
    /// The owner of this row.
    fn owner(&self) -> DbId;
}

impl Owned for Note {
    const OWNER: Field<Self, DbId, Immutable> = Note::USER_ID;
    fn owner(&self) -> DbId {
        self.user_id
    }
}

/// One rule for every owned entity and every action: reads see only the
/// session's rows; writes are allowed only on the session's rows, judged on
/// the stored (locked) rows for updates and deletes, never on the payload.
pub async fn owner_only<E: Owned>(session: &Session, _sql: &Sql<'_>, op: &Operation<'_, E>) -> Permit<E> {
    match op {
        Operation::Read(_) => Permit::filter(E::OWNER.eq(session.user_id)),
        Operation::Create(c) if c.row.owner() == session.user_id => Permit::Allow,
        Operation::Update(u) if u.current.owner() == session.user_id => Permit::Allow,
        Operation::Delete(d) if d.rows.iter().all(|r| r.owner() == session.user_id) => Permit::Allow,
        _ => Permit::deny("You can only change your own notes"),
    }
}

/// Users see their own row only.
pub async fn oneself(session: &Session, _: &Sql<'_>, _: &Operation<'_, User>) -> Permit<User> {
    Permit::filter(User::ID.eq(session.user_id))
}
