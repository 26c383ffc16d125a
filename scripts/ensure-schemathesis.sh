#!/usr/bin/env bash
# shellcheck shell=bash
#
# ensure-schemathesis.sh — install Schemathesis (PyPI, pinned) into a cached
# virtualenv and export SCHEMATHESIS, the path of its `st` executable. Meant
# to be sourced (bash only):
#
#   source scripts/ensure-schemathesis.sh   # exports SCHEMATHESIS and
#                                           # TROMBASE_SCHEMATHESIS_CONFIG
#   bash scripts/ensure-schemathesis.sh     # prints the `st` path on stdout
#
# Idempotent: a venv that already holds the pinned version is reused as is
# (~0.1 s). Nothing prompts (pip --no-input, apt-get -y, sudo -n); progress
# goes to stderr. The work runs in a subshell, so sourcing this file does not
# change the caller's shell options.
#
# Environment:
#   TROMBASE_SKIP_SCHEMATHESIS=1   skip (SCHEMATHESIS is left unset)
#   TROMBASE_SCHEMATHESIS_VERSION  version to install (default 4.32.5)
#   TROMBASE_CACHE_DIR             cache root (default $HOME/.cache/trombase);
#                                  the venv is $TROMBASE_CACHE_DIR/schemathesis-venv
#   TROMBASE_PYTHON                interpreter for the venv (default: first
#                                  python3 >= 3.11 found; Schemathesis needs 3.11)
#
# Exports:
#   SCHEMATHESIS                  .../schemathesis-venv/bin/st
#   TROMBASE_SCHEMATHESIS_CONFIG  .../schemathesis-venv/trombase-schemathesis.toml,
#                                 which only sets `[cache] enabled = false`: without
#                                 it `st run` writes ./.schemathesis/ (a crash and
#                                 request cache it replays on the next run, which
#                                 makes runs depend on earlier ones).
#
# Housekeeping: rm -rf "${TROMBASE_CACHE_DIR:-$HOME/.cache/trombase}/schemathesis-venv"
#
# ---------------------------------------------------------------------------
# Running it (checked against 4.32.5 with a toy API):
#
#   HYPOTHESIS_STORAGE_DIRECTORY="${TMPDIR:-/tmp}/trombase-hypothesis" \
#   "$SCHEMATHESIS" --config-file "$TROMBASE_SCHEMATHESIS_CONFIG" run \
#       http://127.0.0.1:3000/api/openapi.json \
#       --url http://127.0.0.1:3000 \
#       -H "x-session-token: $TOKEN" \
#       --checks all \
#       --max-examples 25 --seed 1 --workers 1 \
#       --request-timeout 10 --wait-for-schema 30 \
#       --generation-database none --no-color \
#       --report junit --report-junit-path target/schemathesis/junit.xml
#
#   LOCATION     the document's URL (or a file; then --url is mandatory).
#   --url        base URL the document's paths are appended to; replaces any
#                `servers` entry. Without it and without `servers`, the base
#                is the document URL's origin (http://127.0.0.1:3000/). Pass
#                it always, so a `servers` entry never redirects the run.
#   -H           header on every request, repeatable ("Authorization: Bearer
#                $TOKEN" works too). Values are printed as [Filtered].
#   --checks all is also the default (every check below is on unless
#                excluded). Skip some with --exclude-checks a,b (names below),
#                or run only some with --checks a,b. Core set:
#                not_a_server_error,status_code_conformance,
#                content_type_conformance,response_schema_conformance
#   -n/--max-examples  per operation (fuzzing), per run (stateful scenarios); the
#                coverage phase is deterministic and not bounded by it. CI 25,
#                manual runs 200-1000. Do NOT use --max-time as a cap: it is a
#                budget that fuzzing and stateful testing repeat to fill.
#   --seed N     reproducible data (same requests run to run with --workers 1,
#                the default); the seed is printed at the end of every run.
#   --request-timeout SECONDS per request; --wait-for-schema SECONDS retries
#                loading the document while the server starts.
#   --generation-database none  no example database (no replay of earlier
#                failures); drop it for manual runs to re-try past failures first.
#   --report     optional (junit, har, vcr, ndjson, ...); without a *-path the
#                file is timestamped under --report-dir (./schemathesis-report).
#   --no-color   no ANSI codes (NO_COLOR=1 too); with no TTY there is no
#                progress animation, and stdin is never read.
#   HYPOTHESIS_STORAGE_DIRECTORY  keeps Hypothesis's ./.hypothesis/ out of the
#                working tree (it is created even with --generation-database none).
#   --mode positive  only schema-valid data (negative_data_rejection then
#                has nothing to judge); the default `all` also sends invalid data.
#   Phases: examples,coverage,fuzzing,stateful (--phases to choose). Stateful
#   needs OpenAPI links (explicit, or inferred from paths and response fields);
#   when links exist but --include-*/--exclude-* filters leave an end of them
#   out, it reports "Missing Open API links" as an error (exit 1): then pass
#   --phases examples,coverage,fuzzing.
#   Exit code: 0 no failures; 1 any failure or error (check failure, server
#   unreachable mid-run, ...); 2 usage error or the document cannot be loaded.
#   Warnings (e.g. "operation mostly rejected generated data") do not fail.
#
# Checks of `all` that can misfire on an API whose errors are JSON
# {"message","name","code"?} with 400/401/403/404/409/413/503:
#   positive_data_acceptance (ST202)  a schema-valid request must get 2xx/3xx/
#       401/403/404/409/429/5xx; a 400 for a rule the schema does not state
#       (password length, email syntax, uniqueness checked as 400 rather than
#       409, ...) or a 413 fails. Fix the schema (minLength, pattern, enum,
#       maxLength) or exclude it.
#   negative_data_rejection (ST201)  a schema-violating request must get
#       400/401/403/404/405/406/409/415/422/428/429/5xx (413 is not in it),
#       and is failed when accepted: serde accepting `null` for an Option
#       declared as plain `type: string`, unknown fields accepted while the
#       schema says `additionalProperties: false` (no deny_unknown_fields),
#       integers beyond the schema's minimum/maximum or `format: int32/int64`
#       range that the server clamps or accepts.
#   ignored_auth (ST401)  for operations with a `security` requirement, the
#       request is replayed without the header and with a wrong value and
#       must get 401/403. Operations that also work anonymously must declare
#       `security: [{}, {session: []}]`; public ones `security: []`.
#   unsupported_method (ST204)  every undeclared method among GET PUT POST
#       DELETE PATCH TRACE QUERY (not HEAD) on a documented path must get 405
#       with an `Allow` header (401/403 pass on secured operations); a
#       catch-all 404 fallback or a bare 405 fails.
#   allow_header_conformance  an `Allow` in the answer to OPTIONS must list
#       exactly the documented methods (HEAD/OPTIONS aside): a CORS layer
#       answering OPTIONS with its own list fails.
#   not_a_server_error (ST101)  any 5xx, including a deliberate 503.
#   use_after_free, ensure_resource_availability  (stateful) a resource
#       must be 404 after a successful DELETE and readable right after its
#       creating POST: misfire on soft deletes, async creation, wrongly
#       inferred links. object_level_authorization only runs with several
#       configured identities.
#   Statuses can be widened in a schemathesis.toml instead of excluding, e.g.
#       [checks.positive_data_acceptance]
#       expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "413", "429"]
#       [checks.not_a_server_error]
#       expected-statuses = ["2xx", "3xx", "4xx", "503"]
#   (pass that file with --config-file; keep `[cache] enabled = false` in it).
#   Data is created and deleted for real: run against a throwaway database,
#   and exclude operations that end the session (logout) with
#   --exclude-operation-id / --exclude-path.
# ---------------------------------------------------------------------------

_tbs_log() { printf 'ensure-schemathesis: %s\n' "$*" >&2; }

# Prints the interpreter to build the venv with (TROMBASE_PYTHON, else the
# first Python >= 3.11 found), or fails.
_tbs_python() {
  local c candidates=(python3 /usr/bin/python3 python3.13 python3.12 python3.11)
  [[ -n "${TROMBASE_PYTHON:-}" ]] && candidates=("$TROMBASE_PYTHON")
  for c in "${candidates[@]}"; do
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' </dev/null >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  [[ -n "${TROMBASE_PYTHON:-}" ]] && _tbs_log "TROMBASE_PYTHON=$TROMBASE_PYTHON: not found or older than Python 3.11"
  return 1
}

# _tbs_apt LOG PACKAGE... — install Debian packages (as root or via sudo -n).
_tbs_apt() {
  local log="$1"
  shift
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo=""
  if [[ "$(id -u)" != "0" ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      _tbs_log "not root and no password-less sudo: install $* (apt-get install $*) and retry"
      return 1
    fi
  fi
  _tbs_log "installing $* (Debian packages)"
  if ! { $sudo apt-get update -q </dev/null >>"$log" 2>&1 &&
         DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@" \
           </dev/null >>"$log" 2>&1; }; then
    tail -n 30 "$log" >&2
    return 1
  fi
}

# Does the work; prints the `st` path on stdout. Runs in a subshell.
_tbs_ensure() (
  set +e
  local version="${TROMBASE_SCHEMATHESIS_VERSION:-4.32.5}"
  local cache="${TROMBASE_CACHE_DIR:-${HOME:-/tmp}/.cache/trombase}"
  local venv="$cache/schemathesis-venv"
  local st="$venv/bin/st" stamp="$venv/.trombase-schemathesis-version"
  local config="$venv/trombase-schemathesis.toml"

  _tbs_ready() {
    [[ -x "$st" && -f "$stamp" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]] &&
      [[ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' \
              </dev/null 2>/dev/null)" == "$version" ]]
  }
  _tbs_config() {
    [[ -f "$config" ]] && return 0
    printf '%s\n' '# Written by TromBase scripts/ensure-schemathesis.sh.' \
      '# No ./.schemathesis/ request/crash cache, so runs do not depend on earlier ones.' \
      '[cache]' 'enabled = false' >"$config.$$" && mv -f "$config.$$" "$config"
  }

  if _tbs_ready; then
    _tbs_config || return 1
    _tbs_log "schemathesis $version ($st)"
    printf '%s\n' "$st"
    return 0
  fi

  mkdir -p "$cache" || return 1
  # One installer at a time (parallel CI jobs sharing the cache).
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/schemathesis-venv.lock" || return 1
    flock -w 900 9 || { _tbs_log "timed out waiting for $cache/schemathesis-venv.lock"; return 1; }
    if _tbs_ready; then
      _tbs_config || return 1
      _tbs_log "schemathesis $version ($st)"
      printf '%s\n' "$st"
      return 0
    fi
  fi

  local log
  log="$(mktemp)" || return 1
  # shellcheck disable=SC2064  # expand $log now
  trap "rm -f '$log'" EXIT

  local py
  if ! py="$(_tbs_python)"; then
    [[ -n "${TROMBASE_PYTHON:-}" ]] && return 1
    _tbs_apt "$log" python3 python3-venv || { _tbs_log "no Python >= 3.11 found"; return 1; }
    py="$(_tbs_python)" || { _tbs_log "no Python >= 3.11 found (Debian's python3 is older?)"; return 1; }
  fi

  rm -rf "$venv"
  _tbs_log "creating $venv ($("$py" --version 2>&1))"
  if ! "$py" -m venv "$venv" </dev/null >>"$log" 2>&1; then
    # Debian's python3 ships venv/ensurepip separately (python3-venv).
    rm -rf "$venv"
    if ! command -v apt-get >/dev/null 2>&1; then
      tail -n 20 "$log" >&2
      _tbs_log "'$py -m venv' failed"
      return 1
    fi
    _tbs_apt "$log" python3-venv || return 1
    if [[ -z "${TROMBASE_PYTHON:-}" && -x /usr/bin/python3 ]] &&
       /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' </dev/null >/dev/null 2>&1; then
      py=/usr/bin/python3
    fi
    if ! "$py" -m venv "$venv" </dev/null >>"$log" 2>&1; then
      tail -n 20 "$log" >&2
      rm -rf "$venv"
      _tbs_log "'$py -m venv' failed even with python3-venv installed"
      return 1
    fi
  fi

  _tbs_log "installing schemathesis==$version from PyPI"
  if ! PIP_USER=0 PIP_REQUIRE_VIRTUALENV=0 "$venv/bin/python" -m pip install \
         --disable-pip-version-check --no-input --quiet "schemathesis==$version" </dev/null >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -rf "$venv"
    _tbs_log "pip install schemathesis==$version failed"
    return 1
  fi
  local got
  got="$("$st" --version </dev/null 2>&1)"
  if [[ "$got" != *"version $version"* ]]; then
    _tbs_log "$st --version says: $got"
    rm -rf "$venv"
    return 1
  fi
  printf '%s\n' "$version" >"$stamp" || return 1
  _tbs_config || return 1
  _tbs_log "schemathesis $version ($st)"
  printf '%s\n' "$st"
)

trombase_ensure_schemathesis() {
  if [[ "${TROMBASE_SKIP_SCHEMATHESIS:-0}" == "1" ]]; then
    _tbs_log "skipped (TROMBASE_SKIP_SCHEMATHESIS=1)"
    return 0
  fi
  local st
  st="$(_tbs_ensure)" || return 1
  [[ -n "$st" ]] || return 1
  export SCHEMATHESIS="$st"
  export TROMBASE_SCHEMATHESIS_CONFIG="${st%/bin/st}/trombase-schemathesis.toml"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  trombase_ensure_schemathesis || exit 1
  if [[ -n "${SCHEMATHESIS:-}" ]]; then printf '%s\n' "$SCHEMATHESIS"; fi
else
  trombase_ensure_schemathesis
fi
