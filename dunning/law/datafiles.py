"""Reading the law's data files: the packaged ones in data/, plus an optional override directory."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


class DataFileError(ValueError):
    """A data file a user edited cannot be read; the message names the file and line."""


def override_path(filename: str, directory: Path | str | None) -> Path | None:
    """The installation's own copy of `filename` in `directory`, if there is one."""
    if directory is None:
        return None
    path = Path(directory) / filename
    return path if path.is_file() else None


def file_rows(path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(where, row) for one CSV file with a header row; `where` is "path:line", for error messages.

    Lines starting with '#' and blank lines are skipped. Values are stripped; a row shorter than the header
    has "" for the missing fields."""
    with path.open(encoding="utf-8", newline="") as f:
        numbered = [(n, line) for n, line in enumerate(f, 1) if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(line for _, line in numbered)
    for (n, _), row in zip(numbered[1:], reader, strict=True):
        yield f"{path}:{n}", {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}


def rows(filename: str, directory: Path | str | None = None) -> Iterator[tuple[str, dict[str, str]]]:
    """(where, row) for the packaged file, then for the override file if there is one."""
    yield from file_rows(DATA_DIR / filename)
    override = override_path(filename, directory)
    if override is not None:
        yield from file_rows(override)
