#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it; no `playwright install`, which
# downloads a browser build of its own and has no network for that in CI).
# Usage: bash scripts/chromium.sh [path]
#   path (default)  install the `chromium` package if missing (root: apt-get), check that it
#                   starts, print its executable path on the last line.
# Example:
#   export PASSERELLE_TEST_CHROMIUM=$(bash scripts/chromium.sh | tail -n 1)
set -euo pipefail

find_chromium() {
  local name
  for name in "${PASSERELLE_TEST_CHROMIUM:-}" chromium chromium-browser; do
    [ -n "$name" ] && command -v "$name" && return 0
  done
  return 1
}

install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "chromium.sh: Chromium is not installed; run as root or: apt-get install -y chromium" >&2
    exit 1
  fi
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
}

path() {
  local exe
  exe=$(find_chromium) || { install; exe=$(find_chromium); } || {
    echo "chromium.sh: no chromium executable after installing the package" >&2; exit 1; }
  # A browser that cannot start (missing shared library) would fail every test the same way.
  "$exe" --version >&2 || { echo "chromium.sh: $exe does not start" >&2; exit 1; }
  echo "$exe"
}

case "${1:-path}" in
  path) path ;;
  *) sed -n '2,8p' "$0" >&2; exit 2 ;;
esac
