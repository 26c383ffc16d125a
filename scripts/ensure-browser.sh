#!/usr/bin/env bash
# Makes sure Debian's Chromium and ChromeDriver are installed, for the
# browser test of the reference app. Meant to be sourced by test.sh;
# TROMBASE_SKIP_BROWSER=1 skips it (and the browser test).
trombase_ensure_browser() {
  if [[ "${TROMBASE_SKIP_BROWSER:-0}" == "1" ]]; then
    echo "browser: skipped (TROMBASE_SKIP_BROWSER=1)" >&2
    return 0
  fi
  if command -v chromedriver >/dev/null 2>&1 && { command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]]; }; then
    echo "browser: $(chromedriver --version 2>/dev/null | head -n1)" >&2
    return 0
  fi
  local sudo=""
  if [[ "$(id -u)" != "0" ]]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
      echo "browser: chromium and chromium-driver are missing; install them (apt-get install chromium chromium-driver) or set TROMBASE_SKIP_BROWSER=1" >&2
      return 1
    fi
  fi
  echo "browser: installing chromium and chromium-driver" >&2
  local log
  log="$(mktemp)"
  if ! { $sudo apt-get update -q >"$log" 2>&1 &&
         DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium chromium-driver >>"$log" 2>&1; }; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
  echo "browser: $(chromedriver --version 2>/dev/null | head -n1)" >&2
}
trombase_ensure_browser
