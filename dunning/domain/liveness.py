"""Whether a running invoice run's process is still alive, told by its heartbeats alone.

A worker's runs beat (`dunning worker` sets PREFECT_FLOWS_HEARTBEAT_FREQUENCY); when their machine dies, or a
worker's whole process group is killed, the runs stay Running on the server for ever: nothing is left to say
otherwise. A run that never beat since it started running is not judged: the embedded engine's runs do not beat
(`dunning run` keeps one machine: its runs die with it, server included), and a run that has only just started
has not beaten yet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

# Ten missed beats of 30 s (Prefect's shortest interval): a loaded machine or a server restart delays a beat or
# two; a run restarted while its process still lives would run twice (the outbox keeps what it sent from going out
# again, but two processes would be doing one case's work).
SILENT_FOR = timedelta(minutes=5)


def silent_runs(running_since: Mapping[str, datetime], last_beat: Mapping[str, datetime], now: datetime,
                silent_for: timedelta = SILENT_FOR) -> list[str]:
    """The runs (by id) that beat while running and have been silent for `silent_for`: their process died."""
    return sorted(
        run for run, since in running_since.items()
        if (beat := last_beat.get(run)) is not None and beat >= since and now - beat >= silent_for
    )


def latest_beats(beats: Iterable[tuple[str, datetime]]) -> dict[str, datetime]:
    """Each run's newest beat, whatever order the server's pages give them in: an older beat read after a newer
    one must not make a live run look silent (and be restarted while its process still works)."""
    latest: dict[str, datetime] = {}
    for run, occurred in beats:
        if run not in latest or occurred > latest[run]:
            latest[run] = occurred
    return latest
