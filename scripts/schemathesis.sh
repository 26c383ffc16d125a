#!/usr/bin/env bash
#
# Property-based tests of the JSON API against its own OpenAPI document:
# starts an example app on a throwaway database, signs a user in, and runs
# Schemathesis (every check: no 5xx, only documented statuses, JSON content
# types, bodies that conform to the document, auth enforced, 405s with
# Allow) over every operation, with and without that user's session.
#
#   bash scripts/schemathesis.sh [examples per operation] [app ...]
#
#   examples  default 100; apps: notes (default), expenses
#
# Environment:
#   TROMBASE_SCHEMATHESIS_QUICK=1  the coverage phase (every boundary and
#     negative case the document defines) leaves out the select action
#     (POST /api/db/select): its document is large, ~107,000 cases and 7 of
#     the run's 8 minutes. Every other operation's coverage still runs, and
#     the select still gets the generated phases. scripts/test.sh sets it;
#     the full run does not.
#
# Needs PostgreSQL (scripts/ensure-postgres.sh) and Python 3.11+ (Schemathesis
# is installed into a cached virtualenv by scripts/ensure-schemathesis.sh).
# Exit status: 0 when Schemathesis found nothing, else non-zero.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

examples="${1:-100}"
shift || true
apps=("$@")
[[ ${#apps[@]} -gt 0 ]] || apps=(notes)

# shellcheck source=scripts/ensure-postgres.sh
source scripts/ensure-postgres.sh
# shellcheck source=scripts/ensure-schemathesis.sh
source scripts/ensure-schemathesis.sh
: "${SCHEMATHESIS:?Schemathesis is not installed}"

binaries=()
for app in "${apps[@]}"; do binaries+=(-p "${app}_app"); done
cargo build "${binaries[@]}"
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

work="$(mktemp -d "${TMPDIR:-/tmp}/trombase-schemathesis.XXXXXX")"
server_pid=""
database=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ -n "$database" ]] && psql -qw "$DATABASE_URL" -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# POSTs JSON and prints the response body.
post_json() {
  python3 - "$1" "$2" <<'PY'
import sys, urllib.request
request = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={"content-type": "application/json"})
print(urllib.request.urlopen(request, timeout=30).read().decode())
PY
}

config=scripts/schemathesis.toml
if [[ "${TROMBASE_SCHEMATHESIS_QUICK:-0}" == "1" ]]; then
  config="$work/schemathesis.toml"
  cat scripts/schemathesis.toml - >"$config" <<'TOML'

[[operations]]
include-operation-id = "select"
phases.coverage.enabled = false
TOML
fi

status=0
for app in "${apps[@]}"; do
  database="trombase_schemathesis_$(date +%s)_$$"
  psql -qw "$DATABASE_URL" -c "CREATE DATABASE \"$database\"" >/dev/null
  port="$(free_port)"
  base="http://127.0.0.1:$port"
  echo "==> $app app on $base (database $database)"
  DATABASE_URL="${DATABASE_URL%/*}/$database" PORT="$port" RUST_LOG="${RUST_LOG:-warn}" \
    "$target_dir/debug/${app}_app" >"$work/$app.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('$base/api/openapi.json', timeout=1)" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/$app.log"; exit 1; }
    sleep 0.2
  done
  token="$(post_json "$base/api/auth/register" '{"email":"schemathesis@example.com","password":"correct horse battery"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["session"]["token"])')"

  # Logout and end-sessions would end the session the run signs its requests with.
  if ! HYPOTHESIS_STORAGE_DIRECTORY="$work/hypothesis" "$SCHEMATHESIS" \
      --config-file "$config" run "$base/api/openapi.json" \
      --url "$base" -H "x-session-token: $token" --checks all \
      --exclude-operation-id logout --exclude-operation-id endSessions \
      --max-examples "$examples" --seed 1 --workers 1 \
      --request-timeout 20 --wait-for-schema 30 --generation-database none --no-color; then
    status=1
    echo "--- $app app log (last 50 lines) ---"
    tail -n 50 "$work/$app.log"
  fi
  if grep -q ' ERROR ' "$work/$app.log"; then
    echo "--- $app app logged server faults ---"
    grep ' ERROR ' "$work/$app.log" | head -n 20
    status=1
  fi
  kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  server_pid=""
  psql -qw "$DATABASE_URL" -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null
  database=""
done
exit "$status"
