"""Watched folders: a file dropped in is taken in whole or refused whole; either way it moves out of the way."""

from __future__ import annotations

import shutil
from pathlib import Path


def waiting(folder: Path) -> list[Path]:
    """The files to take in, oldest first; done/ and failed/ are made when missing."""
    for sub in ("done", "failed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    found = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def done(path: Path) -> Path:
    target = free_name(path.parent / "done", path.name)
    shutil.move(path, target)
    return target


def failed(path: Path, reason: str) -> Path:
    """Refused: into failed/, with FILE.error.txt beside it saying why."""
    target = free_name(path.parent / "failed", path.name)
    shutil.move(path, target)
    target.with_name(target.name + ".error.txt").write_text(f"{reason}\n", encoding="utf-8")
    return target


def free_name(folder: Path, name: str) -> Path:
    """A name not yet taken in `folder`: a file of the same name dropped twice keeps both."""
    target = folder / name
    n = 1
    while target.exists():
        target = folder / f"{Path(name).stem}.{n}{Path(name).suffix}"
        n += 1
    return target
