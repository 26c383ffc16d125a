#!/usr/bin/env bash
# shellcheck shell=bash
#
# ensure-postgres.sh — make sure a PostgreSQL server the tests can use is
# running, and export DATABASE_URL pointing at it.
#
# Usage (bash only):
#   source scripts/ensure-postgres.sh    # exports DATABASE_URL; the `source`
#                                        # returns non-zero on failure
#   bash scripts/ensure-postgres.sh      # prints the URL on stdout
#
# The URL always names a server where the user may CREATE DATABASE (the test
# suite creates and drops one database per test).
#
# Order of attempts:
#   a. DATABASE_URL already set: use it if it answers `select 1`, else fail
#      (a URL the user gave is never silently replaced).
#   b. The probe URL ${TROMBASE_PROBE_URL:-postgres://postgres@127.0.0.1:5432/postgres},
#      checked with a real password-less query (not just pg_isready).
#   c. PostgreSQL server binaries installed: start stopped Debian clusters
#      (pg_ctlcluster) and re-check; if that still gives no password-less
#      connection, create/reuse a throwaway trust-auth cluster in
#      ${TROMBASE_PGDATA:-/tmp/trombase-pgdata} on 127.0.0.1, on port 5432 if
#      free else 54329.. (or ${TROMBASE_PGPORT} if set), and use that.
#   d. Not installed: apt-get install --no-install-recommends postgresql (as
#      root, or via `sudo -n`; otherwise fail saying what to install), then (c).
#   e. psql missing: apt-get install postgresql-client the same way.
#
# Progress goes to stderr; nothing prompts (psql -w, sudo -n, apt-get -y).
# Servers are started detached from our stdout/stderr/other fds, so a caller
# piping this script's output (CI logs, $(...)) never hangs on them.
# All the work runs in a subshell, so sourcing this file does not change the
# caller's shell options (set -e etc.); the only effects on the caller are the
# exported DATABASE_URL and the functions defined below (prefixed _tb_ /
# trombase_).
#
# Environment knobs:
#   DATABASE_URL        use this server (must work), skip everything else
#   TROMBASE_PROBE_URL  URL tried in step (b)
#   TROMBASE_PGDATA     data dir of the throwaway cluster
#                       (default /tmp/trombase-pgdata, or
#                       /tmp/trombase-pgdata-$USER when not root)
#   TROMBASE_PGPORT     force the throwaway cluster's port
#
# Throwaway cluster housekeeping (as root; drop `runuser -u postgres --` when
# not root):
#   stop:   runuser -u postgres -- /usr/lib/postgresql/*/bin/pg_ctl -D /tmp/trombase-pgdata stop
#   log:    /tmp/trombase-pgdata/trombase-server.log
#   remove: stop it, then rm -rf /tmp/trombase-pgdata

_tb_log() { printf 'ensure-postgres: %s\n' "$*" >&2; }

# Hide the password part of a URL for log lines.
_tb_redact() { printf '%s' "$1" | sed -E 's#^([a-zA-Z]+://[^:/@]*):[^@/]*@#\1:***@#'; }

_tb_is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as root: directly, or through password-less sudo.
_tb_as_root() {
  if _tb_is_root; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}

_tb_can_be_root() {
  _tb_is_root || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }
}

# _tb_detached LOGFILE CMD... — run a command that may leave a daemon behind
# (pg_ctl start, pg_ctlcluster start, apt-get postinst scripts) with stdin
# from /dev/null, stdout+stderr to LOGFILE and every other inherited file
# descriptor closed. Otherwise the daemon would keep our callers' pipes open
# (the $(...) capturing this script's result, or CI's log pipe) and whoever
# reads them would wait for ever.
_tb_detached() {
  local log="$1"
  shift
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      case "$fd" in 0 | 1 | 2 | *[!0-9]*) continue ;; esac
      { eval "exec $fd>&-"; } 2>/dev/null
    done
    "$@"
  ) </dev/null >"$log" 2>&1 3>&-
}

# Print the last N lines of a log file to stderr, indented.
_tb_tail() { tail -n "$1" "$2" 2>/dev/null | sed 's/^/    | /' >&2; }

_TB_APT_UPDATED=""
# _tb_apt_install PKG... — install Debian packages non-interactively.
_tb_apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    _tb_log "no apt-get on this machine: please install PostgreSQL ($*) with your package manager"
    return 1
  fi
  if ! _tb_can_be_root; then
    _tb_log "need root to install $* (not root, and no password-less sudo)."
    _tb_log "please run:  sudo apt-get install -y $*   (or set DATABASE_URL to a server you have)"
    return 1
  fi
  local log rc=0
  log="$(mktemp "${TMPDIR:-/tmp}/trombase-apt.XXXXXX")" || return 1
  if [ -z "$_TB_APT_UPDATED" ]; then
    _tb_log "apt-get update"
    _tb_detached "$log" _tb_as_root env DEBIAN_FRONTEND=noninteractive apt-get -q update || rc=$?
    if [ "$rc" -ne 0 ]; then
      _tb_log "apt-get update failed:"
      _tb_tail 30 "$log"
      rm -f "$log"
      return 1
    fi
    _TB_APT_UPDATED=1
  fi
  _tb_log "apt-get install -y --no-install-recommends $* (this takes a minute)"
  _tb_detached "$log" _tb_as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
    -o DPkg::Lock::Timeout=300 install --no-install-recommends "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    _tb_log "apt-get install $* failed:"
    _tb_tail 30 "$log"
    rm -f "$log"
    return 1
  fi
  _tb_tail 3 "$log"
  rm -f "$log"
}

# Highest-versioned directory holding PostgreSQL server binaries, or nothing.
_tb_server_bindir() {
  local d best
  best="$(for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && printf '%s\n' "$d"
  done | sort -t/ -k5,5V | tail -n 1)"
  if [ -n "$best" ]; then
    printf '%s\n' "$best"
    return 0
  fi
  # Non-Debian layouts (source builds, Homebrew, ...): initdb on PATH.
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 &&
     command -v postgres >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

_TB_PSQL=""
# Make psql available (step e); sets _TB_PSQL.
_tb_ensure_psql() {
  local d
  if command -v psql >/dev/null 2>&1; then
    _TB_PSQL="$(command -v psql)"
    return 0
  fi
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/psql" ] && _TB_PSQL="$d/psql"
  done
  [ -n "$_TB_PSQL" ] && return 0
  _tb_log "psql not found; installing postgresql-client"
  _tb_apt_install postgresql-client || return 1
  hash -r
  if command -v psql >/dev/null 2>&1; then
    _TB_PSQL="$(command -v psql)"
    return 0
  fi
  _tb_log "psql still not found after installing postgresql-client"
  return 1
}

_TB_LAST_ERR=""
# _tb_check_url URL — 0 if a password-less `select 1` works; error text in
# _TB_LAST_ERR otherwise. Never prompts.
_tb_check_url() {
  local out
  out="$(PGCONNECT_TIMEOUT=5 "$_TB_PSQL" -X -w -Atq -d "$1" -c 'select 1' </dev/null 2>&1)"
  if [ "$out" = "1" ]; then
    _TB_LAST_ERR=""
    return 0
  fi
  _TB_LAST_ERR="$(printf '%s' "$out" | head -n 3 | tr '\n' ' ')"
  return 1
}

# _tb_can_createdb URL — 0 if the connecting role may CREATE DATABASE.
_tb_can_createdb() {
  local out
  out="$(PGCONNECT_TIMEOUT=5 "$_TB_PSQL" -X -w -Atq -d "$1" \
    -c 'select rolcreatedb or rolsuper from pg_roles where rolname = current_user' </dev/null 2>/dev/null)"
  [ "$out" = "t" ]
}

# _tb_usable URL — reachable without a password and allowed to create databases.
_tb_usable() {
  if ! _tb_check_url "$1"; then
    _tb_log "  $(_tb_redact "$1"): not usable: ${_TB_LAST_ERR:-no answer}"
    return 1
  fi
  if ! _tb_can_createdb "$1"; then
    _tb_log "  $(_tb_redact "$1"): reachable, but the role may not CREATE DATABASE"
    return 1
  fi
  return 0
}

# Is something listening on 127.0.0.1:PORT?
# shellcheck disable=SC2016  # $1 is expanded by the inner bash
_tb_port_in_use() {
  if command -v timeout >/dev/null 2>&1; then
    timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
  else
    bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
  fi
}

# Run a command as the OS user owning the throwaway cluster: `postgres` when
# we are root (initdb/postgres refuse to run as root), else ourselves.
_tb_as_pguser() {
  if _tb_is_root; then
    if command -v runuser >/dev/null 2>&1; then
      (cd / && runuser -u postgres -- "$@")
    else
      local cmd
      cmd="$(printf '%q ' "$@")"
      (cd / && su postgres -s /bin/bash -c "$cmd")
    fi
  else
    (cd / && "$@")
  fi
}

# Step (c), first half: start stopped Debian clusters and re-check.
# Prints a usable URL on stdout if one turns up.
_tb_try_debian_clusters() {
  local probe="$1" ver name port status _rest started="" url
  command -v pg_lsclusters >/dev/null 2>&1 || return 1
  local clusters
  clusters="$(pg_lsclusters -h 2>/dev/null)" || return 1
  [ -n "$clusters" ] || return 1
  while read -r ver name port status _rest; do
    [ -n "$ver" ] || continue
    case "$status" in
      online*) ;;
      *)
        _tb_log "starting Debian cluster $ver/$name (port $port)"
        local startlog
        startlog="$(mktemp "${TMPDIR:-/tmp}/trombase-pgstart.XXXXXX")"
        if { _tb_can_be_root &&
               _tb_detached "$startlog" _tb_as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start; } ||
           { ! _tb_can_be_root &&
               _tb_detached "$startlog" pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start; }; then
          _tb_tail 5 "$startlog"
          rm -f "$startlog"
          started=1
        else
          _tb_log "  could not start cluster $ver/$name (ignored):"
          _tb_tail 5 "$startlog"
          rm -f "$startlog"
        fi
        ;;
    esac
  done <<<"$clusters"
  if [ -n "$started" ]; then
    _tb_log "re-checking $(_tb_redact "$probe")"
    if _tb_usable "$probe"; then
      printf '%s\n' "$probe"
      return 0
    fi
  fi
  # With the default probe, also try clusters on other ports (password-less
  # TCP only works if the cluster's pg_hba.conf trusts 127.0.0.1, which a
  # stock Debian cluster does not).
  if [ -z "${TROMBASE_PROBE_URL:-}" ]; then
    while read -r ver name port status _rest; do
      case "$status" in online*) ;; *) continue ;; esac
      [ "$port" = "5432" ] && continue
      url="postgres://postgres@127.0.0.1:$port/postgres"
      if _tb_usable "$url"; then
        printf '%s\n' "$url"
        return 0
      fi
    done < <(pg_lsclusters -h 2>/dev/null)
  fi
  return 1
}

# Step (c), second half: throwaway trust-auth cluster owned by postgres (or
# by the current user when not root). Prints its URL on stdout.
_tb_local_cluster() {
  local bindir="$1" pgdata ver port url logfile candidates started=""
  if _tb_is_root; then
    pgdata="${TROMBASE_PGDATA:-/tmp/trombase-pgdata}"
    if ! id postgres >/dev/null 2>&1; then
      _tb_log "running as root but there is no 'postgres' OS user to own the throwaway cluster;"
      _tb_log "create one (useradd --system postgres), run as a non-root user, or set DATABASE_URL"
      return 1
    fi
  else
    pgdata="${TROMBASE_PGDATA:-/tmp/trombase-pgdata-$(id -un)}"
  fi
  case "$pgdata" in /*) ;; *) pgdata="$PWD/$pgdata" ;; esac
  logfile="$pgdata/trombase-server.log"

  # Existing cluster: check it was made by an installed server version.
  if [ -f "$pgdata/PG_VERSION" ]; then
    ver="$(cat "$pgdata/PG_VERSION" 2>/dev/null || _tb_as_pguser cat "$pgdata/PG_VERSION")"
    if [ -x "/usr/lib/postgresql/$ver/bin/pg_ctl" ]; then
      bindir="/usr/lib/postgresql/$ver/bin"
    elif [ "$("$bindir/postgres" -V 2>/dev/null | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')" != "$ver" ]; then
      if [ -f "$pgdata/trombase.cluster" ]; then
        _tb_log "throwaway cluster $pgdata is PostgreSQL $ver, which is not installed: re-creating it"
        _tb_as_pguser "$bindir/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1 || true
        _tb_as_root rm -rf "$pgdata" 2>/dev/null || rm -rf "$pgdata"
      else
        _tb_log "$pgdata holds a PostgreSQL $ver cluster not made by this script, and $ver is not installed;"
        _tb_log "set TROMBASE_PGDATA to another directory"
        return 1
      fi
    fi
  fi

  # Already running? Then just use it.
  if [ -f "$pgdata/PG_VERSION" ] && _tb_as_pguser "$bindir/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    port="$(_tb_as_pguser sed -n 4p "$pgdata/postmaster.pid" 2>/dev/null | tr -d '[:space:]')"
    url="postgres://postgres@127.0.0.1:${port}/postgres"
    _tb_log "throwaway cluster $pgdata is already running on port $port"
    if _tb_usable "$url"; then
      printf '%s\n' "$url"
      return 0
    fi
    _tb_log "it is running but does not accept password-less connections; stop it with"
    _tb_log "  pg_ctl -D $pgdata stop   (as its owner), or remove $pgdata, and try again"
    return 1
  fi

  # Create it if needed.
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    if [ -d "$pgdata" ] && [ -n "$(ls -A "$pgdata" 2>/dev/null)" ]; then
      _tb_log "$pgdata exists, is not empty and is not a PostgreSQL cluster; set TROMBASE_PGDATA elsewhere"
      return 1
    fi
    _tb_log "creating throwaway cluster in $pgdata ($("$bindir/postgres" -V 2>/dev/null))"
    mkdir -p "$pgdata" || return 1
    if _tb_is_root; then
      chown postgres:postgres "$pgdata" || return 1
    fi
    chmod 700 "$pgdata" || return 1
    if ! _tb_as_pguser test -w "$pgdata"; then
      _tb_log "$pgdata is not writable by its owner user (check the permissions of its parent directories)"
      return 1
    fi
    local locale_opt="--no-locale"
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
      locale_opt="--locale=C.UTF-8"
    fi
    local out
    if ! out="$(_tb_as_pguser "$bindir/initdb" -D "$pgdata" --auth=trust -U postgres \
        -E UTF8 "$locale_opt" 2>&1 </dev/null)"; then
      _tb_log "initdb failed:"
      printf '%s\n' "$out" >&2
      return 1
    fi
    # shellcheck disable=SC2016  # $1 is expanded by the inner sh
    _tb_as_pguser sh -c 'cat >> "$1/postgresql.conf" && echo "made by TromBase scripts/ensure-postgres.sh" > "$1/trombase.cluster"' _ "$pgdata" <<'EOF'

# --- added by TromBase scripts/ensure-postgres.sh: throwaway test cluster ---
# TCP on 127.0.0.1 only (the port is given on the pg_ctl command line); no
# Unix sockets, so it never clashes with a system cluster's socket directory.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
# Speed over durability: this cluster only holds throwaway test databases.
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
  else
    _tb_log "reusing throwaway cluster in $pgdata"
  fi

  # Start it on a free port.
  if [ -n "${TROMBASE_PGPORT:-}" ]; then
    candidates="$TROMBASE_PGPORT"
  else
    candidates="5432 54329 54330 54331 54332 54333 54334 54335 54336 54337 54338"
  fi
  for port in $candidates; do
    if _tb_port_in_use "$port"; then
      _tb_log "  port $port is taken"
      continue
    fi
    _tb_log "starting throwaway cluster on 127.0.0.1:$port (log: $logfile)"
    if _tb_detached /dev/null _tb_as_pguser "$bindir/pg_ctl" -D "$pgdata" -l "$logfile" -w -t 120 \
        -o "-p $port" start; then
      started=1
      break
    fi
    _tb_log "  pg_ctl start on port $port failed; last log lines:"
    _tb_as_pguser tail -n 5 "$logfile" >&2 2>/dev/null || true
  done
  if [ -z "$started" ]; then
    _tb_log "could not start the throwaway cluster in $pgdata (ports tried: $candidates)"
    return 1
  fi
  url="postgres://postgres@127.0.0.1:${port}/postgres"
  if _tb_usable "$url"; then
    printf '%s\n' "$url"
    return 0
  fi
  _tb_log "throwaway cluster started but is not usable; see $logfile"
  return 1
}

# The whole procedure. Runs in a command substitution (a subshell): stdout is
# moved to stderr and the final URL is written to fd 3.
_tb_ensure_postgres_main() {
  exec 3>&1 1>&2
  # Own options, whatever the caller uses (we are in a subshell).
  set +e +u +o pipefail
  local probe bindir url

  _tb_ensure_psql || return 1

  # (a) A URL given by the user: use it or fail.
  if [ -n "${DATABASE_URL:-}" ]; then
    _tb_log "checking DATABASE_URL=$(_tb_redact "$DATABASE_URL")"
    if ! _tb_check_url "$DATABASE_URL"; then
      _tb_log "DATABASE_URL is set but does not answer 'select 1': ${_TB_LAST_ERR:-no answer}"
      _tb_log "fix or unset DATABASE_URL (unset, this script finds or starts a local server)"
      return 1
    fi
    if ! _tb_can_createdb "$DATABASE_URL"; then
      _tb_log "warning: the DATABASE_URL role may not CREATE DATABASE; tests that create databases will fail"
    fi
    printf '%s\n' "$DATABASE_URL" >&3
    return 0
  fi

  # (b) The usual local server.
  probe="${TROMBASE_PROBE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  _tb_log "probing $(_tb_redact "$probe")"
  if _tb_usable "$probe"; then
    _tb_log "using $(_tb_redact "$probe")"
    printf '%s\n' "$probe" >&3
    return 0
  fi

  # (d) Server not installed: install it.
  if ! bindir="$(_tb_server_bindir)"; then
    _tb_log "PostgreSQL server is not installed; installing it"
    _tb_apt_install postgresql || {
      _tb_log "cannot install PostgreSQL; install the 'postgresql' package (Debian/Ubuntu) or set DATABASE_URL"
      return 1
    }
    hash -r
    bindir="$(_tb_server_bindir)" || {
      _tb_log "PostgreSQL server binaries still not found after installing"
      return 1
    }
  fi

  # (c) Installed: start a Debian cluster, else a throwaway one.
  if url="$(_tb_try_debian_clusters "$probe")"; then
    _tb_log "using $(_tb_redact "$url")"
    printf '%s\n' "$url" >&3
    return 0
  fi
  _tb_log "no password-less server found; using a throwaway cluster"
  if url="$(_tb_local_cluster "$bindir")"; then
    _tb_log "using $url"
    printf '%s\n' "$url" >&3
    return 0
  fi
  return 1
}

# Public entry point: exports DATABASE_URL, returns non-zero on failure.
trombase_ensure_postgres() {
  local url
  if ! url="$(_tb_ensure_postgres_main)" || [ -z "$url" ]; then
    _tb_log "FAILED: no usable PostgreSQL server (see messages above)"
    return 1
  fi
  DATABASE_URL="$url"
  export DATABASE_URL
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  trombase_ensure_postgres || exit 1
  printf '%s\n' "$DATABASE_URL"
else
  trombase_ensure_postgres
fi
