#!/usr/bin/env bash
# Second command: install what the tests need (pinned set), check the code and run the whole test suite.
# PostgreSQL tests use DUNNING_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test);
# without it they are skipped. The browser tests drive Debian's Chromium (/usr/bin/chromium, or the build
# DUNNING_TEST_CHROMIUM names): installed here with apt-get when missing and we are root; without it those
# tests skip and say why, except in CI (CI=true), where they fail.
# The suite runs on DUNNING_TEST_WORKERS pytest-xdist workers (default 2, one per core of the CI machine; 3 was tried:
# no faster on a clean clone, and the in-process runs then stall at times; 0 runs
# it in this process), each with its own Prefect server. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
chromium=""  # the pid of Chromium's install, under way while the Python packages install and the checks run
if [ -z "${DUNNING_TEST_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] \
  && command -v apt-get >/dev/null; then
  # Playwright must not download a browser of its own: the test launches this one by path.
  log="$(mktemp)"
  echo "installing Debian's chromium for the browser test ..." >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium; } >"$log" 2>&1 &
  chromium=$!
  trap 'wait "$chromium" 2>/dev/null || true' EXIT  # never leave apt-get running behind a failed step
fi
. scripts/venv.sh requirements/test.txt

# --- static checks: each must pass before the tests run ---------------------------------------------------
.venv/bin/ruff check .
.venv/bin/mypy  # dunning/ (pyproject [tool.mypy]), following its imports into tasks/ and flows/

if [ -n "$chromium" ]; then
  if wait "$chromium"; then
    rm -f "$log"
  else
    echo "warning: apt-get could not install chromium (log: $log); the browser tests will skip (fail in CI)" >&2
  fi
  trap - EXIT
fi

# --- the tests ------------------------------------------------------------------------------------------------
# The slowest tests come first (tests/conftest.py); one test at a time goes to whichever worker is free, so the
# end-to-end tests, minutes each, spread over the workers instead of queueing up behind each other on one.
workers="${DUNNING_TEST_WORKERS:-2}"
exec .venv/bin/python -m pytest -n "$workers" --dist load --maxschedchunk 1 --durations=25 "$@"
