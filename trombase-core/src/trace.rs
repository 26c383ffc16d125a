//! `tracing` instrumentation: one span per call (a select, a batch of
//! mutations, an auth call), the statements it sent and how long it took,
//! and an event for each denial and each failure. What is recorded is
//! described in the crate docs ("Tracing"); values never are (no row
//! contents, filter values, parameters, tokens, hashes, emails or ids).
//!
//! With no subscriber (or one that filters these spans out) a span is
//! disabled: the call runs as it is, with nothing computed or recorded.

use std::cell::Cell;
use std::future::Future;
use std::time::Instant;

use futures_util::future::Either;
use futures_util::FutureExt;
use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::{Error, Result};

tokio::task_local! {
    /// Statements sent by the call being traced, in this task.
    static SENT: Cell<u64>;
}

/// Counts `n` statements sent, for the traced call running in this task
/// (if any): the executor calls it for every statement it counts.
pub(crate) fn sent(n: u64) {
    let _ = SENT.try_with(|sent| sent.set(sent.get() + n));
}

/// The span of a select or a page: `trombase.select`.
pub(crate) fn select_span(action: &'static str, entity: Option<&'static str>) -> Span {
    let span = tracing::info_span!(
        target: "trombase::select",
        "trombase.select",
        action,
        entity = Empty,
        rows = Empty,
        statements = Empty,
        duration_ms = Empty,
    );
    if let (Some(entity), false) = (entity, span.is_disabled()) {
        span.record("entity", entity);
    }
    span
}

/// Records the rows a call read or wrote (nothing to do for a disabled
/// span: not even the field's name is looked up).
pub(crate) fn record_rows(span: &Span, rows: usize) {
    if !span.is_disabled() {
        span.record("rows", rows);
    }
}

/// The span of a batch of mutations: `trombase.mutations`.
pub(crate) fn mutations_span(action: &'static str) -> Span {
    tracing::info_span!(
        target: "trombase::mutations",
        "trombase.mutations",
        action,
        entity = Empty,
        operations = Empty,
        rows = Empty,
        statements = Empty,
        duration_ms = Empty,
    )
}

/// Records the entities a batch writes (their logical names, each once,
/// comma-separated) and how many operations it holds.
pub(crate) fn record_batch<'a>(span: &Span, entities: impl Iterator<Item = &'a str>, operations: usize) {
    if span.is_disabled() {
        return;
    }
    let mut names: Vec<&str> = Vec::new();
    for name in entities {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    span.record("entity", names.join(",").as_str());
    span.record("operations", operations);
}

/// The span of an auth call: `trombase.auth`.
pub(crate) fn auth_span(action: &'static str) -> Span {
    tracing::info_span!(
        target: "trombase::auth",
        "trombase.auth",
        action,
        statements = Empty,
        duration_ms = Empty,
    )
}

/// The span of `create_tables`: `trombase.schema`.
pub(crate) fn schema_span(action: &'static str) -> Span {
    tracing::info_span!(
        target: "trombase::schema",
        "trombase.schema",
        action,
        statements = Empty,
        duration_ms = Empty,
    )
}

/// Runs one traced call inside `span`: when the span is enabled, counts
/// the statements the call sends and records them and its duration at
/// the end. A failure is an event (inside the span) either way.
///
/// Built from combinators rather than as an `async fn`: the call's future
/// is held in place, once, so a read's future is not copied (several
/// kilobytes) at each layer between the caller and the statement.
pub(crate) fn run<T, F>(span: Span, call: F) -> impl Future<Output = Result<T>>
where
    F: Future<Output = Result<T>>,
{
    if span.is_disabled() {
        return Either::Left(call.inspect(|result| {
            if let Err(err) = result {
                failed(err);
            }
        }));
    }
    let start = Instant::now();
    let counted = call.map(|result| (result, SENT.with(Cell::get)));
    let traced = SENT.scope(Cell::new(0), counted).instrument(span.clone());
    Either::Right(traced.map(move |(result, statements)| {
        // A traced call inside another one (an auth flow's own steps): the
        // outer call sent these too.
        sent(statements);
        span.record("statements", statements);
        span.record("duration_ms", start.elapsed().as_secs_f64() * 1000.0);
        if let Err(err) = &result {
            span.in_scope(|| failed(err));
        }
        result
    }))
}

/// A permitter denied an operation on `entity` (or, with `declared`
/// false, the entity declares no permitter for it: always denied).
pub(crate) fn denied(entity: &'static str, action: &'static str, declared: bool) {
    let permitter = if declared { "declared" } else { "undeclared" };
    tracing::debug!(target: "trombase::permit", entity, action, permitter, "permission denied");
}

/// A read permitter denied `entity`, which only a rule (a row filter's
/// relation) looks through: the rule sees no rows of it, the read goes on.
pub(crate) fn denied_to_rule(entity: &'static str) {
    tracing::debug!(
        target: "trombase::permit",
        entity,
        action = "read",
        "permission denied to a rule's relation: it sees no rows of the entity"
    );
}

/// A write permitter answered a row filter, which only reads take.
pub(crate) fn filter_on_write(entity: &'static str, action: &'static str) {
    tracing::debug!(
        target: "trombase::permit",
        entity,
        action,
        "permission denied: a write permitter answered a row filter"
    );
}

/// The event of a failed call: its kind, status, code and operation
/// index; never its message (which may quote input) nor its source (the
/// database's text, which may quote values). Client mistakes and denials
/// at DEBUG, server faults and database errors at WARN.
fn failed(err: &Error) {
    let kind = err.name();
    let status = err.http_status();
    let operation = err.operation();
    let code = match err {
        Error::Auth(e) => Some(e.code.as_str()),
        _ => None,
    };
    match err {
        Error::Validation(e) => tracing::debug!(
            target: "trombase",
            error = kind,
            status = status,
            operation = operation,
            path = e.path.as_str(),
            "call failed"
        ),
        Error::Conflict(e) => tracing::debug!(
            target: "trombase",
            error = kind,
            status = status,
            operation = operation,
            constraint = e.constraint.as_deref(),
            "call failed"
        ),
        Error::Auth(_) | Error::Permission(_) | Error::NotFound(_) => tracing::debug!(
            target: "trombase",
            error = kind,
            status = status,
            operation = operation,
            code = code,
            "call failed"
        ),
        Error::Database(e) => tracing::warn!(
            target: "trombase",
            error = kind,
            status = status,
            operation = operation,
            context = e.context,
            sqlstate = sqlstate(e.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))),
            "call failed"
        ),
        _ => tracing::warn!(
            target: "trombase",
            error = kind,
            status = status,
            operation = operation,
            sqlstate = sqlstate(std::error::Error::source(err)),
            "call failed"
        ),
    }
}

/// The SQLSTATE of a database error (a code, never the server's text).
fn sqlstate<'a>(source: Option<&'a (dyn std::error::Error + 'static)>) -> Option<&'a str> {
    let mut source = source;
    while let Some(err) = source {
        if let Some(db) = err.downcast_ref::<tokio_postgres::Error>() {
            return db.code().map(tokio_postgres::error::SqlState::code);
        }
        source = err.source();
    }
    None
}
