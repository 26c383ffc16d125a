#!/usr/bin/env bash
# A bounded soak: `bash scripts/soak.sh [seconds] [sessions]` (defaults 60, 64).
# Makes sure PostgreSQL is there, then runs examples/soak in release.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
exec cargo run --release -q -p soak -- "${1:-60}" "${2:-64}"
