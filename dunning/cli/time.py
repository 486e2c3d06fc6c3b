"""Real or simulated time for the whole installation (`dunning clock ...`)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from dunning.cli.common import (
    clock,
    db,
    installation,
    parse_moment,
)
from dunning.domain.errors import UserError

verbs = typer.Typer()
clock_app = typer.Typer(no_args_is_help=True, help="Real or simulated time for this installation.")
verbs.add_typer(clock_app, name="clock")


# --- time -------------------------------------------------------------------------------------------------


# The simulated years: from 2000 (before it, nothing the installation holds happened) to 2199, so that every step's
# arithmetic (a term, a year of interest) stays on the calendar.
FIRST_YEAR, LAST_YEAR = 2000, 2199
MAX_ADVANCE_DAYS = 3660  # ten years at a time; more is a typing mistake


@clock_app.command("set")
def clock_set(moment: str) -> None:
    """Put the installation (all its processes) on simulated time, e.g. 2026-12-01T09:00 (Amsterdam)."""
    at = parse_moment(moment, "clock set")
    if not FIRST_YEAR <= at.year <= LAST_YEAR:
        raise UserError(f"clock set: {moment} is out of range ({FIRST_YEAR} to {LAST_YEAR})")
    with db.transaction(installation()) as s:
        clock.set_simulated(s, at)
    typer.echo(f"simulated time: {clock.local(at).isoformat()}")


# "-365" is a number of days to refuse in words, not an unknown option.
@clock_app.command("advance", context_settings={"ignore_unknown_options": True})
def clock_advance(days: Annotated[str, typer.Argument(help="Days to move simulated time forward.")]) -> None:
    """Move simulated time forward (starts from real time when not yet simulated)."""
    try:
        step = float(days)
    except ValueError:
        raise UserError(f"clock advance: {days!r} is not a number of days") from None
    if not math.isfinite(step) or step < 0:
        raise UserError(f"clock advance: {days} days: time moves forward only (a number of days from 0; "
                        "`dunning clock set` to go back)")
    if step > MAX_ADVANCE_DAYS:
        raise UserError(f"clock advance: {days} days is more than {MAX_ADVANCE_DAYS} at a time")
    with db.transaction(installation()) as s:
        at = clock.now(s) + timedelta(days=step)
        if at.year > LAST_YEAR:
            raise UserError(f"clock advance: {days} days goes past {LAST_YEAR}")
        clock.set_simulated(s, at)
    typer.echo(f"simulated time: {clock.local(at).isoformat()}")


@clock_app.command("real")
def clock_real() -> None:
    """Back to real time."""
    with db.transaction(installation()) as s:
        clock.set_real(s)
    typer.echo(f"real time: {clock.local(datetime.now(UTC)).isoformat()}")


@clock_app.command("show")
def clock_show() -> None:
    with db.transaction(installation()) as s:
        kind = "simulated" if clock.simulated_offset(s) else "real"
        typer.echo(f"{kind} time: {clock.local(clock.now(s)).isoformat()}")
