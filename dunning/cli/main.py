"""The `dunning` command. Every verb acts on the installation in DUNNING_HOME (default ./var).

The verbs live in modules by subject; this one puts them together. Prefect is imported only by the verbs that
talk to the engine, so the others answer at once."""

from __future__ import annotations

import sys

import typer

from dunning.cli import (
    answers,
    bank,
    desk,
    law,
    letters,
    outbox,
    records,
    reports,
    retry,
    statement,
    supervisor,
    time,
    workers,
)
from dunning.cli.common import option_for
from dunning.domain.errors import InvalidInput, UserError
from dunning.storage import config
from dunning.storage.secrets import known_secrets, redact

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Credit management on the Dutch collection ladder.",
)
for subject in (records, bank, answers, time, supervisor, reports, statement, workers, retry, outbox):
    app.registered_commands.extend(subject.verbs.registered_commands)
    app.registered_groups.extend(subject.verbs.registered_groups)
# The installation's own law/ folder may add rate rows and Atw days (dunning/law/data/README.md).
def _release_held_messages() -> str | None:
    """After a rate row is confirmed: the runs whose messages waited for it look again at the next sweep."""
    if not config.home().is_dir():
        return None
    from dunning.casework import wakeups
    from dunning.cli.common import installation
    from dunning.storage import clock, db

    with db.transaction(installation()) as s:
        woken = wakeups.wake_held_for_rates(s, clock.now(s))
    if not woken:
        return None
    return f"held messages of {', '.join(woken)} go at the next sweep (`dunning sweep` to send them now)"


law.register(app, law_dir=lambda: config.home() / "law", after_confirming=_release_held_messages)
letters.register(app, home=config.home)
desk.register(app)


def main() -> None:
    try:
        app(standalone_mode=False)
    except InvalidInput as e:
        typer.echo(f"dunning: error: {e.phrased(option_for(e.field))}", err=True)
        sys.exit(e.exit_code)
    except UserError as e:
        # A message may quote a setting or a database URL: never with its password.
        typer.echo(redact(f"dunning: error: {e}", known_secrets()), err=True)
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.TyperException as e:
        # typer bundles its own click: usage mistakes arrive as TyperException subclasses, not click's.
        if type(e).__name__ == "NoArgsIsHelpError":
            typer.echo(e.format_message(), err=True)
            sys.exit(0)
        message = " ".join(e.format_message().split())
        typer.echo(f"dunning: error: {message}", err=True)
        sys.exit(2 if e.exit_code == 1 else e.exit_code)
