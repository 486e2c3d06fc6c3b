"""The print queue's I/O for the letters-posted flow."""

from __future__ import annotations

from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE

from dunning.domain.errors import UserError
from dunning.messaging import print_queue, statement_of_account
from dunning.storage import clock, db
from tasks.runtime import installation


@task(cache_policy=NO_CACHE)
def mark_letters_posted(posted_on: date | None) -> list[str]:
    inst = installation()
    with db.transaction(inst) as s:
        now = clock.now(s)
        today = clock.local(now).date()
        day = posted_on or today
        if day > today:
            raise UserError(f"posted_on {day.isoformat()} is in the future")
        done = print_queue.mark_posted(s, inst, day, now)
        statement_of_account.record_posted(s, done.posted, now)  # a posted statement's evidence on each invoice
        return print_queue.describe(s, done, day)
