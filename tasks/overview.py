"""Reading the daily overview for the daily-overview flow, in the installation's language."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from dunning.desk import overview
from dunning.storage import clock, db
from tasks.runtime import installation

DESCRIPTION = {"en": "Daily overview", "nl": "Dagoverzicht"}


@task(cache_policy=NO_CACHE)
def daily_overview() -> dict:
    inst = installation()
    with db.transaction(inst) as s:
        found = overview.build(s, inst, clock.now(s))
    return {
        "overview": found,
        "markdown": overview.as_markdown(found, inst.language),
        "description": DESCRIPTION[inst.language],
    }
