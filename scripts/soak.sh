#!/usr/bin/env bash
# A bounded soak: `bash scripts/soak.sh [seconds] [sessions] [kill every s]`
# (defaults 60, 64, no kills). With SOAK_THROUGH_PGBOUNCER=1 the library goes
# through a PgBouncer in transaction mode (scripts/ensure-pgbouncer.sh).
# Makes sure PostgreSQL is there, then runs examples/soak in release.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
if [[ "${SOAK_THROUGH_PGBOUNCER:-0}" == "1" ]]; then
  # shellcheck source=scripts/ensure-pgbouncer.sh
  source scripts/ensure-pgbouncer.sh
  export SOAK_POOLER_URL="$TROMBASE_TEST_POOLER_URL"
fi
exec cargo run --release -q -p soak -- "${1:-60}" "${2:-64}" ${3:+"$3"}
