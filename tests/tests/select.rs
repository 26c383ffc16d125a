#![allow(missing_docs)] // test fixtures, not API
//! Reads: both forms, every operator, ordering, paging at every level,
//! relations three levels deep, partial columns, aggregates, both casings,
//! read permissions with row filters, guard rails, one statement per read.

use std::sync::Mutex;

use serde_json::{json, Value as Json};
use trombase::prelude::*;
use trombase_tests::{session_for, TestDb};

/// The session that every read permitter allows unfiltered.
const ADMIN: &str = "AzL8n0Y58m8";
/// A session whose reads of comments are denied.
const BANNED: &str = "AzL8n0Y58m9";

fn admin() -> Session {
    session_for(ADMIN.parse().unwrap())
}

macro_rules! reads_suite {
    ($module:ident, $casing:literal) => {
        mod $module {
            use super::*;

            /// What reads of authors asked their permitter.
            static AUTHOR_READS: Mutex<Vec<(Vec<String>, bool)>> = Mutex::new(Vec::new());

            #[derive(Entity, Debug, Clone, PartialEq)]
            #[entity(table = "authors", casing = $casing)]
            #[relation(posts = resolves_to_many(Post, author_id -> id))]
            #[permit(read = record_author_reads, create = anyone)]
            pub struct Author {
                pub id: DbId,
                pub full_name: String,
                pub created_at: DateTime<Utc>,
                pub updated_at: DateTime<Utc>,
            }

            #[derive(Entity, Debug, Clone, PartialEq)]
            #[entity(table = "blogPosts", casing = $casing)]
            #[relation(author = points_to(Author, author_id -> id), comments = resolves_to_many(Comment, post_id -> id))]
            #[permit(read = own_posts, create = anyone)]
            pub struct Post {
                pub id: DbId,
                pub title: String,
                pub body: Option<String>,
                pub stars: i32,
                pub view_count: i64,
                pub score: f64,
                pub published: bool,
                pub author_id: DbId,
                pub created_at: DateTime<Utc>,
                pub updated_at: DateTime<Utc>,
            }

            #[derive(Entity, Debug, Clone, PartialEq)]
            #[entity(table = "comments", casing = $casing)]
            #[relation(post = points_to(Post, post_id -> id))]
            #[permit(read = not_banned, create = anyone)]
            pub struct Comment {
                pub id: DbId,
                pub post_id: DbId,
                pub text: String,
                pub likes: i16,
                pub created_at: DateTime<Utc>,
                pub updated_at: DateTime<Utc>,
            }

            async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
                Permit::Allow
            }

            async fn record_author_reads(_: &Session, _: &Sql<'_>, op: &Operation<'_, Author>) -> Permit<Author> {
                if let Operation::Read(read) = op {
                    let columns = read.columns.iter().map(|c| c.name.to_owned()).collect();
                    AUTHOR_READS.lock().unwrap().push((columns, read.filter.is_some()));
                }
                Permit::Allow
            }

            /// Admins read everything; everyone else only their own posts.
            async fn own_posts(session: &Session, _: &Sql<'_>, _: &Operation<'_, Post>) -> Permit<Post> {
                if session.user_id.to_string() == ADMIN {
                    Permit::Allow
                } else {
                    Permit::filter(Post::AUTHOR_ID.eq(session.user_id))
                }
            }

            async fn not_banned(session: &Session, _: &Sql<'_>, _: &Operation<'_, Comment>) -> Permit<Comment> {
                if session.user_id.to_string() == BANNED {
                    Permit::deny("comments are hidden from you")
                } else {
                    Permit::Allow
                }
            }

            pub struct World {
                pub _db: TestDb,
                pub trom: TromBase,
                pub ann: DbId,
                pub bob: DbId,
            }

            /// ann: Alpha, beta, Gamma; bob: delta; cid: nothing.
            pub async fn world() -> World {
                let db = TestDb::new().await;
                let trom = TromBase::builder()
                    .database_url(db.url())
                    .entity::<Author>()
                    .entity::<Post>()
                    .entity::<Comment>()
                    .connect()
                    .await
                    .unwrap();
                trom.create_tables().await.unwrap();
                let (ann, bob, cid) = (DbId::new(), DbId::new(), DbId::new());
                let post = |title: &str, body: Option<&str>, stars, views, score, published, author| NewPost {
                    id: DbId::new(),
                    title: title.into(),
                    body: body.map(Into::into),
                    stars,
                    view_count: views,
                    score,
                    published,
                    author_id: author,
                };
                let posts = [
                    post("Alpha", Some("x"), 5, 100, 1.5, true, ann),
                    post("beta", None, 3, 50, 2.5, false, ann),
                    post("Gamma", Some("y"), 5, 10, 0.5, true, ann),
                    post("delta", None, 1, 1000, 9.0, true, bob),
                ];
                let comment = |post: &NewPost, text: &str, likes| NewComment { id: DbId::new(), post_id: post.id, text: text.into(), likes };
                let comments = [
                    comment(&posts[0], "nice", 2),
                    comment(&posts[0], "meh", 0),
                    comment(&posts[1], "wow", 5),
                    comment(&posts[3], "ok", 1),
                ];
                let mut batch = vec![
                    Mutation::insert(NewAuthor { id: ann, full_name: "Ann".into() }),
                    Mutation::insert(NewAuthor { id: bob, full_name: "Bob".into() }),
                    Mutation::insert(NewAuthor { id: cid, full_name: "Cid".into() }),
                ];
                batch.extend(posts.into_iter().map(Mutation::insert));
                batch.extend(comments.into_iter().map(Mutation::insert));
                trom.db.with_session(&admin()).do_mutations(batch).await.unwrap();
                World { _db: db, trom, ann, bob }
            }

            fn titles(rows: &[Json]) -> Vec<&str> {
                rows.iter().map(|r| r["title"].as_str().unwrap()).collect()
            }

            async fn json_titles(w: &World, action: Json) -> Vec<String> {
                let rows = w.trom.db.with_session(&admin()).select_json(&action).await.unwrap();
                titles(&rows).into_iter().map(str::to_owned).collect()
            }

            #[tokio::test]
            async fn every_operator_in_both_forms() {
                let w = world().await;
                let db = w.trom.db.with_session(&admin());
                let cases: Vec<(Json, Filter<Post>, Vec<&str>)> = vec![
                    (json!({"title": "Alpha"}), Post::TITLE.eq("Alpha"), vec!["Alpha"]),
                    (json!({"body": null}), Post::BODY.is_null(), vec!["beta", "delta"]),
                    (json!({"stars": {"eq": 5}}), Post::STARS.eq(5), vec!["Alpha", "Gamma"]),
                    (json!({"stars": {"ne": 5}}), Post::STARS.ne(5), vec!["beta", "delta"]),
                    (json!({"viewCount": {"gt": 50}}), Post::VIEW_COUNT.gt(50), vec!["Alpha", "delta"]),
                    (json!({"viewCount": {"gte": 50}}), Post::VIEW_COUNT.gte(50), vec!["Alpha", "beta", "delta"]),
                    (json!({"score": {"lt": 1.5}}), Post::SCORE.lt(1.5), vec!["Gamma"]),
                    (json!({"score": {"lte": 1.5}}), Post::SCORE.lte(1.5), vec!["Alpha", "Gamma"]),
                    (json!({"stars": {"in": [1, 3]}}), Post::STARS.is_in([1, 3]), vec!["beta", "delta"]),
                    (json!({"stars": {"in": []}}), Post::STARS.is_in(Vec::<i32>::new()), vec![]),
                    (json!({"title": {"like": "%a"}}), Post::TITLE.like("%a"), vec!["Alpha", "beta", "Gamma", "delta"]),
                    (json!({"title": {"like": "a%"}}), Post::TITLE.like("a%"), vec![]),
                    (json!({"title": {"ilike": "a%"}}), Post::TITLE.ilike("a%"), vec!["Alpha"]),
                    (json!({"body": {"isNull": true}}), Post::BODY.is_null(), vec!["beta", "delta"]),
                    (json!({"body": {"notNull": true}}), Post::BODY.not_null(), vec!["Alpha", "Gamma"]),
                    (json!({"published": false}), Post::PUBLISHED.eq(false), vec!["beta"]),
                    (json!({"authorId": w.bob.to_string()}), Post::AUTHOR_ID.eq(w.bob), vec!["delta"]),
                    (json!({"stars": 5, "body": "y"}), Post::STARS.eq(5).and(Post::BODY.eq("y")), vec!["Gamma"]),
                    (json!({"stars": {"gte": 3, "lt": 5}}), Post::STARS.gte(3).and(Post::STARS.lt(5)), vec!["beta"]),
                    (json!({"or": [{"stars": 1}, {"title": "beta"}]}), Post::STARS.eq(1).or(Post::TITLE.eq("beta")), vec!["beta", "delta"]),
                    (json!({"not": {"published": true}}), !Post::PUBLISHED.eq(true), vec!["beta"]),
                ];
                for (where_, filter, expected) in cases {
                    let mut expected: Vec<&str> = expected;
                    expected.sort_by_key(|t| t.to_lowercase());
                    let action = json!({"table": "blogPosts", "where": where_.clone(), "orderBy": [{"field": "title"}]});
                    let mut got = json_titles(&w, action).await;
                    got.sort_by_key(|t| t.to_lowercase());
                    assert_eq!(got, expected, "json where {where_}");
                    let rows = db.select(Post::query().filter(filter)).await.unwrap();
                    let mut got: Vec<String> = rows.into_iter().map(|p| p.title).collect();
                    got.sort_by_key(|t| t.to_lowercase());
                    assert_eq!(got, expected, "typed filter for {where_}");
                }
            }

            #[tokio::test]
            async fn ordering_and_paging() {
                let w = world().await;
                let db = w.trom.db.with_session(&admin());
                let action = json!({"table": "blogPosts", "orderBy": [{"field": "stars", "direction": "desc"}, {"field": "title"}]});
                assert_eq!(json_titles(&w, action).await, ["Alpha", "Gamma", "beta", "delta"]);
                let typed = db.select(Post::query().order_by(Post::STARS.desc()).order_by(Post::TITLE.asc())).await.unwrap();
                assert_eq!(typed.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["Alpha", "Gamma", "beta", "delta"]);

                let action = json!({"table": "blogPosts", "orderBy": [{"field": "viewCount"}], "limit": 2, "offset": 1});
                assert_eq!(json_titles(&w, action).await, ["beta", "Alpha"]);
                let typed = db.select(Post::query().order_by(Post::VIEW_COUNT.asc()).limit(2).offset(1)).await.unwrap();
                assert_eq!(typed.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["beta", "Alpha"]);

                // Nested paging: each author's second post by title.
                let rows = db
                    .select(
                        Author::query()
                            .order_by(Author::FULL_NAME.asc())
                            .with(Author::POSTS.query().order_by(Post::TITLE.asc()).limit(1).offset(1)),
                    )
                    .await
                    .unwrap();
                let summary: Vec<(String, Vec<String>)> =
                    rows.into_iter().map(|(a, posts)| (a.full_name, posts.into_iter().map(|p| p.title).collect())).collect();
                assert_eq!(summary, [("Ann".into(), vec!["Gamma".to_owned()]), ("Bob".into(), vec![]), ("Cid".into(), vec![])]);
                let rows = w
                    .trom
                    .db
                    .with_session(&admin())
                    .select_json(&json!({"table": "authors", "orderBy": [{"field": "fullName"}], "limit": 1, "offset": 1,
                        "with": {"posts": {"orderBy": [{"field": "title", "direction": "desc"}], "limit": 2}}}))
                    .await
                    .unwrap();
                assert_eq!(rows.len(), 1);
                assert_eq!(rows[0]["fullName"], "Bob");
                assert_eq!(titles(rows[0]["posts"].as_array().unwrap()), ["delta"]);
            }

            #[tokio::test]
            async fn relations_nest_three_levels_with_partial_columns() {
                let w = world().await;
                let db = w.trom.db.with_session(&admin());
                // authors -> posts -> comments -> post (both kinds, three levels below the root).
                let rows = db
                    .select(
                        Author::query().filter(Author::ID.eq(w.ann)).with(
                            Author::POSTS.query().order_by(Post::TITLE.asc()).with(
                                Post::COMMENTS.query().order_by(Comment::LIKES.desc()).with(Comment::POST),
                            ),
                        ),
                    )
                    .await
                    .unwrap();
                assert_eq!(rows.len(), 1);
                let (ann, posts) = &rows[0];
                assert_eq!(ann.full_name, "Ann");
                let shape: Vec<(&str, Vec<(&str, Option<&str>)>)> = posts
                    .iter()
                    .map(|(p, comments)| {
                        (p.title.as_str(), comments.iter().map(|(c, post)| (c.text.as_str(), post.as_ref().map(|p| p.title.as_str()))).collect())
                    })
                    .collect();
                assert_eq!(
                    shape,
                    [
                        ("Alpha", vec![("nice", Some("Alpha")), ("meh", Some("Alpha"))]),
                        ("Gamma", vec![]),
                        ("beta", vec![("wow", Some("beta"))]),
                    ]
                );
                // Embedded rows decode every field kind, as stored.
                let stored = db.select(Post::query().filter(Post::TITLE.eq("Alpha"))).await.unwrap();
                assert_eq!(posts[0].0, stored[0]);

                // Partial columns at every level, JSON form.
                let rows = db
                    .select_json(&json!({"table": "comments", "columns": ["text"], "orderBy": [{"field": "text"}],
                        "with": {"post": {"columns": ["title"], "with": {"author": {"columns": ["fullName"],
                            "with": {"posts": {"columns": ["stars"], "orderBy": [{"field": "stars"}]}}}}}}}))
                    .await
                    .unwrap();
                assert_eq!(rows[0], json!({"text": "meh", "post": {"title": "Alpha", "author": {"fullName": "Ann", "posts": [{"stars": 3}, {"stars": 5}, {"stars": 5}]}}}));
                assert_eq!(rows[2], json!({"text": "ok", "post": {"title": "delta", "author": {"fullName": "Bob", "posts": [{"stars": 1}]}}}));
                // Typed partial columns, with an embed after them.
                let rows = db
                    .select(
                        Post::query()
                            .columns((Post::TITLE, Post::STARS))
                            .order_by(Post::TITLE.asc())
                            .with(Post::AUTHOR.query().columns((Author::FULL_NAME,))),
                    )
                    .await
                    .unwrap();
                let (Cols((title, stars)), author) = &rows[0];
                assert_eq!((title.as_str(), *stars), ("Alpha", 5));
                assert_eq!(author.as_ref().map(|Cols((name,))| name.as_str()), Some("Ann"));
                // Full JSON rows carry every field, with ids and timestamps as text.
                let rows = db.select_json(&json!({"table": "blogPosts", "where": {"title": "Alpha"}, "with": {"author": true}})).await.unwrap();
                let row = rows[0].as_object().unwrap();
                assert_eq!(row.len(), 11);
                assert_eq!(row["author"]["id"], w.ann.to_string());
                assert!(row["createdAt"].as_str().unwrap().parse::<DateTime<Utc>>().is_ok());
                assert_eq!((row["stars"].clone(), row["score"].clone(), row["published"].clone()), (json!(5), json!(1.5), json!(true)));
            }

            /// JSON rows are written by the library from the read's columns
            /// (`select_json`, `select_json_text`, the API): the same JSON as
            /// PostgreSQL's `row_to_json` of the same read (what pages still
            /// return), for rows, embeds at three levels, partial columns,
            /// times, and rows a filter hides; aggregates keep PostgreSQL's
            /// JSON, under their aliases, times in UTC with a `Z`.
            #[tokio::test]
            async fn json_rows_written_from_columns_are_postgresqls_json() {
                let w = world().await;
                let actions = [
                    json!({"table": "blogPosts"}),
                    json!({"table": "blogPosts", "where": {"stars": {"gte": 2}},
                           "with": {"author": true, "comments": {"with": {"post": {"with": {"author": true}}}}}}),
                    json!({"table": "authors", "with": {"posts": {"columns": ["title", "createdAt"],
                           "orderBy": [{"field": "createdAt", "direction": "desc"}], "limit": 2}}}),
                    json!({"table": "blogPosts", "columns": ["id", "createdAt", "updatedAt", "body", "score"]}),
                    json!({"table": "comments", "with": {"post": {"columns": ["title", "published"]}}}),
                    json!({"table": "authors", "with": {"posts": {"aggregates": {"n": {"fn": "count"}}}}}),
                    json!({"table": "blogPosts", "where": {"title": "no such title"}}),
                ];
                for session in [admin(), session_for(w.bob), session_for(DbId::new())] {
                    let db = w.trom.db.with_session(&session);
                    for action in &actions {
                        let mut paged = action.clone();
                        paged["orderBy"] = json!([{"field": "id"}]);
                        paged["page"] = json!({"total": false});
                        let expected = db.page_json(&paged).await.unwrap().rows;
                        let mut rows = db.select_json(action).await.unwrap();
                        rows.sort_by_key(|row| row["id"].as_str().map(str::to_owned));
                        assert_eq!(rows, expected, "{action}");
                        let text = db.select_json_text(action).await.unwrap();
                        let mut parsed: Vec<Json> = serde_json::from_slice(&text).unwrap();
                        parsed.sort_by_key(|row| row["id"].as_str().map(str::to_owned));
                        assert_eq!(parsed, expected, "{action}");
                    }
                }
                let db = w.trom.db.with_session(&admin());
                let newest = db
                    .select(Post::query().order_by(Post::CREATED_AT.desc()).limit(1))
                    .await
                    .unwrap()[0]
                    .created_at;
                let aggregates = json!({"table": "blogPosts", "aggregates": {
                    "n": {"fn": "count"}, "latest": {"fn": "max", "field": "createdAt"}}});
                let text = db.select_json_text(&aggregates).await.unwrap();
                let rows: Json = serde_json::from_slice(&text).unwrap();
                let latest = rows[0]["latest"].as_str().unwrap();
                assert!(latest.ends_with('Z'), "{latest}");
                assert_eq!(latest.parse::<DateTime<Utc>>().unwrap(), newest);
                assert_eq!(rows, json!(db.select_json(&aggregates).await.unwrap()));
                let from_query = json!({"table": "blogPosts", "where": {"stars": "5"}});
                assert_eq!(
                    serde_json::from_slice::<Json>(&db.select_json_text_from_query_string(&from_query).await.unwrap())
                        .unwrap(),
                    Json::Array(db.select_json_from_query_string(&from_query).await.unwrap())
                );
            }

            #[tokio::test]
            async fn aggregates_with_and_without_group_by() {
                let w = world().await;
                let db = w.trom.db.with_session(&admin());
                let rows = db
                    .select_json(&json!({"table": "blogPosts", "aggregates": {
                        "n": {"fn": "count"}, "withBody": {"fn": "count", "field": "body"},
                        "authors": {"fn": "count", "field": "authorId", "distinct": true},
                        "stars": {"fn": "sum", "field": "stars"}, "views": {"fn": "sum", "field": "viewCount"},
                        "meanScore": {"fn": "avg", "field": "score"}, "least": {"fn": "min", "field": "title"},
                        "most": {"fn": "max", "field": "viewCount"}}}))
                    .await
                    .unwrap();
                assert_eq!(
                    rows,
                    [json!({"n": 4, "withBody": 2, "authors": 2, "stars": 14, "views": 1160, "meanScore": 3.375, "least": "Alpha", "most": 1000})]
                );
                let rows = db
                    .select_json(&json!({"table": "blogPosts", "columns": ["authorId"], "groupBy": ["authorId"],
                        "aggregates": {"n": {"fn": "count"}, "best": {"fn": "max", "field": "stars"}}, "orderBy": [{"field": "authorId"}]}))
                    .await
                    .unwrap();
                let mut expected = vec![
                    json!({"authorId": w.ann.to_string(), "n": 3, "best": 5}),
                    json!({"authorId": w.bob.to_string(), "n": 1, "best": 1}),
                ];
                expected.sort_by_key(|r| r["authorId"].as_str().unwrap().to_owned());
                assert_eq!(rows, expected);

                // The documented typed forms (`Agg`): rows are counted by the
                // entity, every other aggregate is a method of its field; the
                // same numbers as the JSON form above.
                let typed = db
                    .select(Post::query().aggregate((
                        Post::count_rows(),
                        Post::ID.count(),
                        Post::BODY.count(),
                        Post::AUTHOR_ID.count_distinct(),
                        Post::STARS.sum(),
                        Post::VIEW_COUNT.sum(),
                        Post::SCORE.avg(),
                        Post::TITLE.min(),
                    )))
                    .await
                    .unwrap();
                assert_eq!(typed[0].values, (4, 4, 2, 2, Some(14), Some(1160), Some(3.375), Some("Alpha".to_owned())));
                let named = Post::query().aggregate((Post::count_rows().named("n"), Post::VIEW_COUNT.max().named("most")));
                let rows = db.select(named.clone()).await.unwrap();
                assert_eq!(named.json(&rows).to_values(), [json!({"n": 4, "most": 1000})]);
                let typed = db
                    .select(Post::query().filter(Post::PUBLISHED.eq(true)).aggregate((
                        Post::count_rows(),
                        Post::STARS.sum(),
                        Post::SCORE.avg(),
                        Post::VIEW_COUNT.max(),
                        Post::AUTHOR_ID.count_distinct(),
                    )))
                    .await
                    .unwrap();
                assert_eq!(typed[0].values, (3, Some(11), Some(11.0 / 3.0), Some(1000), 2));
                // The free `count()` is `count_rows` under its older name.
                let old = db.select(Post::query().aggregate((count(),))).await.unwrap();
                assert_eq!(old[0].values, (4,));
                let typed = db
                    .select(Post::query().group_by((Post::PUBLISHED,)).aggregate((
                        Post::count_rows(),
                        Post::SCORE.sum(),
                        Post::TITLE.min(),
                    )))
                    .await
                    .unwrap();
                let mut groups: Vec<(bool, i64, Option<f64>, Option<String>)> =
                    typed.into_iter().map(|g| (g.group.0, g.values.0, g.values.1, g.values.2)).collect();
                groups.sort_by_key(|g| g.0);
                assert_eq!(groups, [(false, 1, Some(2.5), Some("beta".into())), (true, 3, Some(11.0), Some("Alpha".into()))]);
                // Aggregates nested under a relation: each author's post count.
                let rows = db
                    .select_json(&json!({"table": "authors", "columns": ["fullName"], "orderBy": [{"field": "fullName"}],
                        "with": {"posts": {"aggregates": {"n": {"fn": "count"}}}}}))
                    .await
                    .unwrap();
                let counts: Vec<&Json> = rows.iter().map(|r| &r["posts"][0]["n"]).collect();
                assert_eq!(counts, [&json!(3), &json!(1), &json!(0)]);
            }

            #[tokio::test]
            async fn a_row_filter_hides_rows_everywhere() {
                let w = world().await;
                let ann = w.trom.db.with_session(&session_for(w.ann));
                let posts = ann.select(Post::query()).await.unwrap();
                assert_eq!(posts.len(), 3);
                assert!(posts.iter().all(|p| p.author_id == w.ann));
                let json = ann.select_json(&json!({"table": "blogPosts"})).await.unwrap();
                assert_eq!(json.len(), 3);
                // A points-to embed (a join at the top of a typed read) of a
                // hidden row is none, in both forms; the others are there.
                let comments: Vec<(Comment, Option<Post>)> =
                    ann.select(Comment::query().order_by(Comment::TEXT.asc()).with(Comment::POST)).await.unwrap();
                let posts: Vec<(&str, Option<&str>)> =
                    comments.iter().map(|(c, p)| (c.text.as_str(), p.as_ref().map(|p| p.title.as_str()))).collect();
                assert_eq!(posts, [("meh", Some("Alpha")), ("nice", Some("Alpha")), ("ok", None), ("wow", Some("beta"))]);
                let json = ann
                    .select_json(&json!({"table": "comments", "columns": ["text"], "orderBy": [{"field": "text"}],
                        "with": {"post": {"columns": ["title"]}}}))
                    .await
                    .unwrap();
                assert_eq!(json[2], json!({"text": "ok", "post": null}));
                let page = ann.page(Comment::query().order_by(Comment::TEXT.asc()).with(Comment::POST).limit(3), None).await.unwrap();
                assert_eq!((page.rows.len(), page.total, page.rows[2].1.is_none()), (3, Some(4), true));
                // Authors are readable; their embedded posts are only Ann's.
                let authors = ann.select(Author::query().order_by(Author::FULL_NAME.asc()).with(Author::POSTS)).await.unwrap();
                let counts: Vec<usize> = authors.iter().map(|(_, p)| p.len()).collect();
                assert_eq!(counts, [3, 0, 0]);
                let json = ann.select_json(&json!({"table": "authors", "with": {"posts": {"columns": ["id"]}}})).await.unwrap();
                assert_eq!(json.iter().map(|a| a["posts"].as_array().unwrap().len()).sum::<usize>(), 3);
                // Counts and sums see only Ann's rows too, at the root and nested.
                let total = ann.select(Post::query().aggregate((Post::count_rows(), Post::VIEW_COUNT.sum()))).await.unwrap();
                assert_eq!(total[0].values, (3, Some(160)));
                let nested = ann
                    .select_json(&json!({"table": "authors", "with": {"posts": {"aggregates": {"n": {"fn": "count"}}}}}))
                    .await
                    .unwrap();
                assert_eq!(nested.iter().map(|a| a["posts"][0]["n"].as_i64().unwrap()).sum::<i64>(), 3);
                // Reaching Bob's post through a comment's points-to finds nothing.
                let comments = ann.select(Comment::query().order_by(Comment::TEXT.asc()).with(Comment::POST)).await.unwrap();
                let ok = comments.iter().find(|(c, _)| c.text == "ok").unwrap();
                assert_eq!(ok.1, None, "bob's post is hidden even when embedded");
                // Filters, ordering and offsets cannot reach around it.
                let by_bob = ann.select(Post::query().filter(Post::AUTHOR_ID.eq(w.bob))).await.unwrap();
                assert!(by_bob.is_empty());
                let paged = ann.select(Post::query().order_by(Post::VIEW_COUNT.desc()).offset(2)).await.unwrap();
                assert_eq!(paged.len(), 1);
            }

            #[tokio::test]
            async fn a_nested_deny_fails_the_whole_read_and_permitters_see_the_request() {
                let w = world().await;
                let banned = w.trom.db.with_session(&session_for(BANNED.parse().unwrap()));
                let err = banned.select(Post::query().with(Post::COMMENTS)).await.unwrap_err();
                assert!(matches!(err, trombase::Error::Permission(_)), "{err:?}");
                assert_eq!(err.to_string(), "comments are hidden from you");
                let err = banned
                    .select_json(&json!({"table": "authors", "with": {"posts": {"limit": 10, "with": {"comments": {"limit": 10}}}}}))
                    .await
                    .unwrap_err();
                assert_eq!(err.http_status(), 403);
                assert!(banned.select(Post::query()).await.is_ok(), "without comments the read is fine");

                AUTHOR_READS.lock().unwrap().clear();
                let db = w.trom.db.with_session(&admin());
                db.select_json(&json!({"table": "authors", "columns": ["fullName"], "where": {"fullName": "Ann"},
                    "with": {"posts": {"with": {"author": {"columns": ["id"]}}}}}))
                    .await
                    .unwrap();
                let seen = AUTHOR_READS.lock().unwrap().clone();
                assert_eq!(seen.len(), 1, "once per entity, however often it appears: {seen:?}");
                assert_eq!(seen[0], (vec!["fullName".to_owned(), "id".to_owned()], true));
            }

            #[tokio::test]
            async fn every_select_is_one_statement() {
                let w = world().await;
                let db = w.trom.db.with_session(&session_for(w.ann));
                let before = w.trom.statements_executed();
                db.select(Author::query().with(Author::POSTS.query().with(Post::COMMENTS.query().with(Comment::POST)))).await.unwrap();
                assert_eq!(w.trom.statements_executed() - before, 1);
                let before = w.trom.statements_executed();
                db.select_json(&json!({"table": "comments", "with": {"post": {"with": {"author": {"with": {"posts": true}}}}}})).await.unwrap();
                assert_eq!(w.trom.statements_executed() - before, 1);
            }
        }
    };
}

reads_suite!(snake, "snake");
reads_suite!(camel, "camel");

// ---- untrusted JSON reads ----

#[tokio::test]
async fn json_selects_reject_bad_input_with_a_path() {
    use snake::*;
    let w = world().await;
    let db = w.trom.db.with_session(&admin());
    let cases = [
        (json!({"table": "nope"}), "table", "unknown table `nope`"),
        (
            json!({"table": "blogPosts", "columns": ["title", "color"]}),
            "columns[1]",
            "unknown field of `blogPosts`",
        ),
        (
            json!({"table": "blogPosts", "columns": "title"}),
            "columns",
            "expected an array of field names, got a string",
        ),
        (
            json!({"table": "blogPosts", "with": {"editor": true}}),
            "with.editor",
            "unknown relation of `blogPosts`",
        ),
        (
            json!({"table": "blogPosts", "with": {"author": 1}}),
            "with.author",
            "expected true or an object, got a number",
        ),
        (
            json!({"table": "blogPosts", "where": {"title": {"regex": ".*"}}}),
            "where.title.regex",
            "unknown operator `regex`; expected eq, ne, gt, gte, lt, lte, in, like, ilike, isNull or notNull",
        ),
        (
            json!({"table": "blogPosts", "where": {"stars": "five"}}),
            "where.stars",
            "expected 32-bit integer, got a string",
        ),
        (
            json!({"table": "blogPosts", "where": {"stars": {"like": "5%"}}}),
            "where.stars.like",
            "`like` needs a text field; `stars` is 32-bit integer",
        ),
        (
            json!({"table": "blogPosts", "where": {"authorId": "x"}}),
            "where.authorId",
            "invalid DbId: expected 11 base62 characters or a 36-character UUID, got 1",
        ),
        (
            json!({"table": "blogPosts", "where": {"stars": {"in": 3}}}),
            "where.stars.in",
            "expected an array, got a number",
        ),
        (
            json!({"table": "blogPosts", "limit": -1}),
            "limit",
            "expected a non-negative integer, got a number",
        ),
        (json!({"table": "blogPosts", "limit": 1001}), "limit", "must be at most 1000"),
        (
            json!({"table": "blogPosts", "offset": "2"}),
            "offset",
            "expected a non-negative integer, got a string",
        ),
        (
            json!({"table": "blogPosts", "orderBy": [{"field": "title", "direction": "sideways"}]}),
            "orderBy[0].direction",
            "expected \"asc\" or \"desc\", got a string",
        ),
        (
            json!({"table": "blogPosts", "limit": 1, "drop": true}),
            "drop",
            "unknown key; expected one of: table, page, columns, where, with, orderBy, limit, offset, aggregates, groupBy",
        ),
        (
            json!({"table": "blogPosts", "aggregates": {"n": {"fn": "count", "of": "stars"}}}),
            "aggregates.n.of",
            "unknown key; expected one of: fn, field, distinct",
        ),
        (
            json!({"table": "blogPosts\"; DROP TABLE comments; --"}),
            "table",
            "unknown table `blogPosts\"; DROP TABLE comments; --`",
        ),
        (
            json!({"table": "blogPosts", "columns": ["title\" FROM comments --"]}),
            "columns[0]",
            "unknown field of `blogPosts`",
        ),
        (
            json!({"table": "blogPosts", "aggregates": {"n": {"fn": "median", "field": "stars"}}}),
            "aggregates.n.fn",
            "unknown function `median`",
        ),
        (
            json!({"table": "blogPosts", "aggregates": {"n": {"fn": "sum", "field": "title"}}}),
            "aggregates.n.field",
            "`title` is not a number",
        ),
        (
            json!({"table": "blogPosts", "aggregates": {"n": {"fn": "count"}}, "with": {"author": true}}),
            "with",
            "aggregates and embedded relations do not mix",
        ),
        (
            json!({"table": "blogPosts", "columns": ["stars"], "groupBy": ["authorId"], "aggregates": {"n": {"fn": "count"}}}),
            "groupBy",
            "`authorId` must also be selected in columns",
        ),
        (
            json!({"table": "blogPosts", "aggregates": {"x\"y": {"fn": "count"}}}),
            "aggregates.x\"y",
            "must be a plain name that is not a group-by field",
        ),
    ];
    for (action, path, message) in cases {
        let err = db.select_json(&action).await.unwrap_err();
        match &err {
            trombase::Error::Validation(v) => {
                assert_eq!((v.path.as_str(), v.message.as_str()), (path, message), "for {action}")
            }
            other => panic!("{action}: expected a validation error, got {other:?}"),
        }
    }
    // Guard rails.
    let deep = json!({"table": "comments", "with": {"post": {"with": {"author": {"with": {"posts": {"with": {"comments": {"with": {"post": true}}}}}}}}}});
    let err = db.select_json(&deep).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "with.post.with.author.with.posts.with.comments.with.post: nesting deeper than 4 is not allowed"
    );
    let long: Vec<i32> = (0..1001).collect();
    let err =
        db.select_json(&json!({"table": "blogPosts", "where": {"stars": {"in": long}}})).await.unwrap_err();
    assert_eq!(err.to_string(), "where.stars.in: may hold at most 1000 values");
    // A default limit applies when none is given.
    let limited = TromBase::builder()
        .database_url(w._db.url())
        .entity::<Author>()
        .entity::<Post>()
        .entity::<Comment>()
        .read_limits(trombase::query::ReadLimits::default().limits(2, 3).max_depth(1))
        .connect()
        .await
        .unwrap();
    let rows = limited.db.with_session(&admin()).select_json(&json!({"table": "blogPosts"})).await.unwrap();
    assert_eq!(rows.len(), 2);
    let err = limited
        .db
        .with_session(&admin())
        .select_json(&json!({"table": "blogPosts", "limit": 4}))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "limit: must be at most 3");
    let err = limited
        .db
        .with_session(&admin())
        .select_json(&json!({"table": "comments", "with": {"post": {"with": {"author": true}}}}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nesting deeper than 1"), "{err}");
}

#[tokio::test]
async fn query_string_values_are_coerced_to_the_field_kind() {
    use snake::*;
    let w = world().await;
    let db = w.trom.db.with_session(&admin());
    let action = json!({"table": "blogPosts", "where": {"stars": "5", "published": "true"}, "limit": "1", "offset": "1",
        "orderBy": [{"field": "title"}], "with": {"author": "true"}});
    let rows = db.select_json_from_query_string(&action).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["title"], "Gamma");
    assert_eq!(rows[0]["author"]["fullName"], "Ann");
    let err = db
        .select_json_from_query_string(&json!({"table": "blogPosts", "where": {"stars": "many"}}))
        .await
        .unwrap_err();
    assert!(matches!(err, trombase::Error::Validation(_)));
}

mod generated {
    use super::snake::*;
    use super::*;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("title".to_owned()),
            Just("stars".to_owned()),
            Just("body".to_owned()),
            Just("authorId".to_owned()),
            Just("viewCount".to_owned()),
            Just("score".to_owned()),
            Just("published".to_owned()),
            Just("id".to_owned()),
            Just("author".to_owned()),
            Just("comments".to_owned()),
            Just("posts".to_owned()),
            Just("post".to_owned()),
            Just("fullName".to_owned()),
            Just("text".to_owned()),
            Just("likes".to_owned()),
            Just("createdAt".to_owned()),
            Just("eq".to_owned()),
            Just("gt".to_owned()),
            Just("in".to_owned()),
            Just("like".to_owned()),
            Just("isNull".to_owned()),
            Just("or".to_owned()),
            Just("not".to_owned()),
            Just("field".to_owned()),
            Just("direction".to_owned()),
            Just("fn".to_owned()),
            Just("count".to_owned()),
            Just("sum".to_owned()),
            Just("desc".to_owned()),
            Just("some".to_owned()),
            Just("none".to_owned()),
            Just("every".to_owned()),
            Just("after".to_owned()),
            Just("total".to_owned()),
            "[a-zA-Z\"';%_\\\\ -]{0,8}",
        ]
    }

    fn value() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(json!(null)),
            any::<bool>().prop_map(|b| json!(b)),
            (-3i64..2000).prop_map(|n| json!(n)),
            any::<i64>().prop_map(|n| json!(n)),
            (-10.0f64..10.0).prop_map(|n| json!(n)),
            name().prop_map(|s| json!(s)),
            Just(json!("2024-01-01T00:00:00Z")),
            Just(json!(ADMIN)),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
                prop::collection::btree_map(name(), inner, 0..5)
                    .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    fn action() -> impl Strategy<Value = Json> {
        let table = prop_oneof![Just("blogPosts"), Just("authors"), Just("comments")];
        let keys = prop_oneof![
            Just("columns"),
            Just("where"),
            Just("with"),
            Just("orderBy"),
            Just("limit"),
            Just("offset"),
            Just("aggregates"),
            Just("groupBy"),
            Just("page")
        ];
        (table, prop::collection::btree_map(keys, value(), 0..5)).prop_map(|(table, parts)| {
            let mut object: serde_json::Map<String, Json> =
                parts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            object.insert("table".into(), json!(table));
            Json::Object(object)
        })
    }

    /// Generated selects either fail validation or run: never a panic, and
    /// never a database error reaching the caller.
    #[test]
    fn generated_json_selects_never_reach_a_database_error() {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let w = runtime.block_on(world());
        // The admin reads without row filters; ann through one (so the
        // caller's conditions that are not leakproof go through the fence).
        let (admin, ann) = (w.trom.db.with_session(&admin()), w.trom.db.with_session(&session_for(w.ann)));
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(400));
        let (ran, rejected) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
        runner
            .run(&(action(), any::<bool>()), |(action, as_ann)| {
                let db = if as_ann { &ann } else { &admin };
                let result = if action.get("page").is_some() {
                    runtime.block_on(db.page_json(&action)).map(|page| page.rows)
                } else {
                    runtime.block_on(db.select_json(&action))
                };
                match result {
                    Ok(_) => ran.set(ran.get() + 1),
                    Err(trombase::Error::Validation(_)) => rejected.set(rejected.get() + 1),
                    Err(other) => return Err(TestCaseError::fail(format!("{action}: {other:?}"))),
                }
                Ok(())
            })
            .unwrap();
        let (ran, rejected) = (ran.get(), rejected.get());
        assert!(ran > 20, "the generator should produce valid selects too: ran {ran}, rejected {rejected}");
    }
}

// ---- a read permitter that queries: one snapshot for it and the select ----

#[derive(Entity, Debug, Clone)]
#[entity(table = "memberships")]
#[permit(read = anyone_read, create = anyone_read)]
pub struct Membership {
    pub id: DbId,
    pub member_id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Entity, Debug, Clone)]
#[entity(table = "documents")]
#[permit(read = members_only, create = anyone_read)]
pub struct Document {
    pub id: DbId,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn anyone_read<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

/// Asks the database whether the session's user is a member.
async fn members_only(session: &Session, sql: &Sql<'_>, _: &Operation<'_, Document>) -> Permit<Document> {
    match sql.query_opt("SELECT 1 FROM memberships WHERE member_id = $1", &[&session.user_id]).await {
        Ok(Some(_)) => Permit::Allow,
        Ok(None) => Permit::deny("members only"),
        Err(_) => Permit::deny("membership lookup failed"),
    }
}

#[tokio::test]
async fn a_read_permitter_can_query_in_the_reads_snapshot() {
    let db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<Membership>()
        .entity::<Document>()
        .max_connections(1)
        .connect()
        .await
        .unwrap();
    trom.create_tables().await.unwrap();
    let (member, outsider) = (session_for(DbId::new()), session_for(DbId::new()));
    trom.db
        .with_session(&member)
        .do_mutations([
            Mutation::insert(NewMembership { id: DbId::new(), member_id: member.user_id }),
            Mutation::insert(NewDocument { id: DbId::new(), title: "plan".into() }),
        ])
        .await
        .unwrap();
    let before = trom.statements_executed();
    let docs = trom.db.with_session(&member).select(Document::query()).await.unwrap();
    assert_eq!(docs.len(), 1);
    // BEGIN (lazily, for the permitter's query), the query, the select, COMMIT.
    assert_eq!(trom.statements_executed() - before, 4);
    // The pool's one connection: its backend pid, and whether it sits idle
    // (not "idle in transaction"), as another connection sees it.
    let observer = db.client().await;
    let backend = |trom: TromBase| {
        let observer = &observer;
        async move {
            let pid: i32 = trom
                .pool()
                .get()
                .await
                .unwrap()
                .query_one("SELECT pg_backend_pid()", &[])
                .await
                .unwrap()
                .get(0);
            let state: String = observer
                .query_one("SELECT state FROM pg_stat_activity WHERE pid = $1", &[&pid])
                .await
                .unwrap()
                .get(0);
            (pid, state == "idle")
        }
    };
    let (pid, idle) = backend(trom.clone()).await;
    assert!(idle, "no transaction left open");
    // A denied read rolls the permitter's transaction back and keeps the connection.
    let err = trom.db.with_session(&outsider).select(Document::query()).await.unwrap_err();
    assert_eq!(err.to_string(), "members only");
    assert_eq!(backend(trom.clone()).await, (pid, true), "same connection, back in the pool clean");
    let before = trom.statements_executed();
    assert_eq!(trom.db.with_session(&outsider).select(Membership::query()).await.unwrap().len(), 1);
    assert_eq!(trom.statements_executed() - before, 1, "a plain read opens no transaction");
}

// ---- what the TypeScript library's own suite pins down ----

mod typescript_behaviours {
    use super::snake::*;
    use super::*;

    #[tokio::test]
    async fn groups_order_by_an_aggregate_in_both_forms() {
        let w = world().await;
        let db = w.trom.db.with_session(&admin());
        // "Top authors by post count": ann wrote 3 posts, bob 1.
        let top = db
            .select_json(&json!({"table": "blogPosts", "columns": ["authorId"], "groupBy": ["authorId"],
                "aggregates": {"count": {"fn": "count"}}, "orderBy": [{"field": "count", "direction": "desc"}], "limit": 10}))
            .await
            .unwrap();
        assert_eq!(top[0], json!({"authorId": w.ann.to_string(), "count": 3}), "{top:?}");
        assert_eq!(top.last().unwrap()["count"], json!(1));
        let typed = db
            .select(
                Post::query()
                    .group_by((Post::AUTHOR_ID,))
                    .aggregate((Post::count_rows(),))
                    .order_by_aggregate(0, trombase::query::Direction::Asc),
            )
            .await
            .unwrap();
        assert_eq!(typed.first().map(|g| g.values.0), Some(1));
        assert_eq!(typed.last().map(|g| g.values.0), Some(3));
        let err = db
            .select(
                Post::query()
                    .aggregate((Post::count_rows(),))
                    .order_by_aggregate(3, trombase::query::Direction::Asc),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("aggregate 3"), "{err}");
        let err = db
            .select_json(&json!({"table": "blogPosts", "columns": ["authorId"], "groupBy": ["authorId"],
                "aggregates": {"count": {"fn": "count"}}, "orderBy": [{"field": "title"}]}))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("must be in groupBy or name an aggregate"), "{err}");
    }

    #[tokio::test]
    async fn table_inside_with_must_name_the_relations_target() {
        let w = world().await;
        let db = w.trom.db.with_session(&admin());
        let ok = db
            .select_json(&json!({"table": "blogPosts", "with": {"author": {"table": "authors", "columns": ["fullName"]}}}))
            .await
            .unwrap();
        assert!(!ok.is_empty());
        let err = db
            .select_json(&json!({"table": "blogPosts", "with": {"author": {"table": "comments"}}}))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "with.author.table: names `comments`, but the relation leads to `authors`"
        );
    }

    #[tokio::test]
    async fn timestamps_filter_as_dates_and_in_postgresqls_form() {
        let w = world().await;
        let db = w.trom.db.with_session(&admin());
        let all = db.select_json(&json!({"table": "blogPosts"})).await.unwrap().len();
        for since in ["2000-01-01", "2000-01-01 00:00:00+00", "2000-01-01T00:00:00Z"] {
            let rows = db
                .select_json(&json!({"table": "blogPosts", "where": {"createdAt": {"gt": since}}}))
                .await
                .unwrap();
            assert_eq!(rows.len(), all, "{since}");
        }
        let row = &db.select_json(&json!({"table": "blogPosts", "limit": 1})).await.unwrap()[0];
        let created = row["createdAt"].as_str().unwrap();
        assert!(created.ends_with('Z'), "{created}");
        let same =
            db.select_json(&json!({"table": "blogPosts", "where": {"createdAt": created}})).await.unwrap();
        assert!(same.iter().any(|r| r["id"] == row["id"]), "a row's time sent back finds the row");
    }
}
