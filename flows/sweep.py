"""The scheduled sweep: start, wake and restart invoice runs whose moment has come."""

from __future__ import annotations

from prefect import flow, get_run_logger

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
    return {"started": report.started, "woken": report.woken, "restarted": report.restarted, "asked": report.asked}
