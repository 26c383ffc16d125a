//! The dataset the data workloads share: the bench's entities, their
//! permitters, and 1,000 users with 100 notes each (20 × 10 in smoke mode),
//! seeded once per run with two raw `INSERT ... SELECT unnest(...)`
//! statements (not through `do_mutations`: seeding is not what is measured).

use std::sync::Arc;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use tokio_postgres::Row;
use trombase::prelude::*;
use trombase::SessionDb;

use super::{BoxError, Context};

/// A user. Readable by any session; not written by the workloads.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "bench_users")]
#[relation(notes = resolves_to_many(Note, user_id -> id))]
#[permit(read = allow_all)]
pub struct User {
    /// The id.
    pub id: DbId,
    /// A display name.
    pub name: String,
    /// An email address.
    pub email: String,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

/// A note: the seeded table. Readable by any session; written only by its
/// owner (judged on the stored, locked rows for updates and deletes).
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "bench_notes")]
#[relation(author = points_to(User, user_id -> id))]
#[permit(read = allow_all, create = owner_only, update = owner_only, delete = owner_only)]
pub struct Note {
    /// The id.
    pub id: DbId,
    /// The title.
    pub title: String,
    /// The text.
    pub content: String,
    /// The owner.
    #[field(immutable)]
    pub user_id: DbId,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

/// A note in the insert target that allows everything (emptied between
/// rounds).
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "bench_open_notes")]
#[relation(author = points_to(User, user_id -> id))]
#[permit(all = allow_all)]
pub struct OpenNote {
    /// The id.
    pub id: DbId,
    /// The title.
    pub title: String,
    /// The text.
    pub content: String,
    /// The owner.
    #[field(immutable)]
    pub user_id: DbId,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

/// A note in the insert target whose create rule checks the owner
/// (emptied between rounds).
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "bench_owned_notes")]
#[relation(author = points_to(User, user_id -> id))]
#[permit(all = owner_only)]
pub struct OwnedNote {
    /// The id.
    pub id: DbId,
    /// The title.
    pub title: String,
    /// The text.
    pub content: String,
    /// The owner.
    #[field(immutable)]
    pub user_id: DbId,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

/// The seeded notes again, as a user sees them under an owner read rule
/// (the row-filter workload reads through it).
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "bench_private_notes", sql_table = "bench_notes")]
#[permit(read = own_rows)]
pub struct PrivateNote {
    /// The id.
    pub id: DbId,
    /// The title.
    pub title: String,
    /// The text.
    pub content: String,
    /// The owner.
    #[field(immutable)]
    pub user_id: DbId,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

/// Each session reads only its user's rows.
pub async fn own_rows(session: &Session, _: &Sql<'_>, _: &Operation<'_, PrivateNote>) -> Permit<PrivateNote> {
    Permit::filter(PrivateNote::USER_ID.eq(session.user_id))
}

/// The allow-all permitter.
pub async fn allow_all<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

/// Rows that belong to a user.
pub trait Owned: Entity {
    /// The owner of this row.
    fn owner(&self) -> DbId;
}

impl Owned for Note {
    fn owner(&self) -> DbId {
        self.user_id
    }
}

impl Owned for OwnedNote {
    fn owner(&self) -> DbId {
        self.user_id
    }
}

/// The owner rule: reads are open; a create must name the session's user;
/// updates and deletes must touch only the session's rows, as stored.
pub async fn owner_only<E: Owned>(session: &Session, _: &Sql<'_>, op: &Operation<'_, E>) -> Permit<E> {
    match op {
        Operation::Read(_) => Permit::Allow,
        Operation::Create(c) if c.row.owner() == session.user_id => Permit::Allow,
        Operation::Update(u) if u.current.owner() == session.user_id => Permit::Allow,
        Operation::Delete(d) if d.rows.iter().all(|r| r.owner() == session.user_id) => Permit::Allow,
        _ => Permit::deny("not your note"),
    }
}

/// What every note's text is (about the size of a short note).
pub const CONTENT: &str = "Remember to water the plants, answer the letters from last week, and \
                           book the train for the trip to the coast before prices go up again.";

/// Every column of `bench_notes`, in field order.
pub const NOTE_COLUMNS: &str = "id, title, content, user_id, created_at, updated_at";

/// A note as raw tokio-postgres code reads it: the same fields, decoded by
/// hand from columns or by serde from JSON (keys as the library's JSON form
/// names them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawNote {
    /// The id.
    pub id: DbId,
    /// The title.
    pub title: String,
    /// The text.
    pub content: String,
    /// The owner.
    pub user_id: DbId,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

impl RawNote {
    /// Decodes columns `first..first + 6` ([`NOTE_COLUMNS`]).
    pub fn from_row(row: &Row, first: usize) -> Result<RawNote, tokio_postgres::Error> {
        Ok(RawNote {
            id: row.try_get(first)?,
            title: row.try_get(first + 1)?,
            content: row.try_get(first + 2)?,
            user_id: row.try_get(first + 3)?,
            created_at: row.try_get(first + 4)?,
            updated_at: row.try_get(first + 5)?,
        })
    }

    /// Whether the library's note has the same values.
    pub fn same_as(&self, note: &Note) -> bool {
        (self.id, &self.title, &self.content, self.user_id, self.created_at, self.updated_at)
            == (note.id, &note.title, &note.content, note.user_id, note.created_at, note.updated_at)
    }
}

/// Every column of `bench_users`, in field order.
pub const USER_COLUMNS: &str = "id, name, email, created_at, updated_at";

/// A user as raw tokio-postgres code reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawUser {
    /// The id.
    pub id: DbId,
    /// A display name.
    pub name: String,
    /// An email address.
    pub email: String,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

impl RawUser {
    /// Decodes columns `first..first + 5` ([`USER_COLUMNS`]).
    pub fn from_row(row: &Row, first: usize) -> Result<RawUser, tokio_postgres::Error> {
        Ok(RawUser {
            id: row.try_get(first)?,
            name: row.try_get(first + 1)?,
            email: row.try_get(first + 2)?,
            created_at: row.try_get(first + 3)?,
            updated_at: row.try_get(first + 4)?,
        })
    }

    /// Whether the library's user has the same values.
    pub fn same_as(&self, user: &User) -> bool {
        (self.id, &self.name, &self.email, self.created_at, self.updated_at)
            == (user.id, &user.name, &user.email, user.created_at, user.updated_at)
    }
}

/// The seeded data and the TromBase that reads and writes it. Its pool is
/// the one the raw side uses too.
pub struct Dataset {
    /// Connected to the scratch database, tables created.
    pub trom: TromBase,
    /// The users, in seed order.
    pub users: Vec<DbId>,
    /// The notes: user `u`'s are `notes[u * per_user..(u + 1) * per_user]`.
    pub notes: Vec<DbId>,
    /// Notes per user.
    pub per_user: usize,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dataset")
            .field("users", &self.users.len())
            .field("notes", &self.notes.len())
            .finish_non_exhaustive()
    }
}

impl Dataset {
    /// A live session of user `user` (sessions are not looked up by the
    /// data workloads: the auth workload measures that).
    pub fn session(&self, user: DbId) -> Session {
        Session { id: DbId::new(), user_id: user, expires_at: Utc::now() + TimeDelta::hours(6), token: None }
    }

    /// The data handle of user `user`.
    pub fn db(&self, user: DbId) -> SessionDb {
        self.trom.db.with_session(&self.session(user))
    }

    /// User `u`'s notes (`u` wraps around).
    pub fn notes_of(&self, u: usize) -> &[DbId] {
        let u = u % self.users.len();
        &self.notes[u * self.per_user..(u + 1) * self.per_user]
    }

    /// A note id picked by iteration `i` (spread over the whole table).
    pub fn note(&self, i: usize) -> DbId {
        self.notes[spread(i, self.notes.len())]
    }

    /// A user index picked by iteration `i`.
    pub fn user_index(&self, i: usize) -> usize {
        spread(i, self.users.len())
    }
}

/// `i` scattered over `0..n` (a fixed permutation for `n` not divisible by
/// the large prime).
fn spread(i: usize, n: usize) -> usize {
    i.wrapping_mul(7_919).wrapping_add(13) % n.max(1)
}

/// The shared dataset, seeded by the first workload that asks.
pub async fn dataset(ctx: &Context) -> Result<Arc<Dataset>, BoxError> {
    let dataset = ctx.dataset.get_or_try_init(|| async { seed(ctx).await.map(Arc::new) }).await?;
    Ok(Arc::clone(dataset))
}

/// A builder for `url` with the bench's entities and pool size.
pub fn builder(url: &str) -> trombase::TromBaseBuilder {
    TromBase::builder()
        .database_url(url)
        .entity::<User>()
        .entity::<Note>()
        .entity::<OpenNote>()
        .entity::<OwnedNote>()
        .entity::<PrivateNote>()
        .max_connections(16)
}

async fn seed(ctx: &Context) -> Result<Dataset, BoxError> {
    let (users_n, per_user) = if ctx.smoke { (20, 10) } else { (1_000, 100) };
    let trom = builder(&ctx.database_url).statement_mode(ctx.statement_mode).connect().await?;
    trom.create_tables().await?;

    let t0 = Utc::now() - TimeDelta::days(30);
    let users: Vec<DbId> = (0..users_n).map(|_| DbId::new()).collect();
    let names: Vec<String> = (0..users_n).map(|u| format!("User {u}")).collect();
    let emails: Vec<String> = (0..users_n).map(|u| format!("user{u}@bench.test")).collect();
    let user_times: Vec<DateTime<Utc>> = (0..users_n).map(|u| t0 + TimeDelta::seconds(u as i64)).collect();

    let mut notes = Vec::with_capacity(users_n * per_user);
    let (mut titles, mut owners, mut times) = (Vec::new(), Vec::new(), Vec::new());
    for (u, user) in users.iter().enumerate() {
        for k in 0..per_user {
            notes.push(DbId::new());
            titles.push(format!("Note {k} of user {u}"));
            owners.push(*user);
            // Distinct times: each user's notes in a known order, no ties.
            times.push(t0 + TimeDelta::minutes(k as i64) + TimeDelta::milliseconds(u as i64));
        }
    }

    let client = trom.pool().get().await?;
    client
        .execute(
            "INSERT INTO bench_users (id, name, email, created_at, updated_at) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $4::timestamptz[])",
            &[&users, &names, &emails, &user_times],
        )
        .await?;
    const CHUNK: usize = 20_000;
    for start in (0..notes.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(notes.len());
        client
            .execute(
                "INSERT INTO bench_notes (id, title, content, user_id, created_at, updated_at) \
                 SELECT id, title, $3, user_id, t, t \
                 FROM unnest($1::text[], $2::text[], $4::text[], $5::timestamptz[]) AS s(id, title, user_id, t)",
                &[&&notes[start..end], &&titles[start..end], &CONTENT, &&owners[start..end], &&times[start..end]],
            )
            .await?;
    }
    // VACUUM as well: rows just inserted carry no hint bits, and whichever
    // variant read a user's rows first in a round would pay for setting
    // them (and for dirtying their pages). Measured: the steady state.
    // (One statement per query: VACUUM refuses a multi-statement string.)
    for table in ["bench_users", "bench_notes"] {
        client.batch_execute(&format!("VACUUM ANALYZE {table}")).await?;
    }
    drop(client);
    Ok(Dataset { trom, users, notes, per_user })
}
