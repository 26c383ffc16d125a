//! Schema: bootstrap DDL in both casings, round trips of every field kind,
//! and the checks a schema makes when it is built.

use chrono::{DurationRound, TimeDelta};
use serde_json::json;
use tokio_postgres::types::ToSql;
use trombase::prelude::*;
use trombase::schema::{
    Casing, EntityMeta, FieldKind, FieldMeta, JunctionMeta, Managed, RelationKind, RelationMeta, Schema,
};
use trombase::Value;
use trombase_tests::TestDb;

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Settings {
    theme: String,
    size: u8,
}

/// Declares the same three related entities (team -< member -< gadget) in a
/// module, with the given casing and table names.
macro_rules! three_entities {
    ($module:ident, $casing:literal, $teams:literal, $members:literal, $gadgets:literal) => {
        mod $module {
            use super::*;

            #[derive(Entity, Debug, Clone, PartialEq)]
            #[entity(table = $teams, casing = $casing)]
            #[relation(members = resolves_to_many(Member, team_id -> id))]
            #[permit(all = anyone)]
            pub struct Team {
                pub id: DbId,
                #[field(unique)]
                pub team_name: String,
                pub created_at: DateTime<Utc>,
                pub updated_at: DateTime<Utc>,
            }

            #[derive(Entity, Debug, Clone, PartialEq)]
            #[entity(table = $members, casing = $casing, index(team_id, last_seen))]
            #[relation(team = points_to(Team, team_id -> id), gadgets = resolves_to_many(Gadget, owner_id -> id))]
            #[permit(all = anyone)]
            pub struct Member {
                pub id: DbId,
                #[field(immutable)]
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
                pub buddy_id: DbId,
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
            #[entity(table = $gadgets, casing = $casing)]
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
        }
    };
}

three_entities!(snake, "snake", "teams", "team_members", "gadgets");
three_entities!(camel, "camel", "teams", "teamMembers", "gadgets");

/// PostgreSQL keeps microseconds.
fn now() -> DateTime<Utc> {
    Utc::now().duration_trunc(TimeDelta::microseconds(1)).unwrap()
}

/// Inserts a row through plain SQL built from the entity's metadata.
async fn insert<E: Entity>(client: &tokio_postgres::Client, row: &E) {
    try_insert(client, row).await.unwrap();
}

async fn try_insert<E: Entity>(
    client: &tokio_postgres::Client,
    row: &E,
) -> Result<u64, tokio_postgres::Error> {
    let meta = E::META;
    let columns: Vec<String> = meta.fields.iter().map(|f| trombase::render::quote_ident(f.column)).collect();
    let placeholders: Vec<String> =
        meta.fields.iter().enumerate().map(|(i, f)| format!("${}::{}", i + 1, f.kind.sql_type())).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        trombase::render::quote_ident(meta.table),
        columns.join(", "),
        placeholders.join(", ")
    );
    let values = row.values();
    let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
    client.execute(&sql, &params).await
}

/// Reads a row back by id through plain SQL, decoding with the derive.
async fn fetch<E: Entity>(client: &tokio_postgres::Client, id: DbId) -> E {
    let meta = E::META;
    let columns: Vec<String> = meta.fields.iter().map(|f| trombase::render::quote_ident(f.column)).collect();
    let sql = format!(
        "SELECT {} FROM {} WHERE {} = $1",
        columns.join(", "),
        trombase::render::quote_ident(meta.table),
        trombase::render::quote_ident(meta.managed(Managed::Id).unwrap().column)
    );
    E::from_row(&client.query_one(&sql, &[&id]).await.unwrap()).unwrap()
}

macro_rules! round_trip_test {
    ($test:ident, $module:ident) => {
        #[tokio::test]
        async fn $test() {
            use $module::{Gadget, Member, Team};
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
            trom.create_tables().await.unwrap(); // idempotent
            let client = db.client().await;

            let t = now();
            let team = Team { id: DbId::new(), team_name: "Core".into(), created_at: t, updated_at: t };
            insert(&client, &team).await;
            let full = Member {
                id: DbId::new(),
                team_id: team.id,
                display_name: "Ada \"quotes\" 'and' ünïcode".into(),
                small_number: -7,
                number: 1 << 30,
                big_number: i64::MAX,
                ratio: 0.125,
                is_active: true,
                last_seen: t,
                raw_json: json!({"nested": [1, "two", null]}),
                settings: Json(Settings { theme: "dark".into(), size: 3 }),
                buddy_id: DbId::new(),
                nick_name: Some("ada".into()),
                maybe_small: Some(i16::MIN),
                maybe_number: Some(-1),
                maybe_big: Some(i64::MIN),
                maybe_ratio: Some(-1.5e300),
                maybe_active: Some(false),
                maybe_seen: Some(t),
                maybe_json: Some(json!([true])),
                maybe_settings: Some(Json(Settings { theme: "light".into(), size: 0 })),
                maybe_buddy: Some(DbId::new()),
                created_at: t,
                updated_at: t,
            };
            let empty = Member {
                id: DbId::new(),
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
                ..full.clone()
            };
            for member in [&full, &empty] {
                insert(&client, member).await;
                assert_eq!(&fetch::<Member>(&client, member.id).await, member);
                // The JSON shape round-trips too.
                let json = member.to_json();
                assert_eq!(&Member::from_json(json.as_object().unwrap()).unwrap(), member);
            }
            let gadget = Gadget { id: DbId::new(), owner_id: None, gadget_label: "x".into(), created_at: t, updated_at: t };
            insert(&client, &gadget).await;
            assert_eq!(fetch::<Gadget>(&client, gadget.id).await, gadget);

            // Foreign keys hold: a member of a team that does not exist is refused.
            let orphan = Member { id: DbId::new(), team_id: DbId::new(), ..full.clone() };
            let err = try_insert(&client, &orphan).await.unwrap_err();
            assert_eq!(err.code(), Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION));
        }
    };
}

round_trip_test!(snake_case_tables_round_trip_every_field_kind, snake);
round_trip_test!(camel_case_tables_round_trip_every_field_kind, camel);

/// The physical layout: names by casing, NOT NULL by nullability, keys and indexes.
async fn columns(client: &tokio_postgres::Client, table: &str) -> Vec<(String, String, bool)> {
    client
        .query(
            "SELECT column_name::text, data_type::text, is_nullable = 'YES' FROM information_schema.columns \
             WHERE table_name = $1 ORDER BY ordinal_position",
            &[&table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test]
async fn ddl_follows_casing_nullability_and_relations() {
    let db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<snake::Team>()
        .entity::<snake::Member>()
        .entity::<snake::Gadget>()
        .entity::<camel::Team>()
        .entity::<camel::Member>()
        .entity::<camel::Gadget>();
    // Two entities may not share a logical table name.
    let err = trom.connect().await.unwrap_err();
    assert!(err.to_string().contains("entity `teams` is registered twice"), "{err}");

    for (casing, members, gadgets, owner_column) in
        [("snake", "team_members", "gadgets", "owner_id"), ("camel", "teamMembers", "gadgets", "ownerId")]
    {
        let db = TestDb::new().await;
        let builder = TromBase::builder().database_url(db.url());
        let trom = match casing {
            "snake" => builder.entity::<snake::Team>().entity::<snake::Member>().entity::<snake::Gadget>(),
            _ => builder.entity::<camel::Team>().entity::<camel::Member>().entity::<camel::Gadget>(),
        }
        .connect()
        .await
        .unwrap();
        trom.create_tables().await.unwrap();
        let client = db.client().await;

        let cols = columns(&client, gadgets).await;
        let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
        let expected: &[&str] = match casing {
            "snake" => &["id", "owner_id", "label", "created_at", "updated_at"],
            _ => &["id", "ownerId", "label", "createdAt", "updatedAt"],
        };
        assert_eq!(names, expected);
        assert!(cols[1].2, "Option<DbId> is nullable");
        assert!(!cols[2].2, "String is NOT NULL");

        let member_cols = columns(&client, members).await;
        let types: Vec<&str> = member_cols.iter().map(|c| c.1.as_str()).collect();
        assert_eq!(
            &types[..13],
            &[
                "text",
                "text",
                "text",
                "smallint",
                "integer",
                "bigint",
                "double precision",
                "boolean",
                "timestamp with time zone",
                "jsonb",
                "jsonb",
                "text",
                "text"
            ]
        );
        let nullable: Vec<bool> = member_cols.iter().map(|c| c.2).collect();
        assert_eq!(nullable.iter().filter(|n| **n).count(), 10, "one nullable column per Option field");

        // Foreign keys: members -> teams, gadgets -> members (declared from both sides, created once).
        let fks: Vec<(String, String)> = client
            .query(
                "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' ORDER BY 1",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(
            fks.len(),
            5,
            "two app foreign keys and three auth ones (sessions, resets, verifications): {fks:?}"
        );
        // The relation columns are indexed.
        let indexed: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%' || $2 || '%'",
                &[&gadgets, &owner_column],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(indexed, 1);
        // The composite index, its columns in the declared order.
        let composite = match casing {
            "snake" => "(team_id, last_seen)",
            _ => "(\"teamId\", \"lastSeen\")",
        };
        let indexed: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%' || $2",
                &[&members, &composite],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(indexed, 1, "{composite}");
        // Unique fields are unique.
        let unique: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'u' AND conrelid = 'teams'::regclass",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(unique, 1);
    }
}

#[tokio::test]
async fn auth_tables_have_the_documented_columns() {
    let db = TestDb::new().await;
    let trom = TromBase::builder().database_url(db.url()).connect().await.unwrap();
    trom.create_tables().await.unwrap();
    let client = db.client().await;
    let names = |cols: Vec<(String, String, bool)>| cols.into_iter().map(|c| c.0).collect::<Vec<_>>();
    assert_eq!(
        names(columns(&client, "trom_auth_users").await),
        ["id", "email", "password_hash", "created_at", "updated_at"]
    );
    assert_eq!(
        names(columns(&client, "trom_auth_sessions").await),
        ["id", "user_id", "token_hash", "expires_at", "created_at", "invalidated_at"]
    );
    assert_eq!(
        names(columns(&client, "trom_auth_password_resets").await),
        ["id", "user_id", "token_hash", "expires_at", "created_at", "used_at"]
    );
}

#[tokio::test]
async fn connect_reports_an_unreachable_database() {
    let err = TromBase::builder()
        .database_url("postgres://postgres@127.0.0.1:1/postgres")
        .connect_timeout(std::time::Duration::from_secs(2))
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(err, trombase::Error::Database(_)), "{err:?}");
    assert_eq!(err.http_status(), 500);
    let err = TromBase::builder().database_url("not a url").connect().await.unwrap_err();
    assert!(matches!(err, trombase::Error::Database(_)), "{err:?}");
}

// ---- schema checks on hand-built metadata (what the derive cannot see) ----

const fn field(name: &'static str, kind: FieldKind, managed: Option<Managed>) -> FieldMeta {
    FieldMeta {
        rust_name: name,
        name,
        column: name,
        kind,
        nullable: false,
        immutable: false,
        unique: false,
        managed,
    }
}

const MANAGED: [FieldMeta; 3] = [
    field("id", FieldKind::DbId, Some(Managed::Id)),
    field("createdAt", FieldKind::Timestamp, Some(Managed::CreatedAt)),
    field("updatedAt", FieldKind::Timestamp, Some(Managed::UpdatedAt)),
];

static USERS: EntityMeta = EntityMeta {
    rust_name: "User",
    name: "users",
    table: "users",
    casing: Casing::Camel,
    fields: &[
        MANAGED[0],
        MANAGED[1],
        MANAGED[2],
        field("email", FieldKind::Text, None),
        field("age", FieldKind::I32, None),
    ],
    relations: &[],
    indexes: &[],
};

fn notes_with(relation: RelationMeta) -> &'static EntityMeta {
    let fields = vec![
        MANAGED[0],
        MANAGED[1],
        MANAGED[2],
        field("userId", FieldKind::DbId, None),
        field("rank", FieldKind::I32, None),
    ];
    Box::leak(Box::new(EntityMeta {
        rust_name: "Note",
        name: "notes",
        table: "notes",
        casing: Casing::Camel,
        fields: Box::leak(fields.into_boxed_slice()),
        relations: Box::leak(vec![relation].into_boxed_slice()),
        indexes: &[],
    }))
}

fn points_to(target: &'static str, foreign_key: &'static str, key: &'static str) -> RelationMeta {
    RelationMeta { name: "author", kind: RelationKind::PointsTo, target, foreign_key, key, junction: None }
}

fn resolves_to_many(target: &'static str, foreign_key: &'static str, key: &'static str) -> RelationMeta {
    RelationMeta {
        name: "siblings",
        kind: RelationKind::ResolvesToMany,
        target,
        foreign_key,
        key,
        junction: None,
    }
}

fn schema_error(relation: RelationMeta) -> String {
    Schema::new(vec![&USERS, notes_with(relation)]).unwrap_err().message
}

#[test]
fn a_well_formed_relation_passes() {
    assert!(Schema::new(vec![&USERS, notes_with(points_to("users", "userId", "id"))]).is_ok());
    assert!(Schema::new(vec![&USERS, notes_with(resolves_to_many("notes", "userId", "id"))]).is_ok());
}

#[test]
fn relation_checks_name_entity_relation_and_column() {
    assert_eq!(
        schema_error(points_to("authors", "userId", "id")),
        "entity `notes` relation `author`: target entity `authors` is not registered"
    );
    assert_eq!(
        schema_error(points_to("users", "ownerId", "id")),
        "entity `notes` relation `author`: entity `notes` has no column `ownerId`"
    );
    assert_eq!(
        schema_error(points_to("users", "userId", "uid")),
        "entity `notes` relation `author`: entity `users` has no column `uid`"
    );
    assert_eq!(
        schema_error(resolves_to_many("users", "noteId", "id")),
        "entity `notes` relation `siblings`: entity `users` has no column `noteId`"
    );
    assert_eq!(
        schema_error(resolves_to_many("users", "id", "noteKey")),
        "entity `notes` relation `siblings`: entity `notes` has no column `noteKey`"
    );
    assert_eq!(
        schema_error(points_to("users", "rank", "id")),
        "entity `notes` relation `author`: column `notes.rank` (32-bit integer) cannot reference `users.id` (DbId)"
    );
    assert_eq!(
        schema_error(points_to("users", "userId", "email")),
        "entity `notes` relation `author`: referenced column `users.email` must be `id` or a unique field"
    );
}

static USER_ID: FieldMeta = field("userId", FieldKind::DbId, None);
static RANK: FieldMeta = field("rank", FieldKind::I32, None);

/// `users.notes` many-via `notes` (the junction) to `users` again.
fn many_via(entity: &'static str, owner_field: &'static FieldMeta) -> RelationMeta {
    let junction = JunctionMeta { entity, table: entity, owner_field, target_field: &USER_ID };
    RelationMeta {
        name: "peers",
        kind: RelationKind::ManyVia,
        target: "users",
        foreign_key: "id",
        key: "id",
        junction: Some(junction),
    }
}

#[test]
fn many_via_checks_the_junction_and_both_of_its_keys() {
    assert!(Schema::new(vec![&USERS, notes_with(many_via("notes", &USER_ID))]).is_ok());
    assert_eq!(
        schema_error(many_via("memberships", &USER_ID)),
        "entity `notes` relation `peers`: junction entity `memberships` is not registered"
    );
    assert_eq!(
        schema_error(many_via("notes", &RANK)),
        "entity `notes` relation `peers`: column `notes.rank` (32-bit integer) cannot reference `notes.id` (DbId)"
    );
}

#[test]
fn entities_need_managed_fields_and_plain_names() {
    static BAD_NAME: EntityMeta = EntityMeta { name: "bad name", ..USERS };
    let err = Schema::new(vec![&BAD_NAME]).unwrap_err();
    assert!(err.message.contains("`bad name` must be an ASCII identifier"), "{}", err.message);
    static NO_ID: EntityMeta = EntityMeta { fields: &[MANAGED[1], MANAGED[2]], ..USERS };
    let err = Schema::new(vec![&NO_ID]).unwrap_err();
    assert!(err.message.contains("lacks the managed Id field"), "{}", err.message);
}

#[test]
fn values_follow_field_order() {
    let t = now();
    let g = snake::Gadget {
        id: DbId::new(),
        owner_id: None,
        gadget_label: "l".into(),
        created_at: t,
        updated_at: t,
    };
    let values = g.values();
    assert_eq!(values[0], Value::DbId(g.id));
    assert_eq!(values[1], Value::Null);
    assert_eq!(values[2], Value::Text("l".into()));
    assert_eq!(snake::Gadget::GADGET_LABEL.name(), "label");
}
