//! The reference app's select route over loopback HTTP, against a
//! hand-written axum + tokio-postgres handler doing the same session lookup
//! and select ([`raw_app`]): requests per second under 64 keep-alive
//! connections and the app's CPU time per request. Each server runs in a
//! process of its own ([`server`]); the load comes from [`load`], in the
//! bench's process.

mod load;
mod raw_app;
pub mod server;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value as Json;
use trombase::prelude::*;

use super::measure::{median_f64, Target};
use super::{BoxError, BoxFuture, Context, Report, Section};
use load::{drive, post, Connection, Load};
use server::{database_cpu_time, App, Server};

/// Connections driving each server (as wrk `-c 64`).
const CONNECTIONS: usize = 64;
/// The body every request sends: the signed-in user's notes.
const SELECT_BODY: &str = r#"{"action":{"table":"notes"}}"#;
const SELECT_PATH: &str = "/api/db/select";

/// Starts the workload.
pub fn start(ctx: &Context) -> BoxFuture<'_, Result<Report, BoxError>> {
    Box::pin(run(ctx))
}

/// What one round of load on one server measured.
struct Round {
    per_second: f64,
    cpu_per_request: Duration,
    database_cpu_per_request: Duration,
}

async fn run(ctx: &Context) -> Result<Report, BoxError> {
    let (users, per_user) = if ctx.smoke { (4, 5) } else { (20, 50) };
    let tokens = seed(ctx, users, per_user).await?;
    let library = Server::start(App::Library, &ctx.database_url)?;
    let raw = Server::start(App::Raw, &ctx.database_url)?;
    let requests: Vec<Vec<u8>> =
        (0..CONNECTIONS).map(|k| post(SELECT_PATH, &tokens[k % tokens.len()], SELECT_BODY)).collect();
    same_answers(&library, &raw, &requests[0], per_user).await?;

    let (warm_up, rounds, length) = if ctx.smoke {
        (Duration::ZERO, 1, Duration::from_millis(300))
    } else {
        (Duration::from_secs(2), 9, Duration::from_secs(3))
    };
    let servers =
        [("library (the reference app's route)", &library), ("raw, hand-written axum handler", &raw)];
    if !warm_up.is_zero() {
        for (_, server) in servers {
            drive(server.addr, &requests, warm_up).await?;
        }
    }
    let mut measured: [Vec<Round>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        for k in 0..servers.len() {
            let index = (round + k) % servers.len();
            measured[index].push(one_round(servers[index].1, &requests, length).await?);
        }
    }
    revoking_takes_effect_at_once(ctx, &library).await?;

    let rps: Vec<f64> = measured.iter().map(|rounds| median_f64(&per_second(rounds))).collect();
    let cpu: Vec<f64> =
        measured.iter().map(|rounds| median_f64(&cpu_micros(rounds, |r| r.cpu_per_request))).collect();
    let database: Vec<f64> = measured
        .iter()
        .map(|rounds| median_f64(&cpu_micros(rounds, |r| r.database_cpu_per_request)))
        .collect();
    let slowdown = rps[1] / rps[0];
    let target = Target::AtMost(1.15);
    let mut section = Section {
        title: format!(
            "http: the reference app's select route, {users} users × {per_user} notes, {CONNECTIONS} connections"
        ),
        notes: vec![
            format!(
                "ratio raw req/s / library req/s, medians: **{slowdown:.3}** ({}); app CPU per request library / \
                 raw: {:.3}",
                target.judge(slowdown),
                cpu[0] / cpu[1]
            ),
            format!(
                "each request: `POST {SELECT_PATH}` with `{SELECT_BODY}` and a bearer token (connection k signs in \
                 as user k mod {users}); the answer: the user's {per_user} notes as a JSON array"
            ),
            "library: `examples/notes_app` as its `main` serves it (`notes_app::connect`, `notes_app::serve`: the \
             library's router, JSON errors, the trace layer; no log subscriber): the session lookup (one \
             statement), the action parsed and checked, the owner row filter, one select, the rows as JSON"
                .to_owned(),
            "raw: `bench/src/workloads/http/raw_app.rs`: the token's SHA-256 looked up in `trom_auth_sessions` \
             (one prepared statement), `SELECT <columns> FROM notes WHERE user_id = $1` (prepared), the rows \
             into a `#[derive(Serialize)]` struct, `serde_json::to_vec`; the same pool"
                .to_owned(),
            format!(
                "each server a process of its own (the default multi-threaded runtime) on 2 cores shared with the \
                 load generator and PostgreSQL; {rounds} rounds of {} s per server, interleaved, after {} s of \
                 warm-up; app CPU: the server process's user + system time over the round ÷ its requests; PostgreSQL \
                 CPU: the same of every `postgres` process of the machine (the database is local)",
                length.as_secs_f64(),
                warm_up.as_secs_f64()
            ),
        ],
        headers: vec![
            "variant".into(),
            "rounds".into(),
            "req/s (median)".into(),
            "app CPU per request (median)".into(),
            "PostgreSQL CPU per request (median)".into(),
            "req/s ÷ raw".into(),
        ],
        rows: Vec::new(),
    };
    for (i, (name, _)) in servers.iter().enumerate() {
        section.rows.push(vec![
            (*name).to_owned(),
            measured[i].len().to_string(),
            format!("{:.0}", rps[i]),
            format!("{:.1} µs", cpu[i]),
            format!("{:.1} µs", database[i]),
            format!("{:.3}", rps[i] / rps[1]),
        ]);
    }
    Ok(Report { sections: vec![section] })
}

async fn one_round(server: &Server, requests: &[Vec<u8>], length: Duration) -> Result<Round, BoxError> {
    let (cpu_before, database_before) = (server.cpu_time()?, database_cpu_time()?);
    let load: Load = drive(server.addr, requests, length).await?;
    let cpu = server.cpu_time()?.saturating_sub(cpu_before);
    let database = database_cpu_time()?.saturating_sub(database_before);
    let n = load.requests.max(1) as u32;
    Ok(Round {
        per_second: load.per_second(),
        cpu_per_request: cpu / n,
        database_cpu_per_request: database / n,
    })
}

fn per_second(rounds: &[Round]) -> Vec<f64> {
    rounds.iter().map(|r| r.per_second).collect()
}

fn cpu_micros(rounds: &[Round], of: fn(&Round) -> Duration) -> Vec<f64> {
    rounds.iter().map(|r| of(r).as_secs_f64() * 1e6).collect()
}

/// `users` registered users with `per_user` notes each; their session tokens.
async fn seed(ctx: &Context, users: usize, per_user: usize) -> Result<Vec<String>, BoxError> {
    let trom = notes_app::connect(&ctx.database_url).await?;
    let mut tokens = Vec::with_capacity(users);
    for u in 0..users {
        let signed_in = trom
            .auth
            .register_with_username_password(&format!("http{u}@bench.test"), "a long bench password")
            .await?;
        let session = signed_in.session;
        let notes = (0..per_user).map(|n| {
            Mutation::insert(notes_app::NewNote {
                id: DbId::new(),
                title: format!("Note {n} of user {u}"),
                content: "x".repeat(136),
                user_id: session.user_id,
            })
        });
        trom.db.with_session(&session).do_mutations(notes).await?;
        tokens.push(session.token.clone().ok_or("a new session without its token")?);
    }
    Ok(tokens)
}

/// Both servers answer the same notes (by id), and as many as seeded.
async fn same_answers(
    library: &Server,
    raw: &Server,
    request: &[u8],
    per_user: usize,
) -> Result<(), BoxError> {
    let ids = |body: &[u8]| -> Result<BTreeSet<String>, BoxError> {
        let rows: Vec<Json> = serde_json::from_slice(body)?;
        Ok(rows.iter().filter_map(|row| row["id"].as_str().map(str::to_owned)).collect())
    };
    let from_library = ids(Connection::open(library.addr).await?.exchange(request).await?)?;
    let from_raw = ids(Connection::open(raw.addr).await?.exchange(request).await?)?;
    if from_library != from_raw || from_library.len() != per_user {
        return Err(format!(
            "the library answered {} notes, the hand-written handler {}, not the same {per_user}",
            from_library.len(),
            from_raw.len()
        )
        .into());
    }
    Ok(())
}

/// A session ended is refused on the very next request (no session cache
/// stands between the route and the sessions table).
async fn revoking_takes_effect_at_once(ctx: &Context, library: &Server) -> Result<(), BoxError> {
    let trom = notes_app::connect(&ctx.database_url).await?;
    let signed_in =
        trom.auth.register_with_username_password("http-revoked@bench.test", "a long bench password").await?;
    let token = signed_in.session.token.ok_or("a new session without its token")?;
    let request = post(SELECT_PATH, &token, SELECT_BODY);
    let mut connection = Connection::open(library.addr).await?;
    connection.exchange(&request).await?;
    trom.auth.invalidate_session_token(&token).await?;
    match connection.exchange(&request).await {
        Err(e) if e.to_string().contains("answered 401") => Ok(()),
        Err(e) => Err(e),
        Ok(_) => Err("a logged-out session still read notes".into()),
    }
}
