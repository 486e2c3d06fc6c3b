"""Every row of every table of a database, in a fixed order: two dumps compare equal exactly when nothing was
written in between (tests/integration/test_bad_inputs.py: a refused input changes nothing)."""

from __future__ import annotations

from sqlalchemy import inspect

from dunning.storage import db


def dump(database_url: str) -> dict[str, list[tuple[str, ...]]]:
    """Table name -> its rows, each value as its repr (JSON columns hold dicts, which neither sort nor hash),
    sorted: the order of a scan is no fact. Plain SELECTs, no reflection of the columns: a test dumps before and
    after every verb, and reflecting costs ten times the reading."""
    engine = db.engine_for(database_url)
    found: dict[str, list[tuple[str, ...]]] = {}
    with engine.connect() as c:
        for name in sorted(inspect(c).get_table_names()):
            rows = c.exec_driver_sql(f'SELECT * FROM "{name}"')
            found[name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return found


def differences(before: dict[str, list[tuple[str, ...]]], after: dict[str, list[tuple[str, ...]]]) -> list[str]:
    """What changed, a line per table, for a failing test to show."""
    lines = []
    for name in sorted(set(before) | set(after)):
        old, new = set(before.get(name, [])), set(after.get(name, []))
        if old != new:
            lines.append(f"{name}: +{sorted(new - old)[:3]} -{sorted(old - new)[:3]}")
    return lines
