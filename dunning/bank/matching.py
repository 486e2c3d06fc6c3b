"""Which invoices a payment pays, by the rules a credit manager trusts, in this order: the payment reference we
gave; invoice numbers in the description; the debtor's known account with an amount that fits. Anything else a
person decides, helped by `likely_invoices`."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dunning.bank.lines import StatementLine
from dunning.bank.references import normalised, number_candidates, references_in

ZERO = Decimal("0.00")


class MatchRule(enum.StrEnum):
    reference = "reference"  # the RF reference we stated
    invoice_number = "invoice-number"  # invoice numbers in the description
    account = "account"  # the debtor's known IBAN and an amount that fits
    person = "person"  # matched by hand


@dataclass(frozen=True)
class InvoiceFacts:
    """What matching knows of one invoice."""

    number: str
    debtor: str
    debtor_name: str
    due_date: date
    open: Decimal
    payment_reference: str


@dataclass(frozen=True)
class Allocation:
    invoice: str
    amount: Decimal


@dataclass(frozen=True)
class Match:
    rule: MatchRule | None  # None: nobody's rule fits, a person decides
    allocations: tuple[Allocation, ...] = ()
    surplus: Decimal = ZERO  # paid more than was open: a credit on `debtor`
    debtor: str | None = None

    @property
    def matched(self) -> bool:
        return self.rule is not None


UNMATCHED = Match(rule=None)


class Ledger:
    """The invoices matching looks at, indexed once per import. Matching a line lowers the open amounts here too,
    so the next line of the same statement sees what is left."""

    def __init__(self, invoices: Iterable[InvoiceFacts], accounts: Mapping[str, Iterable[str]]):
        self.invoices = {i.number: i for i in invoices}
        self.open = {number: i.open for number, i in self.invoices.items()}
        self.by_reference = {i.payment_reference: i.number for i in self.invoices.values()}
        by_number: dict[str, list[str]] = defaultdict(list)
        by_debtor: dict[str, list[str]] = defaultdict(list)
        for i in sorted(self.invoices.values(), key=lambda i: (i.due_date, i.number)):
            by_number[normalised(i.number)].append(i.number)
            by_debtor[i.debtor].append(i.number)
        self.by_number = dict(by_number)
        self.by_debtor = dict(by_debtor)
        self.debtors_of_account = {iban: tuple(debtors) for iban, debtors in accounts.items()}

    def open_of(self, debtor: str) -> list[str]:
        return [n for n in self.by_debtor.get(debtor, ()) if self.open[n] > 0]

    def oldest_first(self, numbers: Iterable[str]) -> list[str]:
        return sorted(set(numbers), key=lambda n: (self.invoices[n].due_date, n))

    def take(self, match: Match) -> None:
        for a in match.allocations:
            self.open[a.invoice] -= a.amount


def allocate(amount: Decimal, numbers: list[str], ledger: Ledger, rule: MatchRule) -> Match:
    """Spread `amount` over the invoices, oldest due date first, each up to what is open on it; the rest is a
    surplus on the first invoice's debtor."""
    left = amount
    allocations = []
    for number in numbers:
        part = min(left, max(ledger.open[number], ZERO))
        if part > 0:
            allocations.append(Allocation(number, part))
            left -= part
    debtor = ledger.invoices[numbers[0]].debtor
    return Match(rule=rule, allocations=tuple(allocations), surplus=left, debtor=debtor)


def match_line(line: StatementLine, ledger: Ledger) -> Match:
    """The first rule that fits an incoming payment, or UNMATCHED. Debits and reversals are not payments."""
    if not line.credit or line.reversal:
        return UNMATCHED
    text = " ".join(filter(None, (line.remittance, line.reference)))

    # 1. Our reference: exact, so it holds even for an invoice already paid (then all of it is a surplus).
    referenced = _our_references(line, text, ledger)
    if referenced:
        return allocate(line.amount, ledger.oldest_first(referenced), ledger, MatchRule.reference)

    # 2. Invoice numbers in the description: only open invoices, since a number-like word may name anything.
    candidates = number_candidates(text)
    named = [n for c in candidates for n in _unambiguous(ledger.by_number.get(c, ())) if ledger.open[n] > 0]
    if named:
        return allocate(line.amount, ledger.oldest_first(named), ledger, MatchRule.invoice_number)

    # 3. The debtor's account, with the amount of one open invoice or of everything the debtor has open.
    debtors = ledger.debtors_of_account.get(line.iban or "", ())
    fits = [n for d in debtors for n in ledger.open_of(d) if ledger.open[n] == line.amount]
    if len(fits) == 1:
        return allocate(line.amount, fits, ledger, MatchRule.account)
    totals = [d for d in debtors if (open_ := ledger.open_of(d)) and sum(ledger.open[n] for n in open_) == line.amount]
    if len(totals) == 1:
        return allocate(line.amount, ledger.open_of(totals[0]), ledger, MatchRule.account)
    return UNMATCHED


def _our_references(line: StatementLine, text: str, ledger: Ledger) -> list[str]:
    """The invoices whose reference the line carries: the structured one, and any in the description (of the
    readings of one place, the longest we gave out)."""
    found = []
    if line.reference and (number := ledger.by_reference.get(normalised(line.reference))):
        found.append(number)
    for readings in references_in(text):
        found += [ledger.by_reference[r] for r in readings if r in ledger.by_reference][:1]
    return list(dict.fromkeys(found))


def _unambiguous(numbers: Iterable[str]) -> tuple[str, ...]:
    numbers = tuple(numbers)
    return numbers if len(numbers) == 1 else ()


def likely_invoices(line: StatementLine, ledger: Ledger, limit: int = 5) -> list[str]:
    """For the person matching by hand: open invoices of a debtor whose name or known account the line carries,
    and invoices whose open amount is close to the line's (within 10%), nearest amount first."""
    name = (line.counterparty or "").casefold()
    debtors = set(ledger.debtors_of_account.get(line.iban or "", ()))
    scored = []
    for number, open_ in ledger.open.items():
        if open_ <= 0:
            continue
        invoice = ledger.invoices[number]
        known = invoice.debtor in debtors or bool(name and _same_name(name, invoice.debtor_name.casefold()))
        distance = abs(open_ - line.amount)
        close = distance <= line.amount / 10
        if known or close:
            scored.append((not known, distance, invoice.due_date, number))
    return [number for *_, number in sorted(scored)[:limit]]


# Words many names share: they say nothing about who paid.
_COMMON = frozenset({"b.v", "bv", "n.v", "nv", "v.o.f", "vof", "holding", "beheer", "stichting", "groep", "group",
                     "van", "der", "den", "the", "and", "en", "mw", "mevr", "dhr", "heer", "mevrouw", "fam"})


def _same_name(a: str, b: str) -> bool:
    """Bank lines shorten and reorder names ("J JANSEN" for "Jansen Installatie B.V."): a word in common that is
    not a legal form, a title or a particle decides."""
    words_a = {w for w in a.replace(".", " ").split() if len(w) > 2 and w not in _COMMON}
    words_b = {w for w in b.replace(".", " ").split() if len(w) > 2 and w not in _COMMON}
    return bool(words_a & words_b)
