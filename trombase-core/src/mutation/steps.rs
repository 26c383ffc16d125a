//! One mutation of a batch: load what its permitter needs (locked), ask
//! it, then send the write into the pipeline. Consecutive inserts of one
//! entity are held back and sent as one `INSERT ... SELECT ... FROM unnest(...)`
//! when something else comes (another step, the end of the batch, or a
//! permitter's query, which must see them). An upsert finds its row under
//! a transaction-scoped lock on its key, so two upserts of one key
//! serialize: the second finds the first one's row and updates it.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

use super::pipeline::{Answer, Pipeline};
use crate::exec::{Conn, Prepared};
use crate::permit::{Action, EntityHandle, ErasedOp, Verdict};
use crate::render::mutation as render;
use crate::render::{kind_array_type, kind_type, RowsColumn};
use crate::schema::{EntityMeta, FieldMeta, Managed};
use crate::sql::BeforeQuery;
use crate::{DbId, Error, NotFoundError, PermissionError, Result, Session, Sql, Value};

const CONTEXT: &str = "running a mutation";

/// What every step of one batch shares.
pub(super) struct Batch<'a> {
    conn: &'a Conn<'a>,
    session: &'a Session,
    /// The batch's time: every managed timestamp it writes.
    now: DateTime<Utc>,
    /// Whether the written rows come back (`RETURNING`).
    returning: bool,
    pipeline: Mutex<Pipeline<'a>>,
    held: Mutex<Option<Held<'a>>>,
    /// The transaction opens at a permitter's first query, not before (a
    /// batch of inserts of one entity: one statement).
    lazy: bool,
    /// A write of the batch was sent: a multi-row insert after it takes a
    /// savepoint, so a refused row is found with those writes in place.
    wrote: AtomicBool,
}

/// Inserts of one entity, judged and not yet sent (their rows borrowed
/// from the batch's mutations).
struct Held<'a> {
    entity: EntityHandle,
    rows: Vec<&'a [Value]>,
    indexes: Vec<usize>,
}

/// What a step wrote, when it is known without waiting for the write: the
/// rows a delete removed (loaded and locked before it).
pub(super) type Known = Option<Vec<Row>>;

impl<'a> Batch<'a> {
    pub(super) fn new(
        conn: &'a Conn<'a>,
        session: &'a Session,
        now: DateTime<Utc>,
        returning: bool,
        lazy: bool,
    ) -> Self {
        Batch {
            conn,
            session,
            now,
            returning,
            pipeline: Mutex::default(),
            held: Mutex::new(None),
            lazy,
            wrote: AtomicBool::new(false),
        }
    }

    /// The pipeline, to wait for what it holds.
    pub(super) fn take_pipeline(&self) -> Pipeline<'a> {
        std::mem::take(&mut *self.pipeline.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    fn send(&self, write: BoxFuture<'a, Answer>) {
        self.wrote.store(true, Ordering::Relaxed);
        self.pipeline.lock().unwrap_or_else(std::sync::PoisonError::into_inner).send(write);
    }

    /// The permitter of `entity`, asked about `op`, with the SQL handle of
    /// the batch (whose queries see every write before them).
    async fn judge(&self, entity: EntityHandle, op: ErasedOp<'_>) -> Result<()> {
        let action = match op {
            ErasedOp::Read { .. } => Action::Read,
            ErasedOp::Create { .. } => Action::Create,
            ErasedOp::Update { .. } => Action::Update,
            ErasedOp::Delete { .. } => Action::Delete,
        };
        let sql = Sql::with_before(self.conn, self);
        allow(entity, action, entity.check(self.session, &sql, op).await?)
    }

    /// An insert: the create permitter, then the row held back with the
    /// inserts of the same entity right before it. Its values stay in the
    /// mutation (the statement borrows them): the managed timestamps are
    /// set there, and a batch tried again finds them as they were.
    pub(super) async fn insert(
        &self,
        entity: EntityHandle,
        values: &'a mut Vec<Value>,
        json: Option<&serde_json::Value>,
        index: usize,
    ) -> Result<Known> {
        let meta = entity.meta;
        let mut id = None;
        for (field, value) in meta.fields.iter().zip(values.iter_mut()) {
            match field.managed {
                Some(Managed::CreatedAt | Managed::UpdatedAt) => *value = Value::Timestamp(self.now),
                Some(Managed::Id) => id = as_id(value),
                None => {}
            }
        }
        let id = id.ok_or_else(|| Error::validation("payload.id", "is required"))?;
        self.judge(entity, ErasedOp::Create { id, values: &mut *values, json }).await?;
        let values: &'a [Value] = values;
        let other = self.held_lock().as_ref().is_some_and(|held| held.entity != entity);
        if other {
            self.flush().await?;
        }
        let mut held = self.held_lock();
        let held = held.get_or_insert_with(|| Held { entity, rows: Vec::new(), indexes: Vec::new() });
        held.rows.push(values);
        held.indexes.push(index);
        Ok(None)
    }

    fn held_lock(&self) -> std::sync::MutexGuard<'_, Option<Held<'a>>> {
        self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends the inserts held back: one `INSERT`, or for several one
    /// `INSERT ... SELECT ... FROM unnest(...)` (a value every row shares sent
    /// once). A row a constraint refuses is
    /// then found and blamed by its own index: after a savepoint when
    /// earlier writes of the batch came first (the rows are tried again
    /// with those in place); the first write of a batch needs none (its rows
    /// are tried again in a transaction of their own).
    pub(super) async fn flush(&self) -> Result<()> {
        let Some(held) = self.held_lock().take() else { return Ok(()) };
        let meta = held.entity.meta;
        if let ([values], [index]) = (&held.rows[..], &held.indexes[..]) {
            let types = meta.fields.iter().map(|f| kind_type(f.kind)).collect();
            let sql = render::insert_once(meta, self.returning);
            let statement = self.conn.prepare(sql, types, CONTEXT).await?;
            self.send(self.write(statement, values.iter().map(Cow::Borrowed).collect(), *index));
            return Ok(());
        }
        let Held { rows, indexes, .. } = held;
        let columns = columns(meta, &rows);
        let shared: Vec<bool> = columns.iter().map(|c| matches!(c, RowsColumn::Shared(_))).collect();
        let types = meta
            .fields
            .iter()
            .zip(&shared)
            .map(|(f, shared)| if *shared { kind_type(f.kind) } else { kind_array_type(f.kind) })
            .collect();
        let statement = self.prepare(render::insert_unnest(meta, &shared), meta, types).await?;
        let (conn, returning) = (self.conn, self.returning);
        let savepoint = self.wrote.load(Ordering::Relaxed);
        if savepoint {
            let first = indexes[0];
            self.send(Box::pin(
                async move { (first, conn.batch(SAVEPOINT, CONTEXT).await.map(|()| Vec::new())) },
            ));
        }
        self.send(Box::pin(async move {
            let params: Vec<&(dyn ToSql + Sync)> = columns.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
            let result = if returning {
                conn.query_prepared(&statement, &params, CONTEXT).await
            } else {
                conn.execute_prepared(&statement, &params, CONTEXT).await.map(|_| Vec::new())
            };
            match result {
                Ok(rows) => (indexes[0], Ok(tag_by_id(meta, rows, &columns, &indexes))),
                Err(err) => find_refused(conn, (meta, savepoint), &columns, &indexes, err).await,
            }
        }));
        Ok(())
    }

    /// An update of the stored (locked) row `current`: the update permitter
    /// (with the row as it is and as it will be), then the `UPDATE`.
    pub(super) async fn update(
        &self,
        entity: EntityHandle,
        id: DbId,
        changes: &'a [(&'static FieldMeta, Value)],
        current: &Row,
        index: usize,
    ) -> Result<Known> {
        self.judge_update(entity, id, changes, current).await?;
        self.send_update(entity, id, changes.iter().map(|(f, v)| (*f, Cow::Borrowed(v))).collect(), index)
            .await
    }

    /// The update permitter, with the row as it is and as it will be.
    async fn judge_update(
        &self,
        entity: EntityHandle,
        id: DbId,
        changes: &[(&'static FieldMeta, Value)],
        current: &Row,
    ) -> Result<()> {
        self.judge(entity, ErasedOp::Update { id, changes, current, now: self.now }).await
    }

    /// The `UPDATE` of a judged update.
    async fn send_update(
        &self,
        entity: EntityHandle,
        id: DbId,
        changes: Vec<(&'static FieldMeta, Cow<'a, Value>)>,
        index: usize,
    ) -> Result<Known> {
        let meta = entity.meta;
        let fields: Vec<_> = changes.iter().map(|(f, _)| *f).collect();
        let types = fields.iter().map(|f| kind_type(f.kind)).chain([Type::TIMESTAMPTZ, Type::TEXT]).collect();
        let statement = self.prepare(render::update(meta, &fields), meta, types).await?;
        let mut params: Vec<Cow<'a, Value>> = changes.into_iter().map(|(_, v)| v).collect();
        params.push(Cow::Owned(Value::Timestamp(self.now)));
        params.push(Cow::Owned(Value::DbId(id)));
        self.send(self.write(statement, params, index));
        Ok(None)
    }

    /// An update by id: the row locked, then [`update`](Self::update).
    pub(super) async fn update_by_id(
        &self,
        entity: EntityHandle,
        id: DbId,
        changes: &'a [(&'static FieldMeta, Value)],
        index: usize,
    ) -> Result<Known> {
        let rows = self.lock_rows(entity.meta, &[id]).await?;
        let current = rows.first().ok_or_else(|| NotFoundError::new(entity.meta.name, id.to_string()))?;
        self.update(entity, id, changes, current, index).await
    }

    /// A delete: the rows locked (all must exist), the delete permitter,
    /// then the `DELETE`. The locked rows are what it removes.
    pub(super) async fn delete(
        &self,
        entity: EntityHandle,
        ids: &'a mut Vec<DbId>,
        index: usize,
    ) -> Result<Known> {
        let meta = entity.meta;
        dedup_in_order(ids);
        let ids: &'a [DbId] = ids;
        let rows = self.lock_rows(meta, ids).await?;
        if rows.len() != ids.len() {
            let id_at = meta.fields.iter().position(|f| f.managed == Some(Managed::Id)).unwrap_or(0);
            let found: Vec<DbId> = rows.iter().filter_map(|r| r.try_get(id_at).ok()).collect();
            let missing = ids.iter().find(|id| !found.contains(id)).copied().unwrap_or(ids[0]);
            return Err(NotFoundError::new(meta.name, missing.to_string()).into());
        }
        self.judge(entity, ErasedOp::Delete { ids, rows: &rows }).await?;
        let statement = self.conn.prepare(render::delete(meta), vec![Type::TEXT_ARRAY], CONTEXT).await?;
        let conn = self.conn;
        self.send(Box::pin(async move {
            (index, conn.execute_prepared(&statement, &[&ids], CONTEXT).await.map(|_| Vec::new()))
        }));
        Ok(self.returning.then_some(rows))
    }

    /// An upsert on `on`: under a lock on the key, the row with the key's
    /// value, locked; found, an update to the payload's updatable fields
    /// (an immutable one must be unchanged; the row keeps its id), else an
    /// insert.
    pub(super) async fn upsert(
        &self,
        entity: EntityHandle,
        values: &'a mut Vec<Value>,
        json: Option<&serde_json::Value>,
        on: &'static FieldMeta,
        index: usize,
    ) -> Result<Known> {
        let meta = entity.meta;
        let at = meta.field_index(on.name).unwrap_or(0);
        let key = &values[at];
        let lock_key = format!("trombase:{}:{}:{}", meta.table, on.column, key.to_json());
        // Prepared first, so that the lock and the lookup are sent in this
        // order, back to back: the lookup's snapshot is taken after the lock
        // is held, and sees a row another upsert of the key committed.
        let lock = self.conn.prepare(render::UPSERT_LOCK, vec![Type::TEXT], CONTEXT).await?;
        let find = self
            .conn
            .prepare(render::select_for_update_on(meta, on), vec![kind_type(on.kind)], CONTEXT)
            .await?;
        let (locked, found) = futures_util::future::join(
            self.conn.query_prepared(&lock, &[&lock_key], "locking an upsert's key"),
            self.conn.query_prepared(&find, &[key as &(dyn ToSql + Sync)], "finding an upsert's row"),
        )
        .await;
        locked?;
        let Some(current) = found?.into_iter().next() else {
            return self.insert(entity, values, json, index).await;
        };
        let id_at = meta.fields.iter().position(|f| f.managed == Some(Managed::Id)).unwrap_or(0);
        let id: DbId =
            current.try_get(id_at).map_err(|e| crate::DatabaseError::new("reading an upsert's row", e))?;
        let (mut changes, mut immutable_changed) = (Vec::with_capacity(meta.fields.len()), None);
        for (i, (field, value)) in meta.fields.iter().zip(values.iter()).enumerate() {
            if field.managed.is_some() {
                continue;
            }
            if field.immutable {
                let stored = Value::from_column(&current, i, field.kind)
                    .map_err(|e| crate::DatabaseError::new("reading an upsert's row", e))?;
                if stored != *value && immutable_changed.is_none() {
                    immutable_changed = Some(field);
                }
                continue;
            }
            changes.push((field, value.clone()));
        }
        // The permitter judges first: what the stored row holds is said
        // only to a caller allowed to update it.
        self.judge_update(entity, id, &changes, &current).await?;
        if let Some(field) = immutable_changed {
            return Err(Error::validation(
                format!("payload.{}", field.name),
                "is immutable, and the stored row has another value",
            ));
        }
        let changes = changes.into_iter().map(|(f, v)| (f, Cow::Owned(v))).collect();
        self.send_update(entity, id, changes, index).await
    }

    /// The current rows with these ids, locked until the batch ends, by id:
    /// one query.
    pub(super) async fn lock_rows_by_id(
        &self,
        meta: &'static EntityMeta,
        ids: &[DbId],
    ) -> Result<std::collections::HashMap<DbId, Row>> {
        let id_at = meta.fields.iter().position(|f| f.managed == Some(Managed::Id)).unwrap_or(0);
        let rows = self.lock_rows(meta, ids).await?;
        rows.into_iter()
            .map(|row| {
                let id: DbId =
                    row.try_get(id_at).map_err(|e| crate::DatabaseError::new("locking rows", e))?;
                Ok((id, row))
            })
            .collect()
    }

    /// The current rows with these ids, locked until the batch ends: one query.
    async fn lock_rows(&self, meta: &'static EntityMeta, ids: &[DbId]) -> Result<Vec<Row>> {
        let sql = render::select_for_update(meta);
        self.conn.query(&sql, &[(&ids, Type::TEXT_ARRAY)], "locking rows").await
    }

    /// A write's statement, with `RETURNING` every column when the batch
    /// returns its rows.
    async fn prepare(&self, sql: String, meta: &EntityMeta, types: Vec<Type>) -> Result<Prepared<'static>> {
        let sql = if self.returning { sql + &render::returning(meta) } else { sql };
        self.conn.prepare(sql, types, CONTEXT).await
    }

    /// A write that owns its statement and parameters (or borrows them
    /// from the batch's mutations), for the pipeline.
    fn write(
        &self,
        statement: Prepared<'static>,
        values: Vec<Cow<'a, Value>>,
        index: usize,
    ) -> BoxFuture<'a, Answer> {
        let (conn, returning) = (self.conn, self.returning);
        Box::pin(async move {
            let params: Vec<&(dyn ToSql + Sync)> =
                values.iter().map(|v| &**v as &(dyn ToSql + Sync)).collect();
            let result = if returning {
                conn.query_prepared(&statement, &params, CONTEXT).await
            } else {
                conn.execute_prepared(&statement, &params, CONTEXT).await.map(|_| Vec::new())
            };
            (index, result.map(|rows| rows.into_iter().map(|row| (index, row)).collect()))
        })
    }
}

impl BeforeQuery for Batch<'_> {
    fn before_query(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            if self.lazy {
                self.conn.begin("BEGIN").await?;
            }
            self.flush().await
        })
    }
}

/// The rows as one parameter per column (borrowed, not copied): an array
/// of every row's value, or the one value when every row holds the same
/// (the id column is always an array: it is what makes the rows many).
fn columns<'a>(meta: &EntityMeta, rows: &[&'a [Value]]) -> Vec<RowsColumn<'a>> {
    meta.fields
        .iter()
        .enumerate()
        .map(|(at, field)| {
            let first = rows.first().map_or(&Value::Null, |row| &row[at]);
            if field.managed != Some(Managed::Id) && rows.iter().all(|row| same(&row[at], first)) {
                RowsColumn::Shared(first)
            } else {
                RowsColumn::Each(field.kind, rows.iter().map(|row| &row[at]).collect())
            }
        })
        .collect()
}

/// Whether two values are stored alike (`0.0` and `-0.0` are not; a NaN is
/// never shared).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::F64(a), Value::F64(b)) => a.to_bits() == b.to_bits() && !a.is_nan(),
        _ => a == b,
    }
}

/// The savepoint before a multi-row insert.
const SAVEPOINT: &str = "SAVEPOINT trombase_rows";

/// After a multi-row insert failed: back to before it (its savepoint, or
/// when it was the batch's first write a transaction of its own), then its
/// rows one by one, to blame the first one refused by its own index (the
/// batch fails either way, and is rolled back; this only runs on failure).
async fn find_refused(
    conn: &Conn<'_>,
    (meta, savepoint): (&EntityMeta, bool),
    columns: &[RowsColumn<'_>],
    indexes: &[usize],
    err: Error,
) -> Answer {
    // The single-row statement is prepared here, on failure only; the rows
    // are sent at once, not one round trip each (a batch holds up to
    // thousands), and the first refused in order is the one to blame.
    if err.is_connection_lost() {
        return (indexes[0], Err(err));
    }
    let types = meta.fields.iter().map(|f| kind_type(f.kind)).collect();
    let rolled_back = if savepoint {
        conn.batch("ROLLBACK TO SAVEPOINT trombase_rows", CONTEXT).await.is_ok()
    } else {
        // Nothing of the batch was written before: its aborted transaction
        // (if any) goes, and the rows are tried in a new one.
        conn.rollback().await;
        conn.begin("BEGIN").await.is_ok()
    };
    if let (true, Ok(single)) = (rolled_back, conn.prepare(render::insert(meta), types, CONTEXT).await) {
        let single = &single;
        // Through a pipeline of their own: sent in order, each on its first poll.
        let mut rows = Pipeline::default();
        for (k, index) in indexes.iter().enumerate() {
            rows.send(Box::pin(async move {
                let params: Vec<&(dyn ToSql + Sync)> =
                    columns.iter().map(|c| c.row(k) as &(dyn ToSql + Sync)).collect();
                (*index, conn.execute_prepared(single, &params, CONTEXT).await.map(|_| Vec::new()))
            }));
        }
        if let Err(refused) = rows.finish().await {
            let index = refused.operation().unwrap_or(indexes[0]);
            return (index, Err(refused));
        }
    }
    (indexes[0], Err(err))
}

/// The rows a multi-row insert returned, each tagged with the index of
/// the insert that wrote it (matched by id).
fn tag_by_id(
    meta: &EntityMeta,
    rows: Vec<Row>,
    columns: &[RowsColumn<'_>],
    indexes: &[usize],
) -> Vec<(usize, Row)> {
    if rows.is_empty() {
        // Without `RETURNING`: nothing to tag.
        return Vec::new();
    }
    let id_at = meta.fields.iter().position(|f| f.managed == Some(Managed::Id)).unwrap_or(0);
    let ids = match columns.get(id_at) {
        Some(RowsColumn::Each(_, ids)) => &ids[..],
        _ => &[],
    };
    let by_id: std::collections::HashMap<DbId, usize> =
        ids.iter().zip(indexes).filter_map(|(id, index)| as_id(id).map(|id| (id, *index))).collect();
    rows.into_iter()
        .map(|row| {
            let id: Option<DbId> = row.try_get(id_at).ok();
            (id.and_then(|id| by_id.get(&id).copied()).unwrap_or(indexes[0]), row)
        })
        .collect()
}

fn as_id(value: &Value) -> Option<DbId> {
    match value {
        Value::DbId(id) => Some(*id),
        _ => None,
    }
}

fn allow(entity: EntityHandle, action: Action, verdict: Verdict) -> Result<()> {
    let name = entity.meta.name;
    match verdict {
        Verdict::Allow => Ok(()),
        Verdict::Deny(err) => {
            crate::trace::denied(name, action.as_str(), entity.declared_actions().contains(&action));
            Err(err.into())
        }
        Verdict::Filter(_) => {
            crate::trace::filter_on_write(name, action.as_str());
            Err(PermissionError::new("a row filter only answers reads; writes need allow or deny").into())
        }
    }
}

fn dedup_in_order(ids: &mut Vec<DbId>) {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.retain(|id| seen.insert(*id));
}
