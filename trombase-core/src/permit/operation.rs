//! [`Operation`]: what a permitter is asked about.

use crate::query::Predicate;
use crate::schema::{EntityMeta, FieldMeta};
use crate::{DbId, Value};

/// The four kinds of access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Reading rows.
    Read,
    /// Inserting a row.
    Create,
    /// Changing fields of a row.
    Update,
    /// Deleting rows.
    Delete,
}

impl Action {
    /// `read`, `create`, `update` or `delete`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// What a permitter is asked to allow.
#[derive(Debug)]
#[non_exhaustive]
pub enum Operation<'a, E> {
    /// A read of the entity (as the root of a select or an embedded relation).
    Read(ReadOp<'a>),
    /// An insert.
    Create(CreateOp<'a, E>),
    /// An update of one row.
    Update(UpdateOp<'a, E>),
    /// A delete of one or more rows.
    Delete(DeleteOp<'a, E>),
}

impl<E> Operation<'_, E> {
    /// Which action this is.
    pub fn action(&self) -> Action {
        match self {
            Operation::Read(_) => Action::Read,
            Operation::Create(_) => Action::Create,
            Operation::Update(_) => Action::Update,
            Operation::Delete(_) => Action::Delete,
        }
    }

    /// The entity being accessed.
    pub fn entity(&self) -> &'static EntityMeta {
        match self {
            Operation::Read(op) => op.entity,
            Operation::Create(op) => op.entity,
            Operation::Update(op) => op.entity,
            Operation::Delete(op) => op.entity,
        }
    }
}

/// A read: which columns are asked for, and the caller's filter.
///
/// The read permitter runs once per entity per select, before the SQL; when
/// an entity appears at several places of one select, `columns` is the union
/// of what each asks for and `filter` the caller's filter where it first
/// appears (the root first).
#[derive(Debug)]
#[non_exhaustive]
pub struct ReadOp<'a> {
    /// The entity read.
    pub entity: &'static EntityMeta,
    /// The columns requested.
    pub columns: &'a [&'static FieldMeta],
    /// The caller's filter on this entity, if any.
    pub filter: Option<&'a Predicate>,
}

/// An insert: the new row as it will be written.
#[derive(Debug)]
#[non_exhaustive]
pub struct CreateOp<'a, E> {
    /// The entity inserted into.
    pub entity: &'static EntityMeta,
    /// The new row's id.
    pub id: DbId,
    /// The new row, managed timestamps included.
    pub row: &'a E,
    /// The payload as logical-name JSON (`c.json["title"]`), built the
    /// first time it is read.
    pub json: &'a Payload<'a>,
}

/// An insert's payload as logical-name JSON (managed timestamps left out):
/// the JSON a client sent, or, for a typed insert, built from the row the
/// first time it is read (an insert whose permitter never reads it costs
/// no JSON). Reads as a `serde_json::Value` (`Deref`).
pub struct Payload<'a> {
    entity: &'static EntityMeta,
    row: &'a (dyn RowValues + Sync),
    sent: Option<&'a serde_json::Value>,
    built: std::sync::OnceLock<serde_json::Value>,
}

/// A row whose values a [`Payload`] is built from.
pub(crate) trait RowValues {
    fn row_values(&self) -> Vec<Value>;
}

impl<E: crate::Entity> RowValues for E {
    fn row_values(&self) -> Vec<Value> {
        self.values()
    }
}

impl<'a> Payload<'a> {
    pub(crate) fn new(
        entity: &'static EntityMeta,
        row: &'a (dyn RowValues + Sync),
        sent: Option<&'a serde_json::Value>,
    ) -> Self {
        Payload { entity, row, sent, built: std::sync::OnceLock::new() }
    }
}

impl std::ops::Deref for Payload<'_> {
    type Target = serde_json::Value;

    fn deref(&self) -> &serde_json::Value {
        if let Some(sent) = self.sent {
            return sent;
        }
        self.built.get_or_init(|| {
            let object = self
                .entity
                .fields
                .iter()
                .zip(self.row.row_values())
                .filter(|(f, _)| !f.is_managed_timestamp())
                .map(|(f, v)| (f.name.to_owned(), v.to_json()))
                .collect();
            serde_json::Value::Object(object)
        })
    }
}

impl std::fmt::Debug for Payload<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

/// An update: the stored row (locked) and the changes.
#[derive(Debug)]
#[non_exhaustive]
pub struct UpdateOp<'a, E> {
    /// The entity updated.
    pub entity: &'static EntityMeta,
    /// The row's id.
    pub id: DbId,
    /// The fields to change and their new values.
    pub changes: &'a [(&'static FieldMeta, Value)],
    /// The row as it is stored now, locked `FOR UPDATE` until the batch ends.
    pub current: &'a E,
    /// The row as it will be after the change (`current` with `changes`
    /// applied and `updated_at` set), for rules on the result: "status only
    /// moves forward" is `after.status >= current.status`.
    pub after: &'a E,
}

/// A delete: the stored rows (locked).
#[derive(Debug)]
#[non_exhaustive]
pub struct DeleteOp<'a, E> {
    /// The entity deleted from.
    pub entity: &'static EntityMeta,
    /// The ids to delete.
    pub ids: &'a [DbId],
    /// The rows as they are stored now, locked `FOR UPDATE` until the batch ends.
    pub rows: &'a [E],
}
