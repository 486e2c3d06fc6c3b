"""What every verb of the `dunning` command shares: the installation, parsing what people type, printing
JSON, reaching the engine and describing what a run did."""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import typer

from dunning.domain.errors import UserError
from dunning.storage import config
from dunning.storage.config import Installation


class LazyModule:
    """Imported on first use: `dunning claim` and `letter-term` must answer well under a second, and
    SQLAlchemy alone costs a third of that."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attr)


clock: Any = LazyModule("dunning.storage.clock")
db: Any = LazyModule("dunning.storage.db")
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def installation(migrate: bool = True) -> Installation:
    inst = config.load()
    if migrate:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import OperationalError

        try:
            db.migrate(inst)
        except (OSError, OperationalError) as e:  # a folder that is a file, no server there, no right to write
            shown = make_url(inst.database_url).render_as_string(hide_password=True)
            if isinstance(e, FileExistsError | NotADirectoryError):
                reason = f"{e.filename} is a file, not a folder"
            else:
                reason = str(getattr(e, "orig", None) or getattr(e, "strerror", None) or e).splitlines()[0]
            raise UserError(f"the database {shown} cannot be opened ({reason})") from None
    return inst


def prefect_env(inst: Installation) -> None:
    """Point this process's Prefect client at the installation's server, before prefect is imported."""
    os.environ["PREFECT_API_URL"] = inst.prefect_api_url
    if auth := os.environ.get("PREFECT_SERVER_API_AUTH_STRING"):
        # A server that asks for a password (`dunning run --host`): the verbs on that machine give it.
        os.environ.setdefault("PREFECT_API_AUTH_STRING", auth)
    os.environ.setdefault("PREFECT_HOME", str(inst.prefect_home))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def parse_date(value: str, what: str = "date") -> date:
    """A day a person typed: YYYY-MM-DD only (`dunning.domain.fields.parse_day`); `what` names the option."""
    from dunning.domain.fields import parse_day

    try:
        return parse_day(value)
    except ValueError as e:
        raise UserError(f"{what}: {e}") from None


_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}:\d{2})?", re.ASCII)


def parse_moment(value: str, what: str = "date and time") -> datetime:
    """A moment a person typed, YYYY-MM-DDTHH:MM (Amsterdam unless it says its offset), within the years
    `parse_date` allows."""
    from dunning.domain.fields import FIRST_DAY, LAST_DAY

    try:
        if not _MOMENT.fullmatch(value.strip()):
            raise ValueError
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{what}: malformed {value!r}: use YYYY-MM-DDTHH:MM") from None
    if not FIRST_DAY <= at.date() <= LAST_DAY:
        raise UserError(f"{what}: {value} is out of range ({FIRST_DAY.year} to {LAST_DAY.year})")
    return at if at.tzinfo else at.replace(tzinfo=clock.AMSTERDAM)


def parse_amount(value: str) -> Decimal:
    """An amount a person typed: the desk actions' one rule and words (`dunning.casework.desk_actions`), imported
    when needed so the verbs that need no database stay quick."""
    from dunning.casework import desk_actions

    return desk_actions.parse_amount(value)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def engine_call(fn: Any, inst: Installation) -> Any:
    try:
        return fn()
    except (OSError, RuntimeError) as e:
        if "connect" in str(e).lower() or isinstance(e, OSError):
            raise UserError(f"cannot reach the engine at {inst.prefect_api_url}: is `dunning run` running?") from None
        raise
    except Exception as e:  # httpx errors: keep the message, drop the traceback
        if type(e).__name__ in ("ConnectError", "ConnectTimeout", "ReadTimeout"):
            raise UserError(f"cannot reach the engine at {inst.prefect_api_url}: is `dunning run` running?") from None
        if getattr(getattr(e, "response", None), "status_code", None) == 401:
            raise UserError(f"the engine at {inst.prefect_api_url} asks for a password: set PREFECT_API_AUTH_STRING "
                            "(user:password) as the server's PREFECT_SERVER_API_AUTH_STRING") from None
        raise


def dossier_mark(inst: Installation) -> int:
    from sqlalchemy import func, select

    from dunning.storage.models import DossierEntry

    with db.transaction(inst) as s:
        return s.scalar(select(func.max(DossierEntry.id))) or 0


def describe(inst: Installation, number: str, since_entry: int) -> str:
    """What happened to an invoice since `since_entry`, and what it waits for now."""
    from sqlalchemy import select

    from dunning.casework import invoices
    from dunning.domain.kinds import TaskStatus
    from dunning.storage.models import DossierEntry, HumanTask

    with db.transaction(inst) as s:
        inv = invoices.get(s, number)
        new = s.scalars(
            select(DossierEntry)
            .where(DossierEntry.invoice_id == inv.id, DossierEntry.id > since_entry)
            .order_by(DossierEntry.id)
        )
        parts = [e.summary for e in new]
        task = s.scalars(
            select(HumanTask).where(HumanTask.invoice_id == inv.id, HumanTask.status == TaskStatus.open)
        ).first()
        if inv.closed_reason:
            parts.append(f"closed ({inv.closed_reason})")
        elif task:
            parts.append(f"waiting for {task.kind.value} task {task.step}")
        elif inv.wake_at:
            parts.append(f"waiting until {clock.local(inv.wake_at).strftime('%Y-%m-%d %H:%M')}")
    return "; ".join(parts) or "no change"


# How the CLI names a value the domain refused: its option ("credit" -> "--credit").
_OPTIONS = {"instalment": "--instalment DATE=AMOUNT", "text": "TEXT"}


def option_for(field: str) -> str:
    return _OPTIONS.get(field, "--" + field.replace("_", "-"))
