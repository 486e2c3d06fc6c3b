"""The books as the accounting package keeps them: invoices taken in from its records (new ones added, changed
ones corrected with a dossier entry saying what changed), credit notes lowering what is open, and the open-items
list settling what the package no longer has open. The caller owns the transaction: a file goes in whole or not
at all."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import islice

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from dunning.bank.references import payment_reference
from dunning.casework import dossier, invoices
from dunning.documents.records import DebtorRecord, DocumentError, DocumentKind, InvoiceRecord
from dunning.documents.spreadsheet import row_error
from dunning.domain.errors import UserError
from dunning.domain.kinds import Channel, DebtorKind, PaymentKind
from dunning.storage.models import Debtor, DebtorAccount, DebtorCredit, Invoice, Payment, Setting

ZERO = Decimal("0.00")
CHUNK = 500  # numbers per IN (...): well within every database's limit on bound parameters
BULK = 5000  # rows per INSERT (executemany), and records per chunk of a take-in
ANALYZE_AFTER = 1000  # rows inserted at once that change what PostgreSQL should believe of the tables

# What of a debtor the newest export knows better than we do.
_DEBTOR_FIELDS = ("name", "email", "phone", "street", "postcode", "city", "country", "contact_name",
                  "contact_salutation", "company_id",
                  "vat_id", "call_times")
_NEW_DEBTOR = (*_DEBTOR_FIELDS, "kind", "language", "preferred_channel")  # every row names every column


@dataclass
class TakenIn:
    invoices_added: int = 0
    invoices_unchanged: int = 0
    debtors_added: int = 0
    debtors_updated: int = 0
    invoices_corrected: int = 0
    credit_notes: int = 0
    pdfs: dict[str, bytes] = field(default_factory=dict)  # invoice number -> its PDF, written after the commit

    def summary(self, file: str) -> str:
        corrected = f", {self.invoices_corrected} corrected" if self.invoices_corrected else ""
        credits = f", {self.credit_notes} credit notes" if self.credit_notes else ""
        return (f"{file}: {self.invoices_added} invoices added, {self.invoices_unchanged} unchanged{corrected}"
                f"{credits}; {self.debtors_added} debtors added, {self.debtors_updated} updated")


def take_in(session: Session, file: str, records: Iterable[InvoiceRecord], now: datetime,
            default_kind: DebtorKind = DebtorKind.business) -> TakenIn:
    """Invoices first, then credit notes (a file may hold an invoice and the credit note against it). `records`
    is never held: a streamed export (`documents.spreadsheet.InvoiceRows`) keeps memory flat however long it is.
    One pass over the invoices, a chunk at a time: what the books refuse is looked for (an invoice moved to another
    debtor or currency), and while nothing is refused the chunk is written (what is known already read in one
    query per chunk of numbers, what is new inserted in one statement per chunk). A refusal is raised once the
    whole file has been read, so a bad row the reader finds anywhere comes first; the caller's transaction takes
    back what was written. Then the credit notes, checked before any is booked."""
    if iter(records) is records:  # an iterator can be read once only
        records = list(records)
    report = TakenIn()
    debtor_ids: dict[str, int] = {}
    move: DocumentError | None = None
    # Credit notes are few: what each credits, and the owner the file gives that invoice (an invoice after its
    # credit note is found in this pass; one before it, in another pass only when the books lack it).
    credits: list[InvoiceRecord] = []
    owners: dict[str, str] = {}
    for chunk in _batches(records, BULK):
        bills = [r for r in chunk if r.kind is DocumentKind.invoice]
        credits += [r for r in chunk if r.kind is DocumentKind.credit_note]
        targets = {r.credits_invoice for r in credits if r.credits_invoice is not None}
        owners |= {r.number: r.debtor.number for r in bills if r.number in targets}
        if move is None and bills:
            move = _take_in_invoices(session, file, bills, debtor_ids, now, default_kind, report)
            report.pdfs |= {r.number: r.pdf for r in bills if r.pdf is not None}
    if move is not None:
        raise move
    if credits:
        _check_credits(session, file, records, credits, owners)
        for chunk in _batches(credits, BULK):
            _debtors(session, chunk, debtor_ids, default_kind, report)
            _accounts(session, chunk, debtor_ids)
            for record in chunk:
                if _credit(session, file, record, session.get_one(Debtor, debtor_ids[record.debtor.number]), now):
                    report.credit_notes += 1
    session.flush()
    if report.invoices_added + report.debtors_added >= ANALYZE_AFTER:
        _analyze(session)
    return report


def _take_in_invoices(session: Session, file: str, chunk: list[InvoiceRecord], debtor_ids: dict[str, int],
                      now: datetime, default_kind: DebtorKind, report: TakenIn) -> DocumentError | None:
    """A chunk of invoices: their debtors and accounts, the new invoices inserted, the known ones corrected. An
    invoice the books have under another debtor or currency: that refusal, and nothing of the chunk written."""
    known = _known_invoices(session, {r.number for r in chunk})
    for record in chunk:
        if record.number in known:
            invoice, debtor = known[record.number]
            if (move := _moved(file, record, debtor, invoice.currency)) is not None:
                return move
    _debtors(session, chunk, debtor_ids, default_kind, report)
    _accounts(session, chunk, debtor_ids)
    fresh: dict[str, InvoiceRecord] = {}
    again = []  # an invoice twice in one call (not from a spreadsheet, whose reader refuses or merges that)
    for record in chunk:
        if record.number in known or record.number in fresh:
            again.append(record)
        else:
            fresh[record.number] = record
    _insert_invoices(session, list(fresh.values()), debtor_ids)
    report.invoices_added += len(fresh)
    booked = _booked_amounts(session, [invoice for invoice, _debtor in known.values()])
    for record in again:
        found = known.get(record.number)
        if found is None:
            invoice = session.scalars(select(Invoice).where(Invoice.number == record.number)).one()
            amount, debtor = _booked_amount(session, invoice), invoice.debtor.number
        else:
            invoice, debtor = found
            amount = booked.get(invoice.id, invoice.amount)
        if _correct(session, file, record, invoice, debtor, now, amount):
            report.invoices_corrected += 1
        else:
            report.invoices_unchanged += 1
        booked.pop(invoice.id, None)  # corrected: the next look reads it anew
        known.pop(record.number, None)
    return None


def _analyze(session: Session) -> None:
    """PostgreSQL plans by its statistics, and a table just filled in bulk has none until autovacuum comes by:
    the sweep's indexed look-ups (due date, wake-up time) would be planned as scans of a table it believes
    empty. Inside the transaction, so the statistics count the rows it wrote and arrive with them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(t.__tablename__ for t in (Invoice, Debtor, DebtorAccount))}"))


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _batches(items: Iterable[InvoiceRecord], size: int) -> Iterator[list[InvoiceRecord]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _known_invoices(session: Session, numbers: set[str]) -> dict[str, tuple[Invoice, str]]:
    """The invoices of these numbers already in the books, with their debtor's number."""
    found = [invoice for chunk in _chunks(sorted(numbers))
             for invoice in session.scalars(select(Invoice).where(Invoice.number.in_(chunk)))]
    # Apart, not joined: by their indexes, whatever the planner believes of tables just filled in bulk.
    debtors: dict[int, str] = {}
    for ids in _chunks(sorted({invoice.debtor_id for invoice in found})):
        debtors |= {i: number for i, number in session.execute(select(Debtor.id, Debtor.number).where(
            Debtor.id.in_(ids)))}
    return {invoice.number: (invoice, debtors[invoice.debtor_id]) for invoice in found}


def _known_owners(session: Session, numbers: set[str]) -> dict[str, tuple[str, str]]:
    """Invoice number -> (its debtor's number, its currency), of those of `numbers` in the books."""
    owners: dict[str, tuple[str, str]] = {}
    for chunk in _chunks(sorted(numbers)):
        owners |= {n: (d, c) for n, d, c in session.execute(
            select(Invoice.number, Debtor.number, Invoice.currency).join(Debtor, Invoice.debtor_id == Debtor.id)
            .where(Invoice.number.in_(chunk)))}
    return owners


def _check_credits(session: Session, file: str, records: Iterable[InvoiceRecord], credits: list[InvoiceRecord],
                   owners: dict[str, str]) -> None:
    """A credit note on an invoice that is neither in the books nor in the file, or that is another debtor's:
    the first such refused, naming its row. `owners`: the file's invoices that credit notes read before them
    credit, with their debtor."""
    targets = {r.credits_invoice for r in credits if r.credits_invoice is not None}
    known_owners = {n: debtor for n, (debtor, _currency) in _known_owners(session, targets).items()}
    if missing := targets - known_owners.keys() - owners.keys():
        owners |= {r.number: r.debtor.number for r in records
                   if r.kind is DocumentKind.invoice and r.number in missing}
    for record in credits:
        if record.credits_invoice is None:
            continue
        owner = known_owners.get(record.credits_invoice, owners.get(record.credits_invoice))
        if owner is None:
            raise _refusal(file, record, "credits_invoice", f"credits invoice {record.credits_invoice}, which is "
                           "not in the books here (import it first)")
        if owner != record.debtor.number:
            raise _refusal(file, record, "credits_invoice", f"credits invoice {record.credits_invoice} of debtor "
                           f"{owner}, not of {record.debtor.number}")


def _debtors(session: Session, records: list[InvoiceRecord], ids: dict[str, int], default_kind: DebtorKind,
             report: TakenIn) -> None:
    """Adds to `ids` (debtor number -> id) the debtors of `records` not in it yet: the newest export knows a
    debtor's current contact data (the first record of each debtor in the file says it); new debtors are
    inserted in bulk."""
    first: dict[str, DebtorRecord] = {}
    for record in records:
        if record.debtor.number not in ids:
            first.setdefault(record.debtor.number, record.debtor)
    for chunk in _chunks(list(first)):
        for debtor in session.scalars(select(Debtor).where(Debtor.number.in_(chunk))):
            ids[debtor.number] = debtor.id
            # A field the file leaves out stays as it was only where the file has no such field at all (UBL has
            # no call times, a CSV may lack contact_name).
            changes = {a: w for a, w in _wanted(first[debtor.number]).items()
                       if w is not None and getattr(debtor, a) != w}
            for attr, value in changes.items():
                setattr(debtor, attr, value)
            if changes:
                report.debtors_updated += 1
    new = [record for number, record in first.items() if number not in ids]
    report.debtors_added += len(new)
    for chunk in _chunks(new, BULK):
        rows = []
        for record in chunk:
            channel = Channel.email if record.email else Channel.letter
            row = {"preferred_channel": channel, "kind": default_kind, "language": "nl"} | _wanted(record)
            rows.append({attr: row.get(attr) for attr in _NEW_DEBTOR} | {"number": record.number})
        session.execute(insert(Debtor), rows)
        for numbers in _chunks([r.number for r in chunk]):
            ids |= {number: debtor_id for number, debtor_id in session.execute(select(
                Debtor.number, Debtor.id).where(Debtor.number.in_(numbers)))}


def _wanted(record: DebtorRecord) -> dict[str, object]:
    wanted: dict[str, object] = {attr: getattr(record, attr) for attr in _DEBTOR_FIELDS}
    if record.language:
        wanted["language"] = record.language
    if record.kind is not None:
        wanted["kind"] = record.kind
    if record.preferred_channel:
        wanted["preferred_channel"] = Channel(record.preferred_channel)
    return wanted


def _accounts(session: Session, records: list[InvoiceRecord], debtor_ids: dict[str, int]) -> None:
    """The accounts the file says its debtors pay from, once per debtor and account."""
    wanted = list(dict.fromkeys((debtor_ids[r.debtor.number], r.debtor.iban) for r in records if r.debtor.iban))
    known: set[tuple[int, str]] = set()
    for chunk in _chunks(sorted({debtor for debtor, _iban in wanted})):
        known |= {(debtor, iban) for debtor, iban in session.execute(select(
            DebtorAccount.debtor_id, DebtorAccount.iban).where(DebtorAccount.debtor_id.in_(chunk)))}
    rows = [{"debtor_id": debtor, "iban": iban, "source": "import"} for debtor, iban in wanted
            if (debtor, iban) not in known]
    for chunk in _chunks(rows, BULK):
        session.execute(insert(DebtorAccount), chunk)


def _insert_invoices(session: Session, records: list[InvoiceRecord], debtor_ids: dict[str, int]) -> None:
    """New invoices in bulk, each with its payment reference: readable unless another invoice has it."""
    readable = {r.number: payment_reference(r.number) for r in records}
    taken: set[str] = set()
    for chunk in _chunks(sorted(set(readable.values()))):
        taken |= set(session.scalars(select(Invoice.payment_reference).where(Invoice.payment_reference.in_(chunk))))
    for chunk in _chunks(records, BULK):
        rows = []
        for record in chunk:
            reference = readable[record.number]
            if reference in taken:
                reference = payment_reference(record.number, hashed=True)
            taken.add(reference)
            rows.append({"number": record.number, "debtor_id": debtor_ids[record.debtor.number],
                         "issue_date": record.issue_date, "due_date": record.due_date, "amount": record.amount,
                         "currency": record.currency, "payment_reference": reference})
        session.execute(insert(Invoice), rows)


def _booked_amounts(session: Session, known: list[Invoice]) -> dict[int, Decimal]:
    """`_booked_amount` of many invoices: one query per chunk for the corrections that lowered them."""
    lowered: dict[int, Decimal] = {}
    for chunk in _chunks([invoice.id for invoice in known]):
        for invoice_id, amount in session.execute(select(Payment.invoice_id, Payment.amount).where(
                Payment.invoice_id.in_(chunk), Payment.kind == PaymentKind.credit_note,
                Payment.reference.like("correction by import%"))):
            lowered[invoice_id] = lowered.get(invoice_id, ZERO) + amount
    return {invoice.id: invoice.amount - lowered.get(invoice.id, ZERO) for invoice in known}


def _refuse_a_move(file: str, record: InvoiceRecord, invoice: Invoice, debtor: str) -> None:
    """The books may correct an invoice, never move it to another debtor (numbered `debtor` now) or currency."""
    if (refusal := _moved(file, record, debtor, invoice.currency)) is not None:
        raise refusal


def _moved(file: str, record: InvoiceRecord, debtor: str, currency: str) -> DocumentError | None:
    """Why `record` cannot be the invoice of that number in the books, of debtor `debtor` in `currency`."""
    if debtor != record.debtor.number:
        return _refusal(file, record, "debtor_number", f"invoice {record.number} belongs to debtor "
                        f"{debtor}, not {record.debtor.number}")
    if currency != record.currency:
        return _refusal(file, record, "currency", f"invoice {record.number} is in {currency}, not {record.currency}")
    return None


def _correct(session: Session, file: str, record: InvoiceRecord, invoice: Invoice, debtor: str, now: datetime,
             booked: Decimal) -> bool:
    """The books changed an invoice (of debtor number `debtor`, `booked` as `_booked_amount` says): follow them,
    and say so in its dossier. A lower amount is a credit (what the debtor was told stays on record); a higher one
    and other dates are the invoice's new facts."""
    _refuse_a_move(file, record, invoice, debtor)
    changes = []
    for attr in ("issue_date", "due_date"):
        old, new = getattr(invoice, attr), getattr(record, attr)
        if old != new:
            changes.append(f"{attr.replace('_', ' ')} {old.isoformat()} -> {new.isoformat()}")
            setattr(invoice, attr, new)
    if record.amount != booked:
        changes.append(f"amount {booked:.2f} -> {record.amount:.2f}")
        if record.amount < booked:
            _correction_credit(session, invoice, booked - record.amount, now)
        else:
            invoice.amount += record.amount - booked
    if not changes:
        return False
    earlier = sum(1 for e in dossier.entries(session, invoice) if e.key.startswith(f"{invoice.number}:corrected:"))
    dossier.record(session, invoice, key=f"{invoice.number}:corrected:{earlier + 1}",
                   kind="note", at=now, summary=f"corrected by import ({file}): {'; '.join(changes)}",
                   data={"file": file, "changes": changes})
    invoice.wake_at = now  # the run decides anew: a later due date moves its next step
    return True


def _refusal(file: str, record: InvoiceRecord, column: str, reason: str) -> DocumentError:
    """Where a spreadsheet row is refused, in the `file:row:column: reason` shape of the reader's own errors."""
    if record.where.startswith("row "):
        return row_error(file, record.where, column, reason)
    return DocumentError(file, record.where, reason)


def _booked_amount(session: Session, invoice: Invoice) -> Decimal:
    """The invoice's amount as the books state it: ours minus the corrections that lowered it by import."""
    lowered = session.scalars(select(Payment.amount).where(
        Payment.invoice_id == invoice.id, Payment.kind == PaymentKind.credit_note,
        Payment.reference.like("correction by import%")))
    return invoice.amount - sum(lowered, ZERO)


def _correction_credit(session: Session, invoice: Invoice, amount: Decimal, now: datetime) -> None:
    invoices.register_credit(session, invoice, amount, PaymentKind.credit_note, "correction by import: the books "
                             "lowered the invoice", now)


def _credit(session: Session, file: str, record: InvoiceRecord, debtor: Debtor, now: datetime) -> bool:
    """A credit note: against its invoice it lowers what is open there (what it credits beyond that is a credit
    on the debtor); without one it is a credit on the debtor. Once per credit note number."""
    reason = f"credit note {record.number}"
    if session.scalar(select(Payment.id).where(Payment.kind == PaymentKind.credit_note,
                                               Payment.reference == reason)) is not None:
        return False
    if session.scalar(select(DebtorCredit.id).where(DebtorCredit.reference == reason)) is not None:
        return False
    left = record.amount
    if record.credits_invoice is not None:
        invoice = session.scalars(select(Invoice).where(Invoice.number == record.credits_invoice)).one_or_none()
        if invoice is None:
            raise _refusal(file, record, "credits_invoice", f"credits invoice {record.credits_invoice}, which is "
                           "not in the books here (import it first)")
        if invoice.debtor_id != debtor.id:
            raise _refusal(file, record, "credits_invoice", f"credits invoice {invoice.number} of debtor "
                           f"{invoice.debtor.number}, not of {debtor.number}")
        part = min(left, max(invoices.open_amount(session, invoice), ZERO))
        if part > 0:
            invoices.register_credit(session, invoice, part, PaymentKind.credit_note, reason, now)
        left -= part
    if left > 0:
        session.add(DebtorCredit(debtor=debtor, amount=left, reference=reason, created_at=now))
    return True


# --- open items ------------------------------------------------------------------------------------------------

LAST_SYNC = "books.open_items_as_of"


@dataclass
class OpenItemsSync:
    as_of: date
    settled: list[tuple[str, Decimal]] = field(default_factory=list)  # no longer open in the books
    part_paid: list[tuple[str, Decimal]] = field(default_factory=list)  # less open there: the difference paid
    higher: list[str] = field(default_factory=list)  # more open there than here: a correction import fixes that
    unknown: list[str] = field(default_factory=list)  # open there, not in the books here
    unchanged: int = 0

    def summary(self, file: str) -> str:
        return (f"{file} (as of {self.as_of.isoformat()}): {len(self.settled)} settled in the ledger, "
                f"{len(self.part_paid)} part paid, {self.unchanged} unchanged"
                + (f", {len(self.higher)} more open in the ledger than here" if self.higher else "")
                + (f", {len(self.unknown)} not known here" if self.unknown else ""))


def sync_open_items(session: Session, file: str, open_items: dict[str, Decimal], as_of: date, now: datetime,
                    *, force: bool = False, max_share: Decimal = Decimal("0.5")) -> OpenItemsSync:
    """Follow the ledger's full list of open items: an invoice open here but missing from it is settled, one
    with less open there is part paid. Refuses what looks like a wrong file: an empty list, one older than the
    last sync, one that would settle more than `max_share` of what is open here (unless `force`)."""
    if not open_items:
        raise UserError(f"{file}: the list of open items is empty: nothing would be open in the ledger "
                        "(refused; a wrong or truncated export?)")
    last = session.get(Setting, LAST_SYNC)
    if last is not None and as_of < date.fromisoformat(last.value):
        raise UserError(f"{file}: dated {as_of.isoformat()}, before the last open-items sync of {last.value}")
    report = OpenItemsSync(as_of=as_of)
    here = list(session.scalars(select(Invoice).where(Invoice.closed_reason.is_(None)).order_by(Invoice.number)))
    open_here = {i.number: (i, invoices.open_amount(session, i)) for i in here}
    open_here = {n: (i, a) for n, (i, a) in open_here.items() if a > 0}
    for number, (_, amount) in open_here.items():
        if number not in open_items:
            report.settled.append((number, amount))
        elif open_items[number] < amount:
            report.part_paid.append((number, amount - open_items[number]))
        elif open_items[number] > amount:
            report.higher.append(number)
        else:
            report.unchanged += 1
    known = set(session.scalars(select(Invoice.number).where(Invoice.number.in_(list(open_items)))))
    report.unknown = sorted(set(open_items) - known)
    if open_here and not force and Decimal(len(report.settled)) / len(open_here) > max_share:
        raise UserError(f"{file}: would settle {len(report.settled)} of {len(open_here)} open invoices, more than "
                        f"{max_share:.0%}: refused (check the file; --force if the ledger is right)")
    for number, amount in report.settled:
        invoice = open_here[number][0]
        settle(session, invoice, amount, as_of, now, f"not in the ledger's open items of {as_of.isoformat()}")
    for number, amount in report.part_paid:
        invoice = open_here[number][0]
        invoices.register_payment(session, invoice, amount, as_of, now, reference=f"open items {as_of.isoformat()}",
                                  source=f"the ledger's open items of {as_of.isoformat()}")
    if last is None:
        session.add(Setting(key=LAST_SYNC, value=as_of.isoformat()))
    else:
        last.value = max(last.value, as_of.isoformat())
    return report


def settle(session: Session, invoice: Invoice, amount: Decimal, as_of: date, now: datetime, why: str) -> None:
    """Settled in the ledger: paid or credited there, we need not know which. Nothing more goes out; the run
    ends at the next sweep."""
    entry = Payment(invoice=invoice, amount=amount, paid_on=as_of, reference=why[:200], recorded_at=now,
                    kind=PaymentKind.settled)
    session.add(entry)
    session.flush()
    dossier.record(session, invoice, key=f"{invoice.number}:settled:{entry.id}", kind="payment", at=now,
                   summary=f"settled in the ledger: {invoice.currency} {amount:.2f} ({why}); open "
                   f"{invoice.currency} 0.00", data={"amount": str(amount), "as_of": as_of.isoformat()})
    invoice.wake_at = now
