//! The nested reads of [`super::reads`] through the JSON select form
//! (`db.select_json`, what an HTTP handler calls), returning
//! `Vec<serde_json::Value>`, against the same statement in raw
//! tokio-postgres returning the same JSON, and the N+1 loop building it.

use serde_json::{json, Value as Json};
use trombase::prelude::*;
use trombase::SessionDb;

use super::measure::{interleaved, latency_section, timed, Target};
use super::reads::{page_offset, raw_n1_notes_with_author, raw_n1_users_with_notes, NEWEST, PAGE};
use super::seed::{dataset, Dataset};
use super::{BoxError, BoxFuture, Context, Report, Section};

/// Starts the workload.
pub fn start(ctx: &Context) -> BoxFuture<'_, Result<Report, BoxError>> {
    Box::pin(run(ctx))
}

async fn run(ctx: &Context) -> Result<Report, BoxError> {
    let ds = dataset(ctx).await?;
    let db = ds.db(ds.users[0]);
    let mut report = Report::default();
    report.sections.push(notes_with_author(ctx, &ds, &db).await?);
    report.sections.push(users_with_notes(ctx, &ds, &db).await?);
    Ok(report)
}

/// What `select_json` runs for the notes-with-author action, by hand.
const NOTES_WITH_AUTHOR_JSON: &str = "\
    SELECT row_to_json(r) FROM ( \
        SELECT n.id, n.title, n.content, n.user_id AS \"userId\", n.created_at AS \"createdAt\", \
               n.updated_at AS \"updatedAt\", \
               (SELECT row_to_json(a) FROM (SELECT u.id, u.name, u.email, u.created_at AS \"createdAt\", \
                                                   u.updated_at AS \"updatedAt\" \
                                            FROM bench_users u WHERE u.id = n.user_id) a) AS author \
        FROM bench_notes n WHERE n.user_id = $1 LIMIT $2) r";

/// The same rows by a hand-written `LEFT JOIN`: the author's object built
/// from the joined row, `NULL` when there is none.
const NOTES_WITH_AUTHOR_JOIN_JSON: &str = "\
    SELECT row_to_json(r) FROM ( \
        SELECT n.id, n.title, n.content, n.user_id AS \"userId\", n.created_at AS \"createdAt\", \
               n.updated_at AS \"updatedAt\", \
               CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'name', u.name, \
                    'email', u.email, 'createdAt', u.created_at, 'updatedAt', u.updated_at) END AS author \
        FROM bench_notes n LEFT JOIN bench_users u ON u.id = n.user_id WHERE n.user_id = $1 LIMIT $2) r";

/// What `select_json` runs for the users-with-notes action, by hand.
const USERS_WITH_NOTES_JSON: &str = "\
    SELECT row_to_json(r) FROM ( \
        SELECT u.id, u.name, u.email, u.\"createdAt\", u.\"updatedAt\", \
               (SELECT coalesce(json_agg(n), '[]'::json) \
                FROM (SELECT n.id, n.title, n.content, n.user_id AS \"userId\", n.created_at AS \"createdAt\", \
                             n.updated_at AS \"updatedAt\" \
                      FROM bench_notes n WHERE n.user_id = u.id ORDER BY n.created_at DESC LIMIT $1) n) AS notes \
        FROM (SELECT id, name, email, created_at AS \"createdAt\", updated_at AS \"updatedAt\" \
              FROM bench_users ORDER BY id LIMIT $2 OFFSET $3) u \
        ORDER BY u.id) r";

fn notes_with_author_action(user: DbId, limit: usize) -> Json {
    json!({"table": "bench_notes", "where": {"userId": user.to_string()}, "with": {"author": true}, "limit": limit})
}

fn users_with_notes_action(offset: u64) -> Json {
    json!({
        "table": "bench_users",
        "orderBy": [{"field": "id", "direction": "asc"}],
        "limit": PAGE,
        "offset": offset,
        "with": {"notes": {"orderBy": [{"field": "createdAt", "direction": "desc"}], "limit": NEWEST}},
    })
}

async fn raw_json(
    ds: &Dataset,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Json>, BoxError> {
    let client = ds.trom.pool().get().await?;
    let statement = client.prepare_cached(sql).await?;
    let rows = client.query(&statement, params).await?;
    let mut rows: Vec<Json> = rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?;
    rows.iter_mut().for_each(utc_times);
    Ok(rows)
}

/// Row times in the form the JSON API answers (UTC with a `Z`, as the
/// TypeScript library writes them), as hand-written code would rewrite
/// PostgreSQL's `+00:00`: the known time keys, in place, at every level.
fn utc_times(value: &mut Json) {
    match value {
        Json::Object(object) => {
            for (key, item) in object.iter_mut() {
                match item {
                    Json::String(text)
                        if (key == "createdAt" || key == "updatedAt") && text.ends_with("+00:00") =>
                    {
                        text.truncate(text.len() - "+00:00".len());
                        text.push('Z');
                    }
                    other => utc_times(other),
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(utc_times),
        _ => {}
    }
}

async fn library_notes_with_author(db: &SessionDb, user: DbId, limit: usize) -> Result<Vec<Json>, BoxError> {
    Ok(db.select_json(&notes_with_author_action(user, limit)).await?)
}

async fn raw_notes_with_author(ds: &Dataset, user: DbId, limit: usize) -> Result<Vec<Json>, BoxError> {
    raw_json(ds, NOTES_WITH_AUTHOR_JSON, &[&user, &(limit as i64)]).await
}

async fn raw_join_notes_with_author(ds: &Dataset, user: DbId, limit: usize) -> Result<Vec<Json>, BoxError> {
    raw_json(ds, NOTES_WITH_AUTHOR_JOIN_JSON, &[&user, &(limit as i64)]).await
}

/// The naive loop, then the JSON built from its structs with serde.
async fn raw_n1_notes_with_author_json(ds: &Dataset, user: DbId) -> Result<Vec<Json>, BoxError> {
    raw_n1_notes_with_author(ds, user)
        .await?
        .into_iter()
        .map(|(note, author)| {
            let mut object = serde_json::to_value(note)?;
            object["author"] = serde_json::to_value(author)?;
            Ok(object)
        })
        .collect()
}

/// Rows in id order (for comparing results that need not be ordered).
fn by_id(mut rows: Vec<Json>) -> Vec<Json> {
    rows.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    rows
}

async fn notes_with_author(ctx: &Context, ds: &Dataset, db: &SessionDb) -> Result<Section, BoxError> {
    let (user, limit) = (ds.users[0], ds.per_user);
    let lib = library_notes_with_author(db, user, limit).await?;
    let raw_n1 = raw_n1_notes_with_author_json(ds, user).await?;
    if lib.len() != ds.per_user
        || raw_n1.len() != lib.len()
        || by_id(lib.clone()) != by_id(raw_notes_with_author(ds, user, limit).await?)
        || by_id(lib.clone()) != by_id(raw_join_notes_with_author(ds, user, limit).await?)
    {
        return Err("library and raw disagree on a user's notes with author (JSON)".into());
    }
    let pick = |i: usize| ds.users[ds.user_index(i)];
    let measured = interleaved(
        ctx,
        30,
        400,
        &[
            timed(
                "library",
                |i| async move { library_notes_with_author(db, pick(i), limit).await.map(drop) },
            ),
            timed("raw, correlated subquery", |i| async move {
                raw_notes_with_author(ds, pick(i), limit).await.map(drop)
            }),
            timed("raw, LEFT JOIN", |i| async move {
                raw_join_notes_with_author(ds, pick(i), limit).await.map(drop)
            }),
            timed(
                "raw, N+1 loop",
                |i| async move { raw_n1_notes_with_author_json(ds, pick(i)).await.map(drop) },
            ),
        ],
    )
    .await?;
    Ok(latency_section(
        &format!("json_reads: one user's {} notes with `author` embedded, as JSON", ds.per_user),
        &measured,
        0,
        2,
        Target::AtMost(1.10),
        vec![
            format!(
                "library: `db.select_json(&json!({{\"table\": \"bench_notes\", \"where\": {{\"userId\": uid}}, \
                 \"with\": {{\"author\": true}}, \"limit\": {limit}}}))` → `Vec<serde_json::Value>` (parse and \
                 validate the action, run the read permitters, render, one statement)"
            ),
            "raw, LEFT JOIN: `SELECT row_to_json(r) FROM (SELECT <note columns>, CASE WHEN u.id IS NULL THEN \
             NULL ELSE json_build_object(<user columns>) END AS author FROM bench_notes n LEFT JOIN bench_users u \
             ... LIMIT $2) r`; raw, correlated subquery: the library's statement before (the author as \
             `(SELECT row_to_json(a) ...)`); each row's `json` column decoded into a `serde_json::Value`, its times rewritten in place to UTC with a `Z` (the form the API answers); N+1: the typed N+1 loop, \
             then `serde_json::to_value` of its structs"
                .to_owned(),
        ],
    ))
}

async fn library_users_with_notes(db: &SessionDb, offset: u64) -> Result<Vec<Json>, BoxError> {
    Ok(db.select_json(&users_with_notes_action(offset)).await?)
}

async fn raw_users_with_notes(ds: &Dataset, offset: u64) -> Result<Vec<Json>, BoxError> {
    raw_json(ds, USERS_WITH_NOTES_JSON, &[&(NEWEST as i64), &(PAGE as i64), &(offset as i64)]).await
}

async fn raw_n1_users_with_notes_json(ds: &Dataset, offset: u64) -> Result<Vec<Json>, BoxError> {
    raw_n1_users_with_notes(ds, offset)
        .await?
        .into_iter()
        .map(|(user, notes)| {
            let mut object = serde_json::to_value(user)?;
            object["notes"] = serde_json::to_value(notes)?;
            Ok(object)
        })
        .collect()
}

async fn users_with_notes(ctx: &Context, ds: &Dataset, db: &SessionDb) -> Result<Section, BoxError> {
    let lib = library_users_with_notes(db, 0).await?;
    let raw_n1 = raw_n1_users_with_notes_json(ds, 0).await?;
    if lib.len() != ds.users.len().min(PAGE as usize)
        || raw_n1.len() != lib.len()
        || lib != raw_users_with_notes(ds, 0).await?
    {
        return Err("library and raw disagree on users with their newest notes (JSON)".into());
    }
    let measured = interleaved(
        ctx,
        30,
        400,
        &[
            timed(
                "library",
                |i| async move { library_users_with_notes(db, page_offset(ds, i)).await.map(drop) },
            ),
            timed("raw, same statement", |i| async move {
                raw_users_with_notes(ds, page_offset(ds, i)).await.map(drop)
            }),
            timed("raw, N+1 loop", |i| async move {
                raw_n1_users_with_notes_json(ds, page_offset(ds, i)).await.map(drop)
            }),
        ],
    )
    .await?;
    Ok(latency_section(
        &format!("json_reads: {PAGE} users, each with their {NEWEST} newest notes, as JSON"),
        &measured,
        0,
        1,
        Target::AtMost(1.20),
        vec![
            format!("library: `db.select_json(&json!({}))` → `Vec<serde_json::Value>`", users_with_notes_action(0)),
            "raw, same statement: `SELECT row_to_json(r) FROM (<the typed read's statement, camelCase aliases>) r`; \
             N+1: the typed N+1 loop, then `serde_json::to_value` of its structs"
                .to_owned(),
        ],
    ))
}
