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
