#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium for the browser tests
# (tests/e2e: Playwright drives it; never a browser Playwright downloads).
# Installs it with apt when missing and we are root; otherwise says how and
# exits 0, so the e2e tests skip with that reason instead of failing here.
set -euo pipefail
CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "Chromium is not installed at $CHROMIUM; the browser tests will be skipped." >&2
  echo "Install it (as root: apt-get install chromium) to run them." >&2
  exit 0
fi
echo "installing Debian's chromium (for the browser tests) ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
test -x "$CHROMIUM" || { echo "chromium did not install at $CHROMIUM" >&2; exit 1; }
