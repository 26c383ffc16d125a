#![allow(missing_docs)] // test fixtures, not API
//! The multi-tenant example (examples/teams_app), as its users use it: over
//! HTTP (the JSON API and the app's typed page route) and typed. The tenant
//! rule is one row filter on notes; these tests show that it holds through
//! every way of reading: rows, counts, relation filters, embeds, pages.

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use teams_app::{Membership, NewMembership, NewNote, NewTeam, Note, Team, User};
use trombase::prelude::*;
use trombase_tests::TestDb;

/// A membership with its user, as a team embeds them.
type MembershipWithUser = (Membership, Option<User>);

struct App {
    _db: TestDb,
    trom: TromBase,
    base: String,
    http: Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl App {
    async fn start() -> App {
        let db = TestDb::new().await;
        let trom = teams_app::connect(db.url()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(teams_app::serve(listener, trom.clone(), async {
            let _ = stopped.await;
        }));
        App { _db: db, trom, base, http: Client::new(), _stop: stop }
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let response = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        (response.status(), response.json().await.unwrap_or(Value::Null))
    }

    /// Registers a user: (token, id).
    async fn user(&self, email: &str) -> (String, String) {
        let response = self
            .http
            .post(format!("{}/api/auth/register", self.base))
            .json(&json!({"email": email, "password": "correct horse"}))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        (
            body["session"]["token"].as_str().unwrap().to_owned(),
            body["user"]["id"].as_str().unwrap().to_owned(),
        )
    }

    async fn mutate(&self, token: &str, batch: Value) -> (StatusCode, Value) {
        self.post("/api/db/mutations", token, batch).await
    }

    async fn select(&self, token: &str, action: Value) -> (StatusCode, Value) {
        self.post("/api/db/select", token, json!({"action": action})).await
    }
}

/// Ann owns team red (with bob as a member) and writes three notes; carl
/// owns team blue and writes one. Returns the tokens and ids.
struct Teams {
    ann: (String, String),
    bob: (String, String),
    carl: (String, String),
    red: String,
    blue: String,
}

async fn teams(app: &App) -> Teams {
    let (ann, bob, carl) = (
        app.user("ann@example.com").await,
        app.user("bob@example.com").await,
        app.user("carl@example.com").await,
    );
    let (red, blue) = (DbId::new().to_string(), DbId::new().to_string());
    let team = |id: &str, name: &str, owner: &str| {
        json!([
            {"action": "insert", "table": "teams", "payload": {"id": id, "name": name}},
            {"action": "insert", "table": "memberships",
             "payload": {"id": DbId::new().to_string(), "teamId": id, "userId": owner, "role": "owner"}},
        ])
    };
    assert_eq!(app.mutate(&ann.0, team(&red, "red", &ann.1)).await, (StatusCode::OK, json!({})));
    assert_eq!(app.mutate(&carl.0, team(&blue, "blue", &carl.1)).await, (StatusCode::OK, json!({})));
    let add_bob = json!([{"action": "insert", "table": "memberships",
        "payload": {"id": DbId::new().to_string(), "teamId": red, "userId": bob.1, "role": "member"}}]);
    assert_eq!(app.mutate(&ann.0, add_bob).await, (StatusCode::OK, json!({})));
    let note = |team: &str, author: &str, title: &str| {
        json!({"action": "insert", "table": "notes",
               "payload": {"id": DbId::new().to_string(), "teamId": team, "authorId": author, "title": title, "body": "..."}})
    };
    let red_notes =
        json!([note(&red, &ann.1, "roadmap"), note(&red, &ann.1, "retro"), note(&red, &ann.1, "budget")]);
    assert_eq!(app.mutate(&ann.0, red_notes).await, (StatusCode::OK, json!({})));
    assert_eq!(
        app.mutate(&carl.0, json!([note(&blue, &carl.1, "blue plans")])).await,
        (StatusCode::OK, json!({}))
    );
    Teams { ann, bob, carl, red, blue }
}

fn titles(rows: &Value) -> Vec<String> {
    let mut titles: Vec<String> =
        rows.as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap().to_owned()).collect();
    titles.sort();
    titles
}

#[tokio::test]
async fn members_read_their_teams_notes_and_nothing_else_over_http() {
    let app = App::start().await;
    let t = teams(&app).await;
    let notes = json!({"table": "notes", "columns": ["title"]});
    let (status, rows) = app.select(&t.bob.0, notes.clone()).await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(titles(&rows), ["budget", "retro", "roadmap"]);
    assert_eq!(titles(&app.select(&t.carl.0, notes.clone()).await.1), ["blue plans"]);
    // Asking for blue's notes by team id: bob gets none, and counts none.
    let blue = json!({"table": "notes", "where": {"teamId": t.blue}, "aggregates": {"n": {"fn": "count"}}});
    assert_eq!(app.select(&t.bob.0, blue).await.1, json!([{"n": 0}]));
    // A relation filter on the team's name matches only readable teams.
    let by_name =
        json!({"table": "notes", "columns": ["title"], "where": {"team": {"some": {"name": "blue"}}}});
    assert_eq!(app.select(&t.ann.0, by_name.clone()).await.1, json!([]));
    assert_eq!(titles(&app.select(&t.carl.0, by_name).await.1), ["blue plans"]);
    // Members through the junction: ann sees red's members, not carl.
    let members = json!({"table": "teams", "columns": ["name"],
        "with": {"members": {"columns": ["email"], "orderBy": [{"field": "email"}]}}});
    assert_eq!(
        app.select(&t.ann.0, members).await.1,
        json!([{"name": "red", "members": [{"email": "ann@example.com"}, {"email": "bob@example.com"}]}])
    );
    // Users: ann sees her teammates, never carl.
    let (_, users) = app.select(&t.ann.0, json!({"table": "users", "columns": ["email"]})).await;
    let mut emails: Vec<&str> =
        users.as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    emails.sort();
    assert_eq!(emails, ["ann@example.com", "bob@example.com"]);
}

#[tokio::test]
async fn pages_of_a_teams_notes_over_http_in_both_routes() {
    let app = App::start().await;
    let t = teams(&app).await;
    // The JSON API's select with a page key.
    let page = |after: Option<&str>| {
        json!({"table": "notes", "columns": ["title"], "orderBy": [{"field": "title"}], "limit": 2,
               "page": {"after": after}})
    };
    let (status, first) = app.select(&t.bob.0, page(None)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["rows"], json!([{"title": "budget"}, {"title": "retro"}]));
    assert_eq!(first["total"], 3);
    let (_, second) = app.select(&t.bob.0, page(first["next"].as_str())).await;
    assert_eq!(second, json!({"rows": [{"title": "roadmap"}], "total": 3, "next": null}));
    // The same page from the query string (qs form).
    let (status, by_get) = app
        .get("/api/db/select?action[table]=notes&action[columns][]=title&action[orderBy][0][field]=title&action[limit]=2&action[page][total]=true", &t.bob.0)
        .await;
    assert_eq!(status, StatusCode::OK, "{by_get}");
    assert_eq!(by_get["rows"], first["rows"]);

    // The app's typed route: newest first, with authors.
    let path = |team: &str, after: Option<&str>| match after {
        Some(after) => format!("/teams/{team}/notes?limit=2&after={after}"),
        None => format!("/teams/{team}/notes?limit=2"),
    };
    let (status, first) = app.get(&path(&t.red, None), &t.bob.0).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["total"], 3);
    assert_eq!(first["rows"].as_array().unwrap().len(), 2);
    assert_eq!(first["rows"][0]["author"]["email"], "ann@example.com");
    let (_, second) = app.get(&path(&t.red, first["next"].as_str()), &t.bob.0).await;
    assert_eq!(second["rows"].as_array().unwrap().len(), 1);
    assert_eq!(second["next"], Value::Null);
    let mut seen = titles(&first["rows"]);
    seen.extend(titles(&second["rows"]));
    seen.sort();
    assert_eq!(seen, ["budget", "retro", "roadmap"]);
    // Another team's page: empty, a total of 0.
    let (_, foreign) = app.get(&path(&t.blue, None), &t.bob.0).await;
    assert_eq!(foreign, json!({"rows": [], "total": 0, "next": null}));
    // A bad cursor is the client's mistake.
    let (status, body) = app.get(&path(&t.red, Some("garbage")), &t.bob.0).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn writes_follow_the_team_rules() {
    let app = App::start().await;
    let t = teams(&app).await;
    // Bob is a member of red, not an owner: he cannot add carl.
    let add_carl = json!([{"action": "insert", "table": "memberships",
        "payload": {"id": DbId::new().to_string(), "teamId": t.red, "userId": t.carl.1, "role": "member"}}]);
    assert_eq!(app.mutate(&t.bob.0, add_carl.clone()).await.0, StatusCode::FORBIDDEN);
    // Carl cannot write into red, nor claim it by an owner membership.
    let intrude = json!([{"action": "insert", "table": "notes",
        "payload": {"id": DbId::new().to_string(), "teamId": t.red, "authorId": t.carl.1, "title": "x", "body": "y"}}]);
    assert_eq!(app.mutate(&t.carl.0, intrude).await.0, StatusCode::FORBIDDEN);
    let claim = json!([{"action": "insert", "table": "memberships",
        "payload": {"id": DbId::new().to_string(), "teamId": t.red, "userId": t.carl.1, "role": "owner"}}]);
    assert_eq!(app.mutate(&t.carl.0, claim).await.0, StatusCode::FORBIDDEN);
    // Ann (the owner) adds carl; then carl reads red's notes.
    assert_eq!(app.mutate(&t.ann.0, add_carl).await.0, StatusCode::OK);
    assert_eq!(titles(&app.select(&t.carl.0, json!({"table": "notes"})).await.1).len(), 4);
}

#[tokio::test]
async fn the_same_rule_holds_typed() {
    let app = App::start().await;
    let t = teams(&app).await;
    let session = |token: &str| {
        let app = &app;
        let token = token.to_owned();
        async move { app.trom.auth.require_session(&token).await.unwrap() }
    };
    let bob = app.trom.db.with_session(&session(&t.bob.0).await);
    let notes: Vec<(Note, Option<Team>)> = bob.select(Note::query().with(Note::TEAM)).await.unwrap();
    assert_eq!(notes.len(), 3);
    assert!(notes.iter().all(|(_, team)| team.as_ref().is_some_and(|t| t.name == "red")));
    // Teams with a note titled "blue plans": none that bob may read.
    let with_blue =
        bob.select(Team::query().filter(Team::NOTES.any(Note::TITLE.eq("blue plans")))).await.unwrap();
    assert!(with_blue.is_empty());
    // Teammates by relation filter through the junction.
    let mates = bob.select(User::query().filter(User::TEAMS.any(Team::NAME.eq("red")))).await.unwrap();
    assert_eq!(mates.len(), 2);
    let page = bob.page(Note::query().order_by(Note::TITLE.desc()).limit(2), None).await.unwrap();
    assert_eq!(page.total, Some(3));
    assert_eq!(page.rows.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["roadmap", "retro"]);
    let memberships = bob.select(Membership::query()).await.unwrap();
    assert_eq!(memberships.len(), 2, "red's two memberships");
    // The junction's own columns: embed the junction, then its user.
    let roles: Vec<(Team, Vec<MembershipWithUser>)> = bob
        .select(
            Team::query()
                .with(Team::MEMBERSHIPS.query().order_by(Membership::ROLE.desc()).with(Membership::USER)),
        )
        .await
        .unwrap();
    let roles: Vec<(&str, &str)> = roles[0]
        .1
        .iter()
        .map(|(m, u)| (m.role.as_str(), u.as_ref().map_or("", |u| u.email.as_str())))
        .collect();
    assert_eq!(roles, [("owner", "ann@example.com"), ("member", "bob@example.com")]);
    let carl = app.trom.db.with_session(&session(&t.carl.0).await);
    let new = NewNote {
        id: DbId::new(),
        team_id: t.red.parse().unwrap(),
        author_id: t.carl.1.parse().unwrap(),
        title: "typed intrusion".into(),
        body: String::new(),
    };
    assert_eq!(carl.do_mutations([Mutation::insert(new)]).await.unwrap_err().http_status(), 403);
    let _ = (
        NewTeam { id: DbId::new(), name: String::new() },
        NewMembership { id: DbId::new(), team_id: DbId::new(), user_id: DbId::new(), role: String::new() },
    );
}
