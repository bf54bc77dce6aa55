#!/usr/bin/env bash
# The browser suite (test/browser) drives the system's Chromium, looked for as test/support/browser.ts does:
# GATEHOUSE_CHROMIUM, /usr/bin/chromium, then chromium, chromium-browser, google-chrome, google-chrome-stable on
# PATH. When none is there, installs Debian's `chromium` with apt-get: as root, else through `sudo -n` (never a
# password prompt). Idempotent: with a browser present it only looks (well under a second). Never reads stdin.
set -euo pipefail

# A browser named by GATEHOUSE_CHROMIUM is the one to use: never another, never an install in its place.
if [[ -n ${GATEHOUSE_CHROMIUM:-} ]]; then
  if [[ -f $GATEHOUSE_CHROMIUM && -x $GATEHOUSE_CHROMIUM ]]; then
    echo "ensure-chromium: using $GATEHOUSE_CHROMIUM (GATEHOUSE_CHROMIUM)"
    exit 0
  fi
  echo "ensure-chromium: GATEHOUSE_CHROMIUM is set to $GATEHOUSE_CHROMIUM, which is not an executable file" >&2
  exit 1
fi

found() {
  [[ -x /usr/bin/chromium ]] && { echo /usr/bin/chromium; return 0; }
  local name
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$name" 2>/dev/null && return 0
  done
  return 1
}

if browser=$(found); then
  echo "ensure-chromium: using $browser"
  exit 0
fi

fail() {
  echo "ensure-chromium: no Chromium found, and $1." >&2
  echo "ensure-chromium: install one (as root: apt-get install -y chromium), or set GATEHOUSE_CHROMIUM to a Chromium or Chrome executable." >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || fail "apt-get is not available to install one"
if [[ $(id -u) -eq 0 ]]; then
  as_root=(env)
elif command -v sudo >/dev/null 2>&1 && sudo -n true </dev/null 2>/dev/null; then
  as_root=(sudo -n env)
else
  fail "this user ($(id -un)) is not root and cannot use sudo without a password (sudo -n)"
fi

apt_get() { "${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get -q -y "$@" </dev/null; }
echo "ensure-chromium: installing chromium with apt-get"
# The package lists may be missing (a fresh container) or stale: refreshed only when the first try fails.
if ! apt_get install chromium; then
  apt_get update || fail "apt-get update failed"
  apt_get install chromium || fail "apt-get install -y chromium failed"
fi

browser=$(found) || fail "apt-get installed chromium, yet no Chromium executable is where the suite looks"
echo "ensure-chromium: installed $browser ($("$browser" --version 2>/dev/null </dev/null || echo 'version unknown'))"
