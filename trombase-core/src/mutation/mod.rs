//! Mutations: inserts, updates and deletes, run as one all-or-nothing batch
//! by [`SessionDb::do_mutations`](crate::SessionDb::do_mutations).
//!
//! Two front ends build the same [`Mutation`]s: the typed one here and the
//! JSON one in [`json`]. One engine ([`execute`]) runs them.

mod execute;
mod json;
mod pipeline;
mod steps;
mod validate;
mod written;

pub(crate) use execute::run;
pub(crate) use json::parse_batch;
pub use written::Written;

use std::marker::PhantomData;

use crate::field_ref::{NotImmutable, NotManaged};
use crate::field_type::SetTo;
use crate::permit::EntityHandle;
use crate::schema::FieldMeta;
use crate::{DbId, Entity, Field, FieldType, NewRow, Value};

/// One operation of a batch.
///
/// ```
/// # use trombase::prelude::*;
/// # #[derive(Entity)]
/// # #[entity(table = "notes")]
/// # pub struct Note { pub id: DbId, pub title: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
/// use trombase::Mutation;
/// let id = DbId::new();
/// let batch = [
///     Mutation::insert(NewNote { id, title: "Hi".into() }),
///     Mutation::update(id, [Note::TITLE.set("Hello")]),
///     Mutation::delete::<Note>([id]),
/// ];
/// # let _ = batch;
/// ```
#[derive(Debug, Clone)]
pub struct Mutation {
    pub(crate) entity: EntityHandle,
    pub(crate) kind: MutationKind,
}

/// What a mutation does.
#[derive(Debug, Clone)]
pub(crate) enum MutationKind {
    /// One value per field; the managed timestamps are `Null` until the
    /// engine sets them. `json` is the payload a client sent (typed
    /// inserts build it only if their permitter reads it).
    Insert {
        values: Vec<Value>,
        json: Option<serde_json::Value>,
    },
    Update {
        id: DbId,
        changes: Vec<(&'static FieldMeta, Value)>,
    },
    Delete {
        ids: Vec<DbId>,
    },
    /// An insert that, when a row with the same value of `on` (the id or a
    /// unique field) exists, updates that row instead.
    Upsert {
        values: Vec<Value>,
        json: Option<serde_json::Value>,
        on: &'static FieldMeta,
    },
}

impl Mutation {
    /// Inserts a new row (the generated `NewX` type: managed timestamps are
    /// set by the library).
    pub fn insert<N: NewRow>(row: N) -> Mutation {
        let entity = EntityHandle::of::<N::Entity>();
        let values = row.into_values();
        Mutation { entity, kind: MutationKind::Insert { values, json: None } }
    }

    /// Changes fields of the row `id`: `Mutation::update(id, [Note::TITLE.set("x")])`.
    pub fn update<E: Entity>(id: DbId, changes: impl IntoIterator<Item = Assignment<E>>) -> Mutation {
        let changes = changes.into_iter().map(|a| (a.field, a.value)).collect();
        Mutation { entity: EntityHandle::of::<E>(), kind: MutationKind::Update { id, changes } }
    }

    /// Inserts the row, or when a row with its id exists, updates that row
    /// to it (its updatable fields; an immutable one must be unchanged).
    /// The existing row is locked and judged by the update permitter (which
    /// sees it as it is and as it will be); a new one by the create
    /// permitter. Two upserts of one id serialize: one inserts, the other
    /// updates.
    pub fn upsert<N: NewRow>(row: N) -> Mutation {
        let entity = EntityHandle::of::<N::Entity>();
        let on = entity.meta.managed(crate::schema::Managed::Id).unwrap_or(&entity.meta.fields[0]);
        Mutation::upsert_with(entity, on, row.into_values())
    }

    /// [`upsert`](Self::upsert) on a `#[field(unique)]` field instead of the
    /// id: `Mutation::upsert_on(Setting::KEY, NewSetting { .. })`. An
    /// existing row keeps its id. A field that is neither unique nor the id
    /// is refused when the batch runs.
    pub fn upsert_on<E: Entity, T: FieldType, A, N: NewRow<Entity = E>>(
        on: Field<E, T, A>,
        row: N,
    ) -> Mutation {
        Mutation::upsert_with(EntityHandle::of::<E>(), on.meta(), row.into_values())
    }

    fn upsert_with(entity: EntityHandle, on: &'static FieldMeta, values: Vec<Value>) -> Mutation {
        Mutation { entity, kind: MutationKind::Upsert { values, json: None, on } }
    }

    /// Deletes the rows with these ids: `Mutation::delete::<Note>([id])`.
    pub fn delete<E: Entity>(ids: impl IntoIterator<Item = DbId>) -> Mutation {
        let ids = ids.into_iter().collect();
        Mutation { entity: EntityHandle::of::<E>(), kind: MutationKind::Delete { ids } }
    }

    /// Parses and validates a JSON batch against a schema without running
    /// it (what [`SessionDb::do_mutations_json`](crate::SessionDb::do_mutations_json)
    /// does first). At most `max_operations` mutations are accepted.
    pub fn parse_json_batch(
        schema: &crate::schema::Schema,
        json: &serde_json::Value,
        max_operations: usize,
    ) -> crate::Result<Vec<Mutation>> {
        let batch = parse_batch(schema, json, max_operations)?;
        for (index, mutation) in batch.iter().enumerate() {
            validate::mutation(mutation).map_err(|e| e.at_operation(index))?;
        }
        Ok(batch)
    }

    /// The logical name of the entity this mutation touches (`notes`).
    pub fn entity_name(&self) -> &'static str {
        self.entity.meta.name
    }
}

/// A new value for one field of entity `E`, made by [`Field::set`].
#[derive(Debug, Clone)]
pub struct Assignment<E> {
    field: &'static FieldMeta,
    value: Value,
    marker: PhantomData<fn() -> E>,
}

impl<E: Entity, T: FieldType, A> Field<E, T, A> {
    /// The assignment `field = value`, for [`Mutation::update`]. The value must
    /// have the field's type ([`SetTo`]: text also takes `&str`, a nullable
    /// field a value of its inner type or `None`; nothing else converts).
    ///
    /// Only a [`Settable`](crate::Settable) field has it: setting an
    /// `#[field(immutable)]` field or a managed one (`id`, `created_at`,
    /// `updated_at`) does not compile. (The JSON API, whose input is
    /// untrusted, refuses them when the batch is validated.)
    ///
    /// ```compile_fail
    /// # use trombase::prelude::*;
    /// # #[derive(Entity)]
    /// # #[entity(table = "notes")]
    /// # pub struct Note {
    /// #     pub id: DbId,
    /// #     #[field(immutable)] pub user_id: DbId,
    /// #     pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc>,
    /// # }
    /// // error: this field of `Note` is immutable: it cannot be set in an update
    /// let _ = Mutation::update(DbId::new(), [Note::USER_ID.set(DbId::new())]);
    /// ```
    pub fn set(self, value: impl SetTo<T>) -> Assignment<E>
    where
        A: NotImmutable<E> + NotManaged<E>,
    {
        Assignment { field: self.meta(), value: value.into_field_value().to_value(), marker: PhantomData }
    }
}
