//! Relation filters and pages, against the same reads written by hand in
//! raw tokio-postgres: a multi-tenant rule (notes of the teams I am a member
//! of) as one row filter through two relations, a page of it with its total,
//! and the next page by cursor.
//!
//! Seeded here, in tables of its own: 200 teams, 1,000 users in 3 teams
//! each, 250 notes per team (50,000); smoke mode: 10 teams, 20 users, 20
//! notes per team.

use chrono::TimeDelta;
use tokio_postgres::Row;
use trombase::prelude::*;
use trombase::query::Cursor;
use trombase::SessionDb;

use super::measure::{interleaved, latency_section, timed, Target};
use super::{BoxError, BoxFuture, Context, Report, Section};

/// A team.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "bench_teams")]
#[relation(memberships = resolves_to_many(Membership, team_id -> id))]
#[permit(read = allow_all)]
pub struct Team {
    /// The id.
    pub id: DbId,
    /// The name.
    pub name: String,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

/// A user's membership of a team.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "bench_memberships")]
#[relation(team = points_to(Team, team_id -> id))]
#[permit(read = allow_all)]
pub struct Membership {
    /// The id.
    pub id: DbId,
    /// The team.
    pub team_id: DbId,
    /// The member.
    pub user_id: DbId,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

/// A note of a team, readable by the team's members.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "bench_team_notes")]
#[relation(team = points_to(Team, team_id -> id))]
#[permit(read = notes_of_my_teams)]
pub struct TeamNote {
    /// The id.
    pub id: DbId,
    /// The team.
    pub team_id: DbId,
    /// The title.
    pub title: String,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

async fn allow_all<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

/// The tenant rule: one row filter through two relations.
async fn notes_of_my_teams(session: &Session, _: &Sql<'_>, _: &Operation<'_, TeamNote>) -> Permit<TeamNote> {
    Permit::filter(TeamNote::TEAM.any(Team::MEMBERSHIPS.any(Membership::USER_ID.eq(session.user_id))))
}

/// Starts the workload.
pub fn start(ctx: &Context) -> BoxFuture<'_, Result<Report, BoxError>> {
    Box::pin(run(ctx))
}

struct World {
    trom: TromBase,
    users: Vec<DbId>,
}

impl World {
    fn db(&self, i: usize) -> (SessionDb, DbId) {
        let user = self.users[i.wrapping_mul(7_919).wrapping_add(13) % self.users.len()];
        let session = Session {
            id: DbId::new(),
            user_id: user,
            expires_at: Utc::now() + TimeDelta::hours(6),
            token: None,
        };
        (self.trom.db.with_session(&session), user)
    }
}

async fn run(ctx: &Context) -> Result<Report, BoxError> {
    let world = seed(ctx).await?;
    let mut report = Report::default();
    report.sections.push(rule_read(ctx, &world).await?);
    report.sections.push(first_page(ctx, &world).await?);
    report.sections.push(next_page(ctx, &world).await?);
    Ok(report)
}

async fn seed(ctx: &Context) -> Result<World, BoxError> {
    let (teams_n, users_n, per_team) = if ctx.smoke { (10, 20, 20) } else { (200, 1_000, 250) };
    let trom = TromBase::builder()
        .database_url(&ctx.database_url)
        .entity::<Team>()
        .entity::<Membership>()
        .entity::<TeamNote>()
        .max_connections(8)
        .connect()
        .await?;
    trom.create_tables().await?;
    let t0 = Utc::now() - TimeDelta::days(30);
    let teams: Vec<DbId> = (0..teams_n).map(|_| DbId::new()).collect();
    let names: Vec<String> = (0..teams_n).map(|t| format!("Team {t}")).collect();
    let users: Vec<DbId> = (0..users_n).map(|_| DbId::new()).collect();
    let (mut m_ids, mut m_teams, mut m_users) = (Vec::new(), Vec::new(), Vec::new());
    for (u, user) in users.iter().enumerate() {
        for k in 0..3 {
            m_ids.push(DbId::new());
            m_teams.push(teams[(u * 7 + k * 61) % teams_n]);
            m_users.push(*user);
        }
    }
    let (mut n_ids, mut n_teams, mut n_titles, mut n_times) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (t, team) in teams.iter().enumerate() {
        for k in 0..per_team {
            n_ids.push(DbId::new());
            n_teams.push(*team);
            n_titles.push(format!("Note {k} of team {t}"));
            // Ties on purpose (every 5 notes share a time): the cursor's id breaks them.
            n_times.push(t0 + TimeDelta::minutes((k / 5) as i64) + TimeDelta::milliseconds(t as i64));
        }
    }
    let client = trom.pool().get().await?;
    client
        .execute(
            "INSERT INTO bench_teams (id, name, created_at, updated_at) \
             SELECT id, name, $3, $3 FROM unnest($1::text[], $2::text[]) AS s(id, name)",
            &[&teams, &names, &t0],
        )
        .await?;
    client
        .execute(
            "INSERT INTO bench_memberships (id, team_id, user_id, created_at, updated_at) \
             SELECT id, team_id, user_id, $4, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS s(id, team_id, user_id)",
            &[&m_ids, &m_teams, &m_users, &t0],
        )
        .await?;
    client
        .execute(
            "INSERT INTO bench_team_notes (id, team_id, title, created_at, updated_at) \
             SELECT id, team_id, title, t, t FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) \
             AS s(id, team_id, title, t)",
            &[&n_ids, &n_teams, &n_titles, &n_times],
        )
        .await?;
    // Indexes a hand-written schema would have, serving both sides alike.
    client
        .batch_execute(
            "CREATE INDEX IF NOT EXISTS bench_memberships_user ON bench_memberships (user_id, team_id); \
             CREATE INDEX IF NOT EXISTS bench_team_notes_page ON bench_team_notes (team_id, created_at DESC, id)",
        )
        .await?;
    // Hint bits set before measuring (VACUUM refuses a multi-statement string).
    for table in ["bench_teams", "bench_memberships", "bench_team_notes"] {
        client.batch_execute(&format!("VACUUM ANALYZE {table}")).await?;
    }
    drop(client);
    Ok(World { trom, users })
}

/// A note as the raw side decodes it.
fn raw_note(row: &Row) -> Result<TeamNote, tokio_postgres::Error> {
    Ok(TeamNote {
        id: row.try_get(0)?,
        team_id: row.try_get(1)?,
        title: row.try_get(2)?,
        created_at: row.try_get(3)?,
        updated_at: row.try_get(4)?,
    })
}

const COLUMNS: &str = "n.id, n.team_id, n.title, n.created_at, n.updated_at";
/// The rule, as a hand-written query states it.
const MY_TEAMS: &str = "EXISTS (SELECT 1 FROM bench_teams t WHERE t.id = n.team_id AND \
                        EXISTS (SELECT 1 FROM bench_memberships m WHERE m.team_id = t.id AND m.user_id = $1))";
/// The same rule without the hop through teams (the shortest SQL for it).
const MY_TEAMS_SHORT: &str =
    "EXISTS (SELECT 1 FROM bench_memberships m WHERE m.team_id = n.team_id AND m.user_id = $1)";

async fn raw(
    world: &World,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Row>, BoxError> {
    let client = world.trom.pool().get().await?;
    let statement = client.prepare_cached(sql).await?;
    Ok(client.query(&statement, params).await?)
}

fn newest() -> trombase::query::Query<TeamNote> {
    TeamNote::query().order_by(TeamNote::CREATED_AT.desc()).limit(50)
}

async fn rule_read(ctx: &Context, world: &World) -> Result<Section, BoxError> {
    let same = format!(
        "SELECT {COLUMNS} FROM bench_team_notes n WHERE {MY_TEAMS} ORDER BY n.created_at DESC LIMIT 50"
    );
    let short = format!(
        "SELECT {COLUMNS} FROM bench_team_notes n WHERE {MY_TEAMS_SHORT} ORDER BY n.created_at DESC LIMIT 50"
    );
    let (db, user) = world.db(0);
    let lib = db.select(newest()).await?;
    let hand = raw(world, &same, &[&user]).await?;
    if lib.len() != hand.len()
        || lib.iter().zip(&hand).any(|(l, r)| raw_note(r).map(|r| r.created_at).ok() != Some(l.created_at))
    {
        return Err("library and raw disagree on notes of my teams".into());
    }
    let (same, short) = (&same, &short);
    let measured = interleaved(
        ctx,
        200,
        2000,
        &[
            timed("library", |i| async move {
                let (db, _) = world.db(i);
                db.select(newest()).await.map(drop).map_err(Into::into)
            }),
            timed("raw, same SQL", |i| async move {
                let (_, user) = world.db(i);
                let rows = raw(world, same, &[&user]).await?;
                rows.iter().map(raw_note).collect::<Result<Vec<_>, _>>()?;
                Ok(())
            }),
            timed("raw, shortest SQL", |i| async move {
                let (_, user) = world.db(i);
                let rows = raw(world, short, &[&user]).await?;
                rows.iter().map(raw_note).collect::<Result<Vec<_>, _>>()?;
                Ok(())
            }),
        ],
    )
    .await?;
    Ok(latency_section(
        "relation filters: notes of my teams, newest 50 (one row filter through two relations)",
        &measured,
        0,
        1,
        Target::AtMost(1.10),
        vec![
            "library: `db.select(TeamNote::query().order_by(TeamNote::CREATED_AT.desc()).limit(50))` under the \
             read rule `Permit::filter(TeamNote::TEAM.any(Team::MEMBERSHIPS.any(Membership::USER_ID.eq(me))))`"
                .to_owned(),
            format!("raw, same SQL: `... WHERE {MY_TEAMS} ORDER BY created_at DESC LIMIT 50`, prepared"),
            format!("raw, shortest SQL: `... WHERE {MY_TEAMS_SHORT} ...` (skips the hop through teams)"),
        ],
    ))
}

/// The first page with its total, as a hand-written query gets both in one
/// statement: the count as a scalar subquery, one row more than the page.
fn page_sql() -> String {
    format!(
        "SELECT {COLUMNS}, (SELECT count(*) FROM bench_team_notes n WHERE {MY_TEAMS}) \
         FROM bench_team_notes n WHERE {MY_TEAMS} ORDER BY n.created_at DESC, n.id LIMIT 51"
    )
}

async fn first_page(ctx: &Context, world: &World) -> Result<Section, BoxError> {
    let sql = page_sql();
    let (db, user) = world.db(0);
    let page = db.page(newest(), None).await?;
    let hand = raw(world, &sql, &[&user]).await?;
    let total: i64 = hand.first().map_or(0, |r| r.get(5));
    if page.total != Some(total as u64) || page.rows.len() != hand.len().min(50) {
        return Err("library and raw disagree on the first page".into());
    }
    let sql = &sql;
    let measured = interleaved(
        ctx,
        200,
        2000,
        &[
            timed("library", |i| async move {
                let (db, _) = world.db(i);
                db.page(newest(), None).await.map(drop).map_err(Into::into)
            }),
            timed("raw, same result", |i| async move {
                let (_, user) = world.db(i);
                let rows = raw(world, sql, &[&user]).await?;
                rows.iter().take(50).map(raw_note).collect::<Result<Vec<_>, _>>()?;
                let _total: Option<i64> = rows.first().map(|r| r.get(5));
                Ok(())
            }),
        ],
    )
    .await?;
    Ok(latency_section(
        "pages: the first 50 notes of my teams with their total",
        &measured,
        0,
        1,
        Target::AtMost(1.10),
        vec![
            "library: `db.page(newest, None)`: rows, total (counted in the same statement, row filter applied) \
             and the next cursor"
                .to_owned(),
            "raw: the same rows and total in one statement: `SELECT <columns>, (SELECT count(*) ... WHERE <rule>) \
             FROM ... WHERE <rule> ORDER BY created_at DESC, id LIMIT 51`"
                .to_owned(),
        ],
    ))
}

async fn next_page(ctx: &Context, world: &World) -> Result<Section, BoxError> {
    let sql = format!(
        "SELECT {COLUMNS}, (SELECT count(*) FROM bench_team_notes n WHERE {MY_TEAMS}) \
         FROM bench_team_notes n WHERE {MY_TEAMS} AND (n.created_at < $2 OR (n.created_at = $2 AND n.id > $3)) \
         ORDER BY n.created_at DESC, n.id LIMIT 51"
    );
    // Each user's second page: the cursor after their first.
    let mut cursors: Vec<(Cursor, DateTime<Utc>, DbId)> = Vec::new();
    for i in 0..world.users.len() {
        let (db, _) = world.db(i);
        let page = db.page(newest(), None).await?;
        let (Some(next), Some(last)) = (page.next, page.rows.last()) else {
            return Err("every user has more than one page".into());
        };
        cursors.push((next, last.created_at, last.id));
    }
    let (db, user) = world.db(0);
    let (cursor, at, id) = &cursors[0];
    let lib = db.page(newest(), Some(cursor)).await?;
    let hand = raw(world, &sql, &[&user, at, id]).await?;
    if lib.rows.first().map(|n| n.id) != hand.first().map(|r| r.get::<_, DbId>(0)) {
        return Err("library and raw disagree on the second page".into());
    }
    let (sql, cursors) = (&sql, &cursors);
    let measured = interleaved(
        ctx,
        200,
        2000,
        &[
            timed("library", |i| async move {
                let k = i % cursors.len();
                let (db, _) = world.db(k);
                let (cursor, _, _) = &cursors[k];
                db.page(newest(), Some(cursor)).await.map(drop).map_err(Into::into)
            }),
            timed("raw, same result", |i| async move {
                let k = i % cursors.len();
                let (_, user) = world.db(k);
                let (_, at, id) = &cursors[k];
                let rows = raw(world, sql, &[&user, at, id]).await?;
                rows.iter().take(50).map(raw_note).collect::<Result<Vec<_>, _>>()?;
                Ok(())
            }),
        ],
    )
    .await?;
    Ok(latency_section(
        "pages: the next 50 by cursor, with the total",
        &measured,
        0,
        1,
        Target::AtMost(1.10),
        vec![
            "library: `db.page(newest, page.next.as_ref())` (the opaque cursor decoded and checked)".to_owned(),
            "raw: `... AND (created_at < $2 OR (created_at = $2 AND id > $3)) ORDER BY created_at DESC, id LIMIT 51`, \
             with the count"
                .to_owned(),
        ],
    ))
}
