//! The app's data: users (read-only, their own row) and expenses, which
//! only their owner may read or change.

use trombase::prelude::*;

/// A user, as the auth system stores them (never the password hash).
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "users", sql_table = "trom_auth_users")]
#[relation(expenses = resolves_to_many(Expense, user_id -> id))]
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

/// One expense.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "expenses")]
#[relation(owner = points_to(User, user_id -> id))]
#[permit(read = owner_only, create = owner_only, update = owner_only, delete = owner_only)]
pub struct Expense {
    /// The expense's id (chosen by the client).
    pub id: DbId,
    /// What it was for.
    pub description: String,
    /// How much, in cents.
    pub amount_cents: i64,
    /// A category of the owner's choosing (`food`, `travel`, ...).
    pub category: String,
    /// The owner; never changes.
    #[field(immutable)]
    pub user_id: DbId,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Reads see only the session's expenses; writes are allowed only on the
/// session's expenses, judged on the stored rows for updates and deletes.
pub async fn owner_only(session: &Session, _: &Sql<'_>, op: &Operation<'_, Expense>) -> Permit<Expense> {
    match op {
        Operation::Read(_) => Permit::filter(Expense::USER_ID.eq(session.user_id)),
        Operation::Create(c) if c.row.user_id == session.user_id => Permit::Allow,
        Operation::Update(u) if u.current.user_id == session.user_id => Permit::Allow,
        Operation::Delete(d) if d.rows.iter().all(|r| r.user_id == session.user_id) => Permit::Allow,
        _ => Permit::deny("You can only change your own expenses"),
    }
}

/// Users see their own row only.
pub async fn oneself(session: &Session, _: &Sql<'_>, _: &Operation<'_, User>) -> Permit<User> {
    Permit::filter(User::ID.eq(session.user_id))
}
