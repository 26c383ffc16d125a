//! The app's data: users (from the auth users table), teams, memberships
//! (the junction of `Team::MEMBERS`), and notes of a team.
//!
//! The whole multi-tenant rule is one row filter on notes: "notes of a team
//! I am a member of", `Note::TEAM.any(Team::MEMBERS.any(User::ID.eq(me)))`.
//! The library carries the read rules of teams, memberships and users into
//! it, so a note is readable exactly when its team is, through a
//! membership the reader may see.

use trombase::prelude::*;

/// A user, as the auth system stores them (never the password hash). Users
/// see themselves and the members of their teams.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "users", sql_table = "trom_auth_users")]
#[relation(teams = many_via(Membership, user_id -> id, team_id -> Team.id))]
#[permit(read = me_and_my_teammates)]
pub struct User {
    /// The user's id.
    pub id: DbId,
    /// The user's email address.
    #[field(unique)]
    pub email: String,
    /// When the user registered.
    pub created_at: DateTime<Utc>,
    /// When the user last changed.
    pub updated_at: DateTime<Utc>,
}

/// A team (a tenant).
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "teams")]
#[relation(
    members = many_via(Membership, team_id -> id, user_id -> User.id),
    memberships = resolves_to_many(Membership, team_id -> id),
    notes = resolves_to_many(Note, team_id -> id)
)]
#[permit(read = teams_i_am_in, create = anyone_signed_in)]
pub struct Team {
    /// The team's id.
    pub id: DbId,
    /// Its name.
    pub name: String,
    /// When the team was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A user's membership of a team, with their role (`owner` or `member`).
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "memberships")]
#[relation(team = points_to(Team, team_id -> id), user = points_to(User, user_id -> id))]
#[permit(read = memberships_of_my_teams, create = owners_add_members, delete = owners_remove_members)]
pub struct Membership {
    /// The membership's id.
    pub id: DbId,
    /// The team.
    #[field(immutable)]
    pub team_id: DbId,
    /// The member.
    #[field(immutable)]
    pub user_id: DbId,
    /// `owner` or `member`.
    pub role: String,
    /// When the user joined.
    pub created_at: DateTime<Utc>,
    /// When the membership last changed.
    pub updated_at: DateTime<Utc>,
}

/// A note of a team, written by one of its members. Indexed by team and
/// time, for the newest-first pages of a team's notes.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "notes", index(team_id, created_at))]
#[relation(team = points_to(Team, team_id -> id), author = points_to(User, author_id -> id))]
#[permit(read = notes_of_my_teams, create = members_write, update = authors_edit, delete = authors_edit)]
pub struct Note {
    /// The note's id.
    pub id: DbId,
    /// The team it belongs to.
    #[field(immutable)]
    pub team_id: DbId,
    /// Who wrote it.
    #[field(immutable)]
    pub author_id: DbId,
    /// The title.
    pub title: String,
    /// The text.
    pub body: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The app's one tenant rule: notes of a team I am a member of.
pub async fn notes_of_my_teams(session: &Session, _: &Sql<'_>, _: &Operation<'_, Note>) -> Permit<Note> {
    Permit::filter(Note::TEAM.any(Team::MEMBERS.any(User::ID.eq(session.user_id))))
}

/// Teams I am a member of.
pub async fn teams_i_am_in(session: &Session, _: &Sql<'_>, _: &Operation<'_, Team>) -> Permit<Team> {
    Permit::filter(Team::MEMBERS.any(User::ID.eq(session.user_id)))
}

/// The memberships of teams I am in (so I see who my teammates are).
pub async fn memberships_of_my_teams(
    session: &Session,
    _: &Sql<'_>,
    _: &Operation<'_, Membership>,
) -> Permit<Membership> {
    Permit::filter(Membership::TEAM.any(Team::MEMBERSHIPS.any(Membership::USER_ID.eq(session.user_id))))
}

/// Myself, and the users who share a team with me.
pub async fn me_and_my_teammates(session: &Session, _: &Sql<'_>, _: &Operation<'_, User>) -> Permit<User> {
    Permit::filter(
        User::ID.eq(session.user_id).or(User::TEAMS.any(Team::MEMBERS.any(User::ID.eq(session.user_id)))),
    )
}

/// Anyone signed in may make a team (and then becomes its owner, in the
/// same batch: see [`owners_add_members`]).
pub async fn anyone_signed_in<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

/// Owners add members; the first membership of a team with none is its
/// creator's own, as owner.
pub async fn owners_add_members(
    session: &Session,
    sql: &Sql<'_>,
    op: &Operation<'_, Membership>,
) -> Permit<Membership> {
    let Operation::Create(create) = op else { return Permit::deny("memberships are only added here") };
    let row = create.row;
    match team_roles(sql, row.team_id, session.user_id).await {
        Ok(roles) if roles.is_owner => Permit::Allow,
        Ok(roles) if roles.members == 0 && row.user_id == session.user_id && row.role == "owner" => {
            Permit::Allow
        }
        Ok(_) => Permit::deny("only a team's owners add its members"),
        Err(_) => Permit::deny("the team could not be checked"),
    }
}

/// Owners remove members; anyone leaves a team.
pub async fn owners_remove_members(
    session: &Session,
    sql: &Sql<'_>,
    op: &Operation<'_, Membership>,
) -> Permit<Membership> {
    let Operation::Delete(delete) = op else { return Permit::deny("memberships are only removed here") };
    for row in delete.rows {
        if row.user_id == session.user_id {
            continue;
        }
        match team_roles(sql, row.team_id, session.user_id).await {
            Ok(roles) if roles.is_owner => {}
            _ => return Permit::deny("only a team's owners remove its members"),
        }
    }
    Permit::Allow
}

/// Members write notes in their teams, as themselves.
pub async fn members_write(session: &Session, sql: &Sql<'_>, op: &Operation<'_, Note>) -> Permit<Note> {
    let Operation::Create(create) = op else { return Permit::deny("notes are only written here") };
    if create.row.author_id != session.user_id {
        return Permit::deny("notes are written as oneself");
    }
    match team_roles(sql, create.row.team_id, session.user_id).await {
        Ok(roles) if roles.is_member => Permit::Allow,
        _ => Permit::deny("only a team's members write its notes"),
    }
}

/// Authors edit and delete their own notes (judged on the stored rows).
pub async fn authors_edit(session: &Session, _: &Sql<'_>, op: &Operation<'_, Note>) -> Permit<Note> {
    let mine = match op {
        Operation::Update(update) => update.current.author_id == session.user_id,
        Operation::Delete(delete) => delete.rows.iter().all(|n| n.author_id == session.user_id),
        _ => false,
    };
    if mine {
        Permit::Allow
    } else {
        Permit::deny("only a note's author changes it")
    }
}

/// What one user is in one team.
struct Roles {
    members: i64,
    is_member: bool,
    is_owner: bool,
}

/// The user's roles in the team, read in the mutation's transaction.
async fn team_roles(sql: &Sql<'_>, team: DbId, user: DbId) -> trombase::Result<Roles> {
    let row = sql
        .query_opt(
            "SELECT count(*), count(*) FILTER (WHERE user_id = $2), \
             count(*) FILTER (WHERE user_id = $2 AND role = 'owner') \
             FROM memberships WHERE team_id = $1",
            &[&team.to_string(), &user.to_string()],
        )
        .await?;
    let counts = |i: usize| row.as_ref().map_or(0, |r| r.get::<_, i64>(i));
    Ok(Roles { members: counts(0), is_member: counts(1) > 0, is_owner: counts(2) > 0 })
}
