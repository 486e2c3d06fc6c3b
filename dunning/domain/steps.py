"""The step vocabulary: every step an invoice's case can take, one type for the ladder, templates, channels,
policies, the outbox, human tasks and the CLI.

A step is stored as text (`human_task.step`, `outbox_message.step`, dossier keys) in a format older rows and
paused runs already carry; `Step.parse` and `str(step)` are the only places that know it:

    herinnering, aanmaning, ingebrekestelling, incasso-aankondiging   a message of the ladder
    betaalafspraak@call-2            the confirmation of the promise made in call 2
    betalingsregeling@plan-3         the confirmation of payment plan 3
    betwisting-afgewezen@dispute-1   why dispute 1 does not stop the claim
    factuurkopie@call-2              the copy of the invoice promised in call 2
    rekeningoverzicht                a statement of account, sent on request (not a step of the ladder)
    call-2, courtesy-call            a call task (the second collection call; the courtesy call)
    approve-ingebrekestelling@2      the second time that approval is asked (the first has no "@1")
    dispute-1, plan-3                a dispute being sorted out; a payment plan
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Message(enum.StrEnum):
    """What the debtor receives: names the template and the dossier's evidence kind."""

    herinnering = "herinnering"
    aanmaning = "aanmaning"
    ingebrekestelling = "ingebrekestelling"
    incasso_aankondiging = "incasso-aankondiging"  # told to the debtor before the hand-off
    betaalafspraak = "betaalafspraak"  # the promise made on the phone, confirmed in writing
    betalingsregeling = "betalingsregeling"  # the payment plan, confirmed in writing
    betwisting_afgewezen = "betwisting-afgewezen"  # why the dispute does not stop the claim
    factuurkopie = "factuurkopie"  # a copy of the invoice, promised on the phone
    # The statement of account a person sends on request (`dunning statement`): every open invoice of the debtor,
    # on record (outbox row) on the oldest of them. No step of the ladder: `decide` never sends it.
    rekeningoverzicht = "rekeningoverzicht"


# The formal ladder, in order: its evidence must be in the dossier before incasso.
LADDER = (Message.herinnering, Message.aanmaning, Message.ingebrekestelling)
# What a person may approve before it happens (policy `approvals`).
GATES = ("ingebrekestelling", "incasso")


class StepKind(enum.StrEnum):
    message = "message"
    call = "call"
    courtesy_call = "courtesy-call"
    approval = "approve"
    dispute = "dispute"
    plan = "plan"


class StepError(ValueError):
    """Text that is no step of the vocabulary."""


@dataclass(frozen=True)
class Step:
    """One step of an invoice's case. Build it with the class methods; compare and hash it freely."""

    kind: StepKind
    number: int = 0  # call 2, dispute 1, plan 3, the approval's attempt (1 the first time); 0 for a message
    message: Message | None = None  # the message sent (kind message)
    gate: str = ""  # what an approval approves: "ingebrekestelling" or "incasso"
    about: Step | None = None  # the step a message answers: the call, plan or dispute it confirms or explains

    # -- building ------------------------------------------------------------------------------------------

    @classmethod
    def send(cls, message: Message | str, about: Step | None = None) -> Step:
        return cls(StepKind.message, message=Message(message), about=about)

    @classmethod
    def call(cls, number: int) -> Step:
        return cls(StepKind.call, number=number)

    @classmethod
    def courtesy_call(cls) -> Step:
        return cls(StepKind.courtesy_call)

    @classmethod
    def approval(cls, gate: str, attempt: int = 1) -> Step:
        if gate not in GATES:
            raise StepError(f"nothing to approve called {gate!r}; expected one of {', '.join(GATES)}")
        return cls(StepKind.approval, number=attempt, gate=gate)

    @classmethod
    def dispute(cls, number: int) -> Step:
        return cls(StepKind.dispute, number=number)

    @classmethod
    def plan(cls, plan_id: int) -> Step:
        return cls(StepKind.plan, number=plan_id)

    # -- reading -------------------------------------------------------------------------------------------

    @property
    def is_message(self) -> bool:
        return self.kind is StepKind.message

    @property
    def is_call(self) -> bool:
        return self.kind in (StepKind.call, StepKind.courtesy_call)

    @property
    def sends(self) -> Message:
        """The message this step sends (a message step only)."""
        if self.message is None:
            raise StepError(f"{self} sends no message")
        return self.message

    def again(self) -> Step:
        """The same approval asked once more (after escalation stood still and took up again)."""
        assert self.kind is StepKind.approval
        return Step.approval(self.gate, self.number + 1)

    def __str__(self) -> str:
        match self.kind:
            case StepKind.message:
                return f"{self.sends.value}@{self.about}" if self.about else self.sends.value
            case StepKind.courtesy_call:
                return StepKind.courtesy_call.value
            case StepKind.approval:
                return f"approve-{self.gate}" + (f"@{self.number}" if self.number > 1 else "")
            case _:
                return f"{self.kind.value}-{self.number}"

    def __repr__(self) -> str:
        return f"Step({str(self)!r})"

    @classmethod
    def parse(cls, text: str) -> Step:
        """The step a stored or typed text names; `StepError` if it names none."""
        head, at, tail = text.partition("@")
        if head == StepKind.courtesy_call.value and not at:
            return cls.courtesy_call()
        if head.startswith("approve-"):
            gate = head.removeprefix("approve-")
            if gate in GATES and (not at or _number(tail) > 1):
                return cls.approval(gate, _number(tail) if at else 1)
            raise StepError(f"not a step: {text!r}")
        if head in _MESSAGES:
            return cls.send(head, cls.parse(tail) if at else None)
        kind, dash, number = head.rpartition("-")
        if not at and dash and kind in (StepKind.call, StepKind.dispute, StepKind.plan) and _number(number) > 0:
            return cls(StepKind(kind), number=_number(number))
        raise StepError(f"not a step: {text!r}")


_MESSAGES = frozenset(m.value for m in Message)


def _number(text: str) -> int:
    if not text.isdigit() or text.startswith("0"):
        return 0
    return int(text)


# The steps people may preview or approve, in the order a case meets them.
MESSAGES = tuple(Message)
