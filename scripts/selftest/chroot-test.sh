#!/usr/bin/env bash
#
# Self-test for scripts/ensure-postgres.sh in a throwaway Debian bookworm
# chroot, so the "not installed" and "installed but stopped" paths can be
# exercised without touching the host's own PostgreSQL. NOT part of CI.
#
#   sudo bash scripts/selftest/chroot-test.sh
#
# Needs root, debootstrap (apt-get install debootstrap), unshare and ip
# (util-linux, iproute2), and network access to the Debian mirror.
#
# The chroot shares the host's network namespace for scenarios 1-3 and 7 (so
# the host's server on 127.0.0.1:5432, if any, is visible and the script must
# pick another port); scenarios 5-6 run in a private network namespace
# (unshare -n) so the chroot's own Debian cluster can take 5432.
# Only processes inside the chroot are started/stopped; the host's
# PostgreSQL is never touched. Every scenario also checks that the host's
# server (if one answers on 127.0.0.1:5432) still answers afterwards.
#
# Environment: TB_CHROOT (default /tmp/trombase-chroot), TB_MIRROR (default:
# first http(s) Debian mirror from /etc/apt/sources.list*, else
# http://deb.debian.org/debian).

# ok/bad always succeed, so `test && ok || bad` is fine here.
# shellcheck disable=SC2015,SC2016,SC2001
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scripts="$(dirname "$here")"
ROOT="${TB_CHROOT:-/tmp/trombase-chroot}"
DEAD_URL="postgres://postgres@127.0.0.1:1/postgres"
PATH_IN="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

[ "$(id -u)" -eq 0 ] || { echo "must run as root" >&2; exit 2; }

say() { printf '\n##### %s\n' "$*"; }
pass=0
fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

host_pg_before=""
if psql -X -w -Atqc 'select 1' postgres://postgres@127.0.0.1:5432/postgres >/dev/null 2>&1; then
  host_pg_before=1
fi
check_host() {
  if [ -n "$host_pg_before" ]; then
    if psql -X -w -Atqc 'select 1' postgres://postgres@127.0.0.1:5432/postgres >/dev/null 2>&1; then
      ok "host server on 127.0.0.1:5432 still answers"
    else
      bad "host server on 127.0.0.1:5432 no longer answers!"
    fi
  fi
}

# --- chroot ---------------------------------------------------------------
if [ ! -x "$ROOT/bin/bash" ]; then
  mirror="${TB_MIRROR:-}"
  if [ -z "$mirror" ]; then
    mirror="$(grep -rhoE 'https?://[^ ]*/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
      grep -v security | head -n 1 || true)"
    mirror="${mirror:-http://deb.debian.org/debian}"
  fi
  say "debootstrap bookworm into $ROOT from $mirror"
  debootstrap --variant=minbase bookworm "$ROOT" "$mirror"
fi

mounted=()
cleanup() {
  set +e
  say "cleanup: stopping servers inside the chroot, unmounting"
  stop_all
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[$i]}" && echo "unmounted ${mounted[$i]}"
  done
}
mountpoint -q "$ROOT/proc" || { mount -t proc proc "$ROOT/proc"; mounted+=("$ROOT/proc"); }
mkdir -p "$ROOT/dev/shm"
mountpoint -q "$ROOT/dev/shm" || { mount -t tmpfs -o mode=1777 shm "$ROOT/dev/shm"; mounted+=("$ROOT/dev/shm"); }
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
trap cleanup EXIT

rm -rf "$ROOT/opt/trombase"
mkdir -p "$ROOT/opt/trombase/scripts"
cp "$scripts/ensure-postgres.sh" "$ROOT/opt/trombase/scripts/"

# in_chroot CMD... — run a command in the chroot with a clean environment.
# (timeout: a daemon holding our pipe open would otherwise hang the test)
in_chroot() {
  timeout 900 chroot "$ROOT" /usr/bin/env -i PATH="$PATH_IN" HOME=/root LANG=C.UTF-8 CI=true "$@"
}
# in_netns CMD... — same, in a fresh private network namespace with lo up.
in_netns() {
  timeout 900 unshare -n sh -c 'ip link set lo up && exec "$@"' _ \
    chroot "$ROOT" /usr/bin/env -i PATH="$PATH_IN" HOME=/root LANG=C.UTF-8 CI=true "$@"
}

# Stop every server of the chroot (Debian clusters + throwaway clusters).
# Inside the chroot, so only the chroot's own pid files are consulted.
stop_all() {
  in_chroot bash -c '
    if command -v pg_lsclusters >/dev/null; then
      pg_lsclusters -h | while read -r v n _p s _r; do
        case "$s" in online*) pg_ctlcluster --skip-systemctl-redirect "$v" "$n" stop -m fast && echo "stopped Debian cluster $v/$n";; esac
      done
    fi
    for d in /tmp/trombase-pgdata*; do
      [ -f "$d/PG_VERSION" ] || continue
      owner=$(stat -c %U "$d"); bin=/usr/lib/postgresql/$(cat "$d/PG_VERSION")/bin
      if runuser -u "$owner" -- "$bin/pg_ctl" -D "$d" status >/dev/null 2>&1; then
        runuser -u "$owner" -- "$bin/pg_ctl" -D "$d" -m fast -w stop >/dev/null && echo "stopped throwaway cluster $d"
      fi
    done
  ' </dev/null || true
}

# run_ensure LOGFILE [ENV=VAL...] — run the script in the chroot; sets $url.
run_ensure() {
  local log="$1"
  shift
  url="$(in_chroot env "$@" bash /opt/trombase/scripts/ensure-postgres.sh </dev/null 2>"$log")" && rc=0 || rc=$?
  sed 's/^/    | /' "$log"
  echo "    => rc=$rc url=$url"
}

createdrop() { # URL [netns]
  local runner=in_chroot
  [ "${2:-}" = netns ] && runner=in_netns
  if $runner psql -X -v ON_ERROR_STOP=1 "$1" -c 'create database tb_selftest_x' -c 'drop database tb_selftest_x' </dev/null; then
    ok "create/drop database works on $1"
  else
    bad "create/drop database failed on $1"
  fi
}

# --- reset: make PostgreSQL "not installed" in the chroot -----------------
say "reset: purge PostgreSQL from the chroot"
stop_all
in_chroot bash -c '
  export DEBIAN_FRONTEND=noninteractive
  if dpkg -l "postgresql*" 2>/dev/null | grep -q "^ii"; then
    apt-get -y -q purge "postgresql*" "libpq5" >/dev/null
    apt-get -y -q autoremove --purge >/dev/null
  fi
  rm -rf /var/lib/postgresql /etc/postgresql /etc/postgresql-common /tmp/trombase-pgdata*
  userdel tbuser 2>/dev/null || true
  rm -rf /home/tbuser
' </dev/null
if in_chroot sh -c 'command -v psql || ls /usr/lib/postgresql' >/dev/null 2>&1; then
  bad "chroot still has PostgreSQL after purge"
else
  ok "chroot has no psql and no /usr/lib/postgresql"
fi

# --- 1. not installed -----------------------------------------------------
say "1. not installed (probe=$DEAD_URL, host network namespace)"
run_ensure /tmp/tb-s1.log TROMBASE_PROBE_URL="$DEAD_URL"
s1_url="$url"
[ "$rc" = 0 ] && ok "scenario 1 exit 0" || bad "scenario 1 exit $rc"
grep -q 'installing postgresql-client' /tmp/tb-s1.log && ok "installed postgresql-client for psql" || bad "no client install seen"
grep -q 'apt-get install -y --no-install-recommends postgresql (' /tmp/tb-s1.log && ok "installed postgresql" || bad "no server install seen"
case "$url" in
  postgres://postgres@127.0.0.1:5432/*) bad "picked 5432 although the host has it" ;;
  postgres://postgres@127.0.0.1:*) ok "throwaway cluster on a free port: $url" ;;
  *) bad "unexpected url '$url'" ;;
esac
[ -n "$url" ] && createdrop "$url"
check_host

# --- 2. idempotent re-run while running -----------------------------------
say "2. re-run while everything is running"
run_ensure /tmp/tb-s2.log TROMBASE_PROBE_URL="$DEAD_URL"
[ "$rc" = 0 ] && [ "$url" = "$s1_url" ] && ok "same URL again" || bad "scenario 2: rc=$rc url=$url"
grep -q 'already running' /tmp/tb-s2.log && ok "reused the running throwaway cluster" || bad "did not report reuse"
grep -q 'apt-get' /tmp/tb-s2.log && bad "ran apt-get again" || ok "no apt-get on re-run"
check_host

# --- 3. installed but stopped ---------------------------------------------
say "3. installed but stopped (everything in the chroot stopped first)"
stop_all
run_ensure /tmp/tb-s3.log TROMBASE_PROBE_URL="$DEAD_URL"
[ "$rc" = 0 ] && ok "scenario 3 exit 0" || bad "scenario 3 exit $rc"
grep -q 'starting Debian cluster' /tmp/tb-s3.log && ok "tried the Debian cluster first" || bad "did not try pg_ctlcluster"
grep -q 'reusing throwaway cluster' /tmp/tb-s3.log && ok "restarted the existing throwaway cluster" || bad "did not reuse"
[ "$url" = "$s1_url" ] && ok "same URL as before: $url" || bad "URL changed: $url"
[ -n "$url" ] && createdrop "$url"
check_host

# --- 4. DATABASE_URL given inside the chroot -------------------------------
say "4. DATABASE_URL given: good, then bad"
run_ensure /tmp/tb-s4a.log DATABASE_URL="$s1_url"
[ "$rc" = 0 ] && [ "$url" = "$s1_url" ] && ok "good DATABASE_URL used as is" || bad "good DATABASE_URL: rc=$rc"
run_ensure /tmp/tb-s4b.log DATABASE_URL="$DEAD_URL"
[ "$rc" != 0 ] && [ -z "$url" ] && ok "bad DATABASE_URL fails (rc=$rc), not replaced" || bad "bad DATABASE_URL: rc=$rc url=$url"

# --- 5. private netns: Debian cluster up but wants a password --------------
# pg_createcluster saw the host's 5432 in use and gave the chroot cluster 5433;
# move it to 5432 like on a fresh machine.
say "5. private network namespace, default probe; stock Debian cluster on 5432 (scram on TCP)"
stop_all
in_chroot pg_conftool 15 main set port 5432 </dev/null
out="$(in_netns bash -c '
  url=$(bash /opt/trombase/scripts/ensure-postgres.sh 2>/tmp/tb-s5.log) || { echo "rc=$?"; exit 0; }
  echo "url=$url"
  psql -X -v ON_ERROR_STOP=1 "$url" -c "create database tb_selftest_x" -c "drop database tb_selftest_x" >/dev/null && echo createdrop=ok
  pg_lsclusters -h | grep -q "^15 *main *5432 *online" && echo debian-5432=up
' </dev/null)"
sed 's/^/    | /' "$ROOT/tmp/tb-s5.log"
echo "$out" | sed 's/^/    => /'
grep -q 'password' "$ROOT/tmp/tb-s5.log" && ok "probe on 5432 was rejected for wanting a password" || bad "no password rejection seen"
echo "$out" | grep -q 'debian-5432=up' && ok "Debian cluster was started on 5432" || bad "Debian cluster not up on 5432"
echo "$out" | grep -qE '^url=postgres://postgres@127.0.0.1:54329/' && ok "fell back to throwaway cluster on 54329" || bad "unexpected: $out"
echo "$out" | grep -q 'createdrop=ok' && ok "create/drop database works (netns)" || bad "create/drop failed (netns)"
stop_all
check_host

# --- 6. private netns: Debian cluster that trusts 127.0.0.1 (like a dev box)
hba="$(ls "$ROOT"/etc/postgresql/*/main/pg_hba.conf)"
cp "$hba" "$hba.tb-orig"
sed -i -E 's/^(host +all +all +127\.0\.0\.1\/32 +)scram-sha-256/\1trust/' "$hba"
for port in 5432 5433; do
  say "6. private network namespace, default probe; stopped Debian cluster with trust auth on $port"
  in_chroot pg_conftool 15 main set port "$port" </dev/null
  out="$(in_netns bash -c '
    url=$(bash /opt/trombase/scripts/ensure-postgres.sh 2>/tmp/tb-s6.log) || { echo "rc=$?"; exit 0; }
    echo "url=$url"
    psql -X -v ON_ERROR_STOP=1 "$url" -c "create database tb_selftest_x" -c "drop database tb_selftest_x" >/dev/null && echo createdrop=ok
  ' </dev/null)"
  sed 's/^/    | /' "$ROOT/tmp/tb-s6.log"
  echo "$out" | sed 's/^/    => /'
  grep -q 'starting Debian cluster 15/main' "$ROOT/tmp/tb-s6.log" && ok "started the stopped Debian cluster" || bad "did not start it"
  echo "$out" | grep -qx "url=postgres://postgres@127.0.0.1:$port/postgres" && ok "used the Debian cluster on $port" || bad "unexpected: $out"
  grep -q 'throwaway' "$ROOT/tmp/tb-s6.log" && bad "touched the throwaway cluster" || ok "no throwaway cluster needed"
  echo "$out" | grep -q 'createdrop=ok' && ok "create/drop database works (netns, Debian cluster)" || bad "create/drop failed"
  stop_all
  check_host
done
mv "$hba.tb-orig" "$hba"

# --- 7. non-root user, no sudo --------------------------------------------
say "7. non-root user without sudo (probe=$DEAD_URL, host network namespace)"
in_chroot useradd -m tbuser
url="$(timeout 900 chroot "$ROOT" /usr/bin/env -i PATH="$PATH_IN" HOME=/home/tbuser LANG=C.UTF-8 \
  TROMBASE_PROBE_URL="$DEAD_URL" runuser -u tbuser -- bash -c 'cd && bash /opt/trombase/scripts/ensure-postgres.sh' \
  </dev/null 2>/tmp/tb-s7.log)" && rc=0 || rc=$?
sed 's/^/    | /' /tmp/tb-s7.log
echo "    => rc=$rc url=$url"
[ "$rc" = 0 ] && ok "non-root run exit 0" || bad "non-root exit $rc"
grep -q '/tmp/trombase-pgdata-tbuser' /tmp/tb-s7.log && ok "per-user throwaway data dir" || bad "unexpected data dir"
[ -n "$url" ] && createdrop "$url"
check_host

say "result: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
