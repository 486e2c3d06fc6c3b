"""Serve the deployments of one installation: each invoice run and each sweep in its own subprocess.

Run by `dunning run`; on a larger set-up `dunning deploy` registers the same deployments in a process work pool and
`dunning worker` on each machine runs them (deployments/pool.py)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from dunning.storage.config import Installation
from flows.bank import import_bank, match_payment
from flows.books import import_invoices
from flows.collect_invoice import collect_invoice
from flows.desk_actions import desk_action_deployments
from flows.letters import letters_posted
from flows.overview import overview
from flows.reports import reports
from flows.sweep import sweep
from tasks import throttle
from tasks.runtime import installation

SWEEP_SECONDS = int(os.environ.get("DUNNING_SWEEP_SECONDS", "60"))
# Sweeps per run of the sweep deployment (scheduled every SWEEP_SECONDS x SWEEP_ROUNDS): one process for ten
# minutes' sweeps rather than one a minute (flows/sweep.py). Should a sweep run die, the next one is at most that
# far off; two sweeps at once do no harm.
SWEEP_ROUNDS = max(1, int(os.environ.get("DUNNING_SWEEP_ROUNDS", "10")))
# The bank statement inbox (DUNNING_HOME/inbox/bank/) is read every five minutes; 0 leaves it to a person
# starting the deployment (or to `dunning import bank`).
BANK_INBOX_SECONDS = int(os.environ.get("DUNNING_BANK_INBOX_SECONDS", "300"))
# Likewise the invoice inbox (DUNNING_HOME/inbox/invoices/): e-invoices, exports, open-items lists.
INVOICE_INBOX_SECONDS = int(os.environ.get("DUNNING_INVOICE_INBOX_SECONDS", "300"))


def deployments(inst: Installation) -> list[RunnerDeployment]:
    """The installation's deployments, with their schedules: served here by `dunning run`, registered in a work
    pool by `dunning deploy` (deployments/pool.py). Outside an event loop: inside one, `to_deployment` gives
    coroutines (and is typed as giving either)."""
    made: list[Any] = [
        collect_invoice.to_deployment(name=inst.instance, tags=["dunning"]),
        # Tests and scripted use drive sweeps themselves (`dunning sweep`): DUNNING_SWEEP_SECONDS=0.
        sweep.to_deployment(
            name=inst.instance,
            interval=SWEEP_SECONDS * SWEEP_ROUNDS or None,
            parameters={"rounds": SWEEP_ROUNDS, "every_seconds": SWEEP_SECONDS} if SWEEP_SECONDS else {},
            tags=["dunning"],
        ),
        letters_posted.to_deployment(name=inst.instance, tags=["dunning"]),
        import_bank.to_deployment(name=inst.instance, interval=BANK_INBOX_SECONDS or None, tags=["dunning"]),
        match_payment.to_deployment(name=inst.instance, tags=["dunning"]),
        import_invoices.to_deployment(name=inst.instance, interval=INVOICE_INBOX_SECONDS or None, tags=["dunning"]),
        reports.to_deployment(
            name=inst.instance, schedules=[Cron("45 7 * * *", timezone="Europe/Amsterdam")], tags=["dunning"]
        ),
        overview.to_deployment(
            name=inst.instance, schedules=[Cron("30 7 * * *", timezone="Europe/Amsterdam")], tags=["dunning"]
        ),
        # Every desk action as a deployment a person starts from the UI's Run form (register-payment, ...).
        *desk_action_deployments(inst.instance, inst.language),
    ]
    return made


def main() -> None:
    inst = installation()
    # The e-mail throttle (DUNNING_EMAILS_PER_MINUTE), set before the first run can send.
    asyncio.run(throttle.set_email_limit(inst, throttle.emails_per_minute_from_env()))
    # At most `runs_at_once` runs at a time (settings.toml): Prefect's serve() has no bound of its own.
    # One more than runs_at_once: the sweep's own run stays for its rounds, and must not take an invoice run's place.
    serve(*deployments(inst), print_starting_message=False, limit=inst.runs_at_once + 1)


if __name__ == "__main__":
    main()
