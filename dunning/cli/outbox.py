"""`dunning outbox confirm|resend KEY`: a person decides about an e-mail whose delivery is in doubt.

An e-mail is in doubt when the connection to the mail server ended after the message data went out and before
the server said it took it, or when the process stopped while handing it over. It is never sent again by itself
(the debtor gets at most one copy); the daily overview names it with its outbox key. No Prefect on this path:
the run went on as if it was sent, so deciding changes only the outbox and the dossier."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from dunning.cli import common

verbs = typer.Typer()
outbox_app = typer.Typer(no_args_is_help=True, help="Decide about e-mails whose delivery is in doubt.")
verbs.add_typer(outbox_app, name="outbox")
By = Annotated[str, typer.Option(help="Your name, for the dossier.")]


@outbox_app.command("confirm")
def confirm(key: str, by: By = "") -> None:
    """The mail server's log (or the debtor) shows the message in doubt arrived: record it as delivered."""
    from dunning.messaging import sending

    inst = common.installation()
    with common.db.transaction(inst) as s:
        rows = sending.confirm(s, key, common.clock.now(s), by)
        keys = ", ".join(m.key for m in rows)
    typer.echo(f"confirmed: {keys}")


@outbox_app.command("resend")
def resend(key: str, by: By = "") -> None:
    """The message in doubt did not arrive: hand the same message (same Message-ID) to the mail server again."""
    from dunning.messaging import sending
    from dunning.messaging.mailer import (
        InDoubtMailError,
        PermanentMailError,
        TransientMailError,
        deliver_raw,
        smtp_settings,
    )

    inst = common.installation()
    settings = smtp_settings(inst)  # a settings mistake is refused before anything changes
    with common.db.transaction(inst) as s:
        deliver = sending.resend(s, key, common.clock.now(s), by)
    try:
        asyncio.run(deliver_raw(settings, deliver.content, [deliver.recipient]))
    except TransientMailError as error:
        with common.db.transaction(inst) as s:
            sending.resend_failed(s, deliver, error)
        typer.echo(f"dunning: {key} not sent again, still in doubt: {error}; try again later", err=True)
        raise SystemExit(1) from None
    except (PermanentMailError, InDoubtMailError) as error:
        with common.db.transaction(inst) as s:
            status = sending.record_delivery(s, deliver, common.clock.now(s), error)
        what = "refused by the mail server" if status == "refused" else "in doubt again"
        typer.echo(f"dunning: {deliver.key} {what}: {error}", err=True)
        raise SystemExit(1) from None
    with common.db.transaction(inst) as s:
        sending.record_delivery(s, deliver, common.clock.now(s))
    typer.echo(f"sent again as {deliver.key} to {deliver.recipient}")
