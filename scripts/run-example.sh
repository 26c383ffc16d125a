#!/usr/bin/env bash
# Runs an example app against a PostgreSQL that this script makes sure is
# there (see ensure-postgres.sh): `bash scripts/run-example.sh [package]`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
exec cargo run --release -p "${1:-quickstart}"
