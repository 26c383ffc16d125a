//! # TromBase
//!
//! A PostgreSQL data layer for Rust web backends, with declarative, async,
//! per-entity permission rules and a username/password auth system. It is a
//! library, not a server: it plugs into any async web framework.
//!
//! Declare each table as a plain struct and derive [`Entity`]:
//!
//! ```
//! use trombase::prelude::*;
//!
//! #[derive(Entity, Debug, Clone)]
//! #[entity(table = "users")]
//! #[relation(notes = resolves_to_many(Note, user_id -> id))]
//! #[permit(read = allow_all)]
//! pub struct User {
//!     pub id: DbId,
//!     #[field(unique)]
//!     pub email: String,
//!     pub created_at: DateTime<Utc>,
//!     pub updated_at: DateTime<Utc>,
//! }
//!
//! #[derive(Entity, Debug, Clone)]
//! #[entity(table = "notes")]
//! #[relation(author = points_to(User, user_id -> id))]
//! #[permit(all = owner_only)]
//! pub struct Note {
//!     pub id: DbId,                   // managed: chosen by the caller on insert
//!     pub title: String,
//!     pub content: Option<String>,    // Option<T> = nullable column
//!     #[field(immutable)]
//!     pub user_id: DbId,              // logical name `userId`, column `user_id`
//!     pub created_at: DateTime<Utc>,  // managed by the library
//!     pub updated_at: DateTime<Utc>,  // managed by the library
//! }
//!
//! /// Everyone may read.
//! async fn allow_all<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
//!     Permit::Allow
//! }
//!
//! /// Only the owner may read or touch a note.
//! async fn owner_only(session: &Session, _: &Sql<'_>, op: &Operation<'_, Note>) -> Permit<Note> {
//!     match op {
//!         Operation::Read(_) => Permit::filter(Note::USER_ID.eq(session.user_id)),
//!         Operation::Create(c) if c.row.user_id == session.user_id => Permit::Allow,
//!         Operation::Update(u) if u.current.user_id == session.user_id => Permit::Allow,
//!         Operation::Delete(d) if d.rows.iter().all(|r| r.user_id == session.user_id) => Permit::Allow,
//!         _ => Permit::deny("not your note"),
//!     }
//! }
//!
//! // Every field has a typed reference, every relation too:
//! assert_eq!(Note::USER_ID.name(), "userId");
//! assert_eq!(Note::AUTHOR.name(), "author");
//! assert_eq!(<Note as Entity>::META.table, "notes");
//! ```
//!
//! Connect, register the entities and bootstrap the tables:
//!
//! ```no_run
//! # use trombase::prelude::*;
//! # #[derive(Entity)]
//! # #[entity(table = "users")]
//! # pub struct User { pub id: DbId, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
//! # async fn run() -> trombase::Result<()> {
//! let trom = TromBase::builder()
//!     .database_url("postgres://postgres@127.0.0.1:5432/postgres")
//!     .entity::<User>()
//!     .connect()
//!     .await?;
//! trom.create_tables().await?;
//! # Ok(()) }
//! ```
//!
//! ## In a web framework
//!
//! The JSON API of the reference app lives in [`api`]: with the `axum`
//! feature, `api::axum::router` serves it and [`SessionDb`] and
//! [`Session`] are extractors (token from `Authorization: Bearer` or
//! `x-session-token`); with `actix-web`, `api::actix::scope` does the same.
//! [`Error`] answers as a response with its JSON body
//! ([`Error::body`]); entities serialize with serde in the API's row shape,
//! and [`query::Query::json`] gives any typed result that shape.
//!
//! ## Attributes
//!
//! - `#[entity(table = "notes", casing = "snake" | "camel")]`: the logical
//!   table name (used in JSON; default: the struct name in snake case) and how
//!   logical names map to physical ones (`snake`, the default: `user_id`;
//!   `camel`: `"userId"`). `sql_table = "..."` maps the entity onto a
//!   physical table of another name (an existing table, say).
//! - `#[field(immutable)]`, `#[field(unique)]`, `#[field(name = "...")]`: an
//!   immutable field can never be updated; a unique one gets a unique
//!   constraint; `name` overrides the logical name (camelCase of the Rust name
//!   by default).
//! - `#[relation(author = points_to(User, user_id -> id))]`: many-to-one,
//!   this entity's `user_id` references `User`'s `id`.
//!   `#[relation(notes = resolves_to_many(Note, user_id -> id))]`: one-to-many,
//!   `Note`'s `user_id` references this entity's `id`. In both, the arrow goes
//!   from the referencing field to the referenced one.
//! - `#[permit(read = f, create = f, update = f, delete = f, all = f)]`: the
//!   permitter of each action (`all` for any action not named). Undeclared
//!   actions are denied.
//!
//! Every entity has the managed fields `id: DbId`, `created_at: DateTime<Utc>`
//! and `updated_at: DateTime<Utc>`. Field types: `String`, `i16`, `i32`,
//! `i64`, `f64`, `bool`, `DateTime<Utc>`, `serde_json::Value`, [`Json<T>`],
//! [`DbId`], and `Option<T>` of any of these.

pub use trombase_core::*;
pub use trombase_macros::Entity;

/// Makes an `async fn` taking a [`TestDb`](testing::TestDb) or a
/// [`TestApp`](testing::TestApp) a test on a fresh database of its own (the
/// `testing` feature); see [`testing`] for the guide.
#[cfg(feature = "testing")]
pub use trombase_macros::test;

#[cfg(feature = "testing")]
pub mod testing {
    //! Testing your app: every test gets a fresh PostgreSQL database of
    //! its own, dropped when the test ends (passed or panicked), so tests
    //! run in parallel and leave nothing behind. Enable the `testing`
    //! feature in the app's dev-dependencies:
    //!
    //! ```toml
    //! [dev-dependencies]
    //! trombase = { version = "0.1", features = ["testing"] }
    //! ```
    //!
    //! The databases are created on the server `DATABASE_URL` names
    //! (default `postgres://postgres@127.0.0.1:5432/postgres`), whose user
    //! needs the `CREATEDB` privilege. Each is named `trombase_test_` and
    //! 16 random hex digits.
    //!
    //! `#[trombase::test]` makes an `async fn` a test (no tokio macros
    //! needed: it brings its own runtime) and hands it its fixture: a
    //! [`TestDb`], an empty database, or with `entities(...)` a
    //! [`TestApp`], the app's [`TromBase`](crate::TromBase) on one with
    //! those entities registered and their tables (and the auth tables)
    //! created:
    //!
    //! ```rust,test_harness
    //! use trombase::prelude::*;
    //! use trombase::testing::{session_for, TestApp, TestDb};
    //! use trombase::Mutation;
    //!
    //! #[derive(Entity, Debug, Clone)]
    //! #[entity(table = "notes")]
    //! #[permit(all = owner_only)]
    //! pub struct Note {
    //!     pub id: DbId,
    //!     pub title: String,
    //!     #[field(immutable)]
    //!     pub user_id: DbId,
    //!     pub created_at: DateTime<Utc>,
    //!     pub updated_at: DateTime<Utc>,
    //! }
    //!
    //! async fn owner_only(session: &Session, _: &Sql<'_>, op: &Operation<'_, Note>) -> Permit<Note> {
    //!     match op {
    //!         Operation::Read(_) => Permit::filter(Note::USER_ID.eq(session.user_id)),
    //!         Operation::Create(c) if c.row.user_id == session.user_id => Permit::Allow,
    //!         _ => Permit::deny("not your note"),
    //!     }
    //! }
    //!
    //! #[trombase::test(entities(Note))]
    //! async fn notes_are_seen_by_their_author_only(app: TestApp) {
    //!     // A user registered through the auth system: a session row and a
    //!     // bearer token, as after a login.
    //!     let ann = app.session_for_new_user().await;
    //!     assert!(ann.session.token.is_some());
    //!     let note = NewNote { id: DbId::new(), title: "mine".into(), user_id: ann.user.id };
    //!     app.as_user(&ann.session).do_mutations([Mutation::insert(note)]).await.unwrap();
    //!     assert_eq!(app.as_user(&ann.session).select(Note::query()).await.unwrap().len(), 1);
    //!
    //!     // Data access needs no more than an in-memory session.
    //!     let bob = session_for(DbId::new());
    //!     assert!(app.as_user(&bob).select(Note::query()).await.unwrap().is_empty());
    //! }
    //!
    //! #[trombase::test]
    //! async fn each_test_has_a_database_of_its_own(db: TestDb) {
    //!     let client = db.client().await;
    //!     let row = client.query_one("SELECT current_database()", &[]).await.unwrap();
    //!     assert_eq!(row.get::<_, String>(0), db.name());
    //! }
    //! ```
    //!
    //! The attribute takes `entities(A, B, ...)` and `multi_thread` (a
    //! runtime with a worker per CPU instead of the test's thread); the
    //! function may return a `Result` and keeps its other attributes
    //! (`#[should_panic]`, `#[ignore]`). Without the attribute, the same
    //! pieces are at hand: [`TestDb::new`], [`TestDb::trombase`] (a
    //! TromBase on the database, configured by a closure),
    //! [`TestApp::new`], [`TestDb::builder`] (for settings beyond the
    //! entities; [`test_auth_config`] keeps password hashing cheap).
    //!
    //! A test that needs its own settings builds its app from a `TestDb`:
    //!
    //! ```rust,test_harness
    //! # use trombase::prelude::*;
    //! # #[derive(Entity)]
    //! # #[entity(table = "notes")]
    //! # pub struct Note { pub id: DbId, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
    //! use std::time::Duration;
    //! use trombase::testing::{test_auth_config, TestDb};
    //!
    //! #[trombase::test]
    //! async fn sessions_expire(db: TestDb) {
    //!     let config = test_auth_config().session_ttl(Duration::from_secs(60));
    //!     let trom = db.trombase(|builder| builder.entity::<Note>().auth_config(config)).await;
    //!     let ann = trom.auth.register_with_username_password("ann@example.com", "correct horse").await.unwrap();
    //!     assert!((ann.session.expires_at - Utc::now()).num_seconds() <= 60);
    //! }
    //! ```
    //!
    //! Behind a transaction-pooling proxy: with `TROMBASE_TEST_POOLER_URL`
    //! set (a PgBouncer in front of the `DATABASE_URL` server), the app
    //! reaches each test database through it ([`TestDb::url`], with
    //! `pgbouncer=true`), while [`TestDb::client`] still talks to the server.
    //!
    //! A process killed mid-test (no unwinding) leaves its database behind;
    //! `DROP DATABASE` the `trombase_test_*` ones at leisure.

    pub use trombase_core::testing::*;
}

/// Everything an application usually needs: `use trombase::prelude::*;`.
pub mod prelude {
    pub use crate::Entity;
    pub use trombase_core::__private::{DateTime, Utc};
    pub use trombase_core::permit::{Action, CreateOp, DeleteOp, Operation, Permit, ReadOp, UpdateOp};
    pub use trombase_core::query::{count, Cols, Direction, Grouped, Query};
    pub use trombase_core::{
        DbId, Error, Field, Filter, Json, Mutation, PermissionError, Relation, Session, SessionDb, Sql,
        TromBase,
    };
}

/// The README's code blocks, compiled (and run where they can) as doctests,
/// so it cannot drift from the library.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
