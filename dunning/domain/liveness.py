"""Whether a running invoice run's process is still alive, told by its heartbeats alone.

A worker's runs beat (the work pool's job template sets PREFECT_FLOWS_HEARTBEAT_FREQUENCY); when their machine
dies, or a worker's whole process group is killed, the runs stay Running on the server for ever: nothing is left to say
otherwise. A run that never beat since it started running is judged only where it should have: a worker's run
(the work pool's runs beat, whichever worker took them) killed in its first seconds, before its first beat, is as
dead as one that beat once; the embedded engine's runs do not beat (`dunning run` keeps one machine: its runs die
with it, server included) and are never judged."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta

# Ten missed beats of 30 s (Prefect's shortest interval): a loaded machine or a server restart delays a beat or
# two; a run restarted while its process still lives would run twice (the outbox keeps what it sent from going out
# again, but two processes would be doing one case's work).
SILENT_FOR = timedelta(minutes=5)


def silent_runs(running_since: Mapping[str, datetime], last_beat: Mapping[str, datetime], now: datetime,
                silent_for: timedelta = SILENT_FOR, beating: Collection[str] = ()) -> list[str]:
    """The runs (by id) silent for `silent_for`: their process died. `beating`: the runs that beat from their
    start (a work pool's), silent also when they never beat since they started running; the others only once
    they beat."""
    def heard_last(run: str, since: datetime) -> datetime | None:
        beat = last_beat.get(run)
        if beat is not None and beat >= since:
            return beat
        return since if run in beating else None

    return sorted(
        run for run, since in running_since.items()
        if (heard := heard_last(run, since)) is not None and now - heard >= silent_for
    )


def latest_beats(beats: Iterable[tuple[str, datetime]]) -> dict[str, datetime]:
    """Each run's newest beat, whatever order the server's pages give them in: an older beat read after a newer
    one must not make a live run look silent (and be restarted while its process still works)."""
    latest: dict[str, datetime] = {}
    for run, occurred in beats:
        if run not in latest or occurred > latest[run]:
            latest[run] = occurred
    return latest
