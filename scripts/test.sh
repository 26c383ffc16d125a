#!/usr/bin/env bash
#
# TromBase: the project's one test command.
#
#   bash scripts/test.sh
#
# Makes sure a PostgreSQL server is available (scripts/ensure-postgres.sh,
# which exports DATABASE_URL), then runs, in order:
#   fmt check, clippy (-D warnings), tests (nextest if installed, else
#   cargo test), the integration suite again through PgBouncer in
#   transaction mode (scripts/ensure-pgbouncer.sh), doctests, rustdoc
#   (-D warnings), Schemathesis against the reference app's OpenAPI
#   document (scripts/schemathesis.sh), a smoke run of the benchmarks.
#
# Environment:
#   TROMBASE_SKIP_LINT=1   skip the fmt and clippy steps (quick local runs)
#   TROMBASE_SKIP_PGBOUNCER=1  skip the run through PgBouncer
#   TROMBASE_SKIP_SCHEMATHESIS=1  skip the Schemathesis run
#   DATABASE_URL           use this server instead of finding/starting one
#   CI                     when set (not "false"), cargo output is uncoloured
# See scripts/ensure-postgres.sh for the other TROMBASE_* knobs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -n "${CI:-}" && "${CI}" != "false" && "${CI}" != "0" ]]; then
  export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
elif [[ -t 1 ]]; then
  # Output is teed through a pipe below; keep colours for a terminal.
  export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-always}"
fi
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

step() { printf '\n==> %s\n' "$*"; }

step "PostgreSQL"
# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
echo "DATABASE_URL=$(_tb_redact "$DATABASE_URL")"

# ---------------------------------------------------------------------------
# EXTRA SETUP HOOK: later steps that need more setup (e.g. a headless browser,
# extra Debian packages, fixtures) add it here, before any cargo step runs.
# Keep it idempotent and non-interactive, like ensure-postgres.sh.
# ---------------------------------------------------------------------------
step "Browser (for the reference app's end-to-end test)"
# shellcheck source=scripts/ensure-browser.sh
source scripts/ensure-browser.sh

step "PgBouncer (transaction pooling, for the second run of the integration suite)"
# shellcheck source=scripts/ensure-pgbouncer.sh
source scripts/ensure-pgbouncer.sh
# Only the second run goes through it.
pooler_url="${TROMBASE_TEST_POOLER_URL:-}"
unset TROMBASE_TEST_POOLER_URL

logdir="$(mktemp -d "${TMPDIR:-/tmp}/trombase-test.XXXXXX")"
trap 'rm -rf "$logdir"' EXIT

if [[ "${TROMBASE_SKIP_LINT:-0}" == "1" ]]; then
  step "lint skipped (TROMBASE_SKIP_LINT=1)"
else
  step "cargo fmt --all -- --check"
  cargo fmt --all -- --check

  step "cargo clippy --workspace --all-targets -- -D warnings"
  cargo clippy --workspace --all-targets -- -D warnings
fi

# Tests: their output is also saved so that a one-line total can be printed
# at the end (the last runner summary would otherwise be the doctests').
if cargo nextest --version >/dev/null 2>&1; then
  step "cargo nextest run --workspace --no-fail-fast"
  cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$logdir/tests.log"
else
  step "cargo test --workspace --no-fail-fast (cargo-nextest not installed)"
  cargo test --workspace --no-fail-fast 2>&1 | tee "$logdir/tests.log"
fi

if [[ -n "$pooler_url" ]]; then
  # The integration suite again, the library reaching every test database
  # through PgBouncer in transaction mode (the compile-fail cases, a crate
  # of their own, do not touch a database and are not repeated).
  step "cargo nextest run -p trombase-tests, through PgBouncer (transaction mode)"
  if cargo nextest --version >/dev/null 2>&1; then
    TROMBASE_TEST_POOLER_URL="$pooler_url" cargo nextest run -p trombase-tests --no-fail-fast \
      2>&1 | tee "$logdir/pooled.log"
  else
    TROMBASE_TEST_POOLER_URL="$pooler_url" cargo test -p trombase-tests --no-fail-fast \
      2>&1 | tee "$logdir/pooled.log"
  fi
fi

# The JSON API against its own OpenAPI document, property-based: no 5xx,
# only documented statuses and bodies (the quick run here; see
# scripts/schemathesis.sh for the full run, which adds the select action's
# exhaustive coverage phase).
if [[ "${TROMBASE_SKIP_SCHEMATHESIS:-0}" == "1" ]]; then
  step "schemathesis skipped (TROMBASE_SKIP_SCHEMATHESIS=1)"
else
  step "bash scripts/schemathesis.sh 100 notes, quick (Schemathesis against the reference app)"
  TROMBASE_SCHEMATHESIS_QUICK=1 bash scripts/schemathesis.sh 100 notes
fi

step "cargo test --workspace --doc"
cargo test --workspace --doc 2>&1 | tee "$logdir/doctests.log"

step "RUSTDOCFLAGS=\"-D warnings\" cargo doc --workspace --no-deps"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# One iteration of every benchmark workload: proves the suite builds and
# runs (debug build: its dependencies are already compiled by the steps
# above; the numbers of a smoke run mean nothing). See BENCHMARKS.md.
step "cargo run -p trombase-bench -- --smoke"
cargo run -p trombase-bench -- --smoke

# Totals over the test and doctest runs (only reached when all steps passed).
# nextest: "Summary [ 1.2s] 45 tests run: 45 passed, 2 skipped"
# libtest: "test result: ok. 12 passed; 0 failed; 1 ignored; ..."
totals="$(sed -e 's/\x1b\[[0-9;]*m//g' "$logdir/tests.log" "$logdir/doctests.log" ${pooler_url:+"$logdir/pooled.log"} | awk '
  function num(line, word,   m) {
    if (match(line, "[0-9]+ " word)) { m = substr(line, RSTART, RLENGTH); sub(" .*", "", m); return m + 0 }
    return 0
  }
  /^ *Summary \[.*tests? run:/ { p += num($0, "passed"); f += num($0, "failed"); s += num($0, "skipped"); seen = 1 }
  /^test result: / { p += num($0, "passed"); f += num($0, "failed"); s += num($0, "ignored"); seen = 1 }
  END { if (seen) printf "%d passed, %d failed, %d skipped\n", p, f, s }
')"
step "all steps passed"
if [[ -n "$totals" ]]; then
  echo "tests: $totals"
fi
