//! The statement modes and PgBouncer: what each costs against raw
//! tokio-postgres.
//!
//! - Statement modes, directly on the server: `Cached` (named statements,
//!   the default), `Unnamed` (what `pgbouncer=true` selects: unnamed
//!   statements, and the statement timeout carried by a `SET LOCAL` in a
//!   transaction around each read), and `Unnamed` without a statement
//!   timeout (single unnamed statements).
//! - By-id throughput at 32 and 512 concurrent tasks, directly and through
//!   PgBouncer in transaction mode (`TROMBASE_BENCH_POOLER_URL`, a PgBouncer
//!   in front of the bench's server; the sections are skipped without it).

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::types::Type;
use trombase::prelude::*;
use trombase::{SessionDb, StatementMode};

use super::measure::{interleaved, latency_section, median_f64, throughput, timed, Target};
use super::reads::NOTE_BY_ID;
use super::seed::{builder, dataset, Dataset, Note, RawNote};
use super::{BoxError, BoxFuture, Context, Report, Section};

/// Starts the workload.
pub fn start(ctx: &Context) -> BoxFuture<'_, Result<Report, BoxError>> {
    Box::pin(run(ctx))
}

async fn run(ctx: &Context) -> Result<Report, BoxError> {
    let ds = dataset(ctx).await?;
    let unnamed = builder(&ctx.database_url).statement_mode(StatementMode::Unnamed).connect().await?;
    let bare = builder(&ctx.database_url)
        .statement_mode(StatementMode::Unnamed)
        .statement_timeout(None::<Duration>)
        .connect()
        .await?;
    let mut report = Report::default();
    report.sections.push(modes_by_id(ctx, &ds, &unnamed, &bare).await?);
    report.sections.push(modes_nested_json(ctx, &ds, &unnamed, &bare).await?);
    match std::env::var("TROMBASE_BENCH_POOLER_URL") {
        Ok(pooler) if !pooler.is_empty() => {
            let name =
                ctx.database_url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default();
            let base = pooler.rsplit_once('/').map_or(pooler.as_str(), |(b, _)| b);
            let url = format!("{base}/{name}?pgbouncer=true");
            let pooled = Arc::new(builder(&url).connect().await?);
            let pooled_bare = Arc::new(builder(&url).statement_timeout(None::<Duration>).connect().await?);
            for tasks in [32, 512] {
                report.sections.push(pooled_throughput(ctx, &ds, [&pooled, &pooled_bare], tasks).await?);
            }
        }
        _ => report.sections.push(Section {
            title: "scale_out: through PgBouncer".into(),
            notes: vec![
                "skipped: set TROMBASE_BENCH_POOLER_URL to a PgBouncer in transaction mode in front of \
                         the bench's server (`source scripts/ensure-pgbouncer.sh` starts one and exports \
                         TROMBASE_TEST_POOLER_URL)"
                    .into(),
            ],
            headers: vec!["variant".into()],
            rows: Vec::new(),
        }),
    }
    Ok(report)
}

fn handle(trom: &TromBase, ds: &Dataset, i: usize) -> SessionDb {
    trom.db.with_session(&ds.session(ds.users[i % ds.users.len()]))
}

async fn library_by_id(db: &SessionDb, id: DbId) -> Result<(), BoxError> {
    let found = db.select(Note::query().filter(Note::ID.eq(id))).await?;
    if found.len() == 1 {
        Ok(())
    } else {
        Err("expected one note".into())
    }
}

async fn raw_prepared(ds: &Dataset, id: DbId) -> Result<(), BoxError> {
    let client = ds.trom.pool().get().await?;
    let statement = client.prepare_cached(NOTE_BY_ID).await?;
    let row = client.query_opt(&statement, &[&id]).await?.ok_or("no such note")?;
    RawNote::from_row(&row, 0)?;
    Ok(())
}

async fn raw_unnamed(trom: &TromBase, id: DbId) -> Result<(), BoxError> {
    let client = trom.pool().get().await?;
    let row = client.query_typed_opt(NOTE_BY_ID, &[(&id, Type::TEXT)]).await?.ok_or("no such note")?;
    RawNote::from_row(&row, 0)?;
    Ok(())
}

async fn modes_by_id(
    ctx: &Context,
    ds: &Dataset,
    unnamed: &TromBase,
    bare: &TromBase,
) -> Result<Section, BoxError> {
    let (cached_db, unnamed_db, bare_db) =
        (handle(&ds.trom, ds, 0), handle(unnamed, ds, 0), handle(bare, ds, 0));
    let measured = interleaved(
        ctx,
        300,
        3000,
        &[
            timed("library, Cached", |i| {
                let db = cached_db.clone();
                async move { library_by_id(&db, ds.note(i)).await }
            }),
            timed("library, Unnamed (timeout in a transaction)", |i| {
                let db = unnamed_db.clone();
                async move { library_by_id(&db, ds.note(i)).await }
            }),
            timed("library, Unnamed, no statement timeout", |i| {
                let db = bare_db.clone();
                async move { library_by_id(&db, ds.note(i)).await }
            }),
            timed("raw, prepared", |i| async move { raw_prepared(ds, ds.note(i)).await }),
            timed("raw, unnamed (query_typed)", |i| async move { raw_unnamed(&ds.trom, ds.note(i)).await }),
        ],
    )
    .await?;
    Ok(latency_section(
        "scale_out: statement modes, one note by id (directly on the server)",
        &measured,
        0,
        3,
        Target::AtMost(1.10),
        vec!["Cached: named statements (the default); Unnamed: what `?pgbouncer=true` selects, each read in a \
              transaction `BEGIN ...; SET LOCAL statement_timeout` sent with the read, its COMMIT not awaited; \
              Unnamed without a statement timeout: one unnamed statement per read. Raw unnamed: \
              `query_typed_opt`, one round trip"
            .into()],
    ))
}

async fn modes_nested_json(
    ctx: &Context,
    ds: &Dataset,
    unnamed: &TromBase,
    bare: &TromBase,
) -> Result<Section, BoxError> {
    let action = |offset: usize| {
        serde_json::json!({"table": "bench_users", "orderBy": [{"field": "id"}], "limit": 50, "offset": offset % 900,
            "with": {"notes": {"limit": 10, "orderBy": [{"field": "createdAt", "direction": "desc"}]}}})
    };
    let (cached_db, unnamed_db, bare_db) =
        (handle(&ds.trom, ds, 0), handle(unnamed, ds, 0), handle(bare, ds, 0));
    let measured = interleaved(
        ctx,
        40,
        300,
        &[
            timed("library, Cached", |i| {
                let db = cached_db.clone();
                async move { db.select_json(&action(i)).await.map(drop).map_err(Into::into) }
            }),
            timed("library, Unnamed (timeout in a transaction)", |i| {
                let db = unnamed_db.clone();
                async move { db.select_json(&action(i)).await.map(drop).map_err(Into::into) }
            }),
            timed("library, Unnamed, no statement timeout", |i| {
                let db = bare_db.clone();
                async move { db.select_json(&action(i)).await.map(drop).map_err(Into::into) }
            }),
        ],
    )
    .await?;
    Ok(latency_section(
        "scale_out: statement modes, 50 users with their 10 newest notes each (JSON)",
        &measured,
        1,
        0,
        Target::AtMost(1.20),
        vec!["the nested JSON read of json_reads, through each mode; the unnamed statement is parsed and \
              planned on every read"
            .into()],
    ))
}

async fn pooled_throughput(
    ctx: &Context,
    ds: &Arc<Dataset>,
    [pooled, pooled_bare]: [&Arc<TromBase>; 2],
    tasks: usize,
) -> Result<Section, BoxError> {
    let total = if ctx.smoke { tasks * 2 } else { 20_000 };
    let rounds = ctx.iterations(5);
    let handles = |trom: &TromBase| -> Arc<Vec<SessionDb>> {
        Arc::new((0..tasks).map(|i| handle(trom, ds, i)).collect())
    };
    let library = |handles: Arc<Vec<SessionDb>>| {
        let ds = Arc::clone(ds);
        move |i: usize| {
            let (ds, handles) = (Arc::clone(&ds), Arc::clone(&handles));
            async move { library_by_id(&handles[i % handles.len()], ds.note(i)).await }
        }
    };
    let direct = library(handles(&ds.trom));
    let through = library(handles(pooled));
    let through_bare = library(handles(pooled_bare));
    let raw_direct = {
        let ds = Arc::clone(ds);
        move |i: usize| {
            let ds = Arc::clone(&ds);
            async move { raw_prepared(&ds, ds.note(i)).await }
        }
    };
    let raw_through = {
        let (ds, pooled) = (Arc::clone(ds), Arc::clone(pooled));
        move |i: usize| {
            let (ds, pooled) = (Arc::clone(&ds), Arc::clone(&pooled));
            async move { raw_unnamed(&pooled, ds.note(i)).await }
        }
    };
    let mut rates: [Vec<f64>; 5] = Default::default();
    for round in 0..rounds {
        for k in 0..5 {
            let k = (k + round) % 5;
            let rate = match k {
                0 => throughput(tasks, total, direct.clone()).await?,
                1 => throughput(tasks, total, through.clone()).await?,
                2 => throughput(tasks, total, through_bare.clone()).await?,
                3 => throughput(tasks, total, raw_direct.clone()).await?,
                _ => throughput(tasks, total, raw_through.clone()).await?,
            };
            rates[k].push(rate);
        }
    }
    let names = [
        "library, direct (Cached)",
        "library, through PgBouncer (Unnamed, timeout per transaction)",
        "library, through PgBouncer (Unnamed, no statement timeout)",
        "raw, direct (prepared)",
        "raw, through PgBouncer (query_typed)",
    ];
    let medians: Vec<f64> = rates.iter().map(|r| median_f64(r)).collect();
    Ok(Section {
        title: format!("scale_out: by-id throughput, {tasks} concurrent tasks, direct and through PgBouncer"),
        notes: vec![
            format!(
                "library through PgBouncer / library direct: **{:.3}**; library / raw, both through PgBouncer: \
                 **{:.3}** with the statement timeout carried per read, **{:.3}** without one",
                medians[1] / medians[0],
                medians[1] / medians[4],
                medians[2] / medians[4]
            ),
            format!(
                "{tasks} tasks share {total} selects per round, {rounds} rounds, order rotating; each library select \
                 is one of {tasks} users'; pools of 16 connections; PgBouncer 1.18 in transaction mode, default settings"
            ),
        ],
        headers: ["variant", "median ops/s", "÷ library direct"].map(String::from).to_vec(),
        rows: names
            .iter()
            .zip(&medians)
            .map(|(name, m)| vec![(*name).to_owned(), format!("{m:.0}"), format!("{:.3}", m / medians[0])])
            .collect(),
    })
}
