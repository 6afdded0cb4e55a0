#!/usr/bin/env bash
# The portal's browser tests drive Debian's Chromium (/usr/bin/chromium) with Playwright.
# Playwright's own browser download is blocked here, so the browser comes from Debian's
# packages. Install it when missing; say clearly when it can't be had (the tests then fail
# with that reason, they never skip).
set -u
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null 2>&1 || true
fi
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
echo "ensure_chromium: $CHROMIUM is missing and apt-get could not install Debian's chromium;" \
     "the portal browser tests will fail with this reason" >&2
exit 0
