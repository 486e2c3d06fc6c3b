"""Bank statements as the source of payments: each line stored once, incoming money matched to invoices by the
rules of `dunning.bank.matching`, what the bank took back undone, what was paid too much kept as a credit, and
what no rule matches left for a person. The caller owns the transaction: a file is imported whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from dunning.bank.lines import Statement, StatementError, StatementLine
from dunning.bank.matching import (
    ZERO,
    Allocation,
    InvoiceFacts,
    Ledger,
    Match,
    MatchRule,
    allocate,
    likely_invoices,
    match_line,
)
from dunning.casework import cases, debtor_accounts, dossier, invoices
from dunning.domain.errors import InvalidInput, UserError
from dunning.domain.kinds import LineStatus, PaymentKind
from dunning.domain.time import local
from dunning.storage.models import BankLine, Debtor, DebtorAccount, DebtorCredit, DossierEntry, Invoice, Payment


@dataclass
class ImportReport:
    file: str
    read: int = 0  # lines in the file
    payments: int = 0  # new incoming payments on our accounts
    matched: int = 0
    unmatched: int = 0
    known: int = 0  # imported before (the same file again, or an overlapping statement)
    ignored: int = 0  # debits and other movements that are not a debtor's payment
    reversed: int = 0  # returns that took an earlier payment back
    touched: set[str] = field(default_factory=set)  # invoices whose open amount changed
    unmatched_lines: list[int] = field(default_factory=list)  # their ids, for a person to decide
    line_ids: list[int] = field(default_factory=list)  # every line stored by this import

    def summary(self) -> str:
        return (f"{self.file}: {self.read} lines read, {self.payments} payments, {self.matched} matched, "
                f"{self.unmatched} unmatched, {self.known} already known"
                + (f", {self.reversed} reversed" if self.reversed else ""))


def ledger(session: Session) -> Ledger:
    """Every invoice with what is open on it, in one query: matching a statement of thousands of lines must not
    ask the database per line."""
    paid = (
        select(Payment.invoice_id, func.sum(Payment.amount).label("paid"))
        .where(Payment.reversed_at.is_(None))
        .group_by(Payment.invoice_id)
        .subquery()
    )
    rows = session.execute(
        select(Invoice.number, Debtor.number, Debtor.name, Invoice.due_date, Invoice.amount,
               func.coalesce(paid.c.paid, 0), Invoice.payment_reference)
        .join(Debtor, Debtor.id == Invoice.debtor_id)
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
    )
    facts = [
        InvoiceFacts(number=n, debtor=d, debtor_name=name, due_date=due, open=Decimal(amount) - Decimal(p),
                     payment_reference=ref or "")
        for n, d, name, due, amount, p, ref in rows
    ]
    return Ledger(facts, debtor_accounts.debtors_by_account(session))


def import_statement(session: Session, statement: Statement, own_accounts: frozenset[str], now: datetime
                     ) -> ImportReport:
    """Store and act on every line not seen before. A statement for none of our accounts is refused whole: it
    is the wrong file, and importing it would only hide that.

    A statement holds thousands of lines: every line is decided first, against one ledger read in one query,
    and then written in a handful of bulk statements, not line by line. Returns, rare, go one by one after."""
    report = ImportReport(file=statement.file, read=len(statement.lines))
    foreign = [a for a in statement.accounts if a not in own_accounts]
    if statement.accounts and len(foreign) == len(statement.accounts):
        raise StatementError(
            statement.file, None,
            f"the statement is for {', '.join(foreign)}, not for the creditor's account(s) "
            f"{', '.join(sorted(own_accounts))} (settings.toml: [creditor] iban, accounts)",
        )
    known = _known_identities(session, [line.identity for line in statement.lines])
    new: list[StatementLine] = []
    for line in statement.lines:
        if line.identity in known:
            report.known += 1
        else:
            known.add(line.identity)
            new.append(line)
    book = ledger(session) if any(_is_payment(line, own_accounts) for line in new) else None

    decided: list[_Decided] = []
    for line in new:
        if line.account not in own_accounts:
            decided.append(_Decided(line, LineStatus.ignored, note="another account than the creditor's"))
        elif not line.credit and (line.reversal or line.return_reason):
            decided.append(_Decided(line, LineStatus.ignored, returned=True))  # decided once stored, below
        elif not line.credit or line.reversal:
            note = "not incoming money" if not line.credit else "the bank undid one of our own debits"
            decided.append(_Decided(line, LineStatus.ignored, note=note))
        else:
            assert book is not None
            report.payments += 1
            match = match_line(line, book)
            if not match.matched:
                decided.append(_Decided(line, LineStatus.unmatched))
                continue
            book.take(match)
            left = tuple(book.open[a.invoice] for a in match.allocations)
            decided.append(_Decided(line, LineStatus.matched, match=match, left=left))
            report.matched += 1
    report.unmatched = sum(d.status is LineStatus.unmatched for d in decided)

    ids = _insert_lines(session, statement.file, decided, now)
    if book is not None:
        _write_payments(session, statement.file, decided, ids, book, now, report)
    for d, line_id in zip(decided, ids, strict=True):
        if d.returned:
            _take_back(session, get_line(session, line_id), now, report)
    session.flush()
    statuses: dict[int, LineStatus] = {}
    for chunk in _chunks(ids):
        query = select(BankLine.id, BankLine.status).where(BankLine.id.in_(chunk))
        statuses |= {i: status for i, status in session.execute(query)}
    report.ignored = sum(status is LineStatus.ignored for status in statuses.values())
    report.unmatched_lines = [i for i in ids if statuses[i] is LineStatus.unmatched]
    report.line_ids = ids
    return report


def _is_payment(line: StatementLine, own_accounts: frozenset[str]) -> bool:
    return line.account in own_accounts and line.credit and not line.reversal


@dataclass
class _Decided:
    line: StatementLine
    status: LineStatus
    note: str | None = None
    match: Match | None = None
    left: tuple[Decimal, ...] = ()  # what stays open on each allocated invoice after this line
    returned: bool = False  # a return: it undoes an earlier payment


@dataclass(frozen=True)
class _Source:
    """A statement line as the dossier names it, before the ORM has loaded it."""

    id: int
    counterparty: str | None
    iban: str | None
    file: str
    entry: int


_CHUNK = 5000  # parameters per IN (...) list: well under SQLite's limit


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _known_identities(session: Session, identities: list[str]) -> set[str]:
    known: set[str] = set()
    for chunk in _chunks(identities):
        known |= set(session.scalars(select(BankLine.identity).where(BankLine.identity.in_(chunk))))
    return known


def _insert_lines(session: Session, file: str, decided: list[_Decided], now: datetime) -> list[int]:
    if not decided:
        return []
    rows = [
        {
            "identity": d.line.identity, "file": file, "entry": d.line.entry, "account": d.line.account,
            "booked": d.line.booked, "amount": d.line.amount, "currency": d.line.currency, "credit": d.line.credit,
            "reversal": d.line.reversal, "counterparty": (d.line.counterparty or None) and d.line.counterparty[:200],
            "iban": d.line.iban, "remittance": d.line.remittance, "reference": d.line.reference,
            "bank_reference": d.line.bank_reference, "end_to_end": d.line.end_to_end,
            "return_reason": d.line.return_reason, "status": d.status, "note": d.note,
            "rule": d.match.rule.value if d.match and d.match.rule else None, "imported_at": now, "refused": 0,
        }
        for d in decided
    ]
    returning = insert(BankLine).returning(BankLine.id, sort_by_parameter_order=True)
    return list(session.scalars(returning, rows))


def _ids_by_number(session: Session, column_id, column_number, numbers: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(numbers)):
        found |= {n: i for i, n in session.execute(select(column_id, column_number).where(column_number.in_(chunk)))}
    return found


def _write_payments(session: Session, file: str, decided: list[_Decided], ids: list[int], book: Ledger,
                    now: datetime, report: ImportReport) -> None:
    """The payments, their dossier entries, the credits and the payers' accounts of the matched lines, in bulk."""
    matched = [(d, d.match, line_id) for d, line_id in zip(decided, ids, strict=True) if d.match is not None]
    if not matched:
        return
    invoice_ids = _ids_by_number(session, Invoice.id, Invoice.number,
                                 list({a.invoice for _, m, _ in matched for a in m.allocations}))
    payments, entries, credits, accounts = [], [], [], set()
    for d, match, line_id in matched:
        line = d.line
        source = _Source(line_id, line.counterparty, line.iban, file, line.entry)
        for allocation, left in zip(match.allocations, d.left, strict=True):
            invoice_id = invoice_ids[allocation.invoice]
            payments.append({"invoice_id": invoice_id, "amount": allocation.amount, "paid_on": line.booked,
                             "reference": line.reference or line.remittance[:200] or None, "recorded_at": now,
                             "kind": PaymentKind.payment, "bank_line_id": line_id})
            summary, data = invoices.payment_evidence(line.currency, allocation.amount, line.booked, left, source)
            entries.append({"invoice_id": invoice_id, "key": f"{allocation.invoice}:payment:bank-{line_id}",
                            "kind": "payment", "at": now, "summary": summary, "data": data})
            report.touched.add(allocation.invoice)
            if line.iban:
                accounts.add((book.invoices[allocation.invoice].debtor, line.iban))
        if match.surplus > 0 and match.debtor is not None:
            credits.append((match.debtor, match.surplus, line_id))
            if line.iban:
                accounts.add((match.debtor, line.iban))
    if payments:
        session.execute(insert(Payment), payments)
        session.execute(insert(DossierEntry), entries)
    new_accounts = [(debtor, iban) for debtor, iban in sorted(accounts)
                    if debtor not in book.debtors_of_account.get(iban, ())]
    debtor_ids = _ids_by_number(session, Debtor.id, Debtor.number,
                                list({d for d, _, _ in credits} | {d for d, _ in new_accounts}))
    if credits:
        session.execute(insert(DebtorCredit), [
            {"debtor_id": debtor_ids[debtor], "amount": amount, "bank_line_id": line_id, "created_at": now}
            for debtor, amount, line_id in credits
        ])
    if new_accounts:
        session.execute(insert(DebtorAccount), [{"debtor_id": debtor_ids[d], "iban": iban, "source": "payment"}
                                                for d, iban in new_accounts])
    # A payment is a changed fact: each run looks at it at the next sweep, not at its next wake-up.
    for chunk in _chunks(sorted(invoice_ids[n] for n in report.touched)):
        session.execute(update(Invoice).where(Invoice.id.in_(chunk)).values(wake_at=now),
                        execution_options={"synchronize_session": False})


def _ignore(row: BankLine, why: str) -> None:
    row.status = LineStatus.ignored
    row.note = why


def _book(session: Session, row: BankLine, match: Match, now: datetime, report: ImportReport | None = None,
          by: str | None = None) -> None:
    """The payments a match makes: each invoice's share, and a credit on the debtor for what is left."""
    assert match.rule is not None
    numbers = [a.invoice for a in match.allocations]
    found = {i.number: i for i in session.scalars(select(Invoice).where(Invoice.number.in_(numbers)))}
    for allocation in match.allocations:
        invoice = found[allocation.invoice]
        invoices.register_payment(session, invoice, allocation.amount, row.booked, now,
                                  reference=row.reference or row.remittance[:200] or None, bank_line=row)
        if row.iban:
            debtor_accounts.add(session, invoice.debtor, row.iban, source="payment")
        if report is not None:
            report.touched.add(invoice.number)
    if match.surplus > 0 and match.debtor is not None:
        debtor = session.scalars(select(Debtor).where(Debtor.number == match.debtor)).one()
        session.add(DebtorCredit(debtor=debtor, amount=match.surplus, bank_line_id=row.id, created_at=now))
        if row.iban:
            debtor_accounts.add(session, debtor, row.iban, source="payment")
    row.status = LineStatus.matched
    row.rule = match.rule.value
    row.decided_by = by
    if report is not None:
        report.matched += 1


def _take_back(session: Session, row: BankLine, now: datetime, report: ImportReport) -> None:
    """A returned credit or charge-back: the payment it undoes no longer counts, its invoices are open again
    (a case closed as paid is reopened and its run goes on), and a credit it left is released."""
    original = _original_of(session, row)
    if original is None:
        _ignore(row, "takes back a payment this engine never recorded")
        return
    why = f"the bank took back the payment of {row.booked.isoformat()}" + (
        f" (reason {row.return_reason})" if row.return_reason else "")
    for payment in original.payments:
        if payment.reversed_at is not None:
            continue
        payment.reversed_at = now
        invoice = payment.invoice
        session.flush()
        remaining = invoices.open_amount(session, invoice)
        dossier.record(
            session, invoice, key=f"{invoice.number}:payment:{payment.id}:reversed", kind="payment", at=now,
            summary=f"payment of {invoice.currency} {payment.amount:.2f} on {payment.paid_on.isoformat()} "
            f"taken back by the bank ({row.file} entry {row.entry}"
            + (f", reason {row.return_reason}" if row.return_reason else "")
            + f"); open {invoice.currency} {remaining:.2f}",
            data={"amount": str(-payment.amount), "bank_line": row.id, "reverses": original.id,
                  "open": str(remaining)},
        )
        if invoice.closed_reason == "paid" and remaining > 0:
            cases.reopen(session, invoice, why, now)
        else:
            invoice.wake_at = now
        report.touched.add(invoice.number)
    for credit in session.scalars(select(DebtorCredit).where(DebtorCredit.bank_line_id == original.id)):
        if credit.applied_at is None and credit.released_at is None:
            credit.released_at = now
    original.status = LineStatus.reversed
    original.note = f"taken back: {row.file} entry {row.entry}"
    row.status = LineStatus.reversed
    row.note = f"takes back {original.file} entry {original.entry}"
    report.reversed += 1


def _original_of(session: Session, row: BankLine) -> BankLine | None:
    """The incoming payment a return undoes: the same amount on the same account, booked before, not yet taken
    back; the payer's end-to-end id decides where the bank gives it, else their account, else their name."""
    candidates = list(session.scalars(
        select(BankLine)
        .where(BankLine.credit.is_(True), BankLine.amount == row.amount, BankLine.account == row.account,
               BankLine.booked <= row.booked, BankLine.status.in_([LineStatus.matched, LineStatus.unmatched]),
               BankLine.id != row.id)
        .order_by(BankLine.booked.desc(), BankLine.id.desc())
    ))
    for same in (
        lambda c: bool(row.end_to_end) and c.end_to_end == row.end_to_end,
        lambda c: bool(row.iban) and c.iban == row.iban,
        lambda c: bool(row.counterparty) and (c.counterparty or "").casefold() == (row.counterparty or "").casefold(),
    ):
        found = [c for c in candidates if same(c)]
        if found:
            return found[0]
    return None


# --- what a person does ------------------------------------------------------------------------------------

def get_line(session: Session, line_id: int) -> BankLine:
    row = session.get(BankLine, line_id)
    if row is None:
        raise UserError(f"unknown statement line {line_id}")
    return row


def match_by_hand(session: Session, line_id: int, wanted: list[tuple[str, Decimal | None]], by: str | None,
                  now: datetime) -> BankLine:
    """A person says which invoices a line pays, with an amount each or, without one, oldest first up to what
    is open. What is left over becomes a credit on the (first) invoice's debtor."""
    row = get_line(session, line_id)
    if row.status is not LineStatus.unmatched:
        raise InvalidInput("line", f"line {line_id} is {row.status.value}, not unmatched: nothing to match")
    if not wanted:
        raise InvalidInput("invoice", "name at least one invoice ({field})")
    book = ledger(session)
    for number, amount in wanted:
        if number not in book.invoices:
            raise InvalidInput("invoice", f"unknown invoice {number!r} ({{field}})")
        if amount is not None:
            if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
                raise InvalidInput("amount", f"{{field}} for {number}: a positive amount in cents, got {amount}")
            if amount > book.open[number]:
                raise InvalidInput("amount", f"{{field}} for {number}: {amount:.2f} is more than is open on it "
                                   f"({book.open[number]:.2f})")
    if all(amount is None for _, amount in wanted):
        match = allocate(row.amount, book.oldest_first([n for n, _ in wanted]), book, MatchRule.person)
    else:
        if any(amount is None for _, amount in wanted):
            raise InvalidInput("amount", "give an {field} for every invoice, or for none")
        total = sum((a for _, a in wanted if a is not None), ZERO)
        if total > row.amount:
            raise InvalidInput("amount", f"the {{field}}s add up to {total:.2f}, more than the line's "
                               f"{row.amount:.2f}")
        allocations = tuple(Allocation(n, a) for n, a in wanted if a is not None)
        match = Match(rule=MatchRule.person, allocations=allocations, surplus=row.amount - total,
                      debtor=book.invoices[wanted[0][0]].debtor)
    _book(session, row, match, now, by=by)
    return row


def wanted_from_text(invoices_text: str, amounts_text: str) -> list[tuple[str, Decimal | None]]:
    """What a form's two text fields say: invoice numbers apart by spaces, commas or semicolons; amounts apart
    by semicolons or spaces (a comma in an amount is the decimal comma), one per invoice or none."""
    numbers = invoices_text.replace(",", " ").replace(";", " ").split()
    amounts: list[Decimal | None] = []
    for text in amounts_text.replace(";", " ").split():
        try:
            amounts.append(Decimal(text.replace(",", ".")))
        except ArithmeticError:
            raise InvalidInput("amount", f"{{field}}: not an amount: {text!r}") from None
    if amounts and len(amounts) != len(numbers):
        raise InvalidInput("amount", f"one amount per invoice ({{field}}): {len(numbers)} invoices, "
                           f"{len(amounts)} amounts")
    return list(zip(numbers, amounts or [None] * len(numbers), strict=True))


def ignore(session: Session, line_id: int, reason: str, by: str | None, now: datetime) -> BankLine:
    """Not a debtor's payment (a refund from a supplier, a transfer between own accounts): set aside, with why."""
    row = get_line(session, line_id)
    if row.status is not LineStatus.unmatched:
        raise InvalidInput("line", f"line {line_id} is {row.status.value}, not unmatched: nothing to set aside")
    if not reason.strip():
        raise InvalidInput("reason", "say why this is not a debtor payment ({field})")
    _ignore(row, reason.strip())
    row.decided_by = by
    row.rule = MatchRule.person.value
    return row


def suggestions(session: Session, rows: list[BankLine]) -> dict[int, list[str]]:
    """The likely invoices of each unmatched line (one ledger for all of them)."""
    unmatched = [r for r in rows if r.status is LineStatus.unmatched]
    if not unmatched:
        return {}
    book = ledger(session)
    return {r.id: likely_invoices(_as_line(r), book) for r in unmatched}


def _as_line(row: BankLine) -> StatementLine:
    return StatementLine(entry=row.entry, account=row.account, booked=row.booked, amount=row.amount,
                         currency=row.currency, credit=row.credit, reversal=row.reversal,
                         counterparty=row.counterparty, iban=row.iban, remittance=row.remittance,
                         reference=row.reference, identity=row.identity)


# --- credits ---------------------------------------------------------------------------------------------

def open_credits(session: Session) -> list[DebtorCredit]:
    return list(session.scalars(
        select(DebtorCredit)
        .where(DebtorCredit.applied_at.is_(None), DebtorCredit.released_at.is_(None))
        .order_by(DebtorCredit.created_at, DebtorCredit.id)
    ))


def apply_credit(session: Session, credit_id: int, invoice: Invoice, by: str | None, now: datetime) -> Payment:
    """A person confirms that what the debtor paid too much pays their next invoice."""
    credit = session.get(DebtorCredit, credit_id)
    if credit is None or credit.applied_at is not None or credit.released_at is not None:
        raise InvalidInput("credit", f"no open credit {credit_id} ({{field}})")
    if invoice.debtor_id != credit.debtor_id:
        raise InvalidInput("invoice", f"invoice {invoice.number} is not {credit.debtor.number}'s ({{field}})")
    open_ = invoices.open_amount(session, invoice)
    if open_ <= 0:
        raise InvalidInput("invoice", f"nothing is open on invoice {invoice.number} ({{field}})")
    amount = min(open_, credit.amount)
    line = session.get(BankLine, credit.bank_line_id) if credit.bank_line_id else None
    payment = invoices.register_payment(session, invoice, amount, local(now).date(), now,
                                        reference=f"credit {credit.id}", bank_line=line)
    credit.applied_at, credit.applied_to_id, credit.applied_by = now, invoice.id, by
    if amount < credit.amount:  # the rest stays a credit
        session.add(DebtorCredit(debtor_id=credit.debtor_id, amount=credit.amount - amount,
                                 bank_line_id=credit.bank_line_id, created_at=now))
    return payment


# --- listing -----------------------------------------------------------------------------------------------

def lines_by_id(session: Session, ids: list[int]) -> list[BankLine]:
    found: list[BankLine] = []
    for chunk in _chunks(ids):
        found += session.scalars(select(BankLine).where(BankLine.id.in_(chunk)).order_by(BankLine.id))
    return found


def lines(session: Session, unmatched_only: bool = False) -> list[BankLine]:
    query = select(BankLine).order_by(BankLine.booked, BankLine.id)
    if unmatched_only:
        query = query.where(BankLine.status == LineStatus.unmatched)
    return list(session.scalars(query))


def as_json(row: BankLine) -> dict:
    shares: dict[str, Decimal] = {}
    for payment in row.payments:
        shares.setdefault(payment.invoice.number, ZERO)
        shares[payment.invoice.number] += payment.amount
    return {
        "id": row.id,
        "booked": row.booked.isoformat(),
        "amount": f"{row.amount:.2f}",
        "credit": row.credit,
        "counterparty": row.counterparty,
        "iban": row.iban,
        "remittance": row.remittance,
        "status": row.status.value,
        "rule": row.rule,
        "note": row.note,
        "invoices": [{"invoice": n, "amount": f"{a:.2f}"} for n, a in shares.items()],
        "statement": row.file,
        "entry": row.entry,
    }
