"""`dunning statement DEBTOR`: the statement of account (rekeningoverzicht) of one debtor, shown, written to files
for review, or sent (`dunning.messaging.statement_of_account`). Sending holds one transaction to queue and claim
the e-mail, hands it to the mail server with none held, then records what the server said in another: at most
once per debtor, channel and day, recorded exactly once, like the ladder's messages."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dunning.cli.common import JsonOpt, clock, db, installation, print_json
from dunning.domain.errors import UserError

if TYPE_CHECKING:
    from dunning.domain.kinds import Channel
    from dunning.storage.config import Installation

verbs = typer.Typer()

CHANNELS = ("email", "letter")


@verbs.command("statement")
def statement(
    debtor: Annotated[str, typer.Argument(help="The debtor's number.")],
    send: Annotated[bool, typer.Option("--send", help="Send it to the debtor (at most once a day per channel).")]
    = False,
    channel: Annotated[
        str | None, typer.Option("--channel", help="email or letter (default: the debtor's preferred channel).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder to write the e-mail (.eml and its parts) and the letter "
                                                "(PDF) to, without sending.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The statement of account of a debtor: every open invoice with its payments and credits, the debtor's
    credit, the total open, the IBAN and each invoice's payment reference."""
    from dunning.domain.kinds import Channel
    from dunning.messaging import statement_of_account as soa

    if channel is not None and channel not in CHANNELS:
        raise UserError(f"--channel: expected one of {', '.join(CHANNELS)}, got {channel!r}")
    if send and out is not None:
        raise UserError("--out writes the statement for review without sending it; leave out --send")
    inst = installation()
    if send:
        _send(inst, debtor, Channel(channel) if channel else None)
        return
    with db.transaction(inst) as s:
        found = soa.debtor_of(s, debtor)
        now = clock.now(s)
        shown = soa.build(s, inst, found, clock.local(now).date())
        written, problems = soa.write_preview(s, inst, found, now, out) if out is not None else ([], [])
    if as_json:
        print_json(shown.as_json())
    else:
        typer.echo(as_text(shown.as_json()))
    for path in written:
        typer.echo(str(path))
    for problem in problems:
        typer.echo(f"dunning: {problem}", err=True)


def _send(inst: Installation, number: str, asked: Channel | None) -> None:
    import asyncio

    from sqlalchemy.exc import IntegrityError

    from dunning.messaging import statement_of_account as soa
    from dunning.messaging.mailer import PermanentMailError, TransientMailError, deliver_raw, smtp_settings
    from dunning.messaging.sending import Deliver

    try:
        with db.transaction(inst) as s:
            debtor = soa.debtor_of(s, number)
            chosen = soa.channel_for(debtor, asked)
            decision = soa.prepare(s, inst, debtor, chosen, clock.now(s))
    except IntegrityError:
        # Its outbox key is unique: another `dunning statement --send` queued today's statement at this moment.
        raise UserError(f"{number}: today's statement of account is being sent by someone else right now; "
                        "run this again to see what became of it") from None
    except TransientMailError as error:
        raise UserError(f"{number}: {error}") from None
    if not isinstance(decision, Deliver):
        if decision.status == "sent":
            typer.echo(f"{number}: today's statement of account by {chosen.value} was sent already"
                       + (f" ({decision.why})" if decision.why else ""))
        elif decision.status == "queued":
            typer.echo(f"{number}: statement of account printed; it {decision.why}; it counts as sent when "
                       "marked posted (dunning letters posted)")
        else:
            raise UserError(f"{number}: today's statement of account by {chosen.value} was {decision.status}"
                            + (f": {decision.why}" if decision.why else ""))
        return
    try:
        asyncio.run(deliver_raw(smtp_settings(inst), decision.content, [decision.recipient]))
    except (TransientMailError, PermanentMailError) as error:
        with db.transaction(inst) as s:
            soa.record_delivery(s, decision, clock.now(s), error)
        if isinstance(error, TransientMailError):
            raise UserError(f"{number}: the statement of account stays queued ({error}); send it again to retry, "
                            "it goes out once") from None
        raise UserError(f"{number}: the mail server refused the statement of account: {error}") from None
    with db.transaction(inst) as s:
        soa.record_delivery(s, decision, clock.now(s))
    typer.echo(f"{number}: statement of account sent by email to {decision.recipient}")


def as_text(data: dict[str, Any]) -> str:
    """The statement as a person at the desk reads it."""
    lines = [f"Statement of account of {data['debtor']} {data['name']} as of {data['as_of']}", ""]
    if not data["invoices"]:
        lines.append("No open invoices.")
    else:
        lines.append(f"{'invoice':<16} {'date':<10} {'due':<10} {'amount':>11} {'paid':>11} {'credited':>11} "
                     f"{'open':>11}  payment reference")
    for i in data["invoices"]:
        lines.append(f"{i['invoice']:<16} {i['issue_date']:<10} {i['due_date']:<10} {i['amount']:>11} "
                     f"{i['paid']:>11} {i['credited']:>11} {i['open']:>11}  {i['payment_reference']}")
        for e in i["entries"]:
            returned = "  (reversed: returned by the bank, not counted)" if e["reversed"] else ""
            lines.append(f"{'':<16} {e['on']:<10} {e['kind']:<10} {e['amount']:>11}{returned}")
    for currency, total in data["total_open"].items():
        lines.append(f"{'total open ' + currency:<75}{total:>11}")
    if data["credits"]:
        lines.append("")
        lines.append("Credits not applied yet:")
        for c in data["credits"]:
            reference = f"  {c['reference']}" if c["reference"] else ""
            lines.append(f"  {c['since']}  {c['currency']} {c['amount']}{reference}")
    lines += ["", f"Pay to IBAN {data['iban']}, quoting each invoice's payment reference."]
    return "\n".join(lines)
