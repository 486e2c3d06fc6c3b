"""`dunning preview`: render an invoice's message for a step without sending it, for review and approvers.

The message is composed by `dunning.messaging.compose`, the path sending and printing take, so the preview is
what would go out now (the policy's deadlines, the promise as agreed, the collector's waiting notes); the
options stand in for facts not on file yet. No Prefect on this path: it reads the installation's database and
renders the templates, nothing else. Jinja2, babel and SQLAlchemy are imported only when the command runs, so
registering it costs the CLI nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from dunning.domain.errors import UserError

# For the help text (dunning.messaging.templating.STEPS has the authority; a test keeps the two alike).
STEPS_HELP = (
    "herinnering, aanmaning, ingebrekestelling, incasso-aankondiging, betaalafspraak, betalingsregeling, "
    "betwisting-afgewezen, factuurkopie or rekeningoverzicht"
)

_AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


def _date(text: str, what: str) -> date:
    from dunning.domain.fields import parse_day

    try:
        return parse_day(text)
    except ValueError as e:
        raise UserError(f"{what}: {e}") from None


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
    from dunning.domain.steps import Message
    from dunning.messaging import compose, preview
    from dunning.messaging.templating import CHANNELS, LOCALES, STEPS
    from dunning.storage import clock, config, db

    if step not in STEPS:
        raise UserError(f"--step: unknown step {step!r}; expected one of {', '.join(STEPS)}")
    if channel is not None and channel not in CHANNELS:
        raise UserError(f"--channel: expected one of {', '.join(CHANNELS)}, got {channel!r}")
    if lang is not None and lang not in LOCALES:
        raise UserError(f"--lang: expected one of {', '.join(sorted(LOCALES))}, got {lang!r}")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: is a file, not a folder")
    plan = tuple(parse_instalment(i) for i in instalments or [])
    promised_on, promised_amount = None, None
    if promise:
        on, _, amount = promise.partition("=")
        promised_on = _date(on, "--promise date")
        promised_amount = _amount(amount, "--promise amount") if amount else None
    message = Message(step)
    inst = config.load(home_dir)
    db.migrate(inst)
    with db.transaction(inst) as s:
        invoice = invoices.get(s, number)
        debtor = invoice.debtor
        preferred = Channel.letter if debtor.preferred_channel is Channel.letter else Channel.email
        chosen = Channel(channel) if channel else preferred
        language = lang or debtor.language
        # The step the run would send: the confirmation of the latest promise, plan or dispute on file.
        the_step = compose.preview_step(s, invoice, message)
        if message is Message.betaalafspraak and the_step.about is None and promised_on is None:
            raise UserError(f"invoice {number} has no call with a promise to pay; give --promise DATE[=AMOUNT]")
        if message is Message.betalingsregeling and the_step.about is None and not plan:
            raise UserError("a betalingsregeling needs its instalments: give --instalment DATE=AMOUNT for each")
        explanation = None
        if message is Message.betwisting_afgewezen:
            if the_step.about is None:
                raise UserError(f"invoice {number} has no dispute")
            # The explanation is the message's body, not a personal note on top of it.
            explanation, note = note, None
            if not explanation and not compose.explanation(s, invoice, the_step):
                raise UserError("give --note with the explanation the debtor would read (why the invoice stands)")
        given = compose.Given(
            personal_note=note, promised_on=promised_on, promised_amount=promised_amount, plan=plan,
            explanation=explanation, agency=agency,
        )
        policy = policies.policy_for(inst.home, debtor.number)
        try:
            composed = compose.compose(s, inst, invoice, the_step, chosen, clock.now(s), policy, preview=True,
                                       language=language, given=given)
        except TemplateError as e:
            # An operator's template with an unknown variable or a syntax error: say so here, not at send time.
            filename, line = getattr(e, "filename", None), getattr(e, "lineno", None)
            where = f" ({filename}:{line})" if filename else ""
            raise UserError(f"template for {step} ({chosen.value}, {language}){where}: {e.message or e}") from None
    try:
        return preview.write(composed, out)
    except OSError as e:  # a file by that name, a file on the way, no right to write there
        raise UserError(f"--out {out}: cannot write the preview there ({e.strerror or e})") from None


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
