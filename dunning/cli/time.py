"""Real or simulated time for the whole installation (`dunning clock ...`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from dunning.cli.common import (
    clock,
    db,
    installation,
    parse_moment,
)

verbs = typer.Typer()
clock_app = typer.Typer(no_args_is_help=True, help="Real or simulated time for this installation.")
verbs.add_typer(clock_app, name="clock")


# --- time -------------------------------------------------------------------------------------------------


@clock_app.command("set")
def clock_set(moment: str) -> None:
    """Put the installation (all its processes) on simulated time, e.g. 2026-12-01T09:00 (Amsterdam)."""
    at = parse_moment(moment)
    with db.transaction(installation()) as s:
        clock.set_simulated(s, at)
    typer.echo(f"simulated time: {clock.local(at).isoformat()}")


@clock_app.command("advance")
def clock_advance(days: Annotated[float, typer.Argument(help="Days to move simulated time forward.")]) -> None:
    """Move simulated time forward (starts from real time when not yet simulated)."""
    with db.transaction(installation()) as s:
        at = clock.now(s) + timedelta(days=days)
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
