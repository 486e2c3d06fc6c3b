"""The scheduled sweep: start, wake and restart invoice runs whose moment has come; what a person must sort out
(a file that does not load, a run that stays failed) is logged, and a file that does not load fails the sweep."""

from __future__ import annotations

from prefect import flow, get_run_logger

from dunning.domain.errors import UserError
from tasks.runtime import installation
from tasks.sweep import rate_warnings, sweep_once


@flow(name="sweep", persist_result=False)
async def sweep() -> dict[str, dict[str, str]]:
    report = await sweep_once(installation())
    log = get_run_logger()
    for warning in rate_warnings(installation()):
        log.warning(warning)
    for label, runs in (("started", report.started), ("woken", report.woken), ("restarted", report.restarted),
                        ("asked", report.asked)):
        if runs:
            log.info("%s: %s", label, ", ".join(sorted(runs)))
    for problem in report.problems:
        log.error(problem)
    if report.config_problems:
        # The sweep did what it could, but a file that does not load fails runs: the sweep's own run says so,
        # in red in the UI, until someone fixes it.
        raise UserError("; ".join(report.config_problems))
    return {"started": report.started, "woken": report.woken, "restarted": report.restarted, "asked": report.asked,
            "failed": {r.invoice: r.run_id for r in report.failed}}
