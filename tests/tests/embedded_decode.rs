#![allow(missing_docs)] // test fixtures, not API
//! Embedded rows are decoded straight from the JSON text PostgreSQL builds;
//! they must come out exactly as the same rows read at the top level
//! (decoded from binary columns): every field kind, nulls, awkward strings,
//! extreme numbers, timestamps with and without fractions, nested JSON.

use chrono::{DurationRound, TimeDelta, TimeZone};
use serde::{Deserialize, Serialize};
use serde_json::json;
use trombase::prelude::*;
use trombase::Mutation;
use trombase_tests::{session_for, TestDb};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub theme: String,
    pub sizes: Vec<i64>,
    pub extra: Option<serde_json::Value>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "kinds_teams")]
#[relation(members = resolves_to_many(Member, team_id -> id))]
#[permit(all = anyone)]
pub struct Team {
    pub id: DbId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "kinds_members")]
#[relation(team = points_to(Team, team_id -> id), gadgets = resolves_to_many(Gadget, owner_id -> id))]
#[permit(all = anyone)]
pub struct Member {
    pub id: DbId,
    pub team_id: DbId,
    pub display_name: String,
    pub small_number: i16,
    pub number: i32,
    pub big_number: i64,
    pub ratio: f64,
    pub is_active: bool,
    pub last_seen: DateTime<Utc>,
    pub raw_json: serde_json::Value,
    pub settings: Json<Settings>,
    pub nick_name: Option<String>,
    pub maybe_small: Option<i16>,
    pub maybe_number: Option<i32>,
    pub maybe_big: Option<i64>,
    pub maybe_ratio: Option<f64>,
    pub maybe_active: Option<bool>,
    pub maybe_seen: Option<DateTime<Utc>>,
    pub maybe_json: Option<serde_json::Value>,
    pub maybe_settings: Option<Json<Settings>>,
    pub maybe_buddy: Option<DbId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "kinds_gadgets")]
#[relation(owner = points_to(Member, owner_id -> id))]
#[permit(all = anyone)]
pub struct Gadget {
    pub id: DbId,
    pub owner_id: Option<DbId>,
    #[field(name = "label")]
    pub gadget_label: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A gadget with its owner and the owner's team.
type GadgetWithOwner = (Gadget, Option<(Member, Option<Team>)>);

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

fn full_member(team: DbId, buddy: DbId) -> NewMember {
    let seen = Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap() + TimeDelta::microseconds(123_456);
    NewMember {
        id: DbId::new(),
        team_id: team,
        display_name: "quote \" backslash \\ newline \n tab \t unicode é 🎉 control \u{1} slash /".into(),
        small_number: i16::MIN,
        number: i32::MAX,
        big_number: i64::MIN,
        ratio: -1.5e300,
        is_active: true,
        last_seen: seen,
        raw_json: json!({"nested": {"list": [1, 2.5, null, "x\"y", {"deep": true}]}, "empty": {}, "n": -0.0}),
        settings: Json(Settings {
            theme: "dark".into(),
            sizes: vec![i64::MAX, 0, -1],
            extra: Some(json!([1, "two"])),
        }),
        nick_name: Some(String::new()),
        maybe_small: Some(-1),
        maybe_number: Some(0),
        maybe_big: Some(i64::MAX),
        maybe_ratio: Some(2.0),
        maybe_active: Some(false),
        maybe_seen: Some(Utc.with_ymd_and_hms(1999, 12, 31, 0, 0, 0).unwrap()),
        // (Not `Some(json!(null))`: inside row_to_json a jsonb `null` and SQL
        // NULL are the same `null`, so embedded it reads as `None`.)
        maybe_json: Some(json!({"k": null})),
        maybe_settings: Some(Json(Settings { theme: String::new(), sizes: vec![], extra: None })),
        maybe_buddy: Some(buddy),
    }
}

fn empty_member(team: DbId) -> NewMember {
    NewMember {
        id: DbId::new(),
        team_id: team,
        display_name: String::new(),
        small_number: 0,
        number: -7,
        big_number: 42,
        ratio: 0.1,
        is_active: false,
        last_seen: Utc::now().duration_trunc(TimeDelta::microseconds(1)).unwrap(),
        raw_json: json!([]),
        settings: Json(Settings { theme: "light".into(), sizes: vec![1], extra: None }),
        nick_name: None,
        maybe_small: None,
        maybe_number: None,
        maybe_big: None,
        maybe_ratio: None,
        maybe_active: None,
        maybe_seen: None,
        maybe_json: None,
        maybe_settings: None,
        maybe_buddy: None,
    }
}

/// The fixture both tests read: two teams (one without members), a full and
/// an empty member, an owned and an orphan gadget.
struct Seeded {
    _db: TestDb,
    trom: TromBase,
    session: Session,
    full_id: DbId,
    empty_id: DbId,
}

async fn seeded() -> Seeded {
    let db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<Team>()
        .entity::<Member>()
        .entity::<Gadget>()
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let session = session_for(DbId::new());
    let dbs = trom.db.with_session(&session);

    let (red, blue) = (DbId::new(), DbId::new());
    let full = full_member(red, DbId::new());
    let empty = empty_member(red);
    let (full_id, empty_id) = (full.id, empty.id);
    let gadget = |owner: Option<DbId>, label: &str| NewGadget {
        id: DbId::new(),
        owner_id: owner,
        gadget_label: label.into(),
    };
    dbs.do_mutations([
        Mutation::insert(NewTeam { id: red, name: "Red".into() }),
        Mutation::insert(NewTeam { id: blue, name: "Blue (no members)".into() }),
        Mutation::insert(full),
        Mutation::insert(empty),
        Mutation::insert(gadget(Some(full_id), "owned")),
        Mutation::insert(gadget(None, "orphan")),
    ])
    .await
    .unwrap();
    Seeded { _db: db, trom, session, full_id, empty_id }
}

#[tokio::test]
async fn embedded_rows_decode_like_top_level_rows() {
    let Seeded { trom, session, full_id, empty_id, .. } = &seeded().await;
    let (full_id, empty_id) = (*full_id, *empty_id);
    let dbs = trom.db.with_session(session);

    // The truth: rows read at the top level, from binary columns.
    let members: Vec<Member> = dbs.select(Member::query().order_by(Member::BIG_NUMBER.asc())).await.unwrap();
    assert_eq!(members.iter().map(|m| m.id).collect::<Vec<_>>(), vec![full_id, empty_id]);
    let teams: Vec<Team> = dbs.select(Team::query().order_by(Team::NAME.asc())).await.unwrap();

    // Resolves-to-many: every member embedded in its team as JSON.
    let with_members: Vec<(Team, Vec<Member>)> = dbs
        .select(
            Team::query()
                .order_by(Team::NAME.asc())
                .with(Team::MEMBERS.query().order_by(Member::BIG_NUMBER.asc())),
        )
        .await
        .unwrap();
    assert_eq!(with_members.len(), 2);
    assert_eq!(with_members[0], (teams[0].clone(), vec![]), "an empty list decodes as no rows");
    assert_eq!(with_members[1], (teams[1].clone(), members.clone()));

    // Points-to, present and absent, with a deeper embed inside the embedded row.
    let gadgets: Vec<GadgetWithOwner> = dbs
        .select(
            Gadget::query()
                .order_by(Gadget::GADGET_LABEL.asc())
                .with(Gadget::OWNER.query().with(Member::TEAM)),
        )
        .await
        .unwrap();
    assert_eq!(gadgets.len(), 2);
    assert!(gadgets[0].1.is_none(), "orphan has no owner");
    assert_eq!(gadgets[1].1, Some((members[0].clone(), Some(teams[1].clone()))));

    // And plain points-to of each member's team, for both members.
    let with_team: Vec<(Member, Option<Team>)> =
        dbs.select(Member::query().order_by(Member::BIG_NUMBER.asc()).with(Member::TEAM)).await.unwrap();
    assert_eq!(with_team, members.iter().map(|m| (m.clone(), Some(teams[1].clone()))).collect::<Vec<_>>());
}

/// `json` with every number as an `f64`: PostgreSQL writes the double 2.0
/// as `2`, serde as `2.0`, the same JSON number.
fn numbers_as_f64(json: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match json {
        J::Number(n) => n.as_f64().map_or(J::Null, |f| json!(f)),
        J::Array(items) => J::Array(items.into_iter().map(numbers_as_f64).collect()),
        J::Object(map) => J::Object(map.into_iter().map(|(k, v)| (k, numbers_as_f64(v))).collect()),
        other => other,
    }
}

/// Typed rows in their JSON form (serde) are exactly what the JSON API
/// returns for the same read: entities, embeds at two levels, partial
/// columns, and named aggregates per group (timestamps in the same text;
/// numbers the same JSON numbers).
#[tokio::test]
async fn typed_rows_serialize_as_the_json_api_returns_them() {
    let Seeded { trom, session, .. } = &seeded().await;
    let dbs = trom.db.with_session(session);
    let dbs = &dbs;
    let json_api = |action: serde_json::Value| async move {
        dbs.select_json(&action).await.unwrap().into_iter().map(numbers_as_f64).collect::<Vec<_>>()
    };
    let typed = |json: serde_json::Value| numbers_as_f64(json);

    let members: Vec<Member> = dbs.select(Member::query().order_by(Member::BIG_NUMBER.asc())).await.unwrap();
    let api = json_api(json!({"table": "kinds_members", "orderBy": [{"field": "bigNumber"}]})).await;
    assert_eq!(
        typed(serde_json::to_value(&members).unwrap()),
        json!(api),
        "an entity serializes as the API's row"
    );
    assert_eq!(typed(members[0].to_json()), api[0]);

    let query =
        Gadget::query().order_by(Gadget::GADGET_LABEL.asc()).with(Gadget::OWNER.query().with(Member::TEAM));
    let rows = dbs.select(query.clone()).await.unwrap();
    let api = json_api(json!({"table": "kinds_gadgets", "orderBy": [{"field": "label"}],
        "with": {"owner": {"with": {"team": true}}}}))
    .await;
    assert_eq!(typed(serde_json::to_value(query.json(&rows)).unwrap()), json!(api));
    assert!(api[1]["owner"]["team"]["name"].is_string(), "{}", api[1]);

    let query = Team::query()
        .order_by(Team::NAME.asc())
        .with(Team::MEMBERS.query().columns((Member::DISPLAY_NAME, Member::MAYBE_SEEN)));
    let rows = dbs.select(query.clone()).await.unwrap();
    let api = json_api(json!({"table": "kinds_teams", "orderBy": [{"field": "name"}],
        "with": {"members": {"columns": ["displayName", "maybeSeen"]}}}))
    .await;
    assert_eq!(typed(json!(query.json(&rows).to_values())), json!(api));

    let query = Member::query().group_by((Member::TEAM_ID,)).aggregate((
        count().named("members"),
        Member::BIG_NUMBER.sum().named("total"),
        Member::LAST_SEEN.max(),
    ));
    let rows = dbs.select(query.clone()).await.unwrap();
    let api = json_api(json!({"table": "kinds_members", "columns": ["teamId"], "groupBy": ["teamId"],
        "aggregates": {"members": {"fn": "count"}, "total": {"fn": "sum", "field": "bigNumber"},
                       "a2": {"fn": "max", "field": "lastSeen"}}}))
    .await;
    assert_eq!(typed(json!(query.json(&rows).to_values())), json!(api));
}

/// JSON rows the library writes from binary columns (`select_json`,
/// `select_json_text`) are exactly PostgreSQL's `row_to_json` of the same
/// read (what pages return): every field kind, nulls, awkward strings,
/// extreme numbers, times, nested JSON, joined and nested embeds.
#[tokio::test]
async fn json_rows_from_columns_are_exactly_postgresqls_json() {
    let Seeded { trom, session, .. } = &seeded().await;
    let dbs = trom.db.with_session(session);
    for action in [
        json!({"table": "kinds_members"}),
        json!({"table": "kinds_members", "with": {"team": true, "gadgets": true}}),
        json!({"table": "kinds_gadgets", "with": {"owner": {"with": {"team": true}}}}),
        json!({"table": "kinds_gadgets", "with": {"owner": {"columns": ["ratio", "maybeRatio", "rawJson"]}}}),
        json!({"table": "kinds_teams", "with": {"members": {"columns": ["displayName", "maybeSeen"]}}}),
    ] {
        let mut paged = action.clone();
        paged["orderBy"] = json!([{"field": "id"}]);
        paged["page"] = json!({"total": false});
        let expected = dbs.page_json(&paged).await.unwrap().rows;
        let by_id = |mut rows: Vec<serde_json::Value>| {
            rows.sort_by_key(|row| row["id"].as_str().map(str::to_owned));
            rows
        };
        assert_eq!(by_id(dbs.select_json(&action).await.unwrap()), expected, "{action}");
        let text = dbs.select_json_text(&action).await.unwrap();
        assert_eq!(by_id(serde_json::from_slice(&text).unwrap()), expected, "{action}");
    }
}
