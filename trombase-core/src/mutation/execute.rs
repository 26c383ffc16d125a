//! The mutation engine: one transaction per batch; each mutation in order
//! ([`steps`](super::steps)), its write pipelined behind the ones before.

use std::collections::HashMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use tokio_postgres::Row;

use super::steps::{Batch, Known};
use super::{validate, Mutation, MutationKind, Written};
use crate::exec::{Conn, Executor};
use crate::{DbId, Result, Session};

/// Runs a batch: all or nothing, on one of the session user's turns of
/// the pool. With `returning`, what each operation wrote, in order;
/// otherwise an empty list.
pub(crate) async fn run(
    exec: &Executor,
    session: &Session,
    mut mutations: Vec<Mutation>,
    returning: bool,
) -> Result<Vec<Written>> {
    for (index, mutation) in mutations.iter().enumerate() {
        validate::mutation(mutation).map_err(|e| e.at_operation(index))?;
    }
    if mutations.is_empty() {
        return Ok(Vec::new());
    }
    // A connection lost before the COMMIT was sent applied nothing: the
    // batch runs once more on a fresh connection (an attempt only borrows
    // the mutations, so they are there for that; the permitters are asked
    // again). Each attempt is boxed, so the caller's future stays small:
    // moving a future copies all of it, and a batch's is large.
    let result = match Box::pin(attempt(exec, session, &mut mutations, returning)).await {
        Err(err) if err.is_connection_lost() => {
            exec.forget_idle_connections();
            Box::pin(attempt(exec, session, &mut mutations, returning)).await
        }
        result => result,
    };
    if result.is_ok() {
        exec.wrote(session.user_id);
    }
    result
}

/// One try of a batch on one connection: `BEGIN` sent without waiting for
/// its answer (everything after it queues behind it), the steps, and once
/// every write has answered, `COMMIT`. A batch of inserts of one entity is
/// its one `INSERT` alone, unless a permitter queries.
async fn attempt(
    exec: &Executor,
    session: &Session,
    mutations: &mut [Mutation],
    returning: bool,
) -> Result<Vec<Written>> {
    let conn = exec.conn_for(session.user_id).await?;
    // Inserts of one entity are one statement, all or nothing by itself: it
    // needs no transaction of its own unless a permitter queries (then one
    // opens, lazily). Behind a pooler the transaction carries the statement
    // timeout: always open.
    let one_statement = mutations
        .iter()
        .all(|m| matches!(m.kind, MutationKind::Insert { .. }) && m.entity == mutations[0].entity);
    let one_insert = one_statement && mutations.len() == 1;
    let lazy = one_statement && !exec.reads_carry_the_timeout();
    // Behind a pooler, one insert's COMMIT goes right behind it (one round
    // trip, as an autocommit insert): if the insert fails, the COMMIT
    // answers ROLLBACK; an answer lost, the outcome is unknown either way.
    let commit_behind = one_insert && !lazy;
    let batch = Batch::new(&conn, session, now(), returning, lazy);
    let (begun, stepped) = if lazy {
        (Ok(()), steps(&batch, mutations).await)
    } else {
        futures_util::future::join(conn.begin("BEGIN"), steps(&batch, mutations)).await
    };
    let known = match begun.and(stepped) {
        Ok(known) => known,
        Err(err) => return Err(abandon(&conn, err).await),
    };
    // No permitter queried: the batch's one statement runs on its own.
    let autocommit = lazy && !conn.in_transaction();
    let mut pipeline = batch.take_pipeline();
    // The COMMIT goes once every write has answered: a connection lost
    // before it was sent applied nothing (and the batch is retried); lost
    // after, the outcome is unknown (`CommitUnknown`, never retried).
    let (finished, committed) = if commit_behind {
        futures_util::future::join(pipeline.finish(), conn.commit()).await
    } else {
        let finished = pipeline.finish().await;
        let committed = if finished.is_ok() { conn.commit().await } else { Ok(()) };
        (finished, committed)
    };
    let mut returned = match (finished, committed) {
        (_, Err(err)) => {
            if matches!(err, crate::Error::CommitUnknown(_)) {
                conn.discard();
            }
            return Err(err);
        }
        // An insert that ran on its own (or with its COMMIT right behind
        // it), its answer lost: it may be applied.
        (Err(err), Ok(())) if err.is_connection_lost() && (one_insert || autocommit) => {
            conn.discard();
            return Err(crate::CommitUnknownError { source: Some(Box::new(err)) }.into());
        }
        (Err(err), Ok(())) => return Err(abandon(&conn, err).await),
        (Ok(returned), Ok(())) => returned,
    };
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

/// Ends a batch that failed before it committed: a lost connection is
/// closed (the server aborted the transaction), anything else rolled back.
async fn abandon(conn: &Conn<'_>, err: crate::Error) -> crate::Error {
    if err.is_connection_lost() {
        conn.discard();
    } else {
        // A failed rollback leaves nothing applied either: the server
        // aborts the transaction when the connection goes.
        conn.rollback().await;
    }
    err
}

/// What each step of a batch already knows it wrote (a delete's rows), by
/// index, with its entity and whether it writes one row.
type Steps = Vec<(&'static crate::schema::EntityMeta, bool, Known)>;

/// Every mutation in order, each write sent into the pipeline; the first
/// failure (an earlier write's first) ends the batch. A run of updates of
/// one entity (distinct ids, nothing else in between) has its current rows
/// locked together, in one query at the run's start, not one per update.
async fn steps<'a>(batch: &Batch<'a>, mutations: &'a mut [Mutation]) -> Result<Steps> {
    let mut known = Vec::with_capacity(mutations.len());
    let mut locked: HashMap<DbId, Row> = HashMap::new();
    let runs = update_runs(mutations);
    for (index, mutation) in mutations.iter_mut().enumerate() {
        let entity = mutation.entity;
        let one = !matches!(mutation.kind, MutationKind::Delete { .. });
        // Inserts held back are sent before any other step: it must see them.
        if !matches!(mutation.kind, MutationKind::Insert { .. }) {
            if let Err(err) = batch.flush().await {
                return Err(batch.take_pipeline().first_failure(err.at_operation(index)).await);
            }
        }
        let step = match &mut mutation.kind {
            MutationKind::Insert { values, json } => batch.insert(entity, values, json.as_ref(), index).await,
            MutationKind::Update { id, changes } => match run_at(&runs, index) {
                Some((run, ids)) => {
                    if run.start == index {
                        match batch.lock_rows_by_id(entity.meta, ids).await {
                            Ok(rows) => locked = rows,
                            Err(err) => {
                                return Err(batch
                                    .take_pipeline()
                                    .first_failure(err.at_operation(index))
                                    .await)
                            }
                        }
                    }
                    match locked.remove(id) {
                        Some(current) => batch.update(entity, *id, changes, &current, index).await,
                        None => Err(crate::NotFoundError::new(entity.meta.name, id.to_string()).into()),
                    }
                }
                None => batch.update_by_id(entity, *id, changes, index).await,
            },
            MutationKind::Delete { ids } => batch.delete(entity, ids, index).await,
            MutationKind::Upsert { values, json, on } => {
                batch.upsert(entity, values, json.as_ref(), on, index).await
            }
        };
        match step {
            Ok(rows) => known.push((entity.meta, one, rows)),
            Err(err) => return Err(batch.take_pipeline().first_failure(err.at_operation(index)).await),
        }
    }
    if let Err(err) = batch.flush().await {
        return Err(batch.take_pipeline().first_failure(err).await);
    }
    Ok(known)
}

/// The run holding mutation `index` (runs are sorted and do not overlap).
fn run_at(
    runs: &[(std::ops::Range<usize>, Vec<DbId>)],
    index: usize,
) -> Option<&(std::ops::Range<usize>, Vec<DbId>)> {
    let at = runs.partition_point(|(run, _)| run.end <= index);
    runs.get(at).filter(|(run, _)| run.contains(&index))
}

/// The runs of two or more updates of one entity with distinct ids: their
/// indexes and their ids, locked at the first.
fn update_runs(mutations: &[Mutation]) -> Vec<(std::ops::Range<usize>, Vec<DbId>)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < mutations.len() {
        let MutationKind::Update { id, .. } = &mutations[i].kind else {
            i += 1;
            continue;
        };
        let entity = mutations[i].entity.meta.name;
        let mut ids = vec![*id];
        let mut j = i + 1;
        while let Some(MutationKind::Update { id, .. }) = mutations.get(j).map(|m| &m.kind) {
            if mutations[j].entity.meta.name != entity || ids.contains(id) {
                break;
            }
            ids.push(*id);
            j += 1;
        }
        if ids.len() > 1 {
            runs.push((i..j, ids));
        }
        i = j;
    }
    runs
}

/// Now, at the precision PostgreSQL keeps.
fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}
