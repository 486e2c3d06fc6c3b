"""What a person does at the desk, one function per action, for every front end: the `dunning` verbs and the
Prefect UI's desk-action deployments (flows/desk_actions.py) do the same through these.

Each takes the caller's session, changes the facts in it and returns the line that says what it did; a mistake
raises `UserError` (or `InvalidInput`, for the front end to name its field) before anything is committed, so the
caller's one transaction changes nothing. Waking the invoice's run is the caller's: `Done.wake` names the invoice
whose run should see the new facts now (as `dunning dispute`, `resolve` and `plan` do)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from dunning.casework import disputes, holds, invoices, personal_notes, plans, policies
from dunning.domain.errors import InvalidInput, UserError
from dunning.domain.fields import require_line, require_text
from dunning.storage import clock


@dataclass(frozen=True)
class Done:
    line: str  # what the `dunning` verb prints
    wake: str | None = None  # the invoice whose run is handed the new facts now, if it has one


# What a person types as an amount: digits with a decimal comma or point ("1234,56", "1234.56"), thousands
# grouped only beside the other mark and with the cents given ("1.234,56", "1,234.56"), so nothing reads two
# ways. No exponent (1E+2), underscore (1_000), sign or digits of other scripts, which Decimal() would all take.
_AMOUNT = re.compile(r"(?P<whole>\d+)(?:[.,](?P<cents>\d{1,2}))?|(?P<grouped>\d{1,3}(?:(?P<g>[.,])\d{3})+)"
                     r"(?P<mark>[.,])(?P<gcents>\d{2})", re.ASCII)


def parse_amount(value: str, field: str = "amount") -> Decimal:
    """An amount a person typed, the one rule and words for every front end: a payment, a credit, an instalment,
    and the amounts of the `dunning` verbs besides (`dunning call --amount`, `dunning payments match --amount`).
    `field` names the value for the front end to phrase (`InvalidInput`)."""
    match = _AMOUNT.fullmatch(value.strip())
    if match is None or (match["grouped"] and match["g"] == match["mark"]):
        raise InvalidInput(field, f"{{field}}: malformed amount {value!r}: use digits with a decimal comma or point, "
                           "e.g. 125,50 or 125.50")
    if match["grouped"]:
        amount = Decimal(f"{match['grouped'].replace(match['g'], '')}.{match['gcents']}")
    else:
        amount = Decimal(f"{match['whole']}.{match['cents'] or '0'}")
    if amount <= 0 or amount.adjusted() >= 12:
        raise InvalidInput(field, f"{{field}}: an amount above 0.00 and below 1,000,000,000,000.00, got {value!r}")
    return amount.quantize(Decimal("0.01"))


def register_payment(s: Session, invoice: str, amount: str, paid_on: date | None, now: datetime,
                     overpayment: bool = False) -> Done:
    """`dunning pay INVOICE AMOUNT [--date] [--overpayment]`: paid today unless a date is given. More than is open
    is refused unless `overpayment` says the debtor did pay too much (the rest is then a credit on the invoice);
    a payment cannot be dated after today or before the invoice was issued."""
    value = parse_amount(amount)
    inv = invoices.get(s, invoice)
    today = clock.local(now).date()
    day = paid_on or today
    if day > today:
        raise InvalidInput("date", f"{{field}} {day.isoformat()} is in the future (today is {today.isoformat()})")
    if day < inv.issue_date:
        raise InvalidInput("date", f"{{field}} {day.isoformat()} is before invoice {invoice} was issued "
                           f"({inv.issue_date.isoformat()})")
    open_now = invoices.open_amount(s, inv)
    plan = plans.active_plan(s, inv)
    owed = open_now + (plan.costs if plan is not None else Decimal("0.00"))  # a plan's agreed costs are owed too
    if value > owed and not overpayment:
        raise InvalidInput("amount", f"{{field}} {value:.2f} is more than the open {inv.currency} {owed:.2f} "
                           "on " + invoice + "; say --overpayment if the debtor did pay too much")
    invoices.register_payment(s, inv, value, day, now)
    remaining = invoices.open_amount(s, inv)
    return Done(f"{invoice}: payment of {inv.currency} {value:.2f} registered; open {inv.currency} {remaining:.2f}")


def add_note(s: Session, invoice: str, text: str, by: str, now: datetime) -> Done:
    """`dunning note INVOICE TEXT [--by]`."""
    require_text("text", text)
    require_line("by", by)
    inv = invoices.get(s, invoice)
    personal_notes.add(s, inv, text, by.strip() or None, now)
    return Done(f"{invoice}: note added; it goes with the next message (see it with `dunning preview`)")


def credit_hold(s: Session, debtor: str, reason: str, off: bool, by: str, now: datetime) -> Done:
    """`dunning hold DEBTOR [--reason] [--off] [--by]`: set, or lift with `off`."""
    require_line("by", by)
    if not off:
        require_text("reason", reason)
        if not reason.strip():
            raise InvalidInput("reason", "{field} is empty: say why deliveries stop")
    d = holds.get_debtor(s, debtor)
    if off:
        changed = holds.lift(s, d, now, by.strip() or None)
        return Done(f"{debtor}: credit hold lifted" if changed else f"{debtor}: was not on hold")
    changed = holds.put_on_hold(s, d, reason.strip(), now, key=f"{d.number}:hold:{now.isoformat()}")
    return Done(f"{debtor}: on credit hold" if changed else f"{debtor}: already on hold since {d.hold_since}")


def register_dispute(s: Session, home: Path, invoice: str, reason: str, by: str, responsible: str,
                     due_on: date | None, now: datetime) -> Done:
    """`dunning dispute INVOICE --reason [--responsible] [--due] [--by]`: due by the policy's term unless given."""
    require_text("reason", reason)
    require_line("responsible", responsible)
    require_line("by", by)
    if due_on is not None and due_on < clock.local(now).date():
        raise InvalidInput("due", f"{{field}} {due_on.isoformat()} is in the past (today is "
                           f"{clock.local(now).date().isoformat()})")
    inv = invoices.get(s, invoice)
    policy = policies.policy_for(home, inv.debtor.number)
    task = disputes.raise_dispute(
        s, inv, reason, now, by=by, responsible=responsible, due_on=due_on, days=policy.dispute_days
    )
    due_text = task.due_on.isoformat() if task.due_on else "-"
    return Done(f"{invoice}: {task.step} registered, to be sorted out by {due_text}; escalation stands still",
                wake=invoice)


def resolve_dispute(s: Session, invoice: str, upheld: bool, reason: str, credit: str | None, write_off: bool,
                    by: str, now: datetime) -> Done:
    """`dunning resolve INVOICE --upheld/--rejected [--credit] [--write-off] [--reason] [--by]`."""
    require_text("reason", reason)
    require_line("by", by)
    amount = parse_amount(credit, "credit") if credit is not None else None
    inv = invoices.get(s, invoice)
    task = disputes.resolve(s, inv, upheld=upheld, now=now, by=by, reason=reason, credit=amount, write_off=write_off)
    left = invoices.open_amount(s, inv)
    verdict = "upheld" if upheld else "rejected"
    return Done(f"{invoice}: {task.step} {verdict}; open {inv.currency} {left:.2f}", wake=invoice)


def agree_plan(s: Session, invoice: str, instalments: list[tuple[date, str]], costs: str, by: str,
               now: datetime) -> Done:
    """`dunning plan INVOICE --instalment DATE=AMOUNT ... [--costs] [--by]`, each instalment as its date and the
    amount as typed."""
    require_line("by", by)
    read = [(due_on, _instalment_amount(n, amount)) for n, (due_on, amount) in enumerate(instalments, start=1)]
    extra = Decimal("0.00") if costs.strip() in ("0", "0.00", "0,00") else parse_amount(costs, "costs")
    inv = invoices.get(s, invoice)
    agreed = plans.agree(s, inv, read, now, costs=extra, by=by)
    total = sum((i.amount for i in agreed.instalments), Decimal("0.00"))
    return Done(f"{invoice}: payment plan of {len(agreed.instalments)} instalments, {inv.currency} {total:.2f} in "
                "all, agreed", wake=invoice)


def _instalment_amount(n: int, amount: str) -> Decimal:
    try:
        return parse_amount(amount, "amount")
    except InvalidInput as e:
        raise UserError(f"instalment {n}: {e.phrased('amount')}") from None
