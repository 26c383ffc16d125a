//! The mutation engine: one transaction per batch; for each mutation in
//! order, load what the permitter needs (locked), ask it, then write.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use deadpool_postgres::Transaction;
use tokio_postgres::types::ToSql;

use super::pipeline::Pipeline;
use super::{validate, Mutation, MutationKind};
use crate::client::Core;
use crate::permit::{ErasedOp, Verdict};
use crate::render::mutation as render;
use crate::schema::Managed;
use crate::{DbId, Error, NotFoundError, PermissionError, Result, Session, Sql, Value};

/// Runs a batch: all or nothing.
pub(crate) async fn run(core: &Core, session: &Session, mutations: Vec<Mutation>) -> Result<()> {
    for (index, mutation) in mutations.iter().enumerate() {
        validate::mutation(mutation).map_err(|e| e.at_operation(index))?;
    }
    if mutations.is_empty() {
        return Ok(());
    }
    let mut client = core.pool.get().await?;
    // BEGIN, one statement per mutation (two for updates and deletes), COMMIT.
    let statements = 2 + mutations
        .iter()
        .map(|m| if matches!(m.kind, MutationKind::Insert { .. }) { 1 } else { 2 })
        .sum::<u64>();
    core.statements.fetch_add(statements, std::sync::atomic::Ordering::Relaxed);
    let tx = client.transaction().await.map_err(|e| Error::from_db(e, "beginning a transaction"))?;
    let outcome = run_in(&tx, session, mutations, &core.statements).await;
    match outcome {
        Ok(()) => tx.commit().await.map_err(|e| Error::from_db(e, "committing a mutation batch")),
        Err(err) => {
            // A failed rollback leaves nothing applied either: the server
            // aborts the transaction when the connection goes.
            let _ = tx.rollback().await;
            Err(err)
        }
    }
}

async fn run_in(
    tx: &Transaction<'_>,
    session: &Session,
    mutations: Vec<Mutation>,
    statements: &std::sync::atomic::AtomicU64,
) -> Result<()> {
    let sql = Sql::in_transaction(tx, statements);
    let mut pipeline = Pipeline::default();
    let now = now();
    for (index, mutation) in mutations.into_iter().enumerate() {
        if let Err(err) = step(tx, &sql, session, &mut pipeline, mutation, now, index).await {
            return Err(pipeline.first_failure(err.at_operation(index)).await);
        }
    }
    pipeline.finish().await
}

async fn step<'a>(
    tx: &'a Transaction<'_>,
    sql: &'a Sql<'a>,
    session: &'a Session,
    pipeline: &mut Pipeline<'a>,
    mutation: Mutation,
    now: DateTime<Utc>,
    index: usize,
) -> Result<()> {
    let entity = mutation.entity;
    let meta = entity.meta;
    match mutation.kind {
        MutationKind::Insert { mut values, json } => {
            let mut id = None;
            for (field, value) in meta.fields.iter().zip(values.iter_mut()) {
                match field.managed {
                    Some(Managed::CreatedAt | Managed::UpdatedAt) => *value = Value::Timestamp(now),
                    Some(Managed::Id) => id = as_id(value),
                    None => {}
                }
            }
            let id = id.ok_or_else(|| Error::validation("payload.id", "is required"))?;
            let verdict =
                entity.check(session, sql, ErasedOp::Create { id, values: &values, json: &json }).await?;
            allow(verdict)?;
            let statement = prepare(tx, &render::insert(meta)).await?;
            pipeline.send(write(tx, statement, values, index)).await;
        }
        MutationKind::Update { id, changes } => {
            let rows = lock_rows(tx, meta, &[id]).await?;
            let current = rows.first().ok_or_else(|| NotFoundError::new(meta.name, id.to_string()))?;
            let verdict =
                entity.check(session, sql, ErasedOp::Update { id, changes: &changes, current }).await?;
            allow(verdict)?;
            let fields: Vec<_> = changes.iter().map(|(f, _)| *f).collect();
            let statement = prepare(tx, &render::update(meta, &fields)).await?;
            let mut params: Vec<Value> = changes.into_iter().map(|(_, v)| v).collect();
            params.push(Value::Timestamp(now));
            params.push(Value::DbId(id));
            pipeline.send(write(tx, statement, params, index)).await;
        }
        MutationKind::Delete { mut ids } => {
            dedup_in_order(&mut ids);
            let rows = lock_rows(tx, meta, &ids).await?;
            if rows.len() != ids.len() {
                let id_at = meta.fields.iter().position(|f| f.managed == Some(Managed::Id)).unwrap_or(0);
                let found: Vec<DbId> = rows.iter().filter_map(|r| r.try_get(id_at).ok()).collect();
                let missing = ids.iter().find(|id| !found.contains(id)).copied().unwrap_or(ids[0]);
                return Err(NotFoundError::new(meta.name, missing.to_string()).into());
            }
            let verdict = entity.check(session, sql, ErasedOp::Delete { ids: &ids, rows: &rows }).await?;
            allow(verdict)?;
            let statement = prepare(tx, &render::delete(meta)).await?;
            pipeline.send(Box::pin(async move { (index, tx.execute(&statement, &[&ids]).await) })).await;
        }
    }
    Ok(())
}

/// The current rows with these ids, locked until the batch ends: one query.
async fn lock_rows(
    tx: &Transaction<'_>,
    meta: &'static crate::schema::EntityMeta,
    ids: &[DbId],
) -> Result<Vec<tokio_postgres::Row>> {
    let statement = prepare(tx, &render::select_for_update(meta)).await?;
    tx.query(&statement, &[&ids]).await.map_err(|e| Error::from_db(e, "locking rows"))
}

async fn prepare(tx: &Transaction<'_>, sql: &str) -> Result<tokio_postgres::Statement> {
    tx.prepare_cached(sql).await.map_err(|e| Error::from_db(e, "preparing a statement"))
}

/// A write that owns its parameters, for the pipeline.
fn write<'a>(
    tx: &'a Transaction<'_>,
    statement: tokio_postgres::Statement,
    values: Vec<Value>,
    index: usize,
) -> futures_util::future::BoxFuture<'a, (usize, Result<u64, tokio_postgres::Error>)> {
    Box::pin(async move {
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        (index, tx.execute(&statement, &params).await)
    })
}

fn as_id(value: &Value) -> Option<DbId> {
    match value {
        Value::DbId(id) => Some(*id),
        _ => None,
    }
}

fn allow(verdict: Verdict) -> Result<()> {
    match verdict {
        Verdict::Allow => Ok(()),
        Verdict::Deny(err) => Err(err.into()),
        Verdict::Filter(_) => {
            Err(PermissionError::new("a row filter only answers reads; writes need allow or deny").into())
        }
    }
}

fn dedup_in_order(ids: &mut Vec<DbId>) {
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.retain(|id| seen.insert(*id));
}

/// Now, at the precision PostgreSQL keeps.
fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}
