//! Auth: login time for unknown vs known emails (the enumeration check),
//! absolute login time at the configured argon2 parameters, and the cost of
//! a session lookup per request against the same lookup in raw
//! tokio-postgres.

use std::time::{Duration, Instant};

use base64::Engine;
use sha2::{Digest, Sha256};
use tokio_postgres::NoTls;
use trombase::{AuthConfig, AuthErrorCode, Error, Limit, RateLimits, TromBase};

use super::{BoxError, BoxFuture, Context, Report, Section};
use crate::stats::{ms, ratio, us, Summary};

const EMAIL: &str = "known@bench.test";
const PASSWORD: &str = "correct horse battery staple";

/// Starts the workload.
pub fn start(ctx: &Context) -> BoxFuture<'_, Result<Report, BoxError>> {
    Box::pin(run(ctx))
}

async fn run(ctx: &Context) -> Result<Report, BoxError> {
    // The limiter stays out of the way: the workload times the logins
    // themselves (a failed login costs one limiter hit more).
    let unlimited = Limit::per_minutes(u32::MAX, 1);
    let config = AuthConfig::default().rate_limits(RateLimits::default().login_failures_per_email(unlimited));
    let trom =
        TromBase::builder().database_url(&ctx.database_url).auth_config(config.clone()).connect().await?;
    trom.create_tables().await?;
    let signed_in = trom.auth.register_with_username_password(EMAIL, PASSWORD).await?;
    let token = signed_in.session.token.clone().ok_or("registration returned no token")?;

    let mut report = Report::default();
    report.sections.push(logins(ctx, &trom, &config).await?);
    report.sections.push(session_lookups(ctx, &trom, &token).await?);
    report.sections.push(limiter_hits(ctx).await?);
    Ok(report)
}

#[derive(Clone, Copy)]
enum Login {
    UnknownEmail,
    KnownWrongPassword,
    KnownRightPassword,
}

const LOGINS: [Login; 3] = [Login::UnknownEmail, Login::KnownWrongPassword, Login::KnownRightPassword];

async fn login_once(trom: &TromBase, kind: Login, i: usize) -> Result<Duration, BoxError> {
    let unknown = format!("nobody-{i}@bench.test");
    let (email, password, should_succeed) = match kind {
        Login::UnknownEmail => (unknown.as_str(), PASSWORD, false),
        Login::KnownWrongPassword => (EMAIL, "a wrong password", false),
        Login::KnownRightPassword => (EMAIL, PASSWORD, true),
    };
    let started = Instant::now();
    let result = trom.auth.login_with_username_password(email, password).await;
    let took = started.elapsed();
    match (result, should_succeed) {
        (Ok(_), true) => Ok(took),
        (Err(Error::Auth(e)), false) if e.code == AuthErrorCode::InvalidCredentials => Ok(took),
        (Ok(_), false) => Err("a login that should fail succeeded".into()),
        (Err(e), _) => Err(e.into()),
    }
}

/// Logins of the three kinds, interleaved (the order rotates each round so
/// none always runs first), one at a time.
async fn logins(ctx: &Context, trom: &TromBase, config: &AuthConfig) -> Result<Section, BoxError> {
    for i in 0..ctx.warm_up(5) {
        for kind in LOGINS {
            login_once(trom, kind, i).await?;
        }
    }
    let mut samples: [Vec<Duration>; 3] = Default::default();
    for round in 0..ctx.iterations(150) {
        for k in 0..LOGINS.len() {
            let index = (round + k) % LOGINS.len();
            samples[index].push(login_once(trom, LOGINS[index], round).await?);
        }
    }
    let [unknown, wrong, right] = samples.map(|s| Summary::of(&s));
    let (unknown, wrong, right) =
        (unknown.ok_or("no samples")?, wrong.ok_or("no samples")?, right.ok_or("no samples")?);
    let row = |name: &str, s: Summary| vec![name.to_owned(), s.n.to_string(), ms(s.median), ms(s.p99)];
    Ok(Section {
        title: "auth: login (sequential, interleaved)".to_owned(),
        notes: vec![
            format!("argon2id {}; at most {} hashes at once", config.argon2, config.max_concurrent_hashes),
            format!(
                "ratio unknown email / known email (wrong password), medians: **{:.3}**",
                ratio(unknown.median, wrong.median)
            ),
            format!(
                "ratio unknown email / known email (right password), medians: **{:.3}**",
                ratio(unknown.median, right.median)
            ),
        ],
        headers: ["login", "n", "median ms", "p99 ms"].map(String::from).to_vec(),
        rows: vec![
            row("unknown email", unknown),
            row("known email, wrong password", wrong),
            row("known email, right password", right),
        ],
    })
}

/// `get_session_by_token` per request vs the same lookup (hash the token,
/// one prepared query on one connection) in raw tokio-postgres,
/// alternating in blocks.
async fn session_lookups(ctx: &Context, trom: &TromBase, token: &str) -> Result<Section, BoxError> {
    const RAW_SQL: &str = "SELECT id, user_id, expires_at FROM trom_auth_sessions \
                           WHERE token_hash = $1 AND invalidated_at IS NULL AND expires_at > now()";
    let (client, connection) = tokio_postgres::connect(&ctx.database_url, NoTls).await?;
    let connection = tokio::spawn(connection);
    let statement = client.prepare(RAW_SQL).await?;

    let library = || async {
        let started = Instant::now();
        let found = trom.auth.get_session_by_token(token).await?;
        let took = started.elapsed();
        found.map(|_| took).ok_or_else(|| BoxError::from("the library found no session"))
    };
    let raw = || async {
        let started = Instant::now();
        // As both libraries store it: SHA-256 of the token's 32 bytes.
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token)?;
        let hash = hex(&Sha256::digest(&bytes));
        let row = client.query_opt(&statement, &[&hash]).await?.ok_or("raw found no session")?;
        let decoded: (String, String, chrono::DateTime<chrono::Utc>) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let took = started.elapsed();
        drop(decoded);
        Ok::<_, BoxError>(took)
    };

    for _ in 0..ctx.warm_up(300) {
        library().await?;
        raw().await?;
    }
    const BLOCK: usize = 100;
    let blocks = ctx.iterations(30);
    let (mut lib_samples, mut raw_samples) = (Vec::new(), Vec::new());
    for block in 0..blocks {
        let per_block = if ctx.smoke { 1 } else { BLOCK };
        for _ in 0..per_block {
            if block % 2 == 0 {
                lib_samples.push(library().await?);
                raw_samples.push(raw().await?);
            } else {
                raw_samples.push(raw().await?);
                lib_samples.push(library().await?);
            }
        }
    }
    drop(client);
    connection.await??;

    let lib = Summary::of(&lib_samples).ok_or("no samples")?;
    let raw = Summary::of(&raw_samples).ok_or("no samples")?;
    let row = |name: &str, s: Summary| vec![name.to_owned(), s.n.to_string(), us(s.median), us(s.p99)];
    Ok(Section {
        title: "auth: session lookup per request".to_owned(),
        notes: vec![format!(
            "ratio library / raw tokio-postgres, medians: **{:.3}** (library: pool checkout + cached statement; \
             raw: one held connection, statement prepared once; both hash the token)",
            ratio(lib.median, raw.median)
        )],
        headers: ["lookup", "n", "median µs", "p99 µs"].map(String::from).to_vec(),
        rows: vec![row("trom.auth.get_session_by_token", lib), row("raw tokio-postgres", raw)],
    })
}

/// One counted event (what a failed login, a registration or a reset
/// request adds): the in-process limiter, the database limiter, and the
/// database limiter's statement in raw tokio-postgres on one held
/// connection, interleaved.
async fn limiter_hits(ctx: &Context) -> Result<Section, BoxError> {
    const RAW_SQL: &str = "INSERT INTO trom_auth_rate_limits AS r (key_hash, window_ends_at, hits) \
        VALUES ($1, now() + $2::bigint * interval '1 millisecond', 1) \
        ON CONFLICT (key_hash) DO UPDATE SET \
          hits = CASE WHEN r.window_ends_at <= now() THEN 1 ELSE r.hits + 1 END, \
          window_ends_at = CASE WHEN r.window_ends_at <= now() THEN EXCLUDED.window_ends_at ELSE r.window_ends_at END \
        RETURNING hits, (extract(epoch FROM window_ends_at - now()) * 1000)::bigint AS remaining_ms";
    let in_process = TromBase::builder().database_url(&ctx.database_url).connect().await?;
    let database =
        TromBase::builder().database_url(&ctx.database_url).rate_limits_in_database().connect().await?;
    database.create_tables().await?;
    let (client, connection) = tokio_postgres::connect(&ctx.database_url, NoTls).await?;
    let connection = tokio::spawn(connection);
    let statement = client.prepare(RAW_SQL).await?;
    let limit = Limit::per_minutes(u32::MAX, 60);
    async fn time(trom: &TromBase, key: String, limit: Limit) -> Result<Duration, BoxError> {
        let started = Instant::now();
        trom.auth.limiter().hit(&key, limit).await?;
        Ok(started.elapsed())
    }
    let raw = |key: String| {
        let (client, statement) = (&client, &statement);
        async move {
            let started = Instant::now();
            let hash = hex(&Sha256::digest(key.as_bytes()));
            let row = client.query_one(statement, &[&hash, &3_600_000_i64]).await?;
            let _: (i32, i64) = (row.try_get(0)?, row.try_get(1)?);
            Ok::<_, BoxError>(started.elapsed())
        }
    };
    let keys = 50;
    let key = |i: usize| format!("login:email:user{}@bench.test", i % keys);
    for i in 0..ctx.warm_up(200) {
        time(&in_process, key(i), limit).await?;
        time(&database, key(i), limit).await?;
        raw(format!("raw:{}", key(i))).await?;
    }
    let mut samples: [Vec<Duration>; 3] = Default::default();
    for i in 0..ctx.iterations(3000) {
        for k in 0..3 {
            let which = (i + k) % 3;
            samples[which].push(match which {
                0 => time(&in_process, key(i), limit).await?,
                1 => time(&database, key(i), limit).await?,
                _ => raw(format!("raw:{}", key(i))).await?,
            });
        }
    }
    drop(client);
    connection.await??;
    let [mem, db, raw] = samples.map(|s| Summary::of(&s));
    let (mem, db, raw) = (mem.ok_or("no samples")?, db.ok_or("no samples")?, raw.ok_or("no samples")?);
    let row = |name: &str, s: Summary| vec![name.to_owned(), s.n.to_string(), us(s.median), us(s.p99)];
    Ok(Section {
        title: "auth: one counted limiter event".to_owned(),
        notes: vec![format!(
            "ratio DatabaseLimiter / raw tokio-postgres (same statement), medians: **{:.3}** \
             (library: pool checkout + cached statement + key hash; raw: one held connection, key hash)",
            ratio(db.median, raw.median)
        )],
        headers: ["limiter", "n", "median µs", "p99 µs"].map(String::from).to_vec(),
        rows: vec![
            row("InProcessLimiter::hit", mem),
            row("DatabaseLimiter::hit", db),
            row("raw tokio-postgres", raw),
        ],
    })
}

/// Lowercase hex, as the library stores token hashes.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}
