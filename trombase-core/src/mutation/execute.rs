//! The mutation engine: one transaction per batch; each mutation in order
//! ([`steps`](super::steps)), its write pipelined behind the ones before.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use super::pipeline::Pipeline;
use super::steps::{Batch, Known};
use super::{validate, Mutation, MutationKind, Written};
use crate::exec::{Conn, Executor};
use crate::{Result, Session, Sql};

/// Runs a batch: all or nothing, on one of the session user's turns of
/// the pool. With `returning`, what each operation wrote, in order;
/// otherwise an empty list.
pub(crate) async fn run(
    exec: &Executor,
    session: &Session,
    mutations: Vec<Mutation>,
    returning: bool,
) -> Result<Vec<Written>> {
    for (index, mutation) in mutations.iter().enumerate() {
        validate::mutation(mutation).map_err(|e| e.at_operation(index))?;
    }
    if mutations.is_empty() {
        return Ok(Vec::new());
    }
    // A connection lost before the COMMIT was sent applied nothing: the
    // batch runs once more on a fresh connection. (Its mutations are kept
    // for that; the permitters are asked again.)
    let result = match attempt(exec, session, mutations.clone(), returning).await {
        Err(err) if err.is_connection_lost() => {
            exec.forget_idle_connections();
            attempt(exec, session, mutations, returning).await
        }
        result => result,
    };
    if result.is_ok() {
        exec.wrote(session.user_id);
    }
    result
}

async fn attempt(
    exec: &Executor,
    session: &Session,
    mutations: Vec<Mutation>,
    returning: bool,
) -> Result<Vec<Written>> {
    let conn = exec.conn_for(session.user_id).await?;
    conn.begin("BEGIN").await?;
    match run_in(&conn, session, mutations, returning).await {
        Ok(written) => conn.commit().await.map(|()| written),
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

async fn run_in(
    conn: &Conn<'_>,
    session: &Session,
    mutations: Vec<Mutation>,
    returning: bool,
) -> Result<Vec<Written>> {
    let sql = Sql::new(conn);
    let batch = Batch { conn, sql: &sql, session, now: now(), returning };
    let mut pipeline = Pipeline::default();
    let mut known: Vec<(&'static crate::schema::EntityMeta, bool, Known)> = Vec::new();
    for (index, mutation) in mutations.into_iter().enumerate() {
        let entity = mutation.entity;
        let one = !matches!(mutation.kind, MutationKind::Delete { .. });
        let step = match mutation.kind {
            MutationKind::Insert { values, json } => {
                batch.insert(&mut pipeline, entity, values, &json, index).await
            }
            MutationKind::Update { id, changes } => {
                batch.update_by_id(&mut pipeline, entity, id, changes, index).await
            }
            MutationKind::Delete { ids } => batch.delete(&mut pipeline, entity, ids, index).await,
            MutationKind::Upsert { values, json, on } => {
                batch.upsert(&mut pipeline, entity, values, &json, on, index).await
            }
        };
        match step {
            Ok(rows) => known.push((entity.meta, one, rows)),
            Err(err) => return Err(pipeline.first_failure(err.at_operation(index)).await),
        }
    }
    let mut returned = pipeline.finish().await?;
    if !returning {
        return Ok(Vec::new());
    }
    Ok(known
        .into_iter()
        .enumerate()
        .map(|(index, (entity, one, rows))| {
            let rows = rows.unwrap_or_else(|| returned.remove(&index).unwrap_or_default());
            Written::new(entity, rows, one)
        })
        .collect())
}

/// Now, at the precision PostgreSQL keeps.
fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}
