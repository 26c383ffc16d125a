#!/usr/bin/env bash
# shellcheck shell=bash
#
# ensure-pgbouncer.sh — start a PgBouncer (Debian's package) in transaction
# pooling mode in front of the server DATABASE_URL names, with PgBouncer's
# default settings otherwise, and export TROMBASE_TEST_POOLER_URL pointing at
# it. Meant to be sourced by test.sh after ensure-postgres.sh.
#
#   source scripts/ensure-pgbouncer.sh   # exports TROMBASE_TEST_POOLER_URL
#
# The test suite's databases are then reached through it (TestDb::url()
# carries `?pgbouncer=true`, which puts the library in its pooler-safe
# statement mode); the tests' own raw clients still talk to the server.
#
# Environment:
#   TROMBASE_SKIP_PGBOUNCER=1  skip (and run the suite only directly)
#   TROMBASE_PGBOUNCER_DIR     config, log and pid (default /tmp/trombase-pgbouncer)
#
# Housekeeping: kill "$(cat /tmp/trombase-pgbouncer/pgbouncer.pid)".

_tbp_log() { printf 'ensure-pgbouncer: %s\n' "$*" >&2; }

trombase_ensure_pgbouncer() {
  if [[ "${TROMBASE_SKIP_PGBOUNCER:-0}" == "1" ]]; then
    _tbp_log "skipped (TROMBASE_SKIP_PGBOUNCER=1)"
    return 0
  fi
  local sudo=""
  if [[ "$(id -u)" != "0" ]]; then sudo="sudo -n"; fi
  local bin
  bin="$(command -v pgbouncer || true)"
  [[ -z "$bin" && -x /usr/sbin/pgbouncer ]] && bin=/usr/sbin/pgbouncer
  if [[ -z "$bin" ]]; then
    _tbp_log "installing pgbouncer (Debian package)"
    local log
    log="$(mktemp)"
    # The package's own service is not wanted: only our instance runs.
    if ! { $sudo apt-get update -q >"$log" 2>&1 &&
           DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -q --no-install-recommends pgbouncer \
             </dev/null >>"$log" 2>&1; }; then
      tail -n 30 "$log" >&2
      rm -f "$log"
      return 1
    fi
    rm -f "$log"
    bin=/usr/sbin/pgbouncer
  fi

  # The upstream server, from DATABASE_URL (postgres://user@host:port/db).
  local url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  local rest="${url#*://}"
  rest="${rest#*@}"
  local hostport="${rest%%/*}"
  local host="${hostport%%:*}" port="5432"
  [[ "$hostport" == *:* ]] && port="${hostport##*:}"
  [[ -z "$host" ]] && host=127.0.0.1

  local dir="${TROMBASE_PGBOUNCER_DIR:-/tmp/trombase-pgbouncer}"
  mkdir -p "$dir"
  if [[ -f "$dir/pgbouncer.pid" ]] && kill -0 "$(cat "$dir/pgbouncer.pid")" 2>/dev/null; then
    kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    sleep 0.5
  fi
  local listen
  listen="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=$host port=$port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $listen
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
admin_users = postgres
EOF
  printf '"postgres" ""\n' >"$dir/userlist.txt"
  : >"$dir/pgbouncer.log"
  local run=()
  if [[ "$(id -u)" == "0" ]]; then
    chown -R postgres:postgres "$dir"
    run=(runuser -u postgres --)
  fi
  # -d: daemonize; its output goes to the log, never to our pipes.
  if ! "${run[@]}" "$bin" -d "$dir/pgbouncer.ini" </dev/null >/dev/null 2>&1; then
    _tbp_log "pgbouncer did not start:"
    tail -n 20 "$dir/pgbouncer.log" >&2
    return 1
  fi
  local pooler="postgres://postgres@127.0.0.1:$listen/postgres"
  local i
  for i in $(seq 1 50); do
    if psql -w "$pooler" -Atc 'select 1' >/dev/null 2>&1; then
      export TROMBASE_TEST_POOLER_URL="$pooler"
      _tbp_log "$("$bin" --version | head -n1), transaction pooling on 127.0.0.1:$listen -> $host:$port"
      return 0
    fi
    sleep 0.1
  done
  _tbp_log "pgbouncer does not answer on port $listen:"
  tail -n 20 "$dir/pgbouncer.log" >&2
  return 1
}
trombase_ensure_pgbouncer
