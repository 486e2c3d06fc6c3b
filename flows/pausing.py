"""Which key a run pauses under for a person's answer.

A question's key is stable so that a run resumed with the answer, and so replayed from the top, finds its pause
"already fired" and gets the stored answer back (Prefect's own mechanism). But a run can be started from the top
while the question was never answered: it crashed, or its process died, while it waited or just after it paused,
and the sweep (or `dunning retry`) restarted it. Prefect then rejects the pause under the fired key and hands the
run an empty answer, which no form accepts: the run fails, and fails again at every retry, and the case is stuck
for good (found by benchmarks/chaos.py, a Prefect server killed while runs paused for approval). Such a question is
asked again under a retake of its key (not a new attempt: refused answers count those)."""

from __future__ import annotations

from prefect.context import FlowRunContext
from prefect.input.actions import aread_flow_run_input
from prefect.input.run_input import keyset_from_paused_state
from prefect.states import Suspended

from dunning.domain.wakeups import RETAKE


def fired_keys() -> set[str]:
    """The keys this run paused under so far (as the server had them when this process took the run up)."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return set()
    return set(context.flow_run.empirical_policy.pause_keys or ())


async def answerable_key(key: str) -> str:
    """`key`, or the same question's key asked again ("call-12-again-1", "-again-2", ...): the first that never
    fired (a new pause) or fired and was answered (a replay that gets its answer back); one fired without an answer
    is passed over. A retake is not a new attempt: a dispute's or payment's refused answer counts those."""
    fired = fired_keys()
    retake, asked = 0, key
    while asked in fired and not await answered(asked):
        retake += 1
        asked = f"{key}{RETAKE}{retake}"
    return asked


async def answered(key: str) -> bool:
    """Whether the run was resumed with an answer to its pause under `key`."""
    keyset = keyset_from_paused_state(Suspended(pause_key=key))
    return await aread_flow_run_input(keyset["response"]) is not None
