//! The mutation engine: one transaction per batch; for each mutation in
//! order, load what the permitter needs (locked), ask it, then write.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use tokio_postgres::types::{ToSql, Type};

use super::pipeline::Pipeline;
use super::{validate, Mutation, MutationKind};
use crate::exec::{Conn, Executor, Prepared};
use crate::permit::{ErasedOp, Verdict};
use crate::render::kind_type;
use crate::render::mutation as render;
use crate::schema::Managed;
use crate::{DbId, Error, NotFoundError, PermissionError, Result, Session, Sql, Value};

const CONTEXT: &str = "running a mutation";

/// Runs a batch: all or nothing, on one of the session user's turns of
/// the pool.
pub(crate) async fn run(exec: &Executor, session: &Session, mutations: Vec<Mutation>) -> Result<()> {
    for (index, mutation) in mutations.iter().enumerate() {
        validate::mutation(mutation).map_err(|e| e.at_operation(index))?;
    }
    if mutations.is_empty() {
        return Ok(());
    }
    // A connection lost before the COMMIT was sent applied nothing: the
    // batch runs once more on a fresh connection. (Its mutations are kept
    // for that; the permitters are asked again.)
    let result = match attempt(exec, session, mutations.clone()).await {
        Err(err) if err.is_connection_lost() => {
            exec.forget_idle_connections();
            attempt(exec, session, mutations).await
        }
        result => result,
    };
    if result.is_ok() {
        exec.wrote(session.user_id);
    }
    result
}

async fn attempt(exec: &Executor, session: &Session, mutations: Vec<Mutation>) -> Result<()> {
    let conn = exec.conn_for(session.user_id).await?;
    conn.begin("BEGIN").await?;
    match run_in(&conn, session, mutations).await {
        Ok(()) => conn.commit().await,
        Err(err) if err.is_connection_lost() => {
            conn.discard();
            Err(err)
        }
        Err(err) => {
            // A failed rollback leaves nothing applied either: the server
            // aborts the transaction when the connection goes.
            conn.rollback().await;
            Err(err)
        }
    }
}

async fn run_in(conn: &Conn<'_>, session: &Session, mutations: Vec<Mutation>) -> Result<()> {
    let sql = Sql::new(conn);
    let mut pipeline = Pipeline::default();
    let now = now();
    for (index, mutation) in mutations.into_iter().enumerate() {
        if let Err(err) = step(conn, &sql, session, &mut pipeline, mutation, now, index).await {
            return Err(pipeline.first_failure(err.at_operation(index)).await);
        }
    }
    pipeline.finish().await
}

async fn step<'a>(
    conn: &'a Conn<'a>,
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
            let types = meta.fields.iter().map(|f| kind_type(f.kind)).collect();
            let statement = conn.prepare(render::insert(meta), types, CONTEXT).await?;
            pipeline.send(write(conn, statement, values, index)).await;
        }
        MutationKind::Update { id, changes } => {
            let rows = lock_rows(conn, meta, &[id]).await?;
            let current = rows.first().ok_or_else(|| NotFoundError::new(meta.name, id.to_string()))?;
            let verdict =
                entity.check(session, sql, ErasedOp::Update { id, changes: &changes, current }).await?;
            allow(verdict)?;
            let fields: Vec<_> = changes.iter().map(|(f, _)| *f).collect();
            let types =
                fields.iter().map(|f| kind_type(f.kind)).chain([Type::TIMESTAMPTZ, Type::TEXT]).collect();
            let statement = conn.prepare(render::update(meta, &fields), types, CONTEXT).await?;
            let mut params: Vec<Value> = changes.into_iter().map(|(_, v)| v).collect();
            params.push(Value::Timestamp(now));
            params.push(Value::DbId(id));
            pipeline.send(write(conn, statement, params, index)).await;
        }
        MutationKind::Delete { mut ids } => {
            dedup_in_order(&mut ids);
            let rows = lock_rows(conn, meta, &ids).await?;
            if rows.len() != ids.len() {
                let id_at = meta.fields.iter().position(|f| f.managed == Some(Managed::Id)).unwrap_or(0);
                let found: Vec<DbId> = rows.iter().filter_map(|r| r.try_get(id_at).ok()).collect();
                let missing = ids.iter().find(|id| !found.contains(id)).copied().unwrap_or(ids[0]);
                return Err(NotFoundError::new(meta.name, missing.to_string()).into());
            }
            let verdict = entity.check(session, sql, ErasedOp::Delete { ids: &ids, rows: &rows }).await?;
            allow(verdict)?;
            let statement = conn.prepare(render::delete(meta), vec![Type::TEXT_ARRAY], CONTEXT).await?;
            pipeline
                .send(Box::pin(
                    async move { (index, conn.execute_prepared(&statement, &[&ids], CONTEXT).await) },
                ))
                .await;
        }
    }
    Ok(())
}

/// The current rows with these ids, locked until the batch ends: one query.
async fn lock_rows(
    conn: &Conn<'_>,
    meta: &'static crate::schema::EntityMeta,
    ids: &[DbId],
) -> Result<Vec<tokio_postgres::Row>> {
    let sql = render::select_for_update(meta);
    conn.query(&sql, &[(&ids, Type::TEXT_ARRAY)], "locking rows").await
}

/// A write that owns its statement and parameters, for the pipeline.
fn write<'a>(
    conn: &'a Conn<'a>,
    statement: Prepared<'static>,
    values: Vec<Value>,
    index: usize,
) -> futures_util::future::BoxFuture<'a, (usize, Result<u64>)> {
    Box::pin(async move {
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        (index, conn.execute_prepared(&statement, &params, CONTEXT).await)
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
