"""File names made of what people and files bring in (an invoice number, an outbox key): reduced to a safe slug,
and every path checked to stay inside its folder. An invoice numbered `../../x` must never put a letter, an
invoice copy or an agency file outside DUNNING_HOME."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from dunning.domain.errors import UserError

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
MAX_LENGTH = 100


def slug(text: str) -> str:
    """`text` itself when it is a plain name (ASCII letters, digits, `-`, `_`, inner dots); otherwise its safe
    characters with `-` for the rest and, so that two different texts never share a file, a short digest of the
    original: `F-1` stays `F-1`, `../../x` becomes `x-<digest>`, `F/1` `F-1-<digest>`."""
    cleaned = _UNSAFE.sub("-", text).strip(".-")[:MAX_LENGTH] or "x"
    if cleaned == text:
        return text
    return f"{cleaned}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def readable(text: str) -> str:
    """`text` as a file name a person reads (an attachment's name): its safe characters, `-` for the rest, no
    digest; not unique, so never for a file on disk."""
    return _UNSAFE.sub("-", text).strip(".-")[:MAX_LENGTH] or "x"


def inside(folder: Path, name: str) -> Path:
    """`folder / name`, refused unless it stays inside `folder` (after resolving `..` and links)."""
    path = folder / name
    base = folder.resolve()
    if not path.resolve().is_relative_to(base) or path.resolve() == base:
        raise UserError(f"{name!r} is not a file name inside {folder}")
    return path
