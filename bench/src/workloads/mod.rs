//! The workloads the bench runs, by name. Add one by writing a module with
//! a `fn start(&Context) -> BoxFuture<'_, Result<Report, BoxError>>` and
//! listing it in [`ALL`].

pub mod auth;
pub mod http;
pub mod json_reads;
pub mod measure;
pub mod reads;
pub mod relations;
pub mod row_filters;
pub mod scale_out;
pub mod seed;
pub mod writes;

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Any error a workload may end with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What every workload gets.
#[derive(Debug, Clone)]
pub struct Context {
    /// A scratch database of the bench's own, empty at the start of the run
    /// and dropped at its end (workloads share it; keep names apart).
    pub database_url: String,
    /// One iteration of everything, no warm-up: proves the bench runs.
    pub smoke: bool,
    /// The statement mode of the shared dataset's library handle
    /// (`--statement-mode`; `Unnamed` is what a pooler needs).
    pub statement_mode: trombase::StatementMode,
    /// The seeded users and notes the data workloads share, made by the
    /// first of them that runs ([`seed::dataset`]).
    pub dataset: Arc<tokio::sync::OnceCell<Arc<seed::Dataset>>>,
}

impl Context {
    /// `full` normally, 1 in smoke mode.
    pub fn iterations(&self, full: usize) -> usize {
        if self.smoke {
            1
        } else {
            full
        }
    }

    /// `full` normally, 0 in smoke mode.
    pub fn warm_up(&self, full: usize) -> usize {
        if self.smoke {
            0
        } else {
            full
        }
    }
}

/// A named workload.
pub struct Workload {
    /// The name `--only` selects it by.
    pub name: &'static str,
    /// One line on what it measures.
    pub about: &'static str,
    /// Runs it.
    pub run: for<'a> fn(&'a Context) -> BoxFuture<'a, Result<Report, BoxError>>,
}

/// Every workload, in the order they run.
pub const ALL: &[Workload] = &[
    Workload {
        name: "reads",
        about: "typed selects vs raw tokio-postgres: note by id (latency, 32-way throughput), \
                a user's notes with author, 50 users with their 10 newest notes",
        run: reads::start,
    },
    Workload {
        name: "json_reads",
        about: "the JSON select form (returning JSON) vs the same statement in raw tokio-postgres",
        run: json_reads::start,
    },
    Workload {
        name: "row_filters",
        about: "reads through an owner row filter vs the same reads written by hand:                 a leakproof condition beside the filter, and one behind the fence",
        run: row_filters::start,
    },
    Workload {
        name: "relations",
        about: "a row filter through two relations (notes of my teams), a page of it with its total, \
                and the next page by cursor, vs the same reads written by hand",
        run: relations::start,
    },
    Workload {
        name: "scale_out",
        about: "statement modes (Cached, Unnamed) vs raw tokio-postgres; by-id throughput at 32 and 512 \
                tasks directly and through PgBouncer (TROMBASE_BENCH_POOLER_URL)",
        run: scale_out::start,
    },
    Workload {
        name: "writes",
        about: "do_mutations vs raw tokio-postgres: 1,000-insert batch, 1,000 one-insert batches, \
                update and delete batches of 100 under an owner rule",
        run: writes::start,
    },
    Workload {
        name: "auth",
        about: "login time for unknown vs known emails; session lookup vs raw tokio-postgres",
        run: auth::start,
    },
    Workload {
        name: "http",
        about: "the reference app's select route over loopback HTTP (64 connections) vs a hand-written \
                axum + tokio-postgres handler: requests per second, app CPU per request",
        run: http::start,
    },
];

/// What a workload found: markdown tables and notes.
#[derive(Debug, Default)]
pub struct Report {
    /// Sections, each a heading, notes and a table.
    pub sections: Vec<Section>,
}

/// One table of results.
#[derive(Debug, Default)]
pub struct Section {
    /// The heading.
    pub title: String,
    /// Lines printed under the heading (parameters, ratios).
    pub notes: Vec<String>,
    /// The column headers.
    pub headers: Vec<String>,
    /// The rows, as many cells as headers.
    pub rows: Vec<Vec<String>>,
}

impl Report {
    /// The report as markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        for section in &self.sections {
            let _ = writeln!(out, "### {}\n", section.title);
            for note in &section.notes {
                let _ = writeln!(out, "- {note}");
            }
            if !section.notes.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "| {} |", section.headers.join(" | "));
            let _ = writeln!(out, "|{}", "---|".repeat(section.headers.len()));
            for row in &section.rows {
                let _ = writeln!(out, "| {} |", row.join(" | "));
            }
            out.push('\n');
        }
        out
    }
}
