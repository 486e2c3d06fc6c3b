# Sourced by run.sh and test.sh: a project virtualenv with exactly the pinned set in $1.
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed-$(cat "$1" requirements/*.txt pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  # uv (pinned in requirements/installer.txt) installs the set: a fresh clone's minute of pip becomes seconds.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/installer.txt
  .venv/bin/uv pip install --quiet --python .venv/bin/python -r "$1"
  .venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e .
  rm -f .venv/.installed-* && touch "$stamp"
fi
