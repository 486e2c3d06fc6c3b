"""The bank accounts debtors pay from: given in the invoice import or a UBL invoice, or learned when a person or a
rule matched a payment from it. The third matching rule reads them."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.storage.models import Debtor, DebtorAccount


def add(session: Session, debtor: Debtor, iban: str, source: str) -> None:
    """Once per debtor and account; the first source that named it stays."""
    if debtor.id is not None:
        known = select(DebtorAccount.id).where(DebtorAccount.debtor_id == debtor.id, DebtorAccount.iban == iban)
        if session.scalar(known) is not None:
            return
    pending = [o for o in session.new if isinstance(o, DebtorAccount) and o.iban == iban]
    if any(o.debtor is debtor for o in pending):
        return
    session.add(DebtorAccount(debtor=debtor, iban=iban, source=source))


def debtors_by_account(session: Session) -> dict[str, set[str]]:
    """IBAN -> the numbers of the debtors known to pay from it (a parent company may pay for several)."""
    found: dict[str, set[str]] = defaultdict(set)
    for iban, number in session.execute(
        select(DebtorAccount.iban, Debtor.number).join(Debtor, Debtor.id == DebtorAccount.debtor_id)
    ):
        found[iban].add(number)
    return dict(found)
