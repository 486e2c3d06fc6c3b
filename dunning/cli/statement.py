"""`dunning statement DEBTOR`: the statement of account (rekeningoverzicht) of one debtor, shown, written to files
for review, or sent (`dunning.messaging.statement_of_account`). Sending (tasks/statements.py, shared with the
`send-statement` desk action) is at most once per debtor, channel and day, recorded exactly once."""

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

    from tasks.statements import send_statement_now

    typer.echo(asyncio.run(send_statement_now(inst, number, asked)))


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
