#!/usr/bin/env bash
# First command: install everything (pinned set) and run the engine on the embedded defaults.
# Extra arguments go to `dunning run`, e.g. ./run.sh --port 4300 --smtp-port 8026
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh requirements/run.txt
exec .venv/bin/dunning run "$@"
