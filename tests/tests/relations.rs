#![allow(missing_docs)] // test fixtures, not API
//! Relations real apps need, in both casings, against row filters:
//! many-to-many through a junction (embedded in both forms), relation
//! filters (`some` / `none` / `every`, typed and JSON, inside row filters),
//! and what a reader may never see through them: a hidden row is never
//! matched, counted or embedded.
//!
//! The world: members, teams, memberships (the junction of `Team::MEMBERS`),
//! notes of a team readable by its members (one row filter through two
//! relation filters), tags (some hidden) linked to notes through `noteTags`
//! (some links hidden).

use serde_json::{json, Value as Json};
use trombase::prelude::*;
use trombase_tests::{session_for, TestDb};

macro_rules! relations_suite {
    ($module:ident, $casing:literal) => {
        mod $module {
            use super::*;

            #[derive(Entity, Debug, Clone, PartialEq)]
            #[entity(table = "members", casing = $casing)]
            #[relation(teams = many_via(Membership, member_id -> id, team_id -> Team.id))]
            #[permit(read = anyone, create = anyone)]
            pub struct Member {
                pub id: DbId,
                pub full_name: String,
                pub created_at: DateTime<Utc>,
                pub updated_at: DateTime<Utc>,
            }

            #[derive(Entity, Debug, Clone, PartialEq)]
            #[entity(table = "teams", casing = $casing)]
            #[relation(
                members = many_via(Membership, team_id -> id, member_id -> Member.id),
                memberships = resolves_to_many(Membership, team_id -> id),
                notes = resolves_to_many(Note, team_id -> id)
            )]
            #[permit(read = my_teams, create = anyone)]
            pub struct Team {
                pub id: DbId,
                pub team_name: String,
                pub created_at: DateTime<Utc>,
                pub updated_at: DateTime<Utc>,
            }

            #[derive(Entity, Debug, Clone, PartialEq)]
            #[entity(table = "teamMemberships", casing = $casing)]
            #[relation(team = points_to(Team, team_id -> id), member = points_to(Member, member_id -> id))]
            #[permit(read = memberships_of_my_teams, create = anyone)]
            pub struct Membership {
                pub id: DbId,
                pub team_id: DbId,
                pub member_id: DbId,
                pub role: String,
                pub created_at: DateTime<Utc>,
                pub updated_at: DateTime<Utc>,
            }

            #[derive(Entity, Debug, Clone, PartialEq)]
            #[entity(table = "notes", casing = $casing)]
            #[relation(
                team = points_to(Team, team_id -> id),
                tags = many_via(NoteTag, note_id -> id, tag_id -> Tag.id)
            )]
            #[permit(read = notes_of_my_teams, create = anyone)]
            pub struct Note {
                pub id: DbId,
                pub team_id: DbId,
                pub title: String,
                pub stars: Option<i32>,
                pub created_at: DateTime<Utc>,
                pub updated_at: DateTime<Utc>,
            }

            #[derive(Entity, Debug, Clone, PartialEq)]
            #[entity(table = "tags", casing = $casing)]
            #[relation(notes = many_via(NoteTag, tag_id -> id, note_id -> Note.id))]
            #[permit(read = visible_tags, create = anyone)]
            pub struct Tag {
                pub id: DbId,
                pub label: String,
                pub hidden: bool,
                pub created_at: DateTime<Utc>,
                pub updated_at: DateTime<Utc>,
            }

            #[derive(Entity, Debug, Clone, PartialEq)]
            #[entity(table = "noteTags", casing = $casing)]
            #[permit(read = visible_links, create = anyone)]
            pub struct NoteTag {
                pub id: DbId,
                pub note_id: DbId,
                pub tag_id: DbId,
                pub visible: bool,
                pub created_at: DateTime<Utc>,
                pub updated_at: DateTime<Utc>,
            }

            async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
                Permit::Allow
            }

            async fn my_teams(session: &Session, _: &Sql<'_>, _: &Operation<'_, Team>) -> Permit<Team> {
                Permit::filter(Team::MEMBERSHIPS.any(Membership::MEMBER_ID.eq(session.user_id)))
            }

            /// Through its own entity: memberships of the teams I am in.
            /// Eve may read none.
            async fn memberships_of_my_teams(
                session: &Session,
                _: &Sql<'_>,
                _: &Operation<'_, Membership>,
            ) -> Permit<Membership> {
                if session.user_id == eve() {
                    return Permit::deny("memberships are hidden from you");
                }
                Permit::filter(Membership::TEAM.any(Team::MEMBERSHIPS.any(Membership::MEMBER_ID.eq(session.user_id))))
            }

            /// The one rule of the app: notes of teams I am a member of.
            async fn notes_of_my_teams(session: &Session, _: &Sql<'_>, _: &Operation<'_, Note>) -> Permit<Note> {
                Permit::filter(Note::TEAM.any(Team::MEMBERS.any(Member::ID.eq(session.user_id))))
            }

            async fn visible_tags(_: &Session, _: &Sql<'_>, _: &Operation<'_, Tag>) -> Permit<Tag> {
                Permit::filter(Tag::HIDDEN.eq(false))
            }

            async fn visible_links(_: &Session, _: &Sql<'_>, _: &Operation<'_, NoteTag>) -> Permit<NoteTag> {
                Permit::filter(NoteTag::VISIBLE.eq(true))
            }

            pub struct World {
                pub db: TestDb,
                pub trom: TromBase,
                /// ann is in red; bob in red and blue; eve in blue, but may
                /// read no membership.
                pub ann: Session,
                pub bob: Session,
                pub eve: Session,
                pub red: DbId,
                pub blue: DbId,
            }

            /// Red's notes: "plan" (tags rust, db; a hidden tag `rust-secret`),
            /// "todo" (tag rust through a hidden link), "empty" (no tags).
            /// Blue's note: "blue secret" (tag rust).
            pub async fn world() -> World {
                let db = TestDb::new().await;
                let trom = TromBase::builder()
                    .database_url(db.url())
                    .entity::<Member>()
                    .entity::<Team>()
                    .entity::<Membership>()
                    .entity::<Note>()
                    .entity::<Tag>()
                    .entity::<NoteTag>()
                    .connect()
                    .await
                    .unwrap();
                trom.create_tables().await.unwrap();
                let (ann, bob, eve) = (DbId::new(), DbId::new(), eve());
                let (red, blue) = (DbId::new(), DbId::new());
                let member = |id, name: &str| Mutation::insert(NewMember { id, full_name: name.into() });
                let team = |id, name: &str| Mutation::insert(NewTeam { id, team_name: name.into() });
                let membership = |team_id, member_id, role: &str| {
                    Mutation::insert(NewMembership { id: DbId::new(), team_id, member_id, role: role.into() })
                };
                let notes = [("plan", red, Some(5)), ("todo", red, None), ("empty", red, Some(1)), ("blue secret", blue, Some(3))]
                    .map(|(title, team_id, stars)| NewNote { id: DbId::new(), team_id, title: title.into(), stars });
                let tags = [("rust", false), ("db", false), ("rust-secret", true)]
                    .map(|(label, hidden)| NewTag { id: DbId::new(), label: label.into(), hidden });
                let link = |note: &NewNote, tag: &NewTag, visible| {
                    Mutation::insert(NewNoteTag { id: DbId::new(), note_id: note.id, tag_id: tag.id, visible })
                };
                let mut batch = vec![
                    member(ann, "Ann"),
                    member(bob, "Bob"),
                    member(eve, "Eve"),
                    team(red, "red"),
                    team(blue, "blue"),
                    membership(red, ann, "owner"),
                    membership(red, bob, "member"),
                    membership(blue, bob, "owner"),
                    membership(blue, eve, "member"),
                ];
                batch.extend(notes.iter().cloned().map(Mutation::insert));
                batch.extend(tags.iter().cloned().map(Mutation::insert));
                batch.extend([
                    link(&notes[0], &tags[0], true),
                    link(&notes[0], &tags[1], true),
                    link(&notes[0], &tags[2], true),
                    link(&notes[1], &tags[0], false),
                    link(&notes[3], &tags[0], true),
                ]);
                trom.db.with_session(&session_for(ann)).do_mutations(batch).await.unwrap();
                World {
                    db,
                    trom,
                    ann: session_for(ann),
                    bob: session_for(bob),
                    eve: session_for(eve),
                    red,
                    blue,
                }
            }

            fn titles(notes: &[Note]) -> Vec<&str> {
                let mut titles: Vec<&str> = notes.iter().map(|n| n.title.as_str()).collect();
                titles.sort();
                titles
            }

            fn json_titles(rows: &[Json]) -> Vec<String> {
                let mut titles: Vec<String> =
                    rows.iter().map(|r| r["title"].as_str().unwrap().to_owned()).collect();
                titles.sort();
                titles
            }

            #[tokio::test]
            async fn one_row_filter_through_two_relations_shows_members_their_teams_notes() {
                let w = world().await;
                let read = |s: &Session| w.trom.db.with_session(s);
                assert_eq!(titles(&read(&w.ann).select(Note::query()).await.unwrap()), ["empty", "plan", "todo"]);
                assert_eq!(
                    titles(&read(&w.bob).select(Note::query()).await.unwrap()),
                    ["blue secret", "empty", "plan", "todo"]
                );
                assert!(read(&w.eve).select(Note::query()).await.unwrap().is_empty());
                // Counted through the same filter, in the JSON form too.
                let count = json!({"table": "notes", "aggregates": {"n": {"fn": "count"}}});
                assert_eq!(read(&w.ann).select_json(&count).await.unwrap(), [json!({"n": 3})]);
                assert_eq!(read(&w.eve).select_json(&count).await.unwrap(), [json!({"n": 0})]);
                // Teams, and memberships (whose rule goes through its own entity).
                let teams = read(&w.ann).select(Team::query()).await.unwrap();
                assert_eq!(teams.iter().map(|t| t.id).collect::<Vec<_>>(), [w.red]);
                let memberships = read(&w.ann).select(Membership::query()).await.unwrap();
                assert_eq!(memberships.len(), 2, "ann sees red's two memberships, not blue's");
                assert!(memberships.iter().all(|m| m.team_id == w.red));
                assert_eq!(read(&w.bob).select(Membership::query()).await.unwrap().len(), 4);
            }

            #[tokio::test]
            async fn many_via_embeds_only_what_the_junction_and_the_target_let_through() {
                let w = world().await;
                let db = w.trom.db.with_session(&w.ann);
                let rows: Vec<(Note, Vec<Tag>)> = db
                    .select(Note::query().order_by(Note::TITLE.asc()).with(Note::TAGS.query().order_by(Tag::LABEL.asc())))
                    .await
                    .unwrap();
                let labels: Vec<(&str, Vec<&str>)> = rows
                    .iter()
                    .map(|(n, tags)| (n.title.as_str(), tags.iter().map(|t| t.label.as_str()).collect()))
                    .collect();
                // rust-secret is hidden; todo's link to rust is hidden.
                assert_eq!(labels, [("empty", vec![]), ("plan", vec!["db", "rust"]), ("todo", vec![])]);

                let json = db
                    .select_json(&json!({
                        "table": "notes", "columns": ["title"], "orderBy": [{"field": "title"}],
                        "with": {"tags": {"columns": ["label"], "orderBy": [{"field": "label"}], "limit": 1}}
                    }))
                    .await
                    .unwrap();
                assert_eq!(
                    json,
                    [
                        json!({"title": "empty", "tags": []}),
                        json!({"title": "plan", "tags": [{"label": "db"}]}),
                        json!({"title": "todo", "tags": []}),
                    ]
                );

                // The other way round, and members of a team through memberships.
                let tags: Vec<(Tag, Vec<Note>)> =
                    db.select(Tag::query().filter(Tag::LABEL.eq("rust")).with(Tag::NOTES)).await.unwrap();
                assert_eq!(titles(&tags[0].1), ["plan"], "blue's note and the hidden link stay out");
                let teams: Vec<(Team, Vec<Member>)> =
                    db.select(Team::query().with(Team::MEMBERS.query().order_by(Member::FULL_NAME.asc()))).await.unwrap();
                let names: Vec<&str> = teams[0].1.iter().map(|m| m.full_name.as_str()).collect();
                assert_eq!(names, ["Ann", "Bob"]);
            }

            #[tokio::test]
            async fn relation_filters_never_match_hidden_rows_in_either_form() {
                let w = world().await;
                let db = w.trom.db.with_session(&w.bob);
                let tagged = |label: &str| Note::query().filter(Note::TAGS.any(Tag::LABEL.eq(label)));
                // plan and blue secret carry a visible rust; todo's link is hidden.
                assert_eq!(titles(&db.select(tagged("rust")).await.unwrap()), ["blue secret", "plan"]);
                // The hidden tag is never matched, even by its exact label.
                assert!(db.select(tagged("rust-secret")).await.unwrap().is_empty());
                let like = Note::query().filter(Note::TAGS.any(Tag::LABEL.like("rust%")));
                assert_eq!(titles(&db.select(like).await.unwrap()), ["blue secret", "plan"]);

                let json = |filter: Json| {
                    let db = db.clone();
                    async move {
                        json_titles(&db.select_json(&json!({"table": "notes", "where": filter})).await.unwrap())
                    }
                };
                assert_eq!(json(json!({"tags": {"some": {"label": "rust"}}})).await, ["blue secret", "plan"]);
                assert!(json(json!({"tags": {"some": {"label": "rust-secret"}}})).await.is_empty());
                assert_eq!(json(json!({"tags": {"some": {"hidden": true}}})).await, Vec::<String>::new());
                // none: todo and empty have no visible tag at all.
                assert_eq!(json(json!({"tags": {"none": {}}})).await, ["empty", "todo"]);
                assert_eq!(json(json!({"tags": {"none": {"label": "db"}}})).await, ["blue secret", "empty", "todo"]);
                // every: vacuously true without tags; plan has db and rust.
                assert_eq!(
                    json(json!({"tags": {"every": {"label": "rust"}}})).await,
                    ["blue secret", "empty", "todo"]
                );
                // Nested: notes of a team one of whose members is Ann.
                assert_eq!(
                    json(json!({"team": {"some": {"members": {"some": {"fullName": "Ann"}}}}})).await,
                    ["empty", "plan", "todo"]
                );
                // Typed none/every agree.
                let none = db.select(Note::query().filter(Note::TAGS.none(Tag::LABEL.eq("db")))).await.unwrap();
                assert_eq!(titles(&none), ["blue secret", "empty", "todo"]);
                let every = db.select(Note::query().filter(Note::TAGS.every(Tag::LABEL.eq("rust")))).await.unwrap();
                assert_eq!(titles(&every), ["blue secret", "empty", "todo"]);
                let tagged = db.select(Note::query().filter(Note::TAGS.exists())).await.unwrap();
                assert_eq!(titles(&tagged), ["blue secret", "plan"]);
            }

            #[tokio::test]
            async fn every_treats_an_unknown_comparison_as_failing() {
                let w = world().await;
                let db = w.trom.db.with_session(&w.ann);
                // todo has stars null: a team whose every note has stars >= 1 is not red.
                let teams = db.select(Team::query().filter(Team::NOTES.every(Note::STARS.gte(1)))).await.unwrap();
                assert!(teams.is_empty(), "{teams:?}");
                let some = db.select(Team::query().filter(Team::NOTES.any(Note::STARS.gte(5)))).await.unwrap();
                assert_eq!(some.len(), 1);
            }

            #[tokio::test]
            async fn counts_and_aggregates_through_relation_filters_see_only_readable_rows() {
                let w = world().await;
                // Eve is in no team: whatever she asks of blue's notes, nothing.
                let eve = w.trom.db.with_session(&w.eve);
                let teams_with_rust = json!({
                    "table": "tags",
                    "where": {"notes": {"some": {"teamId": w.blue.to_string()}}},
                    "aggregates": {"n": {"fn": "count"}}
                });
                assert_eq!(eve.select_json(&teams_with_rust).await.unwrap(), [json!({"n": 0})]);
                // Bob sees blue's note, so its rust tag counts.
                let bob = w.trom.db.with_session(&w.bob);
                assert_eq!(bob.select_json(&teams_with_rust).await.unwrap(), [json!({"n": 1})]);
                // A relation filter on a denied-free path counts like a plain one.
                let n: Vec<Grouped<(), (i64,)>> = w
                    .trom
                    .db
                    .with_session(&w.ann)
                    .select(Note::query().filter(Note::TAGS.any(Tag::HIDDEN.eq(true))).aggregate((count(),)))
                    .await
                    .unwrap();
                assert_eq!(n[0].values.0, 0);
            }

            #[tokio::test]
            async fn ddl_gives_each_junction_a_foreign_key_to_both_sides() {
                let w = world().await;
                let rows = w
                    .db
                    .client()
                    .await
                    .query(
                        "SELECT replace(conrelid::regclass::text, '\"', ''), replace(confrelid::regclass::text, '\"', '') \
                         FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text NOT LIKE 'trom_auth%' ORDER BY 1, 2",
                        &[],
                    )
                    .await
                    .unwrap();
                let keys: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
                let name = |logical: &str| if $casing == "snake" { heck_snake(logical) } else { logical.to_owned() };
                let mut expected = vec![
                    (name("noteTags"), name("notes")),
                    (name("noteTags"), name("tags")),
                    (name("notes"), name("teams")),
                    (name("teamMemberships"), name("members")),
                    (name("teamMemberships"), name("teams")),
                ];
                expected.sort();
                assert_eq!(keys, expected);
            }

            #[tokio::test]
            async fn an_entity_the_reader_may_not_read_fails_her_filters_and_has_no_rows_for_rules() {
                let w = world().await;
                let eve = w.trom.db.with_session(&w.eve);
                // Her own relation filter on memberships: refused, like an embed of them.
                let err = eve
                    .select_json(&json!({"table": "teams", "where": {"memberships": {"some": {"role": "owner"}}}}))
                    .await
                    .unwrap_err();
                assert_eq!(err.http_status(), 403, "{err}");
                assert!(err.to_string().contains("memberships are hidden from you"), "{err}");
                let err = eve.select(Team::query().filter(Team::MEMBERS.exists())).await.unwrap_err();
                assert_eq!(err.http_status(), 403, "{err}");
                // The rules that go through memberships see none of them for her:
                // she is in blue, yet reads neither blue nor its note.
                assert!(eve.select(Team::query()).await.unwrap().is_empty());
                assert!(eve.select(Note::query()).await.unwrap().is_empty());
                // Members have no rule through memberships: readable.
                assert_eq!(eve.select(Member::query()).await.unwrap().len(), 3);
            }

            /// Every page of `query`, following the cursors.
            async fn all_pages(db: &SessionDb, query: trombase::query::Query<Note>) -> (Vec<String>, Vec<Option<u64>>) {
                let (mut titles, mut totals, mut after) = (Vec::new(), Vec::new(), None);
                loop {
                    let page = db.page(query.clone(), after.as_ref()).await.unwrap();
                    titles.extend(page.rows.iter().map(|n| n.title.clone()));
                    totals.push(page.total);
                    match page.next {
                        Some(next) => after = Some(next),
                        None => return (titles, totals),
                    }
                }
            }

            #[tokio::test]
            async fn pages_count_and_walk_only_readable_rows() {
                let w = world().await;
                let bob = w.trom.db.with_session(&w.bob);
                let by_title = Note::query().order_by(Note::TITLE.asc()).limit(2);
                let first = bob.page(by_title.clone(), None).await.unwrap();
                assert_eq!(first.total, Some(4));
                assert_eq!(titles(&first.rows), ["blue secret", "empty"]);
                let second = bob.page(by_title.clone(), first.next.as_ref()).await.unwrap();
                assert_eq!(second.rows.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["plan", "todo"]);
                assert_eq!(second.total, Some(4));
                assert!(second.next.is_none(), "the last page has no next");

                // Ann: blue's note is neither counted nor paged over.
                let ann = w.trom.db.with_session(&w.ann);
                let (all, totals) = all_pages(&ann, Note::query().order_by(Note::TITLE.asc()).limit(1)).await;
                assert_eq!(all, ["empty", "plan", "todo"]);
                assert_eq!(totals, [Some(3); 3]);
                // With a relation filter: the total is of the filtered rows.
                let tagged = Note::query().filter(Note::TAGS.any(Tag::LABEL.eq("rust"))).limit(10);
                let page = bob.page(tagged, None).await.unwrap();
                assert_eq!((page.rows.len(), page.total), (2, Some(2)));
                // Eve: nothing, and a total of zero.
                let eve = w.trom.db.with_session(&w.eve).page(Note::query().limit(5), None).await.unwrap();
                assert_eq!((eve.rows.len(), eve.total, eve.next), (0, Some(0), None));
                // Past the end (by offset), the page is empty and still has its total.
                let past = ann.page(Note::query().limit(5).offset(10), None).await.unwrap();
                assert_eq!((past.rows.len(), past.total), (0, Some(3)));
            }

            #[tokio::test]
            async fn cursors_walk_nullable_orders_in_both_directions_and_survive_inserts() {
                let w = world().await;
                let bob = w.trom.db.with_session(&w.bob);
                for order in [Note::STARS.asc(), Note::STARS.desc()] {
                    let query = Note::query().order_by(order).limit(1);
                    let whole: Vec<String> =
                        bob.page(query.clone().limit(100), None).await.unwrap().rows.into_iter().map(|n| n.title).collect();
                    let (walked, _) = all_pages(&bob, query).await;
                    assert_eq!(walked, whole, "paging one by one gives the same order, each row once");
                    assert_eq!(walked.len(), 4);
                }
                // A row inserted before the cursor does not shift the next page.
                let query = Note::query().order_by(Note::TITLE.asc()).limit(2);
                let first = bob.page(query.clone(), None).await.unwrap();
                let new = NewNote { id: DbId::new(), team_id: w.red, title: "aaa".into(), stars: None };
                bob.do_mutations([Mutation::insert(new)]).await.unwrap();
                let second = bob.page(query, first.next.as_ref()).await.unwrap();
                assert_eq!(second.rows.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["plan", "todo"]);
                assert_eq!(second.total, Some(5));
            }

            #[tokio::test]
            async fn json_pages_give_rows_total_and_next_and_refuse_foreign_cursors() {
                let w = world().await;
                let bob = w.trom.db.with_session(&w.bob);
                let action = |page: Json| {
                    json!({"table": "notes", "columns": ["title"], "orderBy": [{"field": "title", "direction": "desc"}],
                           "limit": 3, "page": page, "with": {"tags": {"columns": ["label"], "orderBy": [{"field": "label"}]}}})
                };
                let first = bob.page_json(&action(json!({}))).await.unwrap();
                let first = serde_json::to_value(&first).unwrap();
                assert_eq!(first["total"], 4);
                assert_eq!(
                    first["rows"],
                    json!([
                        {"title": "todo", "tags": []},
                        {"title": "plan", "tags": [{"label": "db"}, {"label": "rust"}]},
                        {"title": "empty", "tags": []}
                    ])
                );
                let next = first["next"].as_str().unwrap().to_owned();
                let second = bob.page_json(&action(json!({"after": next, "total": false}))).await.unwrap();
                let second = serde_json::to_value(&second).unwrap();
                assert_eq!(second, json!({"rows": [{"title": "blue secret", "tags": [{"label": "rust"}]}], "total": null, "next": null}));

                let refused = |page: Json| {
                    let bob = bob.clone();
                    async move {
                        let err = bob.page_json(&action(page)).await.unwrap_err();
                        (err.http_status(), err.to_string())
                    }
                };
                let (status, message) = refused(json!({"after": "not a cursor"})).await;
                assert_eq!(status, 400);
                assert!(message.contains("page.after") && message.contains("not a cursor of this read"), "{message}");
                // A cursor of another order.
                let by_stars = bob.page(Note::query().order_by(Note::STARS.asc()).limit(1), None).await.unwrap();
                let other = by_stars.next.unwrap().to_string();
                let (status, message) = refused(json!({"after": other})).await;
                assert_eq!((status, message.contains("another order")), (400, true), "{message}");
                let (status, message) = refused(json!({"before": "x"})).await;
                assert_eq!(status, 400);
                assert!(message.contains("page.before"), "{message}");
                let (status, _) = refused(json!({"total": "yes"})).await;
                assert_eq!(status, 400);
                // Aggregates are not paged; select_json points to page_json.
                let err = bob
                    .page_json(&json!({"table": "notes", "aggregates": {"n": {"fn": "count"}}, "page": {}}))
                    .await
                    .unwrap_err();
                assert!(err.to_string().contains("cannot be paged"), "{err}");
                let err = bob.select_json(&action(json!({}))).await.unwrap_err();
                assert!(err.to_string().contains("page_json"), "{err}");
            }

            #[tokio::test]
            async fn a_forged_cursor_is_only_a_filter_over_readable_rows() {
                let w = world().await;
                let ann = w.trom.db.with_session(&w.ann);
                // A cursor that claims to stand before blue's hidden note: Ann still
                // gets only her team's notes after it, and their total.
                let bob_page = w.trom.db.with_session(&w.bob).page(Note::query().order_by(Note::TITLE.asc()).limit(1), None).await.unwrap();
                assert_eq!(bob_page.rows[0].title, "blue secret");
                let page = ann.page(Note::query().order_by(Note::TITLE.asc()).limit(10), bob_page.next.as_ref()).await.unwrap();
                assert_eq!(titles(&page.rows), ["empty", "plan", "todo"]);
                assert_eq!(page.total, Some(3));
            }

            #[tokio::test]
            async fn json_relation_filters_are_validated_and_bounded() {
                let w = world().await;
                let db = w.trom.db.with_session(&w.ann);
                let error = |filter: Json| {
                    let db = db.clone();
                    async move {
                        let err = db.select_json(&json!({"table": "notes", "where": filter})).await.unwrap_err();
                        (err.http_status(), err.to_string())
                    }
                };
                let (status, message) = error(json!({"tags": {"any": {}}})).await;
                assert_eq!(status, 400);
                assert!(message.contains("where.tags.any") && message.contains("some"), "{message}");
                let (_, message) = error(json!({"tags": {}})).await;
                assert!(message.contains("needs `some`, `none` or `every`"), "{message}");
                let (_, message) = error(json!({"tags": {"some": {"nope": 1}}})).await;
                assert!(message.contains("where.tags.some.nope") && message.contains("tags"), "{message}");
                let (_, message) = error(json!({"tags": {"some": {"label": {"like": "a\\"}}}})).await;
                assert!(message.contains("where.tags.some.label.like"), "{message}");
                // Depth: relation filters nest under the same limit as embeds (4).
                let deep = json!({"team": {"some": {"notes": {"some": {"team": {"some": {"notes": {"some": {"team": {"some": {}}}}}}}}}}});
                let (status, message) = error(deep).await;
                assert_eq!(status, 400);
                assert!(message.contains("nesting deeper than 4"), "{message}");
                // Terms: each relation filter counts, plus what it tests.
                let limited = TromBase::builder()
                    .database_url(w.db.url())
                    .entity::<Member>()
                    .entity::<Team>()
                    .entity::<Membership>()
                    .entity::<Note>()
                    .entity::<Tag>()
                    .entity::<NoteTag>()
                    .read_limits(trombase::query::ReadLimits::default().max_filter_terms(3))
                    .connect()
                    .await
                    .unwrap();
                let many = json!({"table": "notes", "where": {"tags": {"some": {"label": "a", "hidden": false}}, "title": "x"}});
                let err = limited.db.with_session(&w.ann).select_json(&many).await.unwrap_err();
                assert!(err.to_string().contains("4 terms"), "{err}");
            }
        }
    };
}

/// The member whose reads of memberships are denied.
fn eve() -> DbId {
    "AzL8n0Y58m9".parse().unwrap()
}

/// `noteTags` -> `note_tags`.
fn heck_snake(logical: &str) -> String {
    let mut out = String::new();
    for c in logical.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

relations_suite!(snake, "snake");
relations_suite!(camel, "camel");
