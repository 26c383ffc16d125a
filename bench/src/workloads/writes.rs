//! `do_mutations` against the same writes in raw tokio-postgres (prepared
//! statements, the same pool): a batch of 1,000 inserts (allow-all and
//! owner-check permitters), one-insert batches in a row (timed 100 at a
//! time), and update and delete batches of 100 rows under the owner rule
//! (current rows locked `FOR UPDATE`).
//!
//! Nothing grows across iterations: inserted rows are truncated and deleted
//! rows are inserted afresh before each delete, outside the measured part.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_postgres::types::Type;
use trombase::prelude::*;
use trombase::{Mutation, SessionDb, StatementMode};

use super::measure::{interleaved, latency_section, self_timed, Measured, Target, Variant};
use super::seed::{dataset, Dataset, NewOpenNote, NewOwnedNote, Note, CONTENT, NOTE_COLUMNS};
use super::{BoxError, BoxFuture, Context, Report, Section};
use crate::stats::ratio;

/// Starts the workload.
pub fn start(ctx: &Context) -> BoxFuture<'_, Result<Report, BoxError>> {
    Box::pin(run(ctx))
}

async fn run(ctx: &Context) -> Result<Report, BoxError> {
    let ds = dataset(ctx).await?;
    let mut report = Report::default();
    report.sections.push(insert_batch(ctx, &ds).await?);
    report.sections.push(single_insert_batches(ctx, &ds).await?);
    report.sections.push(update_batch(ctx, &ds).await?);
    report.sections.push(delete_batch(ctx, &ds).await?);
    Ok(report)
}

/// `--repeat insert-1000 <n>` / `insert-1000-raw`: `n` batches of 1,000
/// inserts, library or the raw `unnest` floor; `insert-1` / `insert-1-raw`:
/// `n` × 1,000 one-insert batches, library or autocommit `INSERT`s.
/// Unmeasured (for a profiler or an instruction counter; the table is
/// emptied after each 1,000 rows).
pub async fn repeat(ctx: &Context, case: &str, n: usize) -> Result<(), BoxError> {
    const BATCH: usize = 1_000;
    let ds = dataset(ctx).await?;
    let user = ds.users[0];
    let db = ds.db(user);
    for i in 0..n {
        let (ids, titles) = new_rows(BATCH, i);
        match case {
            "insert-1000" => {
                db.do_mutations(ids.into_iter().zip(titles).map(|(id, title)| open_note(id, title, user)))
                    .await?;
            }
            "insert-1000-raw" => drop(raw_unnest_insert(&ds, &ids, &titles, user).await?),
            "insert-1" => one_insert_batches(&db, ids, titles, user).await?,
            "insert-1-raw" => raw_autocommit_inserts(&ds, &ids, &titles, user).await?,
            _ => {
                return Err(
                    format!("no case `{case}`: insert-1000, insert-1000-raw, insert-1, insert-1-raw").into()
                )
            }
        }
        truncate(&ds).await?;
    }
    eprintln!("ran `{case}` {n} times");
    Ok(())
}

/// A variant that inserts fresh rows: `count` new ids and titles made
/// before the clock starts, `insert` timed, the insert targets emptied
/// after it, outside the clock.
fn inserting<'a, F, Fut>(name: &str, ds: &'a Dataset, count: usize, insert: F) -> Variant<'a>
where
    F: Fn(Vec<DbId>, Vec<String>) -> Fut + Send + Sync + 'a,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'a,
{
    self_timed(name, move |i| {
        let (ids, titles) = new_rows(count, i);
        let insert = insert(ids, titles);
        async move {
            let started = Instant::now();
            insert.await?;
            let took = started.elapsed();
            truncate(ds).await?;
            Ok(took)
        }
    })
}

/// `INSERT_OPEN`'s parameters with their types, for an unnamed statement.
fn typed_params<'a>(
    id: &'a DbId,
    title: &'a String,
    user: &'a DbId,
    now: &'a DateTime<Utc>,
) -> [(&'a (dyn tokio_postgres::types::ToSql + Sync), Type); 6] {
    [
        (id, Type::TEXT),
        (title, Type::TEXT),
        (&CONTENT, Type::TEXT),
        (user, Type::TEXT),
        (now, Type::TIMESTAMPTZ),
        (now, Type::TIMESTAMPTZ),
    ]
}

/// A row for `bench_open_notes`.
fn open_note(id: DbId, title: String, user: DbId) -> Mutation {
    Mutation::insert(NewOpenNote { id, title, content: CONTENT.to_owned(), user_id: user })
}

/// One-insert batches through the library, one after another.
async fn one_insert_batches(
    db: &SessionDb,
    ids: Vec<DbId>,
    titles: Vec<String>,
    user: DbId,
) -> Result<(), BoxError> {
    for (id, title) in ids.into_iter().zip(titles) {
        db.do_mutations([open_note(id, title, user)]).await?;
    }
    Ok(())
}

/// The same rows as autocommit `INSERT`s, raw: a pool checkout and a
/// cached prepared statement each.
async fn raw_autocommit_inserts(
    ds: &Dataset,
    ids: &[DbId],
    titles: &[String],
    user: DbId,
) -> Result<(), BoxError> {
    for (id, title) in ids.iter().zip(titles) {
        let client = ds.trom.pool().get().await?;
        let statement = client.prepare_cached(INSERT_OPEN).await?;
        let now = now();
        client.execute(&statement, &[id, title, &CONTENT, &user, &now, &now]).await?;
    }
    Ok(())
}

/// The rows as one `INSERT … SELECT … FROM unnest`, raw; the rows it wrote.
async fn raw_unnest_insert(
    ds: &Dataset,
    ids: &[DbId],
    titles: &[String],
    user: DbId,
) -> Result<u64, BoxError> {
    let client = ds.trom.pool().get().await?;
    let statement = client.prepare_cached(INSERT_OPEN_UNNEST).await?;
    Ok(client.execute(&statement, &[&ids, &titles, &CONTENT, &user, &now()]).await?)
}

const INSERT_OPEN: &str =
    "INSERT INTO bench_open_notes (id, title, content, user_id, created_at, updated_at) \
                           VALUES ($1, $2, $3, $4, $5, $6)";
const INSERT_OPEN_UNNEST: &str = "INSERT INTO bench_open_notes (id, title, content, user_id, created_at, updated_at) \
                                  SELECT id, title, $3, $4, $5, $5 FROM unnest($1::text[], $2::text[]) AS v(id, title)";

/// Empties the insert targets (outside the measured part).
async fn truncate(ds: &Dataset) -> Result<(), BoxError> {
    let client = ds.trom.pool().get().await?;
    client.batch_execute("TRUNCATE bench_open_notes, bench_owned_notes").await?;
    Ok(())
}

/// Fresh ids and titles for one batch.
fn new_rows(n: usize, i: usize) -> (Vec<DbId>, Vec<String>) {
    ((0..n).map(|_| DbId::new()).collect(), (0..n).map(|k| format!("Inserted {i}.{k}")).collect())
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Workload 5a: one batch of 1,000 inserts.
async fn insert_batch(ctx: &Context, ds: &Dataset) -> Result<Section, BoxError> {
    const BATCH: usize = 1_000;
    let user = ds.users[0];
    let db = &ds.db(user);
    truncate(ds).await?;
    let measured = interleaved(
        ctx,
        3,
        100,
        &[
            self_timed("library, allow-all permitter", |i| async move {
                let (ids, titles) = new_rows(BATCH, i);
                let started = Instant::now();
                db.do_mutations(ids.into_iter().zip(titles).map(|(id, title)| open_note(id, title, user)))
                    .await?;
                let took = started.elapsed();
                truncate(ds).await?;
                Ok(took)
            }),
            self_timed("library, owner-check permitter", |i| async move {
                let (ids, titles) = new_rows(BATCH, i);
                let started = Instant::now();
                db.do_mutations(ids.into_iter().zip(titles).map(|(id, title)| {
                    Mutation::insert(NewOwnedNote { id, title, content: CONTENT.to_owned(), user_id: user })
                }))
                .await?;
                let took = started.elapsed();
                truncate(ds).await?;
                Ok(took)
            }),
            self_timed("raw, single-row inserts in one transaction", |i| async move {
                let (ids, titles) = new_rows(BATCH, i);
                let started = Instant::now();
                let mut client = ds.trom.pool().get().await?;
                let statement = client.prepare_cached(INSERT_OPEN).await?;
                let tx = client.transaction().await?;
                let now = now();
                for (id, title) in ids.iter().zip(&titles) {
                    tx.execute(&statement, &[id, title, &CONTENT, &user, &now, &now]).await?;
                }
                tx.commit().await?;
                let took = started.elapsed();
                drop(client);
                truncate(ds).await?;
                Ok(took)
            }),
            self_timed("raw, one multi-row INSERT … SELECT unnest, unnamed (pooler-safe)", |i| async move {
                let (ids, titles) = new_rows(BATCH, i);
                let started = Instant::now();
                let client = ds.trom.pool().get().await?;
                let now = now();
                // No rows: an INSERT without RETURNING.
                client
                    .query_typed(
                        INSERT_OPEN_UNNEST,
                        &[
                            (&ids, Type::TEXT_ARRAY),
                            (&titles, Type::TEXT_ARRAY),
                            (&CONTENT, Type::TEXT),
                            (&user, Type::TEXT),
                            (&now, Type::TIMESTAMPTZ),
                        ],
                    )
                    .await?;
                let took = started.elapsed();
                drop(client);
                truncate(ds).await?;
                Ok(took)
            }),
            self_timed("raw, one multi-row INSERT … SELECT unnest", |i| async move {
                let (ids, titles) = new_rows(BATCH, i);
                let started = Instant::now();
                let inserted = raw_unnest_insert(ds, &ids, &titles, user).await?;
                let took = started.elapsed();
                if inserted != BATCH as u64 {
                    return Err("the multi-row insert missed rows".into());
                }
                truncate(ds).await?;
                Ok(took)
            }),
        ],
    )
    .await?;
    // The floor in the library's statement mode: behind a pooler, raw code
    // cannot keep prepared statements either.
    let floor = if ctx.statement_mode == StatementMode::Unnamed { 3 } else { 4 };
    let owner = ratio(measured.summaries[1].median, measured.summaries[floor].median);
    let single = ratio(measured.summaries[0].median, measured.summaries[2].median);
    Ok(latency_section(
        &format!("writes: one `do_mutations` batch of {BATCH} inserts"),
        &measured,
        0,
        floor,
        Target::AtMost(1.3),
        vec![
            format!(
                "ratio library, owner-check permitter / {}, medians: **{owner:.3}** ({})",
                measured.names[floor],
                Target::AtMost(1.3).judge(owner)
            ),
            format!("ratio library, allow-all / raw, single-row inserts in one transaction: {single:.3}"),
            "library: `db.do_mutations(1000 × Mutation::insert(NewOpenNote { .. }))` (or `NewOwnedNote`): \
             validate, a permitter per row, then one `INSERT … SELECT … FROM unnest(…)` (an array per column, \
             one parameter for a value every row shares), on its \
             own (behind a pooler: in a transaction carrying the timeout); the owner check compares `row.user_id` \
             with the session's user"
                .to_owned(),
            "raw, single-row: `BEGIN`, 1,000 × `execute(prepared INSERT)` each awaited, `COMMIT`; \
             raw, multi-row: one autocommit `INSERT … SELECT … FROM unnest($1::text[], $2::text[])` with the \
             content, owner and times as single parameters (the floor, and the target's reference). Ids and \
             titles are made before the clock starts; the tables are truncated after each batch, outside the clock"
                .to_owned(),
        ],
    ))
}

/// Workload 5b: batches of one insert each, one after another, timed in
/// samples of 100 batches: each batch waits for its commit to be flushed,
/// and a stall of the disk (tens of milliseconds on a shared VM) shifts a
/// short sample, not the median of many.
async fn single_insert_batches(ctx: &Context, ds: &Dataset) -> Result<Section, BoxError> {
    let count = if ctx.smoke { 50 } else { 100 };
    let user = ds.users[0];
    let db = &ds.db(user);
    truncate(ds).await?;
    let server_timed = server_timed_handle(ctx, ds).await?;
    let server_timed_db = server_timed.as_ref().map(|trom| trom.db.with_session(&ds.session(user)));
    let mut variants = vec![
        inserting("library", ds, count, |ids, titles| one_insert_batches(db, ids, titles, user)),
        inserting("raw, autocommit INSERT each", ds, count, |ids, titles| async move {
            raw_autocommit_inserts(ds, &ids, &titles, user).await?;
            Ok(())
        }),
        inserting(
            "raw, autocommit INSERT each, unnamed (pooler-safe)",
            ds,
            count,
            |ids, titles| async move {
                for (id, title) in ids.iter().zip(&titles) {
                    let client = ds.trom.pool().get().await?;
                    let now = now();
                    client.query_typed(INSERT_OPEN, &typed_params(id, title, &user, &now)).await?;
                }
                Ok(())
            },
        ),
        inserting(
            "raw, unnamed INSERT in a transaction carrying a statement timeout, pipelined (pooler-safe)",
            ds,
            count,
            |ids, titles| async move {
                for (id, title) in ids.iter().zip(&titles) {
                    let client = ds.trom.pool().get().await?;
                    let now = now();
                    let params = typed_params(id, title, &user, &now);
                    let (begun, inserted, committed) = futures_util::join!(
                        client.batch_execute("BEGIN; SET LOCAL statement_timeout = 30000"),
                        client.query_typed(INSERT_OPEN, &params),
                        client.batch_execute("COMMIT"),
                    );
                    begun?;
                    inserted?;
                    committed?;
                }
                Ok(())
            },
        ),
        inserting("raw, BEGIN + INSERT + COMMIT each", ds, count, |ids, titles| async move {
            for (id, title) in ids.iter().zip(&titles) {
                let mut client = ds.trom.pool().get().await?;
                let statement = client.prepare_cached(INSERT_OPEN).await?;
                let tx = client.transaction().await?;
                let now = now();
                tx.execute(&statement, &[id, title, &CONTENT, &user, &now, &now]).await?;
                tx.commit().await?;
            }
            Ok(())
        }),
    ];
    if let Some(db) = &server_timed_db {
        variants.push(inserting(SERVER_TIMED, ds, count, move |ids, titles| async move {
            one_insert_batches(db, ids, titles, user).await?;
            Ok(())
        }));
    }
    let measured = interleaved(ctx, 3, 120, &variants).await?;
    drop(variants);
    if server_timed.is_some() {
        let client = ds.trom.pool().get().await?;
        client.batch_execute(&database_timeout("RESET statement_timeout", &client).await?).await?;
    }
    let per_batch: Vec<String> = measured
        .names
        .iter()
        .zip(&measured.summaries)
        .map(|(name, s)| format!("{name} {:.1} µs", s.median.as_secs_f64() * 1e6 / count as f64))
        .collect();
    let floor = if ctx.statement_mode == StatementMode::Unnamed { 2 } else { 1 };
    let mut notes = Vec::new();
    if let Some(at) = measured.names.iter().position(|n| n == SERVER_TIMED) {
        let server_timed = ratio(measured.summaries[at].median, measured.summaries[floor].median);
        notes.push(format!(
            "ratio {SERVER_TIMED} / {}, medians: **{server_timed:.3}** ({})",
            measured.names[floor],
            Target::AtMost(1.15).judge(server_timed)
        ));
    }
    Ok(latency_section(
        &format!("writes: one-insert batches in a row, samples of {count}"),
        &measured,
        0,
        floor,
        Target::AtMost(1.15),
        notes.into_iter().chain([
            format!("each sample is {count} batches in a row; per batch (median / {count}): {}", per_batch.join("; ")),
            "library: `db.do_mutations([Mutation::insert(..)])` per batch (pool checkout, the permitter, the \
             INSERT alone: no transaction unless the permitter queries); raw: pool checkout, `prepare_cached`, \
             `execute` per row"
                .to_owned(),
        ])
        .collect(),
    ))
}

/// The variant of a library handle whose server applies its timeout.
const SERVER_TIMED: &str = "library, the database sets the same timeout (pooler-safe)";

/// Behind a pooler (`--statement-mode unnamed`): a second library handle on
/// the scratch database after `ALTER DATABASE ... SET statement_timeout` to
/// the library's default (30 s), so that it carries no timeout of its own.
/// The setting is reset after the measurement.
async fn server_timed_handle(ctx: &Context, ds: &Dataset) -> Result<Option<TromBase>, BoxError> {
    if ctx.statement_mode != StatementMode::Unnamed {
        return Ok(None);
    }
    let client = ds.trom.pool().get().await?;
    client.batch_execute(&database_timeout("SET statement_timeout = 30000", &client).await?).await?;
    let trom =
        super::seed::builder(&ctx.database_url).statement_mode(StatementMode::Unnamed).connect().await?;
    Ok(Some(trom))
}

/// `ALTER DATABASE <this one> <change>`.
async fn database_timeout(change: &str, client: &tokio_postgres::Client) -> Result<String, BoxError> {
    let name: String = client.query_one("SELECT current_database()", &[]).await?.get(0);
    Ok(format!("ALTER DATABASE \"{}\" {change}", name.replace('"', "\"\"")))
}

const LOCK_NOTES: &str = "SELECT id, title, content, user_id, created_at, updated_at \
                          FROM bench_notes WHERE id = ANY($1) FOR UPDATE";
const UPDATE_NOTE: &str = "UPDATE bench_notes SET title = $1, updated_at = $2 WHERE id = $3";
const UPDATE_NOTES_UNNEST: &str = "UPDATE bench_notes n SET title = v.title, updated_at = $3 \
                                   FROM unnest($1::text[], $2::text[]) AS v(id, title) WHERE n.id = v.id";
const DELETE_NOTES: &str = "DELETE FROM bench_notes WHERE id = ANY($1)";

/// Locks `ids` and checks the owner rule on the stored rows, raw.
async fn raw_lock_and_check(
    tx: &tokio_postgres::Transaction<'_>,
    statement: &tokio_postgres::Statement,
    ids: &[DbId],
    user: DbId,
) -> Result<(), BoxError> {
    let rows = tx.query(statement, &[&ids]).await?;
    if rows.len() != ids.len() {
        return Err("a row to change does not exist".into());
    }
    for row in &rows {
        if row.try_get::<_, DbId>(3)? != user {
            return Err("not your note".into());
        }
    }
    Ok(())
}

fn titles(n: usize, i: usize) -> Vec<String> {
    (0..n).map(|k| format!("Edited {i}.{k}")).collect()
}

/// Workload 6a: an update batch of 100 rows under the owner rule.
async fn update_batch(ctx: &Context, ds: &Dataset) -> Result<Section, BoxError> {
    let pick = |i: usize| {
        let u = ds.user_index(i);
        (ds.users[u], ds.notes_of(u))
    };
    let measured = interleaved(
        ctx,
        10,
        200,
        &[
            self_timed("library", |i| async move {
                let (user, ids) = pick(i);
                let (db, titles) = (ds.db(user), titles(ids.len(), i));
                let started = Instant::now();
                db.do_mutations(
                    ids.iter().zip(titles).map(|(id, title)| Mutation::update(*id, [Note::TITLE.set(title)])),
                )
                .await?;
                Ok(started.elapsed())
            }),
            self_timed("raw, lock all + UPDATE per row", |i| async move {
                let (user, ids) = pick(i);
                let titles = titles(ids.len(), i);
                let started = Instant::now();
                let mut client = ds.trom.pool().get().await?;
                let lock = client.prepare_cached(LOCK_NOTES).await?;
                let update = client.prepare_cached(UPDATE_NOTE).await?;
                let tx = client.transaction().await?;
                raw_lock_and_check(&tx, &lock, ids, user).await?;
                let now = now();
                for (id, title) in ids.iter().zip(&titles) {
                    if tx.execute(&update, &[title, &now, id]).await? != 1 {
                        return Err("a row to update vanished".into());
                    }
                }
                tx.commit().await?;
                Ok(started.elapsed())
            }),
            self_timed("raw, per row: lock it + UPDATE it", |i| async move {
                let (user, ids) = pick(i);
                let titles = titles(ids.len(), i);
                let started = Instant::now();
                let mut client = ds.trom.pool().get().await?;
                let lock = client.prepare_cached(LOCK_NOTES).await?;
                let update = client.prepare_cached(UPDATE_NOTE).await?;
                let tx = client.transaction().await?;
                let now = now();
                for (id, title) in ids.iter().zip(&titles) {
                    raw_lock_and_check(&tx, &lock, std::slice::from_ref(id), user).await?;
                    if tx.execute(&update, &[title, &now, id]).await? != 1 {
                        return Err("a row to update vanished".into());
                    }
                }
                tx.commit().await?;
                Ok(started.elapsed())
            }),
            self_timed("raw, lock all + one UPDATE … FROM unnest", |i| async move {
                let (user, ids) = pick(i);
                let titles = titles(ids.len(), i);
                let started = Instant::now();
                let mut client = ds.trom.pool().get().await?;
                let lock = client.prepare_cached(LOCK_NOTES).await?;
                let update = client.prepare_cached(UPDATE_NOTES_UNNEST).await?;
                let tx = client.transaction().await?;
                raw_lock_and_check(&tx, &lock, ids, user).await?;
                if tx.execute(&update, &[&ids, &titles, &now()]).await? != ids.len() as u64 {
                    return Err("a row to update vanished".into());
                }
                tx.commit().await?;
                Ok(started.elapsed())
            }),
        ],
    )
    .await?;
    Ok(latency_section(
        &format!("writes: an update batch of {} rows, owner rule", ds.per_user),
        &measured,
        0,
        1,
        Target::AtMost(1.15),
        vec![
            "each batch changes the title of every note of one user, as that user; library: \
             `db.do_mutations(100 × Mutation::update(id, [Note::TITLE.set(..)]))` (the run's rows locked by \
             one `SELECT … WHERE id = ANY($1) FOR UPDATE`, then per update the permitter on the stored row and \
             the UPDATE pipelined)"
                .to_owned(),
            format!(
                "raw, lock all: `BEGIN`, one `{LOCK_NOTES}` of all 100 rows, the owner check on them, 100 × \
                 `{UPDATE_NOTE}` each awaited, `COMMIT`; raw, per row: the library's statements (a lock of \
                 each row, then its UPDATE) each awaited; raw, unnest: the same lock and check as lock all, then one \
                 `UPDATE … FROM unnest($1::text[], $2::text[])`"
            ),
        ],
    ))
}

/// Inserts `n` notes of `user` to be deleted (outside the measured part).
async fn victims(ds: &Dataset, user: DbId, n: usize, i: usize) -> Result<Vec<DbId>, BoxError> {
    let (ids, titles) = new_rows(n, i);
    let client = ds.trom.pool().get().await?;
    let statement = client
        .prepare_cached(&format!(
            "INSERT INTO bench_notes ({NOTE_COLUMNS}) \
             SELECT id, title, $3, $4, $5, $5 FROM unnest($1::text[], $2::text[]) AS v(id, title)"
        ))
        .await?;
    client.execute(&statement, &[&ids, &titles, &CONTENT, &user, &now()]).await?;
    Ok(ids)
}

/// Workload 6b: a delete batch of 100 rows under the owner rule.
async fn delete_batch(ctx: &Context, ds: &Dataset) -> Result<Section, BoxError> {
    const ROWS: usize = 100;
    let measured: Measured = interleaved(
        ctx,
        10,
        200,
        &[
            self_timed("library", |i| async move {
                let user = ds.users[ds.user_index(i)];
                let ids = victims(ds, user, ROWS, i).await?;
                let db: SessionDb = ds.db(user);
                let started = Instant::now();
                db.do_mutations([Mutation::delete::<Note>(ids)]).await?;
                Ok(started.elapsed())
            }),
            self_timed("raw, lock all + DELETE = ANY", |i| async move {
                let user = ds.users[ds.user_index(i)];
                let ids = victims(ds, user, ROWS, i).await?;
                let started = Instant::now();
                let mut client = ds.trom.pool().get().await?;
                let lock = client.prepare_cached(LOCK_NOTES).await?;
                let delete = client.prepare_cached(DELETE_NOTES).await?;
                let tx = client.transaction().await?;
                raw_lock_and_check(&tx, &lock, &ids, user).await?;
                if tx.execute(&delete, &[&ids]).await? != ids.len() as u64 {
                    return Err("a row to delete vanished".into());
                }
                tx.commit().await?;
                Ok::<Duration, BoxError>(started.elapsed())
            }),
        ],
    )
    .await?;
    Ok(latency_section(
        &format!("writes: a delete batch of {ROWS} rows, owner rule"),
        &measured,
        0,
        1,
        Target::None,
        vec![
            format!(
                "library: `db.do_mutations([Mutation::delete::<Note>(ids)])` with {ROWS} ids of the session's \
                 user (one `SELECT … FOR UPDATE` of the rows, the permitter on all of them, one `DELETE … = ANY`); \
                 raw: `BEGIN`, `{LOCK_NOTES}`, the owner check, `{DELETE_NOTES}`, `COMMIT`"
            ),
            "the rows are inserted fresh before each delete, outside the clock".to_owned(),
        ],
    ))
}
