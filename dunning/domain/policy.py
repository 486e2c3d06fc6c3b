"""How patient the collection ladder is. The built-in default; an operator changes it and adds named policies
per debtor in DUNNING_HOME/policies.toml (dunning/casework/policies.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

BUSINESS_COSTS = ("charge", "announce", "never")  # the choices of Policy.business_costs


@dataclass(frozen=True)
class Policy:
    grace_days: int = 3  # days after the due date before the first call
    max_calls: int = 6  # call tasks in all before we rely on writing (a broken promise earns a new call)
    call_attempts: int = 3  # tries to reach the debtor, at different times of day, before writing instead
    call_retry_hours: int = 3  # at least this long between two tries (a morning try at 10:00 is retried at 14:00)
    aanmaning_after_days: int = 7  # days after the herinnering
    aanmaning_term_days: int = 14  # days the aanmaning gives to pay, before an ingebrekestelling is proposed
    business_term_days: int = 14  # term of a business ingebrekestelling (BW 6:82: a reasonable term)
    incasso_notice_days: int = 7  # days the incasso announcement gives before the hand-off
    courtesy_call_days: int = 3  # a known late payer gets a courtesy call this many days before the due date
    late_payer_days: int = 10  # ... when their last paid invoices were on average more than this many days late
    late_payer_invoices: int = 3  # ... counting this many of their last paid invoices (0: no courtesy calls)
    plan_grace_days: int = 5  # days an instalment of a payment plan may be late before the plan counts as broken
    dispute_days: int = 10  # days the person responsible gets to sort out a dispute (the task's due date)
    plan_request_days: int = 5  # days escalation waits for a payment plan the debtor asked for to be agreed
    # the steps that go by letter (and by e-mail) whatever channel the debtor prefers: the evidence that reached them
    by_post: tuple[str, ...] = ("ingebrekestelling",)
    # the steps a person approves first (the incasso hand-off always needs its evidence, approved or not)
    approvals: tuple[str, ...] = ("ingebrekestelling", "incasso")
    working_hour: time = time(9, 0)  # wake-ups happen at this local time
    hold_after: str | None = "ingebrekestelling"  # the step after which the debtor goes on credit hold
    tone: str = "formal"  # the greeting: "formal" ("Geachte heer Jansen,") or "informal" ("Beste Jan,")
    # a business debtor's collection costs (BW 6:96 lid 4; consumers always get the 14-dagenbrief, lid 6):
    # "charge" them in the ingebrekestelling, "announce" them there and claim them once its term has passed
    # (the incasso-aankondiging, the hand-off), or "never" claim them
    business_costs: str = "charge"
    # a business debtor's invoices due for the ingebrekestelling (or the incasso-aankondiging) together get one
    # letter naming them all, its costs over their total principal; false: a letter per invoice (consumers always
    # get one letter: BW 6:96 and the Besluit BIK count the costs over the whole demand)
    one_formal_letter: bool = True


DEFAULT = Policy()
