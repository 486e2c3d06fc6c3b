"""The `dunning` command in this process: `dunning.cli.main.main` with its own argv, environment and output, and
the exit code a process would have had. Starting a Python process per verb costs a second or two of imports
(prefect alone is most of it); the verbs themselves take milliseconds. Tests that are about the entry point,
the exit code of the real process or what a verb imports keep starting the real `dunning` executable."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

DUNNING = Path(sys.executable).parent / "dunning"


class _ThisThreadsOutput(io.TextIOBase):
    """Stands in for sys.stdout / sys.stderr while a verb runs: what the verb's thread writes is kept, what other
    threads write (flow runs executing in this process, see tests/process) goes where it went before."""

    def __init__(self, before: TextIO, thread: threading.Thread) -> None:
        self._before, self._thread, self.kept = before, thread, io.StringIO()

    def _target(self) -> TextIO:
        return self.kept if threading.current_thread() is self._thread else self._before

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def isatty(self) -> bool:
        return False


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """The process environment of one verb; whatever the verb sets (prefect_env) is undone afterwards."""
    before = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        for key in set(os.environ) - set(before):
            del os.environ[key]
        os.environ.update(before)


def run(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`dunning ARGS` as the shell runs it: returncode, stdout and stderr, but without starting a process."""
    from dunning.cli import main as cli

    thread = threading.current_thread()
    out, err = _ThisThreadsOutput(sys.stdout, thread), _ThisThreadsOutput(sys.stderr, thread)
    argv = [str(DUNNING), *args]
    saved = sys.argv, sys.stdout, sys.stderr
    code = 0
    with _environment(env or {}):
        sys.argv, sys.stdout, sys.stderr = argv, out, err
        try:
            cli.main()
        except SystemExit as e:
            if e.code is None or isinstance(e.code, int):
                code = e.code or 0
            else:  # sys.exit("message"), as the interpreter reports it
                err.kept.write(f"{e.code}\n")
                code = 1
        except Exception:  # an uncaught error: the interpreter prints the traceback and exits 1
            err.kept.write(traceback.format_exc())
            code = 1
        finally:
            sys.argv, sys.stdout, sys.stderr = saved
    return subprocess.CompletedProcess(argv, code, out.kept.getvalue(), err.kept.getvalue())


def run_process(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real `dunning` executable, for the tests about the entry point itself."""
    return subprocess.run(
        [str(DUNNING), *args], env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )
