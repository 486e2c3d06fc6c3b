"""Waking a paused invoice run: when a run may be started, and what a run paused on a person's question is
handed when it is woken. Pure rules over facts and `now`; the sweep applies them.

A run pauses under a key (Prefect's pause key) that says what it waits for; `PauseKey` is the one place that
knows the key's text: "wait-<random>" (a wake-up time, or standing still), "call-<task id>",
"approval-<task id>", "dispute-<task id>-<attempt>" (a refused answer is asked again under a new key); any of the
last three followed by "-again-<n>" when the question was asked again after a restart (flows/pausing.py)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from dunning.domain.kinds import TaskKind, TaskStatus
from dunning.domain.ladder import usually_late
from dunning.domain.policy import Policy
from dunning.domain.steps import Step, StepKind


def courtesy_call_due(due_date: date, today: date, past_lateness: tuple[int, ...], policy: Policy) -> bool:
    """Not yet due, but the debtor pays late as a rule and the courtesy call's day has come."""
    return courtesy_call_day(due_date, today, policy) and usually_late(past_lateness, policy)


def courtesy_call_day(due_date: date, today: date, policy: Policy) -> bool:
    """From the courtesy call's day until the due date itself (for a debtor the policy calls at all)."""
    if policy.late_payer_invoices == 0:
        return False
    return not (due_date < today or due_date - timedelta(days=policy.courtesy_call_days) > today)


# What follows it in a pause key counts the times a question was asked again after a restart (Prefect takes lowercase
# letters, digits and dashes).
RETAKE = "-again-"


@dataclass(frozen=True)
class PauseKey:
    """What a paused run waits for: a moment (`task_id` None) or a person's answer to task `task_id`."""

    kind: TaskKind | None = None
    task_id: int = 0
    attempt: int = 0  # disputes: the n-th time the form is shown (a refused answer is asked again)
    nonce: str = ""

    @classmethod
    def wait(cls) -> PauseKey:
        # A fresh key: a replay that must still wait suspends again rather than finding an old pause.
        return cls(nonce=uuid4().hex)

    @classmethod
    def for_task(cls, kind: TaskKind, task_id: int, attempt: int = 0) -> PauseKey:
        return cls(kind=kind, task_id=task_id, attempt=attempt)

    def __str__(self) -> str:
        if self.kind is None:
            return f"wait-{self.nonce}"
        if self.kind is TaskKind.dispute:
            return f"dispute-{self.task_id}-{self.attempt}"
        return f"{self.kind.value}-{self.task_id}"

    @classmethod
    def parse(cls, text: str) -> PauseKey | None:
        """The key a run paused under; None for a key that is not ours. A question asked again after its run was
        restarted from the top without an answer (flows/pausing.py) is the same question: "call-12-again-1" is
        "call-12"."""
        text, _, retake = text.partition(RETAKE)
        if retake and not retake.isdigit():
            return None
        prefix, _, rest = text.partition("-")
        if prefix == "wait":
            return cls(nonce=rest)
        task_id, _, attempt = rest.partition("-")
        if prefix not in (k.value for k in TaskKind) or not task_id.isdigit():
            return None
        kind = TaskKind(prefix)
        if kind is TaskKind.dispute:
            return cls.for_task(kind, int(task_id), int(attempt) if attempt.isdigit() else 0)
        return cls.for_task(kind, int(task_id)) if not attempt else None


class Hand(enum.Enum):
    """What a run paused on a person's question gets when the sweep wakes it."""

    nothing = "nothing"  # the person's answer is awaited: only they resume the run
    not_yet = "not_yet"  # woken early: the question still stands, look again at `until`
    moot = "moot"  # the question went away (paid; the due date passed): cancel it, resume with a moot answer
    set_aside = "set_aside"  # cancelled already (a dispute, a plan): resume with a moot answer, say why
    recorded = "recorded"  # answered in the database (the CLI) but not resumed: hand over that answer


@dataclass(frozen=True)
class WakeAnswer:
    hand: Hand
    why: str = ""
    until: datetime | None = None


def answer_on_waking(
    step: Step, status: TaskStatus, cancelled_why: str | None, open_amount: Decimal, now: datetime, starts: datetime
) -> WakeAnswer:
    """A run paused on task `step` (now `status`) is woken at `now`; collection of the invoice `starts`."""
    if status is TaskStatus.open and step.kind is StepKind.courtesy_call and open_amount > 0:
        if now < starts:
            return WakeAnswer(Hand.not_yet, until=starts)  # woken early (a part payment): the call still stands
        # Nobody made the courtesy call before the invoice fell due: the collection call takes over.
        return WakeAnswer(Hand.moot, "the due date passed")
    if status is TaskStatus.open and open_amount <= 0:
        # Paid while a person's answer was awaited: the question is moot; the run sees the payment.
        return WakeAnswer(Hand.moot, "invoice paid")
    if status is TaskStatus.cancelled:
        return WakeAnswer(Hand.set_aside, cancelled_why or "cancelled")
    if status is TaskStatus.done:
        return WakeAnswer(Hand.recorded)
    return WakeAnswer(Hand.nothing)
