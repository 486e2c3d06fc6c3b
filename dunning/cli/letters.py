"""`dunning preview`: render an invoice's message for a step without sending it, for review and approvers.

No Prefect on this path: it reads the installation's database and renders the templates, nothing else. Jinja2,
babel and SQLAlchemy are imported only when the command runs, so registering it costs the CLI nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from dunning.domain.errors import UserError

# For the help text (dunning.templating.STEPS has the authority; a test keeps the two alike).
STEPS_HELP = (
    "herinnering, aanmaning, ingebrekestelling, incasso-aankondiging, betaalafspraak, betalingsregeling, "
    "betwisting-afgewezen or factuurkopie"
)

# Days the incasso-aankondiging gives before the claim goes to the agency, when the policy names none.
INCASSO_NOTICE_DAYS = 14
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"{what}: not a date (YYYY-MM-DD): {text!r}") from None


def _amount(text: str, what: str) -> Decimal:
    if not _AMOUNT.fullmatch(text.strip()):
        raise UserError(f"{what}: not an amount like 125.50: {text!r}")
    try:
        return Decimal(text.strip()).quantize(Decimal("0.01"))
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        raise UserError(f"{what}: not an amount like 125.50: {text!r}") from None


def parse_instalment(text: str) -> dict[str, Any]:
    due, sep, amount = text.partition("=")
    if not sep:
        raise UserError(f"--instalment: expected DATE=AMOUNT, got {text!r}")
    return {"due": _date(due, "--instalment date"), "amount": _amount(amount, "--instalment amount")}


def preview_pay_by(step: str, today: date) -> date | None:
    """The deadline a message outside the ladder states when sent today (the ladder's own come from
    dunning.messages.context)."""
    if step == "incasso-aankondiging":
        return today + timedelta(days=INCASSO_NOTICE_DAYS)
    return None


def _last_dispute(session: Any, invoice: Any, answer: str | None) -> dict[str, Any]:
    """The invoice's latest dispute, with the explanation the debtor would read: `--note`, or the reason it was
    rejected with."""
    from sqlalchemy import select

    from dunning.domain.kinds import TaskKind
    from dunning.storage import clock
    from dunning.storage.models import HumanTask

    query = select(HumanTask).where(HumanTask.invoice_id == invoice.id, HumanTask.kind == TaskKind.dispute)
    task = session.scalars(query.order_by(HumanTask.id.desc())).first()
    if task is None:
        raise UserError(f"invoice {invoice.number} has no dispute")
    answer = answer or (task.outcome or {}).get("resolution")
    if not answer:
        raise UserError("give --note with the explanation the debtor would read (why the invoice stands)")
    return {"raised_on": clock.local(task.created_at).date(), "answer": answer}


def _last_promise(session: Any, invoice: Any) -> dict[str, Any] | None:
    """The promise to pay from the invoice's latest call with one, as the betaalafspraak confirms it."""
    from sqlalchemy import select

    from dunning.domain.kinds import TaskKind, TaskStatus
    from dunning.storage.models import HumanTask

    calls = session.scalars(
        select(HumanTask)
        .where(HumanTask.invoice_id == invoice.id, HumanTask.kind == TaskKind.call,
               HumanTask.status == TaskStatus.done)
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc())
    )
    for call in calls:
        outcome = call.outcome or {}
        if outcome.get("promised_on"):
            return {
                "promised_on": date.fromisoformat(outcome["promised_on"]),
                "spoke_with": outcome.get("spoke_with") or "",
                "note": outcome.get("note") or None,
            }
    return None


def run_preview(
    home_dir: Path,
    number: str,
    *,
    step: str,
    out: Path,
    channel: str | None = None,
    lang: str | None = None,
    note: str | None = None,
    promise: str | None = None,
    instalments: list[str] | None = None,
    agency: str | None = None,
) -> list[Path]:
    from jinja2 import TemplateError

    from dunning.casework import invoices, policies
    from dunning.domain.kinds import Channel
    from dunning.domain.ladder import LADDER
    from dunning.messaging import messages
    from dunning.messaging.letters import letter_context
    from dunning.messaging.templating import CHANNELS, LOCALES, STEPS, preview
    from dunning.storage import clock, config, db

    if step not in STEPS:
        raise UserError(f"--step: unknown step {step!r}; expected one of {', '.join(STEPS)}")
    if channel is not None and channel not in CHANNELS:
        raise UserError(f"--channel: expected one of {', '.join(CHANNELS)}, got {channel!r}")
    if lang is not None and lang not in LOCALES:
        raise UserError(f"--lang: expected one of {', '.join(sorted(LOCALES))}, got {lang!r}")
    plan = [parse_instalment(i) for i in instalments or []]
    inst = config.load(home_dir)
    db.migrate(inst)
    with db.transaction(inst) as s:
        invoice = invoices.get(s, number)
        debtor = invoice.debtor
        chosen = channel or ("letter" if debtor.preferred_channel is Channel.letter else "email")
        language = lang or debtor.language
        today = clock.local(clock.now(s)).date()
        agreement = None
        if step == "betaalafspraak":
            agreement = _last_promise(s, invoice) or {}
            if promise:
                on, _, amount = promise.partition("=")
                agreement["promised_on"] = _date(on, "--promise date")
                if amount:
                    agreement["amount"] = _amount(amount, "--promise amount")
            if "promised_on" not in agreement:
                raise UserError(f"invoice {number} has no call with a promise to pay; give --promise DATE[=AMOUNT]")
            agreement.setdefault("amount", invoices.open_amount(s, invoice))
            agreement.setdefault("spoke_with", "")
            agreement.setdefault("note", None)
        if step == "betalingsregeling" and not plan:
            raise UserError("a betalingsregeling needs its instalments: give --instalment DATE=AMOUNT for each")
        dispute = None
        if step == "betwisting-afgewezen":
            dispute = _last_dispute(s, invoice, note)
            note = None  # the explanation is the message's body, not a personal note on top of it
        if step in LADDER:
            # Exactly what the run would send now (its policy, its channels' deadline, the waiting notes).
            policy = policies.policy_for(inst.home, debtor.number)
            context, _ = messages.context(s, inst, invoice, step, today, policy, preview=True)
            if note:
                context["personal_note"] = note
        else:
            context = letter_context(
                s, inst, invoice, step, today, preview_pay_by(step, today),
                agreement=agreement, plan=plan or None, personal_note=note, agency=agency, dispute=dispute,
            )
        try:
            return preview(step, language, chosen, context, inst.home / "templates", out)
        except TemplateError as e:
            # An operator's template with an unknown variable or a syntax error: say so here, not at send time.
            filename, line = getattr(e, "filename", None), getattr(e, "lineno", None)
            where = f" ({filename}:{line})" if filename else ""
            raise UserError(f"template for {step} ({chosen}, {language}){where}: {e.message or e}") from None


def register(app: typer.Typer, home: Callable[[], Path]) -> None:
    """Add `preview` to the main app; `home` gives the installation folder (DUNNING_HOME), asked at run time."""

    @app.command("preview")
    def preview_command(
        invoice: Annotated[str, typer.Argument(help="Invoice number")],
        step: Annotated[str, typer.Option("--step", help=STEPS_HELP)],
        out: Annotated[Path, typer.Option("--out", help="Folder to write the message to")],
        channel: Annotated[
            str | None, typer.Option("--channel", help="email or letter (default: the debtor's preferred channel)")
        ] = None,
        lang: Annotated[str | None, typer.Option("--lang", help="nl or en (default: the debtor's language)")] = None,
        note: Annotated[str | None, typer.Option("--note", help="A personal note to show in the message")] = None,
        promise: Annotated[
            str | None,
            typer.Option("--promise", help="betaalafspraak: DATE[=AMOUNT] (default: the last call's promise)"),
        ] = None,
        instalment: Annotated[
            list[str] | None, typer.Option("--instalment", help="betalingsregeling: DATE=AMOUNT, repeatable")
        ] = None,
        agency: Annotated[
            str | None, typer.Option("--agency", help="incasso-aankondiging: the collection agency's name")
        ] = None,
    ) -> None:
        """Render an invoice's message for a step without sending it: the e-mail parts or the letter PDF."""
        written = run_preview(
            home(), invoice, step=step, out=out, channel=channel, lang=lang, note=note, promise=promise,
            instalments=instalment, agency=agency,
        )
        for path in written:
            typer.echo(str(path))
