//! Reads through a row filter (an owner rule: each user reads only their own
//! notes), against the same reads written by hand: what the barrier of
//! SPEC §6 costs. A condition PostgreSQL marks leakproof (`id = $1`) sits
//! next to the row filter, where its index serves it; one that is not
//! (`title ILIKE $1`) waits behind a fenced subquery until the row filter
//! has excluded other users' rows. The raw references put both conditions
//! in one `WHERE`, unfenced, as a hand-written query would.

use trombase::prelude::*;
use trombase::SessionDb;

use super::measure::{interleaved, latency_section, timed, Target};
use super::seed::{dataset, Dataset, PrivateNote, RawNote, NOTE_COLUMNS};
use super::{BoxError, BoxFuture, Context, Report, Section};

/// Starts the workload.
pub fn start(ctx: &Context) -> BoxFuture<'_, Result<Report, BoxError>> {
    Box::pin(run(ctx))
}

async fn run(ctx: &Context) -> Result<Report, BoxError> {
    let ds = dataset(ctx).await?;
    let mut report = Report::default();
    report.sections.push(own_note_by_id(ctx, &ds).await?);
    report.sections.push(search_own_notes(ctx, &ds).await?);
    Ok(report)
}

/// User `u`'s handle and one of their notes, picked by iteration `i`.
fn pick(ds: &Dataset, i: usize) -> (SessionDb, DbId, DbId) {
    let u = ds.user_index(i);
    let notes = ds.notes_of(u);
    (ds.db(ds.users[u]), ds.users[u], notes[i % notes.len()])
}

async fn library_by_id(db: &SessionDb, id: DbId) -> Result<Vec<PrivateNote>, BoxError> {
    Ok(db.select(PrivateNote::query().filter(PrivateNote::ID.eq(id))).await?)
}

async fn raw_by_id(ds: &Dataset, user: DbId, id: DbId) -> Result<Vec<RawNote>, BoxError> {
    let sql = format!("SELECT {NOTE_COLUMNS} FROM bench_notes WHERE id = $1 AND user_id = $2");
    let client = ds.trom.pool().get().await?;
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query(&statement, &[&id, &user]).await?;
    Ok(rows.iter().map(|r| RawNote::from_row(r, 0)).collect::<Result<_, _>>()?)
}

async fn own_note_by_id(ctx: &Context, ds: &Dataset) -> Result<Section, BoxError> {
    let (db, user, id) = pick(ds, 0);
    let (lib, raw) = (library_by_id(&db, id).await?, raw_by_id(ds, user, id).await?);
    if lib.len() != 1 || raw.len() != 1 || raw[0].id != lib[0].id {
        return Err("library and raw disagree on an own note by id".into());
    }
    let measured = interleaved(
        ctx,
        300,
        4000,
        &[
            timed("library", |i| async move {
                let (db, _, id) = pick(ds, i);
                library_by_id(&db, id).await.map(drop)
            }),
            timed("raw", |i| async move {
                let (_, user, id) = pick(ds, i);
                raw_by_id(ds, user, id).await.map(drop)
            }),
        ],
    )
    .await?;
    Ok(latency_section(
        "row filters: one own note by id (a leakproof condition beside the row filter)",
        &measured,
        0,
        1,
        Target::AtMost(1.10),
        vec![
            "library: `db.select(PrivateNote::query().filter(PrivateNote::ID.eq(id)))` under the read rule \
              `Permit::filter(PrivateNote::USER_ID.eq(session.user_id))`; raw: \
              `SELECT <6 columns> FROM bench_notes WHERE id = $1 AND user_id = $2`, prepared"
                .to_owned(),
        ],
    ))
}

const PATTERN: &str = "%note 5%";

async fn library_search(db: &SessionDb) -> Result<Vec<PrivateNote>, BoxError> {
    let query = PrivateNote::query()
        .filter(PrivateNote::TITLE.ilike(PATTERN))
        .order_by(PrivateNote::CREATED_AT.desc());
    Ok(db.select(query.limit(50)).await?)
}

async fn raw_search(ds: &Dataset, user: DbId) -> Result<Vec<RawNote>, BoxError> {
    let sql = format!(
        "SELECT {NOTE_COLUMNS} FROM bench_notes WHERE title ILIKE $1 AND user_id = $2 \
         ORDER BY created_at DESC LIMIT $3"
    );
    let client = ds.trom.pool().get().await?;
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query(&statement, &[&PATTERN, &user, &50i64]).await?;
    Ok(rows.iter().map(|r| RawNote::from_row(r, 0)).collect::<Result<_, _>>()?)
}

async fn search_own_notes(ctx: &Context, ds: &Dataset) -> Result<Section, BoxError> {
    let (db, user, _) = pick(ds, 0);
    let (lib, raw) = (library_search(&db).await?, raw_search(ds, user).await?);
    if lib.len() != raw.len() || lib.iter().zip(&raw).any(|(l, r)| l.id != r.id) {
        return Err("library and raw disagree on a title search".into());
    }
    let measured = interleaved(
        ctx,
        300,
        3000,
        &[
            timed("library (fenced)", |i| async move {
                let (db, _, _) = pick(ds, i);
                library_search(&db).await.map(drop)
            }),
            timed("raw, unfenced", |i| async move {
                let (_, user, _) = pick(ds, i);
                raw_search(ds, user).await.map(drop)
            }),
        ],
    )
    .await?;
    Ok(latency_section(
        "row filters: search own notes by title (a condition that is not leakproof, behind the fence)",
        &measured,
        0,
        1,
        Target::AtMost(1.10),
        vec![format!(
            "library: `PrivateNote::TITLE.ilike(\"{PATTERN}\")`, newest first, limit 50, under the owner row \
             filter: `FROM (SELECT * FROM bench_notes WHERE user_id = $1 OFFSET 0) s WHERE title ILIKE $2`; \
             raw: `WHERE title ILIKE $1 AND user_id = $2` (the form that let a pattern meet other users' rows)"
        )],
    ))
}
