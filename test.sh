#!/usr/bin/env bash
# Second command: install what the tests need (pinned set) and run the whole test suite.
# PostgreSQL tests use DUNNING_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test);
# without it they are skipped. The browser test drives Debian's Chromium (/usr/bin/chromium, or the build
# DUNNING_TEST_CHROMIUM names): installed here with apt-get when missing and we are root; without it that
# test is skipped and says why. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh requirements/test.txt
if [ -z "${DUNNING_TEST_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] \
  && command -v apt-get >/dev/null; then
  # Playwright must not download a browser of its own: the test launches this one by path.
  log="$(mktemp)"
  echo "installing Debian's chromium for the browser test ..." >&2
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium; } >"$log" 2>&1; then
    rm -f "$log"
  else
    echo "warning: apt-get could not install chromium (log: $log); the browser test will be skipped" >&2
  fi
fi
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
