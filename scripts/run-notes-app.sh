#!/usr/bin/env bash
# Starts the reference app (examples/notes_app) on http://127.0.0.1:${PORT:-3000}.
#
# With DATABASE_URL set, the app uses that database (creating it when it is
# missing and the server allows it). Without, this script makes sure a
# PostgreSQL is there (see ensure-postgres.sh) and points the app at the
# database `notes_app` on that server, which the app creates on first start.
# Logs at INFO; RUST_LOG=info,tower_http=debug adds a line per request.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${DATABASE_URL:-}" ]; then
  # shellcheck source=scripts/ensure-postgres.sh
  source scripts/ensure-postgres.sh
  # The server's URL names its maintenance database: name the app's instead.
  query=""
  if [[ "$DATABASE_URL" == *\?* ]]; then query="?${DATABASE_URL#*\?}"; fi
  base="${DATABASE_URL%%\?*}"
  scheme="${base%%://*}"
  rest="${base#*://}"
  DATABASE_URL="${scheme}://${rest%%/*}/notes_app${query}"
  export DATABASE_URL
fi
exec cargo run --release -p notes_app
