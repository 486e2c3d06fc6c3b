"""For people working in the Prefect UI: mark today's printed letters as posted (the same as
`dunning letters posted`). The runs waiting on them continue at the next sweep."""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger

from tasks.letters import mark_letters_posted


@flow(name="letters-posted", persist_result=False)
def letters_posted(posted_on: date | None = None) -> list[str]:
    lines = mark_letters_posted(posted_on)
    for line in lines or ["No letters waiting to be posted."]:
        get_run_logger().info(line)
    return lines
