#![allow(missing_docs)] // test fixtures, not API
//! Tracing: one span per select, per batch of mutations and per auth call,
//! with their entity, action, operation count, rows, statements and
//! duration; denials and failures as events inside them; no value ever
//! recorded (passwords, tokens, emails, hashes, row contents, filter
//! values, ids); and `create_tables` quiet at INFO when the tables exist.
//!
//! Each test records into a layer of its own, the default subscriber of
//! its thread while it runs (the runtime is single-threaded, so the
//! connections' tasks log into it too).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use trombase::prelude::*;
use trombase::{Argon2Params, AuthConfig, Mutation};
use trombase_tests::{session_for, Outbox, TestDb};

// ---- the recording layer ----

#[derive(Debug, Clone)]
struct SpanRecord {
    id: u64,
    name: &'static str,
    target: String,
    level: Level,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
struct EventRecord {
    level: Level,
    target: String,
    /// The name of the span the event happened in.
    span: Option<&'static str>,
    fields: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Recorded {
    spans: Vec<SpanRecord>,
    events: Vec<EventRecord>,
}

impl Recorded {
    fn spans(&self, name: &str) -> Vec<&SpanRecord> {
        self.spans.iter().filter(|s| s.name == name).collect()
    }

    fn events_with(&self, message: &str) -> Vec<&EventRecord> {
        self.events.iter().filter(|e| e.fields.get("message").is_some_and(|m| m.contains(message))).collect()
    }

    /// Everything recorded, as one text: names, targets, fields, messages.
    fn text(&self) -> String {
        format!("{:?}", self)
    }
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Recorded>>);

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let meta = attrs.metadata();
        self.lock().spans.push(SpanRecord {
            id: id.into_u64(),
            name: meta.name(),
            target: meta.target().to_owned(),
            level: *meta.level(),
            fields: fields.0,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut recorded = self.lock();
        // Ids are reused once a span closes: the latest span of the id.
        if let Some(span) = recorded.spans.iter_mut().rev().find(|s| s.id == id.into_u64()) {
            let mut fields = Fields(std::mem::take(&mut span.fields));
            values.record(&mut fields);
            span.fields = fields.0;
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let span = ctx.event_span(event).map(|s| s.name());
        self.lock().events.push(EventRecord {
            level: *meta.level(),
            target: meta.target().to_owned(),
            span,
            fields: fields.0,
        });
    }
}

/// Runs `call` with a fresh recorder as this thread's subscriber; what it
/// recorded.
async fn record<T>(call: impl Future<Output = T>) -> (T, Recorded) {
    let recorder = Recorder::default();
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.clone()));
    let out = call.await;
    drop(guard);
    let recorded = std::mem::take(&mut *recorder.lock());
    (out, recorded)
}

// ---- the app ----

#[derive(Entity, Debug, Clone)]
#[entity(table = "traced_notes")]
#[permit(read = anyone, create = anyone, update = anyone, delete = anyone)]
pub struct Note {
    pub id: DbId,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Nobody reads these.
#[derive(Entity, Debug, Clone)]
#[entity(table = "traced_vault")]
#[permit(read = nobody)]
pub struct Vault {
    pub id: DbId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

async fn anyone<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::Allow
}

async fn nobody<E>(_: &Session, _: &Sql<'_>, _: &Operation<'_, E>) -> Permit<E> {
    Permit::deny("the vault is closed")
}

async fn app(db: &TestDb, outbox: Outbox) -> TromBase {
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<Note>()
        .entity::<Vault>()
        .email_sender(outbox)
        .auth_config(AuthConfig::default().argon2(Argon2Params::new(1024, 1, 1).expect("valid parameters")))
        .connect()
        .await
        .expect("connects");
    trom.create_tables().await.expect("tables");
    trom
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{:016x}", rand::random::<u64>())
}

fn note(title: &str) -> NewNote {
    NewNote { id: DbId::new(), title: title.to_owned() }
}

// ---- tests ----

#[tokio::test]
async fn a_select_is_one_span_with_its_entity_rows_and_statements() {
    let db = TestDb::new().await;
    let trom = app(&db, Outbox::default()).await;
    let user = session_for(DbId::new());
    let data = trom.db.with_session(&user);
    data.do_mutations([Mutation::insert(note("a")), Mutation::insert(note("b"))]).await.unwrap();

    let (rows, recorded) = record(data.select(Note::query())).await;
    assert_eq!(rows.unwrap().len(), 2);
    let spans = recorded.spans("trombase.select");
    assert_eq!(spans.len(), 1, "{recorded:#?}");
    let span = spans[0];
    assert_eq!(span.level, Level::INFO);
    assert_eq!(span.target, "trombase::select");
    assert_eq!(span.fields["action"], "select");
    assert_eq!(span.fields["entity"], "traced_notes");
    assert_eq!(span.fields["rows"], "2");
    assert_eq!(span.fields["statements"], "1");
    assert!(span.fields["duration_ms"].parse::<f64>().unwrap() >= 0.0);

    // The JSON forms too: the entity is known once the action is parsed.
    let action = json!({"table": "traced_notes", "limit": 1});
    let (text, recorded) = record(data.select_json_text(&action)).await;
    assert!(text.unwrap().starts_with(b"["));
    let (json_rows, json_recorded) = record(data.select_json(&action)).await;
    assert_eq!(json_rows.unwrap().len(), 1);
    let page_action = json!({"table": "traced_notes", "limit": 1, "page": {}});
    let (page, page_recorded) = record(data.page_json(&page_action)).await;
    assert_eq!(page.unwrap().rows.len(), 1);
    for (recorded, action) in [(recorded, "select"), (json_recorded, "select"), (page_recorded, "page")] {
        let spans = recorded.spans("trombase.select");
        assert_eq!(spans.len(), 1, "{recorded:#?}");
        assert_eq!(spans[0].fields["action"], action);
        assert_eq!(spans[0].fields["entity"], "traced_notes");
        assert_eq!(spans[0].fields["rows"], "1");
        assert_eq!(spans[0].fields["statements"], "1");
    }
}

#[tokio::test]
async fn a_batch_of_three_mutations_is_one_span_with_operations_3() {
    let db = TestDb::new().await;
    let trom = app(&db, Outbox::default()).await;
    let user = session_for(DbId::new());
    let data = trom.db.with_session(&user);
    let new = note("first");
    let id = new.id;
    let batch = [
        Mutation::insert(new),
        Mutation::update(id, [Note::TITLE.set("second")]),
        Mutation::delete::<Note>([id]),
    ];

    let before = trom.statements_executed();
    let (written, recorded) = record(data.do_mutations_returning(batch)).await;
    let sent = trom.statements_executed() - before;
    assert_eq!(written.unwrap().len(), 3);
    let spans = recorded.spans("trombase.mutations");
    assert_eq!(spans.len(), 1, "{recorded:#?}");
    let span = spans[0];
    assert_eq!(span.target, "trombase::mutations");
    assert_eq!(span.fields["action"], "mutations");
    assert_eq!(span.fields["entity"], "traced_notes");
    assert_eq!(span.fields["operations"], "3");
    assert_eq!(span.fields["rows"], "3");
    // BEGIN, the writes (the update's and the delete's rows locked first), COMMIT.
    assert_eq!(span.fields["statements"], sent.to_string());
    assert!(sent >= 5, "{sent}");
    assert!(span.fields.contains_key("duration_ms"));
    assert!(recorded.spans.iter().all(|s| s.name == "trombase.mutations"), "{recorded:#?}");

    // The JSON form: the same span, its batch known once parsed.
    let json = json!([
        {"action": "insert", "table": "traced_notes", "payload": {"id": DbId::new().to_string(), "title": "x"}},
        {"action": "insert", "table": "traced_notes", "payload": {"id": DbId::new().to_string(), "title": "y"}},
    ]);
    let (done, recorded) = record(data.do_mutations_json(&json)).await;
    done.unwrap();
    let spans = recorded.spans("trombase.mutations");
    assert_eq!(spans.len(), 1, "{recorded:#?}");
    assert_eq!(spans[0].fields["operations"], "2");
    assert_eq!(spans[0].fields["entity"], "traced_notes");
    assert!(!spans[0].fields.contains_key("rows"), "not returning: rows unknown");
}

#[tokio::test]
async fn a_login_is_one_span_with_action_login() {
    let db = TestDb::new().await;
    let trom = app(&db, Outbox::default()).await;
    let email = format!("{}@example.com", unique("login-"));
    let password = unique("password-");
    trom.auth.register_with_username_password(&email, &password).await.unwrap();

    let before = trom.statements_executed();
    let (signed_in, recorded) = record(trom.auth.login_with_username_password(&email, &password)).await;
    let sent = trom.statements_executed() - before;
    signed_in.unwrap();
    let spans = recorded.spans("trombase.auth");
    assert_eq!(spans.len(), 1, "{recorded:#?}");
    assert_eq!(spans[0].target, "trombase::auth");
    assert_eq!(spans[0].fields["action"], "login");
    assert_eq!(spans[0].fields["statements"], sent.to_string());
    assert!(sent >= 2, "the user looked up, the session inserted: {sent}");
    assert!(spans[0].fields.contains_key("duration_ms"));

    // A wrong password: the failure is an event inside the span, by code.
    let (failed, recorded) = record(trom.auth.login_with_username_password(&email, "wrong password")).await;
    assert!(failed.is_err());
    let events = recorded.events_with("call failed");
    assert_eq!(events.len(), 1, "{recorded:#?}");
    assert_eq!(events[0].level, Level::DEBUG);
    assert_eq!(events[0].span, Some("trombase.auth"));
    assert_eq!(events[0].fields["code"], "INVALID_CREDENTIALS");
}

#[tokio::test]
async fn a_denied_read_emits_a_denial_event_in_its_span() {
    let db = TestDb::new().await;
    let trom = app(&db, Outbox::default()).await;
    let user = session_for(DbId::new());
    let data = trom.db.with_session(&user);

    let (result, recorded) = record(data.select(Vault::query())).await;
    assert!(matches!(result, Err(trombase::Error::Permission(_))), "{result:?}");
    let denials = recorded.events_with("permission denied");
    assert_eq!(denials.len(), 1, "{recorded:#?}");
    let denial = denials[0];
    assert_eq!(denial.level, Level::DEBUG);
    assert_eq!(denial.target, "trombase::permit");
    assert_eq!(denial.span, Some("trombase.select"));
    assert_eq!(denial.fields["entity"], "traced_vault");
    assert_eq!(denial.fields["action"], "read");
    let failed = recorded.events_with("call failed");
    assert_eq!(failed.len(), 1, "{recorded:#?}");
    assert_eq!(failed[0].fields["error"], "PermissionError");
    // The permitter's message is the app's: never recorded.
    assert!(!recorded.text().contains("the vault is closed"), "{recorded:#?}");
    let span = recorded.spans("trombase.select")[0];
    assert_eq!(span.fields["entity"], "traced_vault");
    assert_eq!(span.fields["statements"], "0");

    // A write permitter's deny, in a batch.
    let (result, recorded) =
        record(data.do_mutations([Mutation::insert(NewVault { id: DbId::new() })])).await;
    assert!(matches!(result, Err(trombase::Error::Permission(_))), "{result:?}");
    let denials = recorded.events_with("permission denied");
    assert_eq!(denials.len(), 1, "{recorded:#?}");
    assert_eq!(denials[0].span, Some("trombase.mutations"));
    assert_eq!(denials[0].fields["entity"], "traced_vault");
    assert_eq!(denials[0].fields["action"], "create");
    assert_eq!(denials[0].fields["permitter"], "undeclared");
    assert_eq!(recorded.events_with("call failed")[0].fields["operation"], "0");
}

#[tokio::test]
async fn no_value_is_ever_recorded() {
    let db = TestDb::new().await;
    // A failing sender: its failure is logged, the address is not.
    let trom = app(&db, Outbox::failing()).await;
    let email = format!("{}@example.com", unique("secret-email-"));
    let password = unique("secret-password-");
    let new_password = unique("secret-new-password-");
    let title = unique("secret-title-");
    let filter_value = unique("secret-filter-");
    let row_id = DbId::new();

    let (secrets, recorded) = record(async {
        let auth = trom.auth.with_client("203.0.113.7");
        let signed_in = auth.register_with_username_password(&email, &password).await.unwrap();
        let token = signed_in.session.token.clone().unwrap();
        let _ = auth.register_with_username_password(&email, &password).await.unwrap_err();
        let _ = auth.login_with_username_password(&email, "not the password").await.unwrap_err();
        let signed_in = auth.login_with_username_password(&email, &password).await.unwrap();
        let session = auth.require_session(&token).await.unwrap();
        auth.get_session_by_token(&token).await.unwrap().unwrap();
        let _ = auth.require_session(&format!("{token}x")).await.unwrap_err();
        auth.change_password(&session, &password, &new_password).await.unwrap();
        auth.request_password_reset(&email).await.unwrap();
        let _ = auth.validate_password_reset(&token, &new_password).await.unwrap_err();
        auth.sessions(&session).await.unwrap();

        let data = trom.db.with_session(&session);
        data.do_mutations([Mutation::insert(NewNote { id: row_id, title: title.clone() })]).await.unwrap();
        // The same id again: a conflict, whose database detail quotes it.
        let again = data.do_mutations([Mutation::insert(NewNote { id: row_id, title: title.clone() })]).await;
        assert!(matches!(again, Err(trombase::Error::Conflict(_))), "{again:?}");
        let rows = data.select(Note::query().filter(Note::TITLE.eq(filter_value.clone()))).await.unwrap();
        assert!(rows.is_empty());
        let rows = data.select(Note::query().filter(Note::TITLE.eq(title.clone()))).await.unwrap();
        assert_eq!(rows.len(), 1);
        let action = json!({"table": "traced_notes", "where": {"title": {"eq": filter_value}}});
        assert!(data.select_json(&action).await.unwrap().is_empty());
        // A mistyped value: a validation error, which names the path only.
        let bad = json!({"table": "traced_notes", "where": {"createdAt": {"eq": filter_value}}});
        assert!(data.select_json(&bad).await.is_err());
        let bad = json!([{"action": "update", "table": "traced_notes", "id": row_id.to_string(),
            "payload": {"createdAt": filter_value}}]);
        assert!(data.do_mutations_json(&bad).await.is_err());

        auth.invalidate_session_token(&token).await.unwrap();
        let other = signed_in.session.token.clone().unwrap();
        auth.invalidate_session_token(&other).await.unwrap();
        vec![
            token,
            other,
            session.id.to_string(),
            signed_in.session.id.to_string(),
            signed_in.user.id.to_string(),
        ]
    })
    .await;

    let client = db.client().await;
    let hash: String =
        client.query_one("SELECT password_hash FROM trom_auth_users", &[]).await.unwrap().get(0);
    let text = recorded.text();
    assert!(recorded.spans("trombase.auth").len() >= 12, "{recorded:#?}");
    assert!(!recorded.events_with("sending an email failed").is_empty(), "{recorded:#?}");
    assert!(!recorded.events_with("call failed").is_empty(), "{recorded:#?}");
    let local_part = email.split('@').next().unwrap().to_owned();
    let values = [email, local_part, password, new_password, title, filter_value, row_id.to_string(), hash];
    for secret in values.iter().chain(&secrets) {
        assert!(!text.contains(secret.as_str()), "{secret} was recorded: {text}");
    }
}

#[tokio::test]
async fn create_tables_twice_logs_nothing_at_info() {
    // The driver logs PostgreSQL's notices through `log`: into the recorder.
    let _ = tracing_log::LogTracer::init();
    let db = TestDb::new().await;
    let trom = TromBase::builder()
        .database_url(db.url())
        .entity::<Note>()
        .entity::<Vault>()
        .connect()
        .await
        .unwrap();

    let (created, recorded) = record(async {
        trom.create_tables().await?;
        trom.create_tables().await
    })
    .await;
    created.unwrap();
    let loud: Vec<_> = recorded.events.iter().filter(|e| e.level <= Level::INFO).collect();
    assert!(loud.is_empty(), "{loud:#?}");
    let spans = recorded.spans("trombase.schema");
    assert_eq!(spans.len(), 2, "{recorded:#?}");
    assert_eq!(spans[1].fields["action"], "create_tables");
    // What was left as it was is said at DEBUG: everything, the second time.
    let skipped = recorded.events_with("exist already");
    assert_eq!(skipped.len(), 2, "{recorded:#?}");
    assert_eq!(skipped[0].fields["existing"], "0");
    assert_ne!(skipped[1].fields["existing"], "0");
    assert_eq!(skipped[1].fields["missing"], "0");
    assert!(skipped[1].fields["relations"].contains("traced_notes"), "{skipped:#?}");

    // The recorder does hear notices: one sent outside create_tables.
    let (sent, recorded) = record(async {
        let client = trom.pool().get().await.unwrap();
        client.batch_execute("CREATE TABLE IF NOT EXISTS traced_notes (id text)").await
    })
    .await;
    sent.unwrap();
    let notices: Vec<_> = recorded
        .events
        .iter()
        .filter(|e| e.fields.get("message").is_some_and(|m| m.contains("already exists")))
        .collect();
    assert_eq!(notices.len(), 1, "{recorded:#?}");
    assert_eq!(notices[0].level, Level::INFO);
}
