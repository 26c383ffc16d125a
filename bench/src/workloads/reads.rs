//! Typed reads against the same work in raw tokio-postgres (prepared
//! statements, the same pool, the same data): a note by id (sequential
//! latency and 32-way throughput), one user's 100 notes with their author,
//! and 50 users with their 10 newest notes each.
//!
//! For the nested reads the raw reference is the same single statement
//! (correlated subqueries building JSON, decoded with serde), with the N+1
//! loop a naive user writes as a second reference (and, for the points-to
//! read, a plain `LEFT JOIN` as a third).

use std::sync::Arc;

use tokio_postgres::types::Json;
use trombase::prelude::*;
use trombase::SessionDb;

use super::measure::{interleaved, latency_section, median_f64, throughput, timed, Target};
use super::seed::{dataset, Dataset, Note, RawNote, RawUser, User, NOTE_COLUMNS, USER_COLUMNS};
use super::{BoxError, BoxFuture, Context, Report, Section};
use crate::stats::ratio;

/// Starts the workload.
pub fn start(ctx: &Context) -> BoxFuture<'_, Result<Report, BoxError>> {
    Box::pin(run(ctx))
}

async fn run(ctx: &Context) -> Result<Report, BoxError> {
    let ds = dataset(ctx).await?;
    // Reads are open to every session; whose it is does not matter.
    let db = ds.db(ds.users[0]);
    let mut report = Report::default();
    report.sections.push(by_id(ctx, &ds, &db).await?);
    report.sections.push(by_id_concurrent(ctx, &ds, &db).await?);
    report.sections.push(notes_with_author(ctx, &ds, &db).await?);
    report.sections.push(users_with_notes(ctx, &ds, &db).await?);
    Ok(report)
}

/// `--repeat`: runs one of the reads `n` times in a row, unmeasured (for a
/// profiler or an instruction counter).
pub async fn repeat(ctx: &Context, case: &str, n: usize) -> Result<(), BoxError> {
    const CASES: [&str; 6] = ["by-id", "by-id-raw", "to-one", "to-one-raw", "by-id-32", "by-id-raw-32"];
    if !CASES.contains(&case) {
        return Err(format!("no case `{case}`: {}", CASES.join(", ")).into());
    }
    let ds = dataset(ctx).await?;
    let db = ds.db(ds.users[0]);
    if let Some(single) = case.strip_suffix("-32") {
        // The throughput read: 32 tasks share the `n` reads.
        let (library, raw) = by_id_tasks(&ds);
        match single {
            "by-id" => drop(throughput(32, n, library).await?),
            _ => drop(throughput(32, n, raw).await?),
        }
        eprintln!("ran `{case}` {n} times");
        return Ok(());
    }
    for i in 0..n {
        let user = ds.users[ds.user_index(i)];
        match case {
            "by-id" => drop(library_by_id(&db, ds.note(i)).await?),
            "by-id-raw" => drop(raw_by_id(&ds, ds.note(i)).await?),
            "to-one" => drop(library_notes_with_author(&db, user).await?),
            "to-one-raw" => drop(raw_join_notes_with_author(&ds, user).await?),
            _ => unreachable!("checked above"),
        }
    }
    eprintln!("ran `{case}` {n} times");
    Ok(())
}

pub(super) const NOTE_BY_ID: &str = "SELECT id, title, content, user_id, created_at, updated_at \
                                     FROM bench_notes WHERE id = $1";

async fn library_by_id(db: &SessionDb, id: DbId) -> Result<Note, BoxError> {
    let mut found = db.select(Note::query().filter(Note::ID.eq(id))).await?;
    found.pop().filter(|_| found.is_empty()).ok_or_else(|| "expected one note".into())
}

async fn raw_by_id(ds: &Dataset, id: DbId) -> Result<RawNote, BoxError> {
    let client = ds.trom.pool().get().await?;
    let statement = client.prepare_cached(NOTE_BY_ID).await?;
    let row = client.query_opt(&statement, &[&id]).await?.ok_or("no such note")?;
    Ok(RawNote::from_row(&row, 0)?)
}

/// Workload 1: one note by id, one request at a time.
async fn by_id(ctx: &Context, ds: &Dataset, db: &SessionDb) -> Result<Section, BoxError> {
    let id = ds.note(0);
    if !raw_by_id(ds, id).await?.same_as(&library_by_id(db, id).await?) {
        return Err("library and raw disagree on a note by id".into());
    }
    let measured = interleaved(
        ctx,
        300,
        4000,
        &[
            timed("library", |i| async move { library_by_id(db, ds.note(i)).await.map(drop) }),
            timed("raw", |i| async move { raw_by_id(ds, ds.note(i)).await.map(drop) }),
        ],
    )
    .await?;
    Ok(latency_section(
        "reads: one note by id (sequential)",
        &measured,
        0,
        1,
        Target::AtMost(1.10),
        vec!["library: `db.select(Note::query().filter(Note::ID.eq(id)))`; raw: pool checkout, \
             `prepare_cached(\"SELECT <6 columns> FROM bench_notes WHERE id = $1\")`, `query_opt`, \
             decode into a struct; ids spread over all notes"
            .to_owned()],
    ))
}

/// The by-id read as a task's step, library and raw. The library's reads
/// are requests of many users, as a server sees them (one user's requests
/// share at most `per_user_connections` of the pool).
#[allow(clippy::type_complexity)]
fn by_id_tasks(
    ds: &Arc<Dataset>,
) -> (
    impl Fn(usize) -> BoxFuture<'static, Result<(), BoxError>> + Clone + Send + Sync + 'static,
    impl Fn(usize) -> BoxFuture<'static, Result<(), BoxError>> + Clone + Send + Sync + 'static,
) {
    const USERS: usize = 64;
    let handles: Arc<Vec<SessionDb>> = Arc::new(ds.users.iter().take(USERS).map(|u| ds.db(*u)).collect());
    let library = {
        let ds = Arc::clone(ds);
        move |i: usize| -> BoxFuture<'static, Result<(), BoxError>> {
            let (ds, handles) = (Arc::clone(&ds), Arc::clone(&handles));
            Box::pin(async move { library_by_id(&handles[i % handles.len()], ds.note(i)).await.map(drop) })
        }
    };
    let raw = {
        let ds = Arc::clone(ds);
        move |i: usize| -> BoxFuture<'static, Result<(), BoxError>> {
            let ds = Arc::clone(&ds);
            Box::pin(async move { raw_by_id(&ds, ds.note(i)).await.map(drop) })
        }
    };
    (library, raw)
}

/// Workload 1, concurrent: 32 tasks share a fixed count of selects by id;
/// rounds alternate library and raw. Many short rounds (40 of 2,500
/// selects, not 10 of 10,000): a round's rate swings by a third on a
/// shared VM, and the median of many pairs of neighbours moves less.
async fn by_id_concurrent(ctx: &Context, ds: &Arc<Dataset>, db: &SessionDb) -> Result<Section, BoxError> {
    const TASKS: usize = 32;
    let total = if ctx.smoke { TASKS * 2 } else { 2_500 };
    let rounds = ctx.iterations(40);
    let _ = db;
    let (library, raw) = by_id_tasks(ds);
    if !ctx.smoke {
        throughput(TASKS, total * 2, library.clone()).await?;
        throughput(TASKS, total * 2, raw.clone()).await?;
    }
    let (mut lib, mut raw_rates) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            lib.push(throughput(TASKS, total, library.clone()).await?);
            raw_rates.push(throughput(TASKS, total, raw.clone()).await?);
        } else {
            raw_rates.push(throughput(TASKS, total, raw.clone()).await?);
            lib.push(throughput(TASKS, total, library.clone()).await?);
        }
    }
    let (lib_median, raw_median) = (median_f64(&lib), median_f64(&raw_rates));
    let headline = lib_median / raw_median;
    let range = |v: &[f64]| {
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{min:.0}–{max:.0}")
    };
    Ok(Section {
        title: "reads: one note by id, 32 concurrent tasks (throughput)".to_owned(),
        notes: vec![
            format!(
                "ratio library / raw throughput, medians: **{headline:.3}** ({})",
                Target::AtLeast(0.9).judge(headline)
            ),
            format!(
                "{TASKS} spawned tasks share {total} selects per round, {} rounds each, alternating; \
                 one pool of {} connections for both; the library's selects come from many users' sessions \
                 (64 users, round robin), as a server's do",
                rounds,
                ds.trom.pool().status().max_size
            ),
        ],
        headers: ["variant", "rounds", "median ops/s", "range ops/s", "÷ raw"].map(String::from).to_vec(),
        rows: vec![
            vec![
                "library".into(),
                lib.len().to_string(),
                format!("{lib_median:.0}"),
                range(&lib),
                format!("{headline:.3}"),
            ],
            vec![
                "raw".into(),
                raw_rates.len().to_string(),
                format!("{raw_median:.0}"),
                range(&raw_rates),
                "1.000".into(),
            ],
        ],
    })
}

// ---------------------------------------------------------------------------
// Workload 2: one user's notes with their author.
// ---------------------------------------------------------------------------

/// The statement the library renders, written by hand: the author as a
/// correlated `row_to_json` subquery.
pub(super) const NOTES_WITH_AUTHOR: &str = "\
    SELECT n.id, n.title, n.content, n.user_id, n.created_at, n.updated_at, \
           (SELECT row_to_json(a) FROM (SELECT u.id, u.name, u.email, u.created_at AS \"createdAt\", \
                                               u.updated_at AS \"updatedAt\" \
                                        FROM bench_users u WHERE u.id = n.user_id) a) AS author \
    FROM bench_notes n WHERE n.user_id = $1";

const NOTES_JOIN_AUTHOR: &str = "\
    SELECT n.id, n.title, n.content, n.user_id, n.created_at, n.updated_at, \
           u.id, u.name, u.email, u.created_at, u.updated_at \
    FROM bench_notes n LEFT JOIN bench_users u ON u.id = n.user_id WHERE n.user_id = $1";

fn notes_of_user_sql() -> String {
    format!("SELECT {NOTE_COLUMNS} FROM bench_notes WHERE user_id = $1")
}

fn user_by_id_sql() -> String {
    format!("SELECT {USER_COLUMNS} FROM bench_users WHERE id = $1")
}

type NotesWithAuthor = Vec<(RawNote, Option<RawUser>)>;

async fn library_notes_with_author(
    db: &SessionDb,
    user: DbId,
) -> Result<Vec<(Note, Option<User>)>, BoxError> {
    Ok(db.select(Note::query().filter(Note::USER_ID.eq(user)).with(Note::AUTHOR)).await?)
}

async fn raw_notes_with_author(ds: &Dataset, user: DbId) -> Result<NotesWithAuthor, BoxError> {
    let client = ds.trom.pool().get().await?;
    let statement = client.prepare_cached(NOTES_WITH_AUTHOR).await?;
    let rows = client.query(&statement, &[&user]).await?;
    rows.iter()
        .map(|row| {
            let author: Option<Json<RawUser>> = row.try_get(6)?;
            Ok((RawNote::from_row(row, 0)?, author.map(|a| a.0)))
        })
        .collect()
}

async fn raw_join_notes_with_author(ds: &Dataset, user: DbId) -> Result<NotesWithAuthor, BoxError> {
    let client = ds.trom.pool().get().await?;
    let statement = client.prepare_cached(NOTES_JOIN_AUTHOR).await?;
    let rows = client.query(&statement, &[&user]).await?;
    rows.iter()
        .map(|row| {
            let author = match row.try_get::<_, Option<DbId>>(6)? {
                Some(_) => Some(RawUser::from_row(row, 6)?),
                None => None,
            };
            Ok((RawNote::from_row(row, 0)?, author))
        })
        .collect()
}

/// The naive loop: the notes, then each note's author, one query each.
pub(super) async fn raw_n1_notes_with_author(ds: &Dataset, user: DbId) -> Result<NotesWithAuthor, BoxError> {
    let client = ds.trom.pool().get().await?;
    let notes = client.prepare_cached(&notes_of_user_sql()).await?;
    let author = client.prepare_cached(&user_by_id_sql()).await?;
    let mut out = Vec::new();
    for row in client.query(&notes, &[&user]).await? {
        let note = RawNote::from_row(&row, 0)?;
        let user = match client.query_opt(&author, &[&note.user_id]).await? {
            Some(row) => Some(RawUser::from_row(&row, 0)?),
            None => None,
        };
        out.push((note, user));
    }
    Ok(out)
}

fn same_notes_with_author(lib: &[(Note, Option<User>)], raw: &NotesWithAuthor) -> bool {
    lib.len() == raw.len()
        && lib.iter().all(|(note, user)| {
            raw.iter().any(|(n, u)| {
                n.same_as(note)
                    && match (u, user) {
                        (Some(u), Some(user)) => u.same_as(user),
                        (None, None) => true,
                        _ => false,
                    }
            })
        })
}

async fn notes_with_author(ctx: &Context, ds: &Dataset, db: &SessionDb) -> Result<Section, BoxError> {
    let user = ds.users[0];
    let lib = library_notes_with_author(db, user).await?;
    if lib.len() != ds.per_user
        || !same_notes_with_author(&lib, &raw_notes_with_author(ds, user).await?)
        || !same_notes_with_author(&lib, &raw_join_notes_with_author(ds, user).await?)
        || !same_notes_with_author(&lib, &raw_n1_notes_with_author(ds, user).await?)
    {
        return Err("library and raw disagree on a user's notes with author".into());
    }
    let pick = |i: usize| ds.users[ds.user_index(i)];
    let library =
        || timed("library", move |i| async move { library_notes_with_author(db, pick(i)).await.map(drop) });
    let join = || {
        timed(
            "raw, LEFT JOIN",
            move |i| async move { raw_join_notes_with_author(ds, pick(i)).await.map(drop) },
        )
    };
    // The target's pair alone, then every variant in one mix. In the mix a
    // library read right after the N+1 loop's 101 queries runs ~20 % slower
    // than after the other variants, the hand-written one ~3 % (the cause is
    // not pinned down: not instructions, the allocator or hint bits; see
    // BENCHMARKS.md): reported beside the target, not hidden.
    let measured = interleaved(ctx, 30, 400, &[library(), join()]).await?;
    let mix = interleaved(
        ctx,
        10,
        200,
        &[
            library(),
            timed("raw, correlated subquery", |i| async move {
                raw_notes_with_author(ds, pick(i)).await.map(drop)
            }),
            join(),
            timed("raw, N+1 loop", |i| async move { raw_n1_notes_with_author(ds, pick(i)).await.map(drop) }),
        ],
    )
    .await?;
    let in_mix = |k: usize| ratio(mix.summaries[k].median, mix.summaries[2].median);
    Ok(latency_section(
        &format!("reads: one user's {} notes with `author` embedded", ds.per_user),
        &measured,
        0,
        1,
        Target::AtMost(1.10),
        vec![
            "library: `db.select(Note::query().filter(Note::USER_ID.eq(uid)).with(Note::AUTHOR))` → \
             `Vec<(Note, Option<User>)>`; the author is a `LEFT JOIN LATERAL`, its columns decoded as columns"
                .to_owned(),
            "raw, correlated subquery (the library's statement before): the notes' columns plus `(SELECT row_to_json(a) FROM (SELECT <user columns> \
             ... WHERE u.id = n.user_id) a)`, author decoded with serde (`Json<RawUser>`); \
             LEFT JOIN: the user's columns on every row, decoded by hand; \
             N+1: the notes, then one query per note for its author, on one connection"
                .to_owned(),
            format!(
                "the four variants in one mix ({} rounds, each in a shuffled order), medians ÷ raw, LEFT JOIN: \
                 library **{:.3}**, correlated subquery {:.3}, N+1 loop {:.3}",
                mix.summaries[0].n,
                in_mix(0),
                in_mix(1),
                in_mix(3)
            ),
        ],
    ))
}

// ---------------------------------------------------------------------------
// Workload 3: 50 users, each with their 10 newest notes.
// ---------------------------------------------------------------------------

/// The statement the library renders, written by hand: page the users first,
/// then a correlated `json_agg` of each one's newest notes.
pub(super) const USERS_WITH_NOTES: &str = "\
    SELECT u.id, u.name, u.email, u.created_at, u.updated_at, \
           (SELECT coalesce(json_agg(n), '[]'::json) \
            FROM (SELECT n.id, n.title, n.content, n.user_id AS \"userId\", n.created_at AS \"createdAt\", \
                         n.updated_at AS \"updatedAt\" \
                  FROM bench_notes n WHERE n.user_id = u.id ORDER BY n.created_at DESC LIMIT $1) n) AS notes \
    FROM (SELECT id, name, email, created_at, updated_at FROM bench_users ORDER BY id LIMIT $2 OFFSET $3) u \
    ORDER BY u.id";

/// Users per page and newest notes per user.
pub(super) const PAGE: u64 = 50;
pub(super) const NEWEST: u64 = 10;

/// The page offset iteration `i` reads (pages over all users).
pub(super) fn page_offset(ds: &Dataset, i: usize) -> u64 {
    let pages = (ds.users.len() as u64 / PAGE).max(1);
    (ds.user_index(i) as u64 % pages) * PAGE
}

type UsersWithNotes = Vec<(RawUser, Vec<RawNote>)>;

async fn library_users_with_notes(db: &SessionDb, offset: u64) -> Result<Vec<(User, Vec<Note>)>, BoxError> {
    Ok(db
        .select(
            User::query()
                .order_by(User::ID.asc())
                .limit(PAGE)
                .offset(offset)
                .with(User::NOTES.query().order_by(Note::CREATED_AT.desc()).limit(NEWEST)),
        )
        .await?)
}

async fn raw_users_with_notes(ds: &Dataset, offset: u64) -> Result<UsersWithNotes, BoxError> {
    let client = ds.trom.pool().get().await?;
    let statement = client.prepare_cached(USERS_WITH_NOTES).await?;
    let (newest, page, offset) = (NEWEST as i64, PAGE as i64, offset as i64);
    let rows = client.query(&statement, &[&newest, &page, &offset]).await?;
    rows.iter()
        .map(|row| {
            let notes: Json<Vec<RawNote>> = row.try_get(5)?;
            Ok((RawUser::from_row(row, 0)?, notes.0))
        })
        .collect()
}

/// The naive loop: the page of users, then each one's newest notes.
pub(super) async fn raw_n1_users_with_notes(ds: &Dataset, offset: u64) -> Result<UsersWithNotes, BoxError> {
    let client = ds.trom.pool().get().await?;
    let users = client
        .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM bench_users ORDER BY id LIMIT $1 OFFSET $2"))
        .await?;
    let notes = client
        .prepare_cached(&format!(
            "SELECT {NOTE_COLUMNS} FROM bench_notes WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2"
        ))
        .await?;
    let mut out = Vec::new();
    for row in client.query(&users, &[&(PAGE as i64), &(offset as i64)]).await? {
        let user = RawUser::from_row(&row, 0)?;
        let rows = client.query(&notes, &[&user.id, &(NEWEST as i64)]).await?;
        let notes = rows.iter().map(|r| RawNote::from_row(r, 0)).collect::<Result<_, _>>()?;
        out.push((user, notes));
    }
    Ok(out)
}

fn same_users_with_notes(lib: &[(User, Vec<Note>)], raw: &UsersWithNotes) -> bool {
    lib.len() == raw.len()
        && lib.iter().zip(raw).all(|((user, notes), (u, n))| {
            u.same_as(user) && notes.len() == n.len() && notes.iter().zip(n).all(|(a, b)| b.same_as(a))
        })
}

async fn users_with_notes(ctx: &Context, ds: &Dataset, db: &SessionDb) -> Result<Section, BoxError> {
    let lib = library_users_with_notes(db, 0).await?;
    let expected_users = ds.users.len().min(PAGE as usize);
    if lib.len() != expected_users
        || lib.iter().any(|(_, notes)| notes.len() != ds.per_user.min(NEWEST as usize))
        || !same_users_with_notes(&lib, &raw_users_with_notes(ds, 0).await?)
        || !same_users_with_notes(&lib, &raw_n1_users_with_notes(ds, 0).await?)
    {
        return Err("library and raw disagree on users with their newest notes".into());
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
                raw_n1_users_with_notes(ds, page_offset(ds, i)).await.map(drop)
            }),
        ],
    )
    .await?;
    Ok(latency_section(
        &format!("reads: {PAGE} users, each with their {NEWEST} newest notes (one statement)"),
        &measured,
        0,
        1,
        Target::AtMost(1.10),
        vec![
            "library: `db.select(User::query().order_by(User::ID.asc()).limit(50).offset(k)\
             .with(User::NOTES.query().order_by(Note::CREATED_AT.desc()).limit(10)))` → `Vec<(User, Vec<Note>)>`; \
             pages spread over all users"
                .to_owned(),
            "raw, same statement: users paged in a subquery, then `(SELECT coalesce(json_agg(n), '[]') FROM \
             (SELECT <note columns> ... ORDER BY created_at DESC LIMIT 10) n)` per user, notes decoded with \
             serde (`Json<Vec<RawNote>>`); N+1: the page of users, then one query per user for their notes"
                .to_owned(),
        ],
    ))
}
