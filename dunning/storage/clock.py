"""One clock for every decision. Real by default; an installation can run on simulated time, stored in its
database so that every process (CLI, serve, each flow run) sees the same moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.orm import Session

from dunning.domain.time import AMSTERDAM, local  # noqa: F401  (clock.local(...) reads well at call sites)
from dunning.storage.models import Setting

_KEY = "clock.simulated"
_DEMO_KEY = "clock.demo"


class Clock(Protocol):
    def now(self) -> datetime: ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    def __init__(self, at: datetime) -> None:
        assert at.tzinfo is not None
        self.at = at

    def now(self) -> datetime:
        return self.at


def simulated_offset(session: Session) -> tuple[datetime, datetime] | None:
    """(simulated moment, real moment it was set) or None on real time."""
    row = session.get(Setting, _KEY)
    if row is None:
        return None
    simulated, real = row.value.split("|")
    return datetime.fromisoformat(simulated), datetime.fromisoformat(real)


def now(session: Session) -> datetime:
    """The installation's current moment (UTC). Simulated time runs on from where it was set."""
    real = datetime.now(UTC)
    sim = simulated_offset(session)
    if sim is None:
        return real
    simulated, set_at = sim
    return simulated + (real - set_at)


def set_simulated(session: Session, at: datetime, *, by_demo: bool = False) -> None:
    """`by_demo`: chosen by `dunning run` for its demo (it returns to real time by itself); otherwise a
    person's choice, kept until they change it."""
    value = f"{at.astimezone(UTC).isoformat()}|{datetime.now(UTC).isoformat()}"
    row = session.get(Setting, _KEY)
    if row is None:
        session.add(Setting(key=_KEY, value=value))
    else:
        row.value = value
    _mark_demo(session, by_demo)


def set_real(session: Session) -> None:
    row = session.get(Setting, _KEY)
    if row is not None:
        session.delete(row)
    _mark_demo(session, False)


def simulated_by_demo(session: Session) -> bool:
    return session.get(Setting, _DEMO_KEY) is not None


def _mark_demo(session: Session, on: bool) -> None:
    mark = session.get(Setting, _DEMO_KEY)
    if on and mark is None:
        session.add(Setting(key=_DEMO_KEY, value="1"))
    elif not on and mark is not None:
        session.delete(mark)
