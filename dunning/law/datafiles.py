"""Reading the law's data files: the packaged ones in data/, plus an optional override directory."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


class DataFileError(ValueError):
    """A data file a user edited cannot be read; the message names the file and line."""


def rows(filename: str, directory: Path | str | None = None) -> Iterator[tuple[str, dict[str, str]]]:
    """(where, row) for the packaged file, then for the override file if there is one.

    `where` is "path:line", for error messages. Lines starting with '#' are comments."""
    paths = [DATA_DIR / filename]
    if directory is not None:
        override = Path(directory) / filename
        if override.is_file():
            paths.append(override)
    for path in paths:
        with path.open(encoding="utf-8", newline="") as f:
            numbered = [(n, line) for n, line in enumerate(f, 1) if line.strip() and not line.startswith("#")]
        reader = csv.DictReader(line for _, line in numbered)
        for (n, _), row in zip(numbered[1:], reader, strict=True):
            yield f"{path}:{n}", {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
