//! Run with: `cargo run --release -p trombase-bench -- [--smoke] [--only <name>]`
//!
//! Benchmarks TromBase against the PostgreSQL server `DATABASE_URL` names
//! (default `postgres://postgres@127.0.0.1:5432/postgres`; its user must be
//! allowed to create databases). The bench creates a scratch database of its
//! own, runs each workload (warm-up first, then many iterations; medians and
//! p99), prints the results as markdown tables, and drops the database.
//!
//! - `--smoke`: one iteration of everything, no warm-up (for CI: proves the
//!   bench runs, measures nothing).
//! - `--only <name>`: run one workload (see `--list`).
//! - `--list`: list the workloads.
//! - `--repeat <case> <n>`: no measurement: seed, then run one read `n`
//!   times in a row (`by-id`, `by-id-raw`, `to-one`, `to-one-raw`; `by-id-32`
//!   and `by-id-raw-32` share them among 32 tasks; `insert-1000` and
//!   `insert-1000-raw` are batches of 1,000 inserts, `insert-1` and
//!   `insert-1-raw` 1,000 one-insert batches each), for a
//!   profiler or an instruction counter (`valgrind --tool=callgrind`); the
//!   same with `n` = 0 is the set-up to subtract.

// A command-line tool: its output is stdout.
#![allow(clippy::print_stdout)]

mod scratch;
mod stats;
mod workloads;

use std::process::ExitCode;

use scratch::ScratchDb;
use workloads::{BoxError, Context, Workload, ALL};

/// What the command line asked for.
struct Args {
    smoke: bool,
    only: Option<String>,
    list: bool,
    statement_mode: trombase::StatementMode,
    repeat: Option<(String, usize)>,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        smoke: false,
        only: None,
        list: false,
        statement_mode: trombase::StatementMode::Cached,
        repeat: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => parsed.smoke = true,
            "--list" => parsed.list = true,
            "--only" => parsed.only = Some(args.next().ok_or("--only needs a workload name")?),
            "--repeat" => {
                let case = args.next().ok_or("--repeat needs a case and a count")?;
                let n = args.next().and_then(|n| n.parse().ok()).ok_or("--repeat needs a count")?;
                parsed.repeat = Some((case, n));
            }
            "--statement-mode" => {
                parsed.statement_mode = match args.next().as_deref() {
                    Some("cached") => trombase::StatementMode::Cached,
                    Some("unnamed") => trombase::StatementMode::Unnamed,
                    _ => return Err("--statement-mode needs `cached` or `unnamed`".to_owned()),
                }
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(parsed)
}

const USAGE: &str =
    "usage: trombase-bench [--smoke] [--only <name>] [--statement-mode cached|unnamed] [--list] [--repeat <case> <n>]";

fn main() -> ExitCode {
    let raw_args: Vec<String> = std::env::args().skip(1).collect();
    if raw_args.first().map(String::as_str) == Some(workloads::http::server::SERVE_FLAG) {
        // A child server of the `http` workload.
        return workloads::http::server::serve_child(&raw_args[1..]);
    }
    let args = match parse_args(raw_args) {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) };
        }
    };
    if args.list {
        for workload in ALL {
            println!("{:<12} {}", workload.name, workload.about);
        }
        return ExitCode::SUCCESS;
    }
    let selected: Vec<&Workload> =
        ALL.iter().filter(|w| args.only.as_deref().map_or(true, |n| n == w.name)).collect();
    if selected.is_empty() {
        eprintln!("no workload named `{}` (try --list)", args.only.unwrap_or_default());
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&selected, args.smoke, args.statement_mode, args.repeat)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    selected: &[&Workload],
    smoke: bool,
    statement_mode: trombase::StatementMode,
    repeat: Option<(String, usize)>,
) -> Result<(), BoxError> {
    let server = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let scratch = ScratchDb::create(&server).await?;
    let ctx = Context {
        database_url: scratch.url().to_owned(),
        smoke,
        statement_mode,
        dataset: Default::default(),
    };
    if statement_mode != trombase::StatementMode::Cached {
        println!("_the shared dataset's library handle in statement mode {statement_mode:?} (raw references unchanged: prepared statements)_\n");
    }
    if smoke {
        println!("_smoke run: one iteration each, no warm-up; the numbers mean nothing_\n");
    }
    let mut outcome = Ok(());
    if let Some((case, n)) = repeat {
        outcome = if case.starts_with("insert-") {
            workloads::writes::repeat(&ctx, &case, n).await
        } else {
            workloads::reads::repeat(&ctx, &case, n).await
        };
        let dropped = scratch.drop_db().await;
        return outcome.and(dropped);
    }
    for workload in selected {
        match (workload.run)(&ctx).await {
            Ok(report) => print!("{}", report.to_markdown()),
            Err(e) => {
                outcome = Err(format!("workload `{}`: {e}", workload.name).into());
                break;
            }
        }
    }
    // The scratch database goes whether or not the workloads succeeded.
    let dropped = scratch.drop_db().await;
    outcome.and(dropped)
}

#[cfg(test)]
mod tests {
    use super::parse_args;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_flags() {
        let parsed = parse_args(args(&["--smoke", "--only", "auth"])).expect("valid");
        assert!(parsed.smoke && !parsed.list);
        assert_eq!(parsed.only.as_deref(), Some("auth"));
        assert!(parse_args(args(&["--only"])).is_err());
        assert!(parse_args(args(&["--fast"])).is_err());
        let unnamed = parse_args(args(&["--statement-mode", "unnamed"])).expect("valid");
        assert_eq!(unnamed.statement_mode, trombase::StatementMode::Unnamed);
        assert!(parse_args(args(&["--statement-mode", "named"])).is_err());
    }
}
