#!/usr/bin/env bash
# Starts the multi-tenant example (examples/teams_app) on http://127.0.0.1:${PORT:-3002},
# against a PostgreSQL this script makes sure is there (see ensure-postgres.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
exec cargo run --release -p teams_app
