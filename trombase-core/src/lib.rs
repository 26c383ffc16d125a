//! Runtime of TromBase. Applications use the `trombase` crate, which
//! re-exports everything public here next to the derive.
//!
//! The flow is one way: schema metadata ([`schema`]) -> query IR ([`query`])
//! -> SQL rendering ([`render`]) -> execution.
//!
//! # Tracing
//!
//! Each call is a [`tracing`] span at INFO, disabled (and free) when no
//! subscriber wants it:
//!
//! - `trombase.select` (target `trombase::select`): [`SessionDb::select`],
//!   [`page`](SessionDb::page), [`select_json`](SessionDb::select_json),
//!   [`select_json_text`](SessionDb::select_json_text),
//!   [`page_json`](SessionDb::page_json) and their query-string forms.
//!   Fields `action` (`select`, `page`), `entity`, `rows`, `statements`,
//!   `duration_ms`.
//! - `trombase.mutations` (target `trombase::mutations`): the
//!   [`do_mutations`](SessionDb::do_mutations) family. Fields `action`
//!   (`mutations`), `entity` (the batch's entities, comma-separated),
//!   `operations`, `rows` (the `_returning` forms), `statements`,
//!   `duration_ms`.
//! - `trombase.auth` (target `trombase::auth`): each [`Auth`] call. Fields
//!   `action` (`register`, `login`, `logout`, `session`, `require_session`,
//!   `request_password_reset`, `reset_password`, `change_password`,
//!   `sessions`, `end_all_sessions`, `request_email_verification`,
//!   `verify_email`, `email_verified`), `statements`, `duration_ms`.
//! - `trombase.schema` (target `trombase::schema`):
//!   [`TromBase::create_tables`]. Fields `action`, `statements`,
//!   `duration_ms`.
//!
//! `statements` counts what the call itself sent (as
//! [`TromBase::statements_executed`] counts), whatever runs beside it;
//! `duration_ms` is its wall time in fractional milliseconds. Inside the
//! span, a denial is a DEBUG event `permission denied` (target
//! `trombase::permit`: `entity`, `action`, `permitter`), and a failure a
//! `call failed` event (target `trombase`: `error` kind, `status`,
//! `operation`, `code`, `path`, `constraint`, `context`, `sqlstate` as they
//! apply), at DEBUG for the caller's mistakes and denials, at WARN for
//! server faults. `create_tables` asks PostgreSQL for no notices ("already
//! exists, skipping", which the driver logs at INFO) and logs what existed
//! at DEBUG.
//!
//! Never recorded: values. No row contents, filter values or parameters, no
//! passwords, hashes, tokens, email addresses, session or user ids, and no
//! message that may quote them (a permitter's, a validation error's, the
//! database's). The exceptions are deliberate: [`LogEmailSender`], the
//! default sender, writes emails to the log (a development tool), and the
//! JSON API logs a server fault's whole chain ([`Error::report`]) at ERROR.

pub mod api;
mod auth;
mod bootstrap;
mod client;
mod db;
mod dbid;
mod email;
mod entity;
mod error;
mod exec;
mod field_ref;
mod field_type;
mod hash;
mod json;
mod json_body;
mod mutation;
pub mod permit;
pub mod query;
mod read;
pub mod render;
pub mod schema;
mod session;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;
mod trace;
mod value;

pub use auth::tables::{
    EMAIL_VERIFICATIONS as AUTH_EMAIL_VERIFICATIONS_TABLE, PASSWORD_RESETS as AUTH_PASSWORD_RESETS_TABLE,
    RATE_LIMITS as AUTH_RATE_LIMITS_TABLE, SESSIONS as AUTH_SESSIONS_TABLE, USERS as AUTH_USERS_TABLE,
};
pub use auth::{
    Argon2Params, Auth, AuthConfig, AuthUser, DatabaseLimiter, EmailVerification, InProcessLimiter, Limit,
    LogoutResult, RateLimiter, RateLimits, ResetRequested, SessionInfo, SignedIn, Verdict,
};
pub use client::{TromBase, TromBaseBuilder};
pub use db::{Db, SessionDb};
pub use dbid::{DbId, DbIdError};
pub use email::{Email, EmailSender, LogEmailSender, SendError};
pub use entity::{Entity, NewRow};
pub use error::{
    AuthError, AuthErrorCode, BusyError, CommitUnknownError, ConflictError, DatabaseError, Error, ErrorBody,
    NotFoundError, PermissionError, Result, SchemaError, ValidationError,
};
pub use exec::{StatementMode, MAX_CACHED_SQL, MAX_CACHED_STATEMENTS, MAX_PARAMS};
pub use field_ref::{Field, Immutable, Managed, Many, NotImmutable, NotManaged, One, Relation, Settable};
pub use field_type::{CompareWith, FieldType, NotNullFieldType, SetTo};
pub use json::Json;
pub use json_body::parse_json_body;
pub use mutation::{Assignment, Mutation, Written};
pub use permit::{Action, EntityHandle, Operation, Permit};
pub use query::Filter;
pub use session::Session;
pub use sql::Sql;
pub use value::Value;

/// What generated code needs; not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::permit::{Action, Operation, Permit};
    pub use crate::schema::{
        Casing, EntityMeta, FieldMeta, JunctionMeta, Managed, RelationKind, RelationMeta,
    };
    pub use crate::{
        DbId, Field, FieldType, Many, NewRow, NotNullFieldType, One, Relation, Result, Session, Sql, Value,
    };

    /// The access markers of generated field references.
    pub mod access {
        pub use crate::field_ref::{Immutable, Managed, Settable};
    }
    pub use chrono::{DateTime, Utc};
    pub use serde;
    pub use tokio_postgres::Row;

    use crate::{Error, ValidationError};

    /// A JSON object keyed by logical names.
    pub type JsonMap = serde_json::Map<String, serde_json::Value>;
    /// The managed timestamp type.
    pub type Timestamp = chrono::DateTime<chrono::Utc>;

    /// The parts of an entity's metadata that depend on no other entity.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a TromBase entity",
        label = "not an entity",
        note = "add `#[derive(Entity)]` to `{Self}`"
    )]
    pub trait EntityParts {
        /// The logical table name.
        const NAME: &'static str;
        /// The physical table name.
        const TABLE: &'static str;
        /// The fields.
        const FIELDS: &'static [FieldMeta];
    }

    /// A field's metadata, in const context.
    pub const fn field_meta<E: EntityParts, T, A>(field: Field<E, T, A>) -> &'static FieldMeta {
        &E::FIELDS[field.index()]
    }

    /// The logical name of a field, in const context.
    pub const fn field_name<E: EntityParts, T, A>(field: Field<E, T, A>) -> &'static str {
        E::FIELDS[field.index()].name
    }

    /// The Rust types of a relation's foreign key and of the key it
    /// references, for the check the derive generates next to it (a trait
    /// with the error in the user's words).
    pub struct KeyTypes<F, K>(std::marker::PhantomData<fn() -> (F, K)>);

    /// The types of two fields, unified at once (so neither is inferred
    /// from the other, and a mismatch is reported by the derive's check).
    pub const fn key_types<A, B, F, K, FA, KA>(
        _foreign_key: Field<A, F, FA>,
        _key: Field<B, K, KA>,
    ) -> KeyTypes<F, K> {
        KeyTypes(std::marker::PhantomData)
    }

    /// Takes the next value of a row being built from values.
    pub fn take_value<T: FieldType>(values: &mut impl Iterator<Item = Value>, name: &str) -> Result<T> {
        let value = values.next().unwrap_or(Value::Null);
        T::from_value(value).ok_or_else(|| Error::validation(name, "has a value of the wrong kind"))
    }

    /// Reads field `name` of a JSON row as `T`.
    pub fn get_json<T: FieldType>(object: &JsonMap, name: &str) -> Result<T> {
        let json = object.get(name).unwrap_or(&serde_json::Value::Null);
        let value =
            crate::Value::from_json(T::KIND, json).map_err(|message| ValidationError::new(name, message))?;
        T::from_value(value).ok_or_else(|| Error::validation(name, "must not be null"))
    }

    /// Serializes one field of an entity in its JSON form.
    pub fn serialize_field<T: FieldType, M: serde::ser::SerializeMap>(
        map: &mut M,
        name: &'static str,
        value: &T,
    ) -> std::result::Result<(), M::Error> {
        map.serialize_entry(name, &value.to_value())
    }

    /// Reads field `index` of a row as `T`.
    pub fn get<T: FieldType>(row: &Row, index: usize, entity: &str, field: &str) -> Result<T> {
        row.try_get::<_, T>(index).map_err(|e| {
            Error::Database(crate::DatabaseError::new("decoding a row", format!("{entity}.{field}: {e}")))
        })
    }
}
