//! Run with: `bash scripts/soak.sh` (or `cargo run --release -p soak -- [seconds] [sessions] [kill every s]`).
//!
//! With a third argument, every backend of the soak's database is
//! terminated (`pg_terminate_backend`) that often, as a failover would: no
//! acknowledged write may be lost, no foreign write may get in, and the only
//! errors allowed are batches whose COMMIT outcome was unknown (their rows
//! are then not judged). With `SOAK_POOLER_URL` (a PgBouncer in transaction
//! mode in front of the `DATABASE_URL` server), the library goes through it.
//!
//! A bounded soak on loopback: `sessions` users (default 64), each with its
//! own session, insert, update, delete and read their notes through the
//! library for `seconds` (default 60), and now and then try to change
//! someone else's. Afterwards every user's notes in the database must be
//! exactly the writes the library acknowledged, no write by a non-owner may
//! have succeeded, and the counts must add up. Prints throughput, p50/p99
//! latency and errors as markdown; exits non-zero if an invariant fails.

#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notes_app::{NewNote, Note};
use rand::Rng;
use serde_json::json;
use tokio::sync::Mutex;
use trombase::prelude::*;

/// One user's view of what the library acknowledged.
#[derive(Default)]
struct Acknowledged {
    notes: HashMap<DbId, String>,
    /// Notes whose last write's COMMIT outcome is unknown: not judged.
    uncertain: std::collections::HashSet<DbId>,
}

/// What a worker saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    ops: HashMap<&'static str, u64>,
    unexpected_errors: Vec<String>,
    foreign_writes_refused: u64,
    foreign_writes_accepted: u64,
    commit_unknown: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let sessions: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let kill_every: Option<f64> = args.next().and_then(|a| a.parse().ok());
    let server = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());

    // A scratch database of our own.
    let name = format!("trombase_soak_{:08x}", rand::random::<u32>());
    let (admin, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await?;
    let url = match server.rsplit_once('/') {
        Some((base, _)) if base.contains("://") && base.len() > "postgres://".len() => {
            format!("{base}/{name}")
        }
        _ => return Err("DATABASE_URL must be a postgres:// URL with a database name".into()),
    };
    let library_url = match std::env::var("SOAK_POOLER_URL") {
        Ok(pooler) => match pooler.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}?pgbouncer=true"),
            None => return Err("SOAK_POOLER_URL must be a postgres:// URL".into()),
        },
        Err(_) => url.clone(),
    };
    let killed = Arc::new(AtomicU64::new(0));
    let killer = kill_every
        .map(|every| tokio::spawn(kill_backends(server.clone(), name.clone(), every, Arc::clone(&killed))));
    let outcome = soak(&url, &library_url, seconds, sessions, killer, &killed).await;
    admin.batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await?;
    let passed = outcome?;
    if !passed {
        return Err("an invariant failed".into());
    }
    Ok(())
}

/// Terminates every backend of database `name` every `every` seconds,
/// counting them in `killed`.
async fn kill_backends(server: String, name: String, every: f64, killed: Arc<AtomicU64>) {
    let Ok((admin, connection)) = tokio_postgres::connect(&server, tokio_postgres::NoTls).await else {
        return;
    };
    tokio::spawn(connection);
    loop {
        tokio::time::sleep(Duration::from_secs_f64(every)).await;
        let sql = "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
                   WHERE datname = $1 AND pid <> pg_backend_pid()";
        if let Ok(row) = admin.query_one(sql, &[&name]).await {
            killed.fetch_add(row.get::<_, i64>(0) as u64, Ordering::Relaxed);
        }
    }
}

async fn soak(
    url: &str,
    library_url: &str,
    seconds: u64,
    sessions: usize,
    killer: Option<tokio::task::JoinHandle<()>>,
    killed: &AtomicU64,
) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let trom = trombase::TromBase::builder()
        .database_url(library_url)
        .entity::<notes_app::User>()
        .entity::<Note>()
        .max_connections(32)
        .connect()
        .await?;
    trom.create_tables().await?;
    let mut users = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let signed_in = trom
            .auth
            .register_with_username_password(&format!("soak{i}@example.com"), "correct horse")
            .await?;
        users.push(signed_in.session);
    }
    // Everyone's acknowledged notes, readable by all workers (to aim foreign writes).
    let books: Arc<Vec<Mutex<Acknowledged>>> = Arc::new((0..sessions).map(|_| Mutex::default()).collect());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::with_capacity(sessions);
    for (me, session) in users.iter().cloned().enumerate() {
        let (trom, books) = (trom.clone(), Arc::clone(&books));
        workers.push(tokio::spawn(async move { work(trom, session, me, books, deadline).await }));
    }
    let mut tally = Tally::default();
    for worker in workers {
        let t = worker.await?;
        tally.latencies.extend(t.latencies);
        for (op, n) in t.ops {
            *tally.ops.entry(op).or_default() += n;
        }
        tally.unexpected_errors.extend(t.unexpected_errors);
        tally.foreign_writes_refused += t.foreign_writes_refused;
        tally.foreign_writes_accepted += t.foreign_writes_accepted;
        tally.commit_unknown += t.commit_unknown;
    }
    let elapsed = started.elapsed();
    let kills = match &killer {
        Some(killer) => {
            killer.abort();
            Some(())
        }
        None => None,
    };

    // Invariants, checked against the database directly.
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let mut missing_or_wrong = 0usize;
    let mut expected_total = 0usize;
    for (i, session) in users.iter().enumerate() {
        let book = books[i].lock().await;
        let judged = |id: &DbId| !book.uncertain.contains(id);
        let acknowledged: HashMap<DbId, String> =
            book.notes.iter().filter(|(id, _)| judged(id)).map(|(id, t)| (*id, t.clone())).collect();
        expected_total += acknowledged.len();
        let rows =
            client.query("SELECT id, title FROM notes WHERE user_id = $1", &[&session.user_id]).await?;
        let stored: HashMap<DbId, String> =
            rows.iter().map(|r| (r.get(0), r.get(1))).filter(|(id, _)| judged(id)).collect();
        if stored != acknowledged {
            missing_or_wrong += 1;
        }
    }
    let uncertain: Vec<DbId> = {
        let mut all = Vec::new();
        for book in books.iter() {
            all.extend(book.lock().await.uncertain.iter().copied());
        }
        all
    };
    let total: i64 =
        client.query_one("SELECT count(*) FROM notes WHERE NOT (id = ANY($1))", &[&uncertain]).await?.get(0);
    let stolen: i64 =
        client.query_one("SELECT count(*) FROM notes WHERE title = 'stolen'", &[]).await?.get(0);
    let orphans: i64 = client
        .query_one(
            "SELECT count(*) FROM notes n LEFT JOIN trom_auth_users u ON u.id = n.user_id WHERE u.id IS NULL",
            &[],
        )
        .await?
        .get(0);

    let ops: u64 = tally.ops.values().sum();
    tally.latencies.sort();
    let pct = |p: f64| {
        let i =
            ((tally.latencies.len() as f64 * p).ceil() as usize).clamp(1, tally.latencies.len().max(1)) - 1;
        tally.latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!("### soak: {sessions} sessions, {seconds} s\n");
    println!("| ops | ops/s | p50 ms | p99 ms | max ms | unexpected errors |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {ops} | {:.0} | {:.2} | {:.2} | {:.2} | {} |\n",
        ops as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        pct(1.0),
        tally.unexpected_errors.len()
    );
    let mut kinds: Vec<_> = tally.ops.iter().collect();
    kinds.sort();
    println!(
        "- operations: {}",
        kinds.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
    );
    println!(
        "- writes to another user's note: {} refused, {} accepted (must be 0); notes titled \"stolen\": {stolen} (must be 0)",
        tally.foreign_writes_refused, tally.foreign_writes_accepted
    );
    if kills.is_some() {
        println!(
            "- backends terminated: {}; batches whose COMMIT outcome was unknown: {} (their notes not judged)",
            killed.load(Ordering::Relaxed),
            tally.commit_unknown
        );
    }
    println!(
        "- users whose stored notes differ from the acknowledged writes: {missing_or_wrong} (must be 0)"
    );
    println!("- notes stored {total}, acknowledged {expected_total} (must match); orphaned notes {orphans} (must be 0)");
    for e in tally.unexpected_errors.iter().take(5) {
        println!("- unexpected error: {e}");
    }
    let passed = tally.foreign_writes_accepted == 0
        && stolen == 0
        && missing_or_wrong == 0
        && total as usize == expected_total
        && orphans == 0
        && tally.unexpected_errors.is_empty();
    println!("- invariants: {}", if passed { "**pass**" } else { "**FAIL**" });
    Ok(passed)
}

async fn work(
    trom: trombase::TromBase,
    session: Session,
    me: usize,
    books: Arc<Vec<Mutex<Acknowledged>>>,
    deadline: Instant,
) -> Tally {
    let db = trom.db.with_session(&session);
    let mut tally = Tally::default();
    let mut seq = 0u64;
    while Instant::now() < deadline {
        seq += 1;
        let roll: u32 = rand::thread_rng().gen_range(0..100);
        let mine: Vec<DbId> = books[me].lock().await.notes.keys().copied().collect();
        let pick = |ids: &[DbId]| ids.get(rand::thread_rng().gen_range(0..ids.len().max(1))).copied();
        let started = Instant::now();
        let mut touched = None;
        let (op, result): (&'static str, Result<(), trombase::Error>) = match roll {
            0..=34 => {
                let id = DbId::new();
                let title = format!("n{me}-{seq}");
                touched = Some(id);
                let note =
                    NewNote { id, title: title.clone(), content: "soak".into(), user_id: session.user_id };
                let result = db.do_mutations([Mutation::insert(note)]).await;
                if result.is_ok() {
                    books[me].lock().await.notes.insert(id, title);
                }
                ("insert", result)
            }
            35..=54 if !mine.is_empty() => {
                let id = pick(&mine).unwrap_or_else(DbId::new);
                touched = Some(id);
                let title = format!("u{me}-{seq}");
                let result = db.do_mutations([Mutation::update(id, [Note::TITLE.set(title.as_str())])]).await;
                if result.is_ok() {
                    books[me].lock().await.notes.insert(id, title);
                }
                ("update", result)
            }
            55..=62 if !mine.is_empty() => {
                let id = pick(&mine).unwrap_or_else(DbId::new);
                touched = Some(id);
                let result = db.do_mutations([Mutation::delete::<Note>([id])]).await;
                if result.is_ok() {
                    books[me].lock().await.notes.remove(&id);
                }
                ("delete", result)
            }
            63..=84 => {
                let result =
                    db.select(Note::query().order_by(Note::CREATED_AT.desc()).limit(20)).await.map(|rows| {
                        assert!(
                            rows.iter().all(|n| n.user_id == session.user_id),
                            "a read returned another user's note"
                        );
                    });
                ("select", result)
            }
            85..=94 => {
                let action = json!({"table": "notes", "with": {"author": {"columns": ["email"]}}, "limit": 20,
                                    "orderBy": [{"field": "createdAt", "direction": "desc"}]});
                ("select_json", db.select_json(&action).await.map(|_| ()))
            }
            _ => {
                // Someone else's note: must be refused (or gone already).
                let other = (me + 1 + rand::thread_rng().gen_range(0..books.len().max(2) - 1)) % books.len();
                let theirs: Vec<DbId> = books[other].lock().await.notes.keys().copied().collect();
                match pick(&theirs) {
                    Some(id) if other != me => {
                        match db.do_mutations([Mutation::update(id, [Note::TITLE.set("stolen")])]).await {
                            Ok(()) => tally.foreign_writes_accepted += 1,
                            Err(trombase::Error::Permission(_) | trombase::Error::NotFound(_)) => {
                                tally.foreign_writes_refused += 1
                            }
                            Err(other) => tally.unexpected_errors.push(format!("foreign write: {other}")),
                        }
                        ("foreign_update", Ok(()))
                    }
                    _ => ("foreign_update", Ok(())),
                }
            }
        };
        tally.latencies.push(started.elapsed());
        *tally.ops.entry(op).or_default() += 1;
        match result {
            Ok(()) => {}
            Err(trombase::Error::CommitUnknown(_)) => {
                tally.commit_unknown += 1;
                if let Some(id) = touched {
                    books[me].lock().await.uncertain.insert(id);
                }
            }
            Err(e) => tally.unexpected_errors.push(format!("{op}: {e}")),
        }
    }
    tally
}
