//! [`Db`] and [`SessionDb`]: all entity data is reached through a session.

use std::sync::Arc;

use chrono::Utc;
use tracing::Span;

use crate::exec::{Executor, ReadFrom};
use crate::mutation::{self, Mutation, Written};
use crate::query::{
    columns_write_json, decode_json_page, decode_page, finish_rows, parse_page, parse_select, prepare_page,
    write_column_rows, write_json_rows, Cursor, JsonText, Page, PageSpec, Query, ReadLimits, Root, RowShape,
    SelectNode,
};
use crate::read::{self, Read};
use crate::render::{RenderCache, RowForm};
use crate::schema::Schema;
use crate::{trace, AuthError, AuthErrorCode, DatabaseError, Result, Session};

/// What every data handle shares: the executor, the schema and the guard rails.
pub(crate) struct DataCore {
    pub(crate) exec: Arc<Executor>,
    pub(crate) schema: Schema,
    /// Each read shape's statement, rendered once.
    pub(crate) renders: RenderCache,
    pub(crate) limits: Limits,
}

/// Guard rails for untrusted input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The most mutations one JSON batch may hold.
    pub(crate) max_batch: usize,
    /// Guard rails of JSON reads.
    pub(crate) reads: ReadLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_batch: 10_000, reads: ReadLimits::default() }
    }
}

/// The data side of a [`TromBase`](crate::TromBase). It can do nothing by
/// itself: bind a session first with [`Db::with_session`].
#[derive(Clone)]
pub struct Db {
    core: Arc<DataCore>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

impl Db {
    pub(crate) fn new(core: Arc<DataCore>) -> Self {
        Db { core }
    }

    /// Binds an authenticated session; every read and write through the
    /// returned handle is checked by the permitters against it.
    pub fn with_session(&self, session: &Session) -> SessionDb {
        SessionDb { core: Arc::clone(&self.core), session: session.clone(), from: ReadFrom::AnyServer }
    }
}

/// Entity data as seen by one session. Cheap to create per request.
#[derive(Clone)]
pub struct SessionDb {
    core: Arc<DataCore>,
    session: Session,
    from: ReadFrom,
}

impl std::fmt::Debug for SessionDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionDb").field("session", &self.session).finish_non_exhaustive()
    }
}

impl SessionDb {
    /// The bound session.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The same handle, with every read answered by the primary (never a
    /// read replica): for reads whose permitters must see the latest state
    /// of every user's writes, not only this session's own.
    ///
    /// ```no_run
    /// # async fn run(db: trombase::SessionDb) {
    /// let latest = db.on_primary();
    /// # let _ = latest;
    /// # }
    /// ```
    pub fn on_primary(&self) -> SessionDb {
        SessionDb { from: ReadFrom::Primary, ..self.clone() }
    }

    /// Runs a batch of inserts, updates and deletes in order, in one
    /// transaction: all or nothing. Each is validated, then its permitter is
    /// asked (update and delete permitters see the current rows, locked),
    /// then it is written. The error of a failed batch says which mutation
    /// (its index) failed and why.
    ///
    /// ```no_run
    /// # use trombase::prelude::*;
    /// # #[derive(Entity)]
    /// # #[entity(table = "notes")]
    /// # pub struct Note { pub id: DbId, pub title: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
    /// # async fn run(db: trombase::SessionDb, old: DbId) -> trombase::Result<()> {
    /// use trombase::Mutation;
    /// let id = DbId::new();
    /// db.do_mutations([
    ///     Mutation::insert(NewNote { id, title: "Hi".into() }),
    ///     Mutation::update(id, [Note::TITLE.set("Hello")]),
    ///     Mutation::delete::<Note>([old]),
    /// ])
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn do_mutations(&self, mutations: impl IntoIterator<Item = Mutation>) -> Result<()> {
        let span = trace::mutations_span("mutations");
        let mutations: Vec<Mutation> = mutations.into_iter().collect();
        trace::record_batch(&span, mutations.iter().map(Mutation::entity_name), mutations.len());
        trace::run(span, async {
            self.check_session()?;
            mutation::run(&self.core.exec, &self.session, mutations, false).await.map(drop)
        })
        .await
    }

    /// [`do_mutations`](Self::do_mutations), and what each operation wrote,
    /// as stored (managed timestamps included), in order: read back by
    /// `RETURNING` with each write, no extra round trip.
    ///
    /// ```no_run
    /// # use trombase::prelude::*;
    /// # #[derive(Entity, Debug)]
    /// # #[entity(table = "settings")]
    /// # pub struct Setting { pub id: DbId, #[field(unique)] pub key: String, pub value: String,
    /// #   pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
    /// # async fn run(db: trombase::SessionDb) -> trombase::Result<()> {
    /// use trombase::Mutation;
    /// // "Save this setting": insert it, or update the row with that key.
    /// let save = NewSetting { id: DbId::new(), key: "theme".into(), value: "dark".into() };
    /// let written = db.do_mutations_returning([Mutation::upsert_on(Setting::KEY, save)]).await?;
    /// let stored: Setting = written[0].row()?;
    /// println!("{} since {}", stored.value, stored.updated_at);
    /// # Ok(()) }
    /// ```
    pub async fn do_mutations_returning(
        &self,
        mutations: impl IntoIterator<Item = Mutation>,
    ) -> Result<Vec<Written>> {
        let span = trace::mutations_span("mutations");
        let mutations: Vec<Mutation> = mutations.into_iter().collect();
        trace::record_batch(&span, mutations.iter().map(Mutation::entity_name), mutations.len());
        trace::run(span.clone(), async {
            self.check_session()?;
            let written = mutation::run(&self.core.exec, &self.session, mutations, true).await?;
            trace::record_rows(&span, written.iter().map(Written::len).sum::<usize>());
            Ok(written)
        })
        .await
    }

    /// [`do_mutations`](Self::do_mutations) for the JSON form (untrusted
    /// input from HTTP clients):
    /// `[{"action":"insert","table":"notes","payload":{...}},
    ///   {"action":"update","table":"notes","id":"<dbid>","payload":{...}},
    ///   {"action":"upsert","table":"notes","payload":{...},"on":"<id or a unique field>"},
    ///   {"action":"delete","table":"notes","id":"<dbid>" | ["<dbid>", ...]}]`.
    /// Anything malformed is a validation error naming the mutation and path.
    pub async fn do_mutations_json(&self, json: &serde_json::Value) -> Result<()> {
        let span = trace::mutations_span("mutations");
        trace::run(span.clone(), async {
            self.check_session()?;
            let mutations = mutation::parse_batch(&self.core.schema, json, self.core.limits.max_batch)?;
            trace::record_batch(&span, mutations.iter().map(Mutation::entity_name), mutations.len());
            mutation::run(&self.core.exec, &self.session, mutations, false).await.map(drop)
        })
        .await
    }

    /// [`do_mutations_json`](Self::do_mutations_json), and what each
    /// operation wrote, in order, keyed by logical names as selects return
    /// rows: an object per insert, update and upsert, a list per delete.
    pub async fn do_mutations_json_returning(
        &self,
        json: &serde_json::Value,
    ) -> Result<Vec<serde_json::Value>> {
        let span = trace::mutations_span("mutations");
        trace::run(span.clone(), async {
            self.check_session()?;
            let mutations = mutation::parse_batch(&self.core.schema, json, self.core.limits.max_batch)?;
            trace::record_batch(&span, mutations.iter().map(Mutation::entity_name), mutations.len());
            let written = mutation::run(&self.core.exec, &self.session, mutations, true).await?;
            trace::record_rows(&span, written.iter().map(Written::len).sum::<usize>());
            written.iter().map(Written::to_json).collect()
        })
        .await
    }

    /// A typed read, as one statement however many relations it embeds.
    /// Every entity it touches is checked by its read permitter first; row
    /// filters they answer apply wherever that entity appears.
    ///
    /// ```no_run
    /// # use trombase::prelude::*;
    /// # #[derive(Entity, Debug)]
    /// # #[entity(table = "users")]
    /// # #[relation(notes = resolves_to_many(Note, user_id -> id))]
    /// # pub struct User { pub id: DbId, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
    /// # #[derive(Entity, Debug)]
    /// # #[entity(table = "notes")]
    /// # #[relation(author = points_to(User, user_id -> id))]
    /// # pub struct Note { pub id: DbId, pub title: String, pub user_id: DbId, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
    /// # async fn run(db: trombase::SessionDb) -> trombase::Result<()> {
    /// let mine: Vec<Note> = db
    ///     .select(Note::query().filter(Note::TITLE.ilike("%rust%")).order_by(Note::CREATED_AT.desc()).limit(50))
    ///     .await?;
    /// let with_authors: Vec<(Note, Option<User>)> = db.select(Note::query().with(Note::AUTHOR)).await?;
    /// let feeds: Vec<(User, Vec<Note>)> = db
    ///     .select(User::query().with(User::NOTES.query().order_by(Note::CREATED_AT.desc()).limit(10)))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn select<E: crate::Entity, R: RowShape>(&self, query: Query<E, R, Root>) -> Result<Vec<R>> {
        let span = trace::select_span("select", Some(E::META.name));
        trace::run(span.clone(), async {
            self.check_session()?;
            // The permission pass adds row filters to the node; decoding ignores them.
            let mut node = query.node;
            let read = self.read(None, RowForm::Columns, None);
            let rows = read::run(&self.core.exec, &self.session, &mut node, read).await?;
            trace::record_rows(&span, rows.len());
            // Sized up front (a `collect` of results would grow it by doubling).
            let mut decoded = Vec::with_capacity(rows.len());
            for row in &rows {
                decoded.push(R::decode_row(row, &node, &mut 0)?);
            }
            Ok(decoded)
        })
        .await
    }

    /// One page of a typed read: its rows, the total of rows the read
    /// matches (row filters applied; counted in the same statement), and
    /// the cursor of the next page. The order is the query's plus `id`;
    /// pass `page.next` back as `after` for the next page (keyset paging:
    /// stable while rows come and go, as fast deep as on page one).
    ///
    /// ```no_run
    /// # use trombase::prelude::*;
    /// # #[derive(Entity)] #[entity(table = "notes")]
    /// # pub struct Note { pub id: DbId, pub title: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
    /// # async fn run(db: trombase::SessionDb) -> trombase::Result<()> {
    /// let newest = Note::query().order_by(Note::CREATED_AT.desc()).limit(50);
    /// let first = db.page(newest.clone(), None).await?;
    /// println!("{} of {:?} notes", first.rows.len(), first.total);
    /// if let Some(next) = &first.next {
    ///     let second = db.page(newest, Some(next)).await?;
    ///     # let _ = second;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn page<E: crate::Entity, R: RowShape>(
        &self,
        query: Query<E, R, Root>,
        after: Option<&Cursor>,
    ) -> Result<Page<R>> {
        let span = trace::select_span("page", Some(E::META.name));
        trace::run(span.clone(), async {
            self.check_session()?;
            let mut node = query.node;
            prepare_page(&mut node)?;
            let spec = PageSpec { after: after.cloned(), total: true };
            let read = self.read(Some(&spec), RowForm::Columns, None);
            let rows = read::run(&self.core.exec, &self.session, &mut node, read).await?;
            let page = decode_page(&rows, &node)?;
            trace::record_rows(&span, page.rows.len());
            Ok(page)
        })
        .await
    }

    /// A read from the JSON select action of HTTP clients (untrusted), e.g.
    /// `{"table":"notes","where":{"title":{"like":"%a%"}},"with":{"author":true},
    /// "orderBy":[{"field":"createdAt","direction":"desc"}],"limit":50}`.
    /// Validated against the schema and the configured guard rails; returns
    /// rows as JSON objects keyed by logical names.
    pub async fn select_json(&self, action: &serde_json::Value) -> Result<Vec<serde_json::Value>> {
        self.select_json_with(action, false).await
    }

    /// [`select_json`](Self::select_json) for an action decoded from a query
    /// string, where numbers and booleans arrive as strings: they are read as
    /// the kind of the field they are compared with.
    pub async fn select_json_from_query_string(
        &self,
        action: &serde_json::Value,
    ) -> Result<Vec<serde_json::Value>> {
        self.select_json_with(action, true).await
    }

    async fn select_json_with(
        &self,
        action: &serde_json::Value,
        coerce: bool,
    ) -> Result<Vec<serde_json::Value>> {
        let span = trace::select_span("select", None);
        trace::run(span.clone(), async {
            let text = self.json_text_traced(action, coerce, &span).await?;
            serde_json::from_slice(&text).map_err(|e| DatabaseError::new("decoding a JSON row", e).into())
        })
        .await
    }

    /// The rows of [`select_json`](Self::select_json) as the UTF-8 text of
    /// a JSON array, ready to send: the same JSON, written straight from
    /// PostgreSQL's text, with no tree built and none serialized again
    /// (what the JSON API answers).
    ///
    /// ```no_run
    /// # async fn run(db: trombase_core::SessionDb) -> trombase_core::Result<()> {
    /// let body: Vec<u8> = db.select_json_text(&serde_json::json!({"table": "notes", "limit": 20})).await?;
    /// assert!(body.starts_with(b"["));
    /// # Ok(()) }
    /// ```
    pub async fn select_json_text(&self, action: &serde_json::Value) -> Result<Vec<u8>> {
        self.json_text_with(action, false).await
    }

    /// [`select_json_text`](Self::select_json_text) for an action decoded
    /// from a query string (see
    /// [`select_json_from_query_string`](Self::select_json_from_query_string)).
    pub async fn select_json_text_from_query_string(&self, action: &serde_json::Value) -> Result<Vec<u8>> {
        self.json_text_with(action, true).await
    }

    async fn json_text_with(&self, action: &serde_json::Value, coerce: bool) -> Result<Vec<u8>> {
        let span = trace::select_span("select", None);
        trace::run(span.clone(), self.json_text_traced(action, coerce, &span)).await
    }

    /// The JSON text of a select, in its span (`span` gets its entity and rows).
    async fn json_text_traced(
        &self,
        action: &serde_json::Value,
        coerce: bool,
        span: &Span,
    ) -> Result<Vec<u8>> {
        self.check_session()?;
        if action.get("page").is_some() {
            return Err(crate::Error::validation("page", "asks for a page: read it with `page_json`"));
        }
        let mut node = self.parse(action, coerce)?;
        span.record("entity", node.entity.meta().name);
        // Rows as columns where the library writes their JSON itself (no
        // `row_to_json` on the server); aggregates as PostgreSQL's JSON.
        let form = if columns_write_json(&node) { RowForm::Columns } else { RowForm::Json };
        let read = self.read(None, form, Some(&self.core.limits.reads));
        let rows = read::run(&self.core.exec, &self.session, &mut node, read).await?;
        trace::record_rows(span, rows.len());
        let malformed = |_| DatabaseError::new("decoding a JSON row", "not the JSON the read asked for");
        let mut body = Vec::with_capacity(256 * rows.len() + 2);
        if form == RowForm::Columns {
            write_column_rows(&rows, &node, &mut body).map_err(malformed)?;
        } else {
            let texts = rows
                .iter()
                .map(|row| {
                    row.try_get::<_, JsonText<'_>>(0)
                        .map(|text| text.0)
                        .map_err(|e| DatabaseError::new("decoding a JSON row", e).into())
                })
                .collect::<Result<Vec<&[u8]>>>()?;
            write_json_rows(texts, &node, &mut body).map_err(malformed)?;
        }
        Ok(body)
    }

    /// A page from a JSON select action with a `page` key (untrusted):
    /// `{"table": "notes", "orderBy": [...], "limit": 50, "page": {"after": "<cursor>", "total": true}}`
    /// (`after` optional; `total` defaults to true). Rows as
    /// [`select_json`](Self::select_json) gives them; the page serializes
    /// as `{"rows": [...], "total": 123, "next": "<cursor>" | null}`.
    pub async fn page_json(&self, action: &serde_json::Value) -> Result<Page<serde_json::Value>> {
        self.page_json_with(action, false).await
    }

    /// [`page_json`](Self::page_json) for an action decoded from a query string.
    pub async fn page_json_from_query_string(
        &self,
        action: &serde_json::Value,
    ) -> Result<Page<serde_json::Value>> {
        self.page_json_with(action, true).await
    }

    async fn page_json_with(
        &self,
        action: &serde_json::Value,
        coerce: bool,
    ) -> Result<Page<serde_json::Value>> {
        let span = trace::select_span("page", None);
        trace::run(span.clone(), async {
            self.check_session()?;
            let spec = parse_page(action.get("page").unwrap_or(&serde_json::Value::Null), coerce)?;
            let mut node = self.parse(action, coerce)?;
            span.record("entity", node.entity.meta().name);
            prepare_page(&mut node)?;
            let read = self.read(Some(&spec), RowForm::Json, Some(&self.core.limits.reads));
            let rows = read::run(&self.core.exec, &self.session, &mut node, read).await?;
            let mut page = decode_json_page(&rows, &node, spec.total)?;
            finish_rows(&mut page.rows, &node);
            trace::record_rows(&span, page.rows.len());
            Ok(page)
        })
        .await
    }

    fn parse(&self, action: &serde_json::Value, coerce: bool) -> Result<SelectNode> {
        parse_select(&self.core.schema, action, &self.core.limits.reads, coerce)
    }

    fn read<'a>(
        &'a self,
        page: Option<&'a PageSpec>,
        form: RowForm,
        limits: Option<&'a ReadLimits>,
    ) -> Read<'a> {
        Read { schema: &self.core.schema, renders: &self.core.renders, page, form, limits, from: self.from }
    }

    /// Refuses a session that has expired, before any SQL runs.
    fn check_session(&self) -> Result<()> {
        if self.session.is_expired_at(Utc::now()) {
            return Err(AuthError::new(AuthErrorCode::SessionNotFound, "the session has expired").into());
        }
        Ok(())
    }
}
