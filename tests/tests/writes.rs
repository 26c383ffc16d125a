#![allow(missing_docs)] // test fixtures, not API
//! Writes beyond insert, update and delete, in both forms: upserts (on the
//! id and on a unique field; each branch judged by its own permitter; two
//! at once serialize), the rows a batch wrote (equal to a fresh select of
//! them), and update rules that compare the row before and after.
//!
//! Written with the public test harness, `#[trombase::test]`: each test
//! gets the app's TromBase on a fresh database.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value as Json};
use trombase::prelude::*;
use trombase::testing::{session_for, TestApp, TestDb};
use trombase::Written;

/// Which permitter each write asked: ("create" | "update", key).
static ASKED: Mutex<Vec<(&'static str, String)>> = Mutex::new(Vec::new());

/// A user's setting: one row per key (unique), owned by its user.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "settings")]
#[permit(read = anyone, create = own_setting, update = own_setting, delete = own_setting)]
pub struct Setting {
    pub id: DbId,
    #[field(unique)]
    pub key: String,
    pub value: String,
    #[field(immutable)]
    pub user_id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A task whose status only moves forward and whose owner cannot give it away.
#[derive(Entity, Debug, Clone, PartialEq)]
#[entity(table = "tasks")]
#[permit(read = anyone, create = anyone, update = forward_only, delete = anyone)]
pub struct Task {
    pub id: DbId,
    pub title: String,
    pub status: i32,
    pub owner_id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

/// Owners write their settings; a key named `slow` holds its lock a while
/// (the permitter sleeps in the batch's transaction).
async fn own_setting(session: &Session, sql: &Sql<'_>, op: &Operation<'_, Setting>) -> Permit<Setting> {
    let (action, row) = match op {
        // The payload as JSON agrees with the typed row in both forms (typed
        // inserts build it when it is read).
        Operation::Create(c) if c.json["key"] != c.row.key.as_str() => {
            return Permit::deny("payload and row differ")
        }
        Operation::Create(c) => ("create", c.row),
        Operation::Update(u) => ("update", u.current),
        Operation::Delete(_) => return Permit::Allow,
        _ => return Permit::deny("not here"),
    };
    ASKED.lock().unwrap().push((action, row.key.clone()));
    if row.key.starts_with("slow") {
        let _ = sql.execute("SELECT pg_sleep(0.4)", &[]).await;
    }
    if row.user_id == session.user_id {
        Permit::Allow
    } else {
        Permit::deny("not your setting")
    }
}

/// One rule on the result: the status never goes back, the owner stays.
async fn forward_only(session: &Session, _: &Sql<'_>, op: &Operation<'_, Task>) -> Permit<Task> {
    let Operation::Update(update) = op else { return Permit::deny("updates only") };
    if update.after.status < update.current.status {
        return Permit::deny("a task's status only moves forward");
    }
    if update.after.owner_id != session.user_id {
        return Permit::deny("you cannot give a task away");
    }
    Permit::Allow
}

/// The test's app and two users' sessions on it.
struct World<'a> {
    trom: &'a TromBase,
    db: &'a TestDb,
    ann: Session,
    bob: Session,
}

fn world(app: &TestApp) -> World<'_> {
    World { trom: &app.trom, db: app.test_db(), ann: session_for(DbId::new()), bob: session_for(DbId::new()) }
}

fn asked_for(key: &str) -> Vec<&'static str> {
    ASKED.lock().unwrap().iter().filter(|(_, k)| k == key).map(|(a, _)| *a).collect()
}

fn setting(key: &str, value: &str, user: &Session) -> NewSetting {
    NewSetting { id: DbId::new(), key: key.into(), value: value.into(), user_id: user.user_id }
}

#[trombase::test(entities(Setting, Task))]
async fn an_upsert_inserts_then_updates_each_branch_judged_by_its_permitter(app: TestApp) {
    let w = world(&app);
    let ann = w.trom.db.with_session(&w.ann);
    let first = ann
        .do_mutations_returning([Mutation::upsert_on(Setting::KEY, setting("theme", "dark", &w.ann))])
        .await
        .unwrap();
    let stored: Setting = first[0].row().unwrap();
    assert_eq!(asked_for("theme"), ["create"]);
    // Same key, a new id in the payload: the row is updated and keeps its id.
    let second = ann
        .do_mutations_returning([Mutation::upsert_on(Setting::KEY, setting("theme", "light", &w.ann))])
        .await
        .unwrap();
    let updated: Setting = second[0].row().unwrap();
    assert_eq!(asked_for("theme"), ["create", "update"]);
    assert_eq!(
        (updated.id, updated.value.as_str(), updated.created_at),
        (stored.id, "light", stored.created_at)
    );
    assert!(updated.updated_at > stored.updated_at);
    assert_eq!(ann.select(Setting::query()).await.unwrap(), std::slice::from_ref(&updated));

    // On the id: the stored row's id, a new value.
    let by_id =
        NewSetting { id: stored.id, key: "theme".into(), value: "blue".into(), user_id: w.ann.user_id };
    ann.do_mutations([Mutation::upsert(by_id)]).await.unwrap();
    assert_eq!(ann.select(Setting::query()).await.unwrap()[0].value, "blue");

    // Bob cannot take ann's key over by upserting it: the update permitter
    // judges the stored row, and nothing is written.
    let bob = w.trom.db.with_session(&w.bob);
    let err = bob
        .do_mutations([Mutation::upsert_on(Setting::KEY, setting("theme", "mine", &w.bob))])
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 403, "{err}");
    // The immutable owner is not changed by an upsert either.
    let err = ann
        .do_mutations([Mutation::upsert_on(
            Setting::KEY,
            NewSetting { user_id: w.bob.user_id, ..setting("theme", "x", &w.ann) },
        )])
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 400, "{err}");
    assert!(err.to_string().contains("payload.userId") && err.to_string().contains("immutable"), "{err}");
    assert_eq!(ann.select(Setting::query()).await.unwrap()[0].value, "blue");
}

#[trombase::test(entities(Setting, Task))]
async fn json_upserts_take_the_same_branches_and_are_validated(app: TestApp) {
    let w = world(&app);
    let ann = w.trom.db.with_session(&w.ann);
    let upsert = |value: &str| {
        json!([{"action": "upsert", "table": "settings", "on": "key",
                "payload": {"id": DbId::new().to_string(), "key": "lang", "value": value, "userId": w.ann.user_id.to_string()}}])
    };
    let first = ann.do_mutations_json_returning(&upsert("en")).await.unwrap();
    let second = ann.do_mutations_json_returning(&upsert("fr")).await.unwrap();
    assert_eq!(asked_for("lang"), ["create", "update"]);
    assert_eq!(first[0]["id"], second[0]["id"], "the row keeps its id");
    assert_eq!(second[0]["value"], "fr");
    let fresh = ann.select_json(&json!({"table": "settings", "where": {"key": "lang"}})).await.unwrap();
    assert_eq!(fresh, [second[0].clone()]);

    let refused = |batch: Json| {
        let ann = ann.clone();
        async move {
            let err = ann.do_mutations_json(&batch).await.unwrap_err();
            (err.http_status(), err.to_string())
        }
    };
    let payload =
        json!({"id": DbId::new().to_string(), "key": "k", "value": "v", "userId": w.ann.user_id.to_string()});
    let (status, message) =
        refused(json!([{"action": "upsert", "table": "settings", "on": "value", "payload": payload}])).await;
    assert_eq!(status, 400);
    assert!(message.contains("neither the id nor a unique field"), "{message}");
    let (_, message) =
        refused(json!([{"action": "upsert", "table": "settings", "on": "nope", "payload": payload}])).await;
    assert!(message.contains("unknown field `nope`"), "{message}");
    let (_, message) =
        refused(json!([{"action": "upsert", "table": "settings", "payload": {"key": "k"}}])).await;
    assert!(message.contains("payload."), "{message}");
}

#[trombase::test(entities(Setting, Task))]
async fn two_upserts_of_one_key_at_once_serialize_one_inserts_one_updates(app: TestApp) {
    let w = world(&app);
    let (a, b) = (w.trom.db.with_session(&w.ann), w.trom.db.with_session(&w.ann));
    // The first holds the key's lock while its permitter sleeps; the second
    // waits for it, then finds its row.
    let first = async {
        a.do_mutations_returning([Mutation::upsert_on(Setting::KEY, setting("slow", "one", &w.ann))]).await
    };
    let second = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        b.do_mutations_returning([Mutation::upsert_on(Setting::KEY, setting("slow", "two", &w.ann))]).await
    };
    let (first, second) = tokio::join!(first, second);
    let (first, second): (Setting, Setting) =
        (first.unwrap()[0].row().unwrap(), second.unwrap()[0].row().unwrap());
    assert_eq!(first.id, second.id, "one row: the later upsert updated the earlier one's");
    let mut asked = asked_for("slow");
    asked.sort();
    assert_eq!(asked, ["create", "update"]);
    let rows = a.select(Setting::query()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].value == "one" || rows[0].value == "two");
}

#[trombase::test(entities(Setting, Task))]
async fn two_json_upserts_of_one_key_at_once_serialize_too(app: TestApp) {
    let w = world(&app);
    let (a, b) = (w.trom.db.with_session(&w.ann), w.trom.db.with_session(&w.ann));
    let upsert = |value: &str| {
        json!([{"action": "upsert", "table": "settings", "on": "key",
                "payload": {"id": DbId::new().to_string(), "key": "slow-json", "value": value,
                            "userId": w.ann.user_id.to_string()}}])
    };
    let (one, two) = (upsert("one"), upsert("two"));
    let first = a.do_mutations_json_returning(&one);
    let second = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        b.do_mutations_json_returning(&two).await
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first.unwrap()[0]["id"], second.unwrap()[0]["id"]);
    let mut asked = asked_for("slow-json");
    asked.sort();
    assert_eq!(asked, ["create", "update"]);
}

#[trombase::test(entities(Setting, Task))]
async fn a_batch_returns_what_it_wrote_equal_to_a_fresh_select(app: TestApp) {
    let w = world(&app);
    let db = w.trom.db.with_session(&w.ann);
    let (a, b, c) = (DbId::new(), DbId::new(), DbId::new());
    let task = |id, title: &str| NewTask { id, title: title.into(), status: 0, owner_id: w.ann.user_id };
    let written: Vec<Written> = db
        .do_mutations_returning([
            Mutation::insert(task(a, "a")),
            Mutation::insert(task(b, "b")),
            Mutation::insert(task(c, "c")),
            Mutation::update(a, [Task::STATUS.set(2)]),
            Mutation::delete::<Task>([c]),
        ])
        .await
        .unwrap();
    assert_eq!(written.len(), 5);
    let after_update: Task = written[3].row().unwrap();
    let inserted_b: Task = written[1].row().unwrap();
    let deleted: Vec<Task> = written[4].rows().unwrap();
    assert_eq!(deleted.iter().map(|t| t.id).collect::<Vec<_>>(), [c]);
    let fresh = db.select(Task::query().order_by(Task::TITLE.asc())).await.unwrap();
    assert_eq!(fresh, [after_update.clone(), inserted_b]);
    assert_eq!(after_update.status, 2);
    // Typed rows are checked against the entity.
    assert!(written[0].row::<Setting>().is_err());

    // The JSON form: objects for inserts and updates, a list for a delete.
    let json = db
        .do_mutations_json_returning(&json!([
            {"action": "update", "table": "tasks", "id": b.to_string(), "payload": {"title": "B"}},
            {"action": "delete", "table": "tasks", "id": [a.to_string()]},
        ]))
        .await
        .unwrap();
    let fresh = db.select_json(&json!({"table": "tasks"})).await.unwrap();
    assert_eq!(json[0], fresh[0]);
    assert_eq!(json[1].as_array().unwrap().len(), 1);
    assert_eq!(json[1][0]["id"], a.to_string());
    // Without asking, nothing comes back (and nothing changes).
    assert!(db.do_mutations_json(&json!([])).await.is_ok());
}

#[trombase::test(entities(Setting, Task))]
async fn update_rules_see_the_row_after_the_change_in_both_forms(app: TestApp) {
    let w = world(&app);
    let db = w.trom.db.with_session(&w.ann);
    let id = DbId::new();
    db.do_mutations([Mutation::insert(NewTask {
        id,
        title: "t".into(),
        status: 1,
        owner_id: w.ann.user_id,
    })])
    .await
    .unwrap();
    db.do_mutations([Mutation::update(id, [Task::STATUS.set(3)])]).await.unwrap();
    let err = db.do_mutations([Mutation::update(id, [Task::STATUS.set(2)])]).await.unwrap_err();
    assert!(err.to_string().contains("only moves forward"), "{err}");
    let err = db.do_mutations([Mutation::update(id, [Task::OWNER_ID.set(w.bob.user_id)])]).await.unwrap_err();
    assert!(err.to_string().contains("give a task away"), "{err}");
    // A title change leaves the status as it is: allowed.
    db.do_mutations([Mutation::update(id, [Task::TITLE.set("t2")])]).await.unwrap();

    let json_update = |payload: Json| json!([{"action": "update", "table": "tasks", "id": id.to_string(), "payload": payload}]);
    let err = db.do_mutations_json(&json_update(json!({"status": 0}))).await.unwrap_err();
    assert_eq!(err.http_status(), 403);
    let err =
        db.do_mutations_json(&json_update(json!({"ownerId": w.bob.user_id.to_string()}))).await.unwrap_err();
    assert_eq!(err.http_status(), 403);
    db.do_mutations_json(&json_update(json!({"status": 4}))).await.unwrap();
    let task = &db.select(Task::query()).await.unwrap()[0];
    assert_eq!((task.status, task.title.as_str(), task.owner_id), (4, "t2", w.ann.user_id));
}

#[trombase::test(entities(Setting, Task))]
async fn a_run_of_updates_is_locked_together_and_still_sees_earlier_writes_of_the_batch(app: TestApp) {
    let w = world(&app);
    let db = w.trom.db.with_session(&w.ann);
    let (a, b, c) = (DbId::new(), DbId::new(), DbId::new());
    let task = |id| Mutation::insert(NewTask { id, title: "t".into(), status: 1, owner_id: w.ann.user_id });
    db.do_mutations([task(a), task(b), task(c)]).await.unwrap();
    let statements = w.trom.statements_executed();
    db.do_mutations((0..3).map(|k| Mutation::update([a, b, c][k], [Task::STATUS.set(2)]))).await.unwrap();
    // BEGIN, one lock of the three rows, three UPDATEs, COMMIT.
    assert_eq!(w.trom.statements_executed() - statements, 6);

    // The same row again after an update of it: its current row is the
    // updated one (a fresh lock), so the rule sees status 3, not 2.
    let err = db
        .do_mutations([
            Mutation::update(a, [Task::STATUS.set(3)]),
            Mutation::update(b, [Task::STATUS.set(3)]),
            Mutation::update(a, [Task::STATUS.set(2)]),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.operation(), Some(2), "{err}");
    assert!(err.to_string().contains("forward"), "{err}");
    // A missing row in a run: not found at its own index, nothing applied.
    let err = db
        .do_mutations([
            Mutation::update(a, [Task::STATUS.set(5)]),
            Mutation::update(DbId::new(), [Task::STATUS.set(5)]),
            Mutation::update(c, [Task::STATUS.set(5)]),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), 404, "{err}");
    assert_eq!(err.operation(), Some(1), "{err}");
    let statuses: Vec<i32> =
        db.select(Task::query().order_by(Task::ID.asc())).await.unwrap().iter().map(|t| t.status).collect();
    assert_eq!(statuses, [2, 2, 2]);
}

#[trombase::test(entities(Setting, Task))]
async fn batches_send_as_few_statements_as_their_writes_need(app: TestApp) {
    let w = world(&app);
    let db = w.trom.db.with_session(&w.ann);
    let task = || {
        Mutation::insert(NewTask { id: DbId::new(), title: "t".into(), status: 0, owner_id: w.ann.user_id })
    };
    let count = |before: u64| w.trom.statements_executed() - before;
    // Through a pooler, the transaction carries the statement timeout.
    let (begin, commit) = if w.db.through_pooler() { (1, 1) } else { (0, 0) };

    // One insert, a permitter that does not query: the INSERT alone.
    let before = w.trom.statements_executed();
    db.do_mutations([task()]).await.unwrap();
    assert_eq!(count(before), 1 + begin + commit);
    // A hundred inserts: one INSERT ... unnest, all or nothing by itself.
    let before = w.trom.statements_executed();
    db.do_mutations((0..100).map(|_| task())).await.unwrap();
    assert_eq!(count(before), 1 + begin + commit);
    assert_eq!(db.select(Task::query()).await.unwrap().len(), 101);
    // Inserts after another write: BEGIN, the update, a savepoint, the
    // INSERT ... unnest, COMMIT.
    let first = db.select(Task::query().limit(1)).await.unwrap().remove(0).id;
    let before = w.trom.statements_executed();
    let batch = [Mutation::update(first, [Task::STATUS.set(1)]), task(), task()];
    db.do_mutations(batch).await.unwrap();
    assert_eq!(count(before), 6, "BEGIN, the lock of the row, UPDATE, SAVEPOINT, INSERT, COMMIT");
    // One insert whose permitter queries: the transaction opens for it.
    let before = w.trom.statements_executed();
    db.do_mutations([Mutation::upsert(setting("slow-count", "v", &w.ann))]).await.unwrap();
    assert!(count(before) >= 4, "BEGIN, the upsert's lock and lookup, the permitter's query, INSERT, COMMIT");
    let before = w.trom.statements_executed();
    let slow =
        NewSetting { id: DbId::new(), key: "slow-insert".into(), value: "v".into(), user_id: w.ann.user_id };
    db.do_mutations([Mutation::insert(slow)]).await.unwrap();
    assert_eq!(count(before), 4, "BEGIN, the permitter's query, INSERT, COMMIT");
}

#[trombase::test(entities(Setting, Task))]
async fn a_refused_row_after_earlier_writes_of_the_batch_is_found_with_them_in_place(app: TestApp) {
    let w = world(&app);
    let db = w.trom.db.with_session(&w.ann);
    let task = |id| Mutation::insert(NewTask { id, title: "t".into(), status: 0, owner_id: w.ann.user_id });
    let (a, b, c) = (DbId::new(), DbId::new(), DbId::new());
    // `a` is written by the batch before the run of inserts whose last row
    // repeats it: only with `a` in place is that row the one refused.
    let err = db
        .do_mutations([task(a), Mutation::update(a, [Task::STATUS.set(1)]), task(b), task(c), task(a)])
        .await
        .unwrap_err();
    assert_eq!((err.http_status(), err.operation()), (409, Some(4)), "{err}");
    assert!(db.select(Task::query()).await.unwrap().is_empty(), "nothing applied");
    // The first write of a batch: its rows are tried again on their own.
    let err = db.do_mutations([task(b), task(c), task(b)]).await.unwrap_err();
    assert_eq!((err.http_status(), err.operation()), (409, Some(2)), "{err}");
    assert!(db.select(Task::query()).await.unwrap().is_empty(), "nothing applied");
}

#[trombase::test(entities(Setting, Task))]
async fn a_refused_row_late_in_a_multi_row_insert_is_named_by_its_index(app: TestApp) {
    let w = world(&app);
    let db = w.trom.db.with_session(&w.ann);
    let ids: Vec<DbId> = (0..500).map(|_| DbId::new()).collect();
    let mut batch: Vec<Mutation> = ids
        .iter()
        .map(|&id| Mutation::insert(NewTask { id, title: "t".into(), status: 0, owner_id: w.ann.user_id }))
        .collect();
    // The last one repeats the first one's id.
    batch.push(Mutation::insert(NewTask {
        id: ids[0],
        title: "dup".into(),
        status: 0,
        owner_id: w.ann.user_id,
    }));
    let err = db.do_mutations(batch).await.unwrap_err();
    assert_eq!((err.http_status(), err.operation()), (409, Some(500)), "{err}");
    assert!(db.select(Task::query()).await.unwrap().is_empty(), "nothing applied");
}
