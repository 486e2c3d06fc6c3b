# Sourced by run.sh and test.sh: a project virtualenv with exactly the pinned set in $1.
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed-$(cat "$1" requirements/*.txt pyproject.toml scripts/venv.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  # uv (pinned in requirements/installer.txt) installs the set: a fresh clone's minute of pip becomes seconds.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/installer.txt
  # Compiled at install (as pip does, uv does not by default): where PYTHONDONTWRITEBYTECODE is set (CI here), every
  # process would otherwise compile Prefect from source, 1.5 s of CPU for each flow run, CLI call and server.
  .venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python -r "$1"
  .venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e .
  rm -f .venv/.installed-* && touch "$stamp"
fi
# Our own modules too (they change between runs: only what changed is compiled, in well under a second).
.venv/bin/python -m compileall -q dunning flows tasks deployments >/dev/null
