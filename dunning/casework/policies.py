"""Named policies from the operator's file, DUNNING_HOME/policies.toml, validated on every load:

    [default]                 # changes the built-in default for everyone
    grace_days = 5

    [policy.patient]          # a named policy: the default with these changes
    grace_days = 10
    call_attempts = 2

    [debtors]                 # debtor number -> policy name
    "DEB-002" = "patient"

A running invoice picks up a change at its next wake-up: the flow reads its policy afresh every time."""

from __future__ import annotations

import dataclasses
from datetime import time
from pathlib import Path
from typing import Any

from dunning.domain.errors import UserError
from dunning.domain.fields import closest
from dunning.domain.policy import BUSINESS_COSTS, DEFAULT, Policy
from dunning.domain.steps import GATES, LADDER, Message
from dunning.storage.config import read_toml

FILENAME = "policies.toml"
_FIELDS = {f.name: f for f in dataclasses.fields(Policy)}
# The most a whole-number setting may be: days (the default, 365), hours and counts. Beyond a year a step is a
# typing mistake, and 999999999 days would run the ladder's dates off the calendar in every run.
_MOST = {"call_retry_hours": 24 * 14, "max_calls": 50, "call_attempts": 20, "late_payer_invoices": 100}


def policy_for(home: Path, debtor_number: str) -> Policy:
    default, named, debtors = load(home)
    return named[debtors[debtor_number]] if debtor_number in debtors else default


def load(home: Path) -> tuple[Policy, dict[str, Policy], dict[str, str]]:
    """The file's policies, parsed once per content: a sweep asks for one debtor's policy after another, and
    reading is cheap where parsing and checking are not. Keyed by the bytes, not the mtime: two edits within one
    tick of the file system's clock would look alike."""
    path = home / FILENAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _read(home)
    except OSError:  # a folder, no right to read: _read says so
        return _read(home)
    cached = _LOADED.get(path)
    if cached is not None and cached[0] == data:
        return cached[1]
    loaded = _read(home)
    _LOADED[path] = (data, loaded)  # should the file change in between, the next call parses it again
    return loaded


_LOADED: dict[Path, tuple[bytes, tuple[Policy, dict[str, Policy], dict[str, str]]]] = {}


def _read(home: Path) -> tuple[Policy, dict[str, Policy], dict[str, str]]:
    path = home / FILENAME
    if not path.exists():
        return DEFAULT, {}, {}
    raw = read_toml(path)
    unknown = set(raw) - {"default", "policy", "debtors"}
    if unknown:
        first = sorted(unknown)[0]
        raise UserError(f"{path}: unknown section [{first}] (default, policy.NAME or debtors)"
                        f"{closest(first, ('default', 'policy', 'debtors'))}")
    default = _policy(path, "default", raw.get("default", {}), DEFAULT)
    tables = raw.get("policy", {})
    if not isinstance(tables, dict):
        raise UserError(f"{path}: policy: a table per named policy ([policy.NAME]), not {tables!r}")
    named = {name: _policy(path, f"policy.{name}", values, default) for name, values in tables.items()}
    debtors = raw.get("debtors", {})
    if not isinstance(debtors, dict):
        raise UserError(f"{path}: debtors: a table ([debtors]) of debtor number = policy name, not {debtors!r}")
    for debtor, name in debtors.items():
        if name not in named:
            known = ", ".join(sorted(named)) or "none defined"
            raise UserError(f"{path}: debtors.{debtor}: unknown policy {name!r} (known: {known})")
    return default, named, debtors


def _policy(path: Path, where: str, values: Any, base: Policy) -> Policy:
    if not isinstance(values, dict):
        raise UserError(f"{path}: [{where}] must be a table of settings")
    changes = {}
    for key, value in values.items():
        if key not in _FIELDS:
            raise UserError(f"{path}: {where}.{key}: unknown setting{closest(key, _FIELDS)} (known: "
                            f"{', '.join(_FIELDS)})")
        changes[key] = _value(path, f"{where}.{key}", key, value)
    return dataclasses.replace(base, **changes)


def _value(path: Path, where: str, key: str, value: Any) -> Any:
    current = getattr(DEFAULT, key)
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise UserError(f"{path}: {where}: must be true or false")
        return value
    if isinstance(current, int):
        most = _MOST.get(key, 365)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
            raise UserError(f"{path}: {where}: must be a whole number from 0 to {most}, not {value!r}")
        return value
    if isinstance(current, time):
        try:
            return time.fromisoformat(value) if isinstance(value, str) else _fail()
        except ValueError:
            raise UserError(f"{path}: {where}: must be a time of day like \"09:00\", not {value!r}") from None
    if key == "by_post":
        by_post: tuple[str, ...] = (*LADDER, Message.incasso_aankondiging)
        if not isinstance(value, list) or any(v not in by_post for v in value):
            raise UserError(f"{path}: {where}: must be a list of steps from {', '.join(by_post)}, not {value!r}")
        return tuple(dict.fromkeys(value))
    if key == "approvals":
        if not isinstance(value, list) or any(v not in GATES for v in value):
            raise UserError(f"{path}: {where}: must be a list of steps from {', '.join(GATES)}, not {value!r}")
        return tuple(dict.fromkeys(value))
    if key == "tone":
        if value not in ("formal", "informal"):
            raise UserError(f"{path}: {where}: must be \"formal\" or \"informal\", not {value!r}")
        return value
    if key == "business_costs":
        if value not in BUSINESS_COSTS:
            choices = ", ".join(f'"{c}"' for c in BUSINESS_COSTS)
            raise UserError(f"{path}: {where}: must be one of {choices}, not {value!r}")
        return value
    if key == "hold_after":
        if value not in (*LADDER, ""):
            raise UserError(f"{path}: {where}: must be one of {', '.join(LADDER)} or \"\" (never), not {value!r}")
        return value or None
    raise UserError(f"{path}: {where}: cannot be set in the file")


def _fail() -> Any:
    raise ValueError
