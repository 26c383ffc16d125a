//! Permitter calls with the entity type erased, so one engine can run
//! operations on any registered entity (typed batches mix entities; the JSON
//! forms name them by string).

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use tokio_postgres::Row;

use super::{Action, CreateOp, DeleteOp, Operation, Permit, ReadOp, UpdateOp};
use crate::query::Predicate;
use crate::schema::{EntityMeta, FieldMeta};
use crate::{DbId, Entity, PermissionError, Result, Session, Sql, Value};

/// A permitter's answer, with the entity type erased.
#[derive(Debug)]
pub(crate) enum Verdict {
    Allow,
    Deny(PermissionError),
    Filter(Predicate),
}

/// An operation to check, with rows still undecoded.
pub(crate) enum ErasedOp<'a> {
    Read {
        columns: &'a [&'static FieldMeta],
        filter: Option<&'a Predicate>,
    },
    /// The values are moved into the typed row the permitter sees, and back.
    Create {
        id: DbId,
        values: &'a mut Vec<Value>,
        json: Option<&'a serde_json::Value>,
    },
    Update {
        id: DbId,
        changes: &'a [(&'static FieldMeta, Value)],
        current: &'a Row,
        now: DateTime<Utc>,
    },
    Delete {
        ids: &'a [DbId],
        rows: &'a [Row],
    },
}

type CheckFn = for<'a> fn(&'a Session, &'a Sql<'a>, ErasedOp<'a>) -> BoxFuture<'a, Result<Verdict>>;

/// A registered entity: its metadata and its permitters.
#[derive(Clone, Copy)]
pub struct EntityHandle {
    pub(crate) meta: &'static EntityMeta,
    declared: &'static [Action],
    check: CheckFn,
}

/// Two handles are equal when they are of the same entity.
impl PartialEq for EntityHandle {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.meta, other.meta) || self.meta.name == other.meta.name
    }
}

impl std::fmt::Debug for EntityHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("EntityHandle").field(&self.meta.name).finish()
    }
}

impl EntityHandle {
    /// The handle of entity `E`.
    pub fn of<E: Entity>() -> Self {
        EntityHandle { meta: E::META, declared: E::DECLARED_ACTIONS, check: check::<E> }
    }

    /// A handle for bare metadata, whose permitters deny everything.
    pub(crate) fn deny_all(meta: &'static EntityMeta) -> Self {
        EntityHandle { meta, declared: &[], check: deny_all }
    }

    /// The actions the entity declares a permitter for (the others are
    /// always denied).
    pub fn declared_actions(&self) -> &'static [Action] {
        self.declared
    }

    /// The entity's metadata.
    pub fn meta(&self) -> &'static EntityMeta {
        self.meta
    }

    /// Asks the entity's permitter about `op`.
    pub(crate) async fn check<'a>(
        &self,
        session: &'a Session,
        sql: &'a Sql<'a>,
        op: ErasedOp<'a>,
    ) -> Result<Verdict> {
        (self.check)(session, sql, op).await
    }
}

fn check<'a, E: Entity>(
    session: &'a Session,
    sql: &'a Sql<'a>,
    op: ErasedOp<'a>,
) -> BoxFuture<'a, Result<Verdict>> {
    Box::pin(async move {
        let entity = E::META;
        let permit = match op {
            ErasedOp::Read { columns, filter } => {
                E::permit(session, sql, &Operation::Read(ReadOp { entity, columns, filter })).await
            }
            ErasedOp::Create { id, values, json } => {
                let row = E::from_values_in(values)?;
                let permit = {
                    let json = super::Payload::new(entity, &row, json);
                    let op = Operation::Create(CreateOp { entity, id, row: &row, json: &json });
                    E::permit(session, sql, &op).await
                };
                row.into_values_in(values);
                permit
            }
            ErasedOp::Update { id, changes, current, now } => {
                let current = E::from_row(current)?;
                let after = after_update(&current, changes, now)?;
                let op =
                    Operation::Update(UpdateOp { entity, id, changes, current: &current, after: &after });
                E::permit(session, sql, &op).await
            }
            ErasedOp::Delete { ids, rows } => {
                let rows = rows.iter().map(E::from_row).collect::<Result<Vec<E>>>()?;
                E::permit(session, sql, &Operation::Delete(DeleteOp { entity, ids, rows: &rows })).await
            }
        };
        Ok(match permit {
            Permit::Allow => Verdict::Allow,
            Permit::Deny(err) => Verdict::Deny(err),
            Permit::Filter(filter) => Verdict::Filter(filter.into_predicate()),
        })
    })
}

/// The row as an update will leave it: the stored row with the changes
/// applied and `updatedAt` at the batch's time. Built in memory, no query.
fn after_update<E: Entity>(
    current: &E,
    changes: &[(&'static FieldMeta, Value)],
    now: DateTime<Utc>,
) -> Result<E> {
    let mut values = current.values();
    for (field, value) in E::META.fields.iter().zip(values.iter_mut()) {
        if let Some((_, changed)) = changes.iter().find(|(f, _)| f.name == field.name) {
            *value = changed.clone();
        } else if field.managed == Some(crate::schema::Managed::UpdatedAt) {
            *value = Value::Timestamp(now);
        }
    }
    E::from_values(values)
}

fn deny_all<'a>(_: &'a Session, _: &'a Sql<'a>, _: ErasedOp<'a>) -> BoxFuture<'a, Result<Verdict>> {
    Box::pin(async { Ok(Verdict::Deny(PermissionError::default())) })
}
