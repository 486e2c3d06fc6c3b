"""The scheduled sweep: start, wake and restart invoice runs whose moment has come; what a person must sort out
(a file that does not load, a run that stays failed) is logged, and a file that does not load fails the sweep."""

from __future__ import annotations

import asyncio
import time

from prefect import flow, get_run_logger

from dunning.domain.errors import UserError
from tasks.runtime import installation
from tasks.sweep import rate_warnings, sweep_once


@flow(name="sweep", persist_result=False)
async def sweep(rounds: int = 1, every_seconds: float = 60) -> dict[str, dict[str, str]]:
    """`rounds` sweeps, `every_seconds` apart (the first at once). The schedule starts one run for several minutes'
    sweeps: a flow run is a new Python process (~2 s of CPU), a sweep with nothing due a tenth of a second, so what
    runs every minute is the sweep's own work. A file that does not load is logged at each round and fails the run
    at its end if it still does not load."""
    inst = installation()
    log = get_run_logger()
    for warning in rate_warnings(inst):
        log.warning(warning)
    done: dict[str, dict[str, str]] = {"started": {}, "woken": {}, "restarted": {}, "asked": {}, "failed": {}}
    begun = time.monotonic()
    problems: list[str] = []
    for n in range(max(rounds, 1)):
        if n:
            await asyncio.sleep(max(0.0, begun + n * every_seconds - time.monotonic()))
        try:
            report = await sweep_once(inst)
        except UserError as error:  # a file the sweep itself needs does not load: said now, tried again next round
            log.error(str(error))
            problems = [str(error)]
            continue
        for label, runs in (("started", report.started), ("woken", report.woken), ("restarted", report.restarted),
                            ("asked", report.asked)):
            if runs:
                log.info("%s: %s", label, ", ".join(sorted(runs)))
            done[label].update(runs)
        for problem in report.problems:
            log.error(problem)
        done["failed"] = {r.invoice: r.run_id for r in report.failed}
        problems = report.config_problems
    if problems:
        # The sweep did what it could, but a file that does not load fails runs: the sweep's own run says so,
        # in red in the UI, until someone fixes it.
        raise UserError("; ".join(problems))
    return done
