"""The finance desk's reports: aging, DSO, promises to pay, calls and money collected, each over a session and
an `as_of` date. They read and change nothing; money is `Decimal`, counted in whole cents.

What is open on an invoice on a day: its amount less every payment, credit note, write-off and settlement dated
(`Payment.paid_on`) on or before that day; a payment the bank took back (`reversed_at` set) never counts. Only
invoices issued on or before the day are in the books then. With `as_of` today this is the open amount
`dunning invoices` shows (only something dated after today would differ), and it is the same rule for the aging
and for the receivables DSO counts back from, so the aging total on a month end is that month's receivables.

The reports over people's work (promises, calls, collected) cover the twelve calendar months up to `as_of`:
from the first day of the month eleven months before `as_of`'s month through `as_of` (moments as days in
Europe/Amsterdam). Each report is a dataclass with `as_json()` (amounts as strings with two decimals, rates as
percentages with one decimal, `null` where there is nothing to divide) and `rows()` (flat rows of text, the
CSV file's).

Amounts in different currencies are never added up. Every invoice is in one currency (`Invoice.currency`) and so
is all that is paid or credited on it; the aging, DSO and money collected are worked out per currency. Their JSON
keeps the documented shape for the main currency, EUR (`MAIN_CURRENCY`), at the top level, with a `currency` key
saying so, and holds every other currency in `other_currencies`: a list, by currency code, of objects of the same
shape with their own `currency` (an empty list when everything is in euros):

    aging:     {"as_of", "currency": "EUR", "total", "buckets": [{"bucket", "amount", "invoices"}],
                "debtors": [{"debtor", "name", "total", "buckets": {bucket: amount}}],
                "other_currencies": [{"currency", "total", "buckets", "debtors"}, ...]}
    dso:       {"as_of", "method": "count-back", "currency": "EUR", "months": [...],
                "other_currencies": [{"currency", "months"}, ...]}
    collected: {"as_of", "since", "currency": "EUR", "total", "steps", "months",
                "other_currencies": [{"currency", "total", "steps", "months"}, ...]}

Their CSV rows carry a `currency` column. DSO counts back a currency's receivables through that currency's sales.

Machine keys stay English in every language: the JSON keys, the CSV headers and the keys they hold (buckets
`not_due`, `1-30`, ..., outcomes, steps, `unknown` for a collector without a name) never change with the
installation's language, and the calls' `excuses` are counted as the collector typed them; what people read
(`dunning report` without --json, the artifacts, the page, the charts) is in settings.toml `language`, from the
labels at the end of this module and the words of `report_pages` (which also names each excuse by the team's list
in that language)."""

from __future__ import annotations

import calendar
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Subquery, case, cast, func, select
from sqlalchemy.orm import Session

from dunning.domain.kinds import PaymentKind, TaskKind, TaskStatus
from dunning.domain.ladder import CallFact
from dunning.domain.steps import Step
from dunning.domain.time import AMSTERDAM, local
from dunning.storage.models import Debtor, DossierEntry, HumanTask, Invoice, Payment

NAMES = ("aging", "dso", "promises", "calls", "collected")
BUCKETS = ("not_due", "1-30", "31-60", "61-90", "90+")
MONTHS = 12  # the months DSO is given for, and the window of the reports over people's work
CENT = Decimal("0.01")
MAIN_CURRENCY = "EUR"  # the currency the reports lead with; amounts in others are never added to it
ZERO = Decimal("0.00")

# --- pure arithmetic ----------------------------------------------------------------------------------------


def bucket_of(days_overdue: int) -> str:
    """`not_due` up to and including the due date, then 1-30, 31-60, 61-90 and 90+ (91 days and more)."""
    if days_overdue <= 0:
        return "not_due"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "90+"


def bucket_bounds(as_of: date) -> list[tuple[str, date | None]]:
    """Each bucket with the earliest due date in it (None: no limit), as `bucket_of` would sort a due date:
    `not_due` from as_of on, 1-30 from as_of - 30 days, ..., 90+ everything older."""
    return [("not_due", as_of), ("1-30", as_of - timedelta(30)), ("31-60", as_of - timedelta(60)),
            ("61-90", as_of - timedelta(90)), ("90+", None)]


def month_ends(as_of: date, count: int = MONTHS) -> list[date]:
    """The last `count` month ends on or before `as_of`, oldest first (as_of itself when it is one)."""
    year, month = as_of.year, as_of.month
    if as_of.day != calendar.monthrange(year, month)[1]:
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    ends = []
    for _ in range(count):
        ends.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return ends[::-1]


def window_start(as_of: date, months: int = MONTHS) -> date:
    """The first day of the month `months - 1` months before as_of's month: twelve calendar months with as_of's."""
    index = as_of.year * 12 + as_of.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def count_back(receivables: Decimal, sales: Sequence[tuple[int, Decimal]]) -> tuple[Decimal, bool]:
    """Days sales outstanding by the count-back method. `sales`: (days in the month, invoiced that month) for the
    month of the month end and the months before it, newest first. The receivables are set against the newest
    month's sales, then the month before, ...: each month they use up wholly adds all its days, the month in
    which they run out adds its days pro rata. A month without sales (or with more credited than invoiced)
    adds its days and uses up nothing.

    Example: 150,000.00 open on 31 March; sales March 100,000.00 (31 days), February 80,000.00 (28 days).
    March is used up wholly: 31 days, 50,000.00 left; February: 50,000 / 80,000 x 28 = 17.5 days. DSO 48.5.

    Returns (days to one decimal, complete); complete is False when the sales ran out before the receivables
    did (the days are then a lower bound)."""
    if receivables <= 0:
        return Decimal("0.0"), True
    remaining, days = receivables, Decimal(0)
    for month_days, invoiced in sales:
        if invoiced > 0 and remaining <= invoiced:
            days += Decimal(month_days) * remaining / invoiced
            return days.quantize(Decimal("0.1")), True
        days += month_days
        remaining -= max(invoiced, ZERO)
    return days.quantize(Decimal("0.1")), False


def rate(part: int, whole: int) -> Decimal | None:
    """A percentage to one decimal; None when there is nothing to divide by."""
    return None if whole == 0 else (Decimal(100 * part) / whole).quantize(Decimal("0.1"))


def promise_verdict(
    promised_on: date, promised_amount: Decimal | None, open_at_call: Decimal | None, open_now: Decimal,
    noted_broken: bool, as_of: date,
) -> str:
    """What became of a promise to pay, by the call sheet's rule (`desk.sheets`): kept once what was promised came
    in (`CallFact.promise_kept`: all that was open, or the part promised); broken once a note says so or its date
    has passed; else running. The report splits broken: `kept_in_part` when some money came in since the call
    (the open amount is lower than at the call) but not what was promised, `broken` when none did."""
    fact = CallFact(step=Step.call(1), status=TaskStatus.done, promised_amount=promised_amount,
                    open_at_call=open_at_call)
    if fact.promise_kept(open_now):
        return "kept"
    if noted_broken or promised_on < as_of:
        return "kept_in_part" if open_at_call is not None and open_now < open_at_call else "broken"
    return "running"


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def pct(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.1f}"


def _from_cents(cents: int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _months(since: date, as_of: date) -> list[str]:
    found, day = [], since
    while day <= as_of:
        found.append(_month(day))
        day = (day.replace(day=28) + timedelta(4)).replace(day=1)
    return found


def _start_of(day: date) -> datetime:
    """The first moment of a day in Amsterdam (timezone-aware)."""
    return datetime.combine(day, time(0), tzinfo=AMSTERDAM)


# --- what is open on a day, in the database -------------------------------------------------------------------


def _cents(column: Any) -> ColumnElement[int]:
    """An amount as whole cents: exact sums on SQLite too, whose NUMERIC is a float."""
    return cast(func.round(column * 100), BigInteger)


def _open_on(as_of: date) -> Subquery:
    """Per invoice issued on or before `as_of`: id, debtor_id, currency, due_date, and `open` in cents on that day."""
    paid = (
        select(Payment.invoice_id, func.sum(_cents(Payment.amount)).label("paid"))
        .where(Payment.reversed_at.is_(None), Payment.paid_on <= as_of)
        .group_by(Payment.invoice_id)
        .subquery()
    )
    return (
        select(Invoice.id, Invoice.debtor_id, Invoice.currency, Invoice.due_date,
               (_cents(Invoice.amount) - func.coalesce(paid.c.paid, 0)).label("open"))
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.issue_date <= as_of)
        .subquery()
    )


def receivables_on(session: Session, as_of: date) -> dict[str, Decimal]:
    """All that is open on `as_of` per currency (the aging's totals), in one aggregate query; the main currency
    always, at zero when nothing is open in it."""
    opened = _open_on(as_of)
    found = {MAIN_CURRENCY: ZERO}
    for currency, cents in session.execute(
        select(opened.c.currency, func.sum(opened.c.open)).where(opened.c.open > 0).group_by(opened.c.currency)
    ):
        found[currency] = _from_cents(cents)
    return found


def currencies_in_order(found: Iterable[str]) -> list[str]:
    """The main currency first, always; then the others found, by code."""
    return [MAIN_CURRENCY, *sorted(set(found) - {MAIN_CURRENCY})]


# --- aging -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgingBucket:
    bucket: str
    amount: Decimal
    invoices: int


@dataclass(frozen=True)
class DebtorAging:
    debtor: str
    name: str
    total: Decimal
    buckets: dict[str, Decimal]


@dataclass(frozen=True)
class CurrencyAging:
    """The aging of the invoices in one currency."""

    currency: str
    total: Decimal
    buckets: tuple[AgingBucket, ...]
    debtors: tuple[DebtorAging, ...]

    @property
    def invoices(self) -> int:
        return sum(b.invoices for b in self.buckets)

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "total": money(self.total),
            "buckets": [{"bucket": b.bucket, "amount": money(b.amount), "invoices": b.invoices} for b in self.buckets],
            "debtors": [
                {"debtor": d.debtor, "name": d.name, "total": money(d.total),
                 "buckets": {k: money(v) for k, v in d.buckets.items()}}
                for d in self.debtors
            ],
        }


@dataclass(frozen=True)
class Aging:
    """Open amounts by days overdue (days past the due date on `as_of`), per currency, in total and per debtor, the
    debtor with the most open first. The buckets add up to the total to the cent: both are sums of the same cents.
    `currencies`: the main currency first, always, then every other with something open. `total`, `buckets` and
    `debtors` are the main currency's."""

    name = "aging"
    columns = ("debtor", "name", "currency", *BUCKETS, "total")
    as_of: date
    currencies: tuple[CurrencyAging, ...]

    @property
    def main(self) -> CurrencyAging:
        return self.currencies[0]

    @property
    def total(self) -> Decimal:
        return self.main.total

    @property
    def buckets(self) -> tuple[AgingBucket, ...]:
        return self.main.buckets

    @property
    def debtors(self) -> tuple[DebtorAging, ...]:
        return self.main.debtors

    def as_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), **self.main.as_json(),
                "other_currencies": [c.as_json() for c in self.currencies[1:]]}

    def rows(self) -> list[dict[str, Any]]:
        return [{"debtor": d.debtor, "name": d.name, "currency": c.currency,
                 **{b: money(d.buckets[b]) for b in BUCKETS}, "total": money(d.total)}
                for c in self.currencies for d in c.debtors]


def aging(session: Session, as_of: date) -> Aging:
    """One aggregate query: the open amount of every invoice on `as_of` (a grouped sum of its payments joined to
    it), summed per currency, debtor and bucket; the bucket is a comparison of the due date with the bucket's first
    day."""
    opened = _open_on(as_of)
    bounds = bucket_bounds(as_of)
    bucket = case(*[(opened.c.due_date >= first, name) for name, first in bounds if first is not None],
                  else_=bounds[-1][0])
    # Bucketed in a subquery and grouped by its column: PostgreSQL would not see the CASE in GROUP BY, with
    # parameters of its own, as the one selected.
    bucketed = (
        select(opened.c.debtor_id, opened.c.currency, opened.c.open, bucket.label("bucket"))
        .where(opened.c.open > 0)
        .subquery()
    )
    query = (
        select(bucketed.c.currency, Debtor.number, Debtor.name, bucketed.c.bucket, func.sum(bucketed.c.open),
               func.count())
        .join(Debtor, Debtor.id == bucketed.c.debtor_id)
        .group_by(bucketed.c.currency, Debtor.id, Debtor.number, Debtor.name, bucketed.c.bucket)
    )
    cents: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    per_debtor: dict[str, dict[tuple[str, str], dict[str, int]]] = defaultdict(dict)
    for currency, number, name, found, amount, n in session.execute(query):
        cents[currency][found] += int(amount)
        counts[currency][found] += int(n)
        per_debtor[currency].setdefault((number, name), dict.fromkeys(BUCKETS, 0))[found] += int(amount)
    return Aging(as_of=as_of, currencies=tuple(
        _currency_aging(c, cents[c], counts[c], per_debtor[c]) for c in currencies_in_order(cents)
    ))


def _currency_aging(currency: str, cents: dict[str, int], counts: dict[str, int],
                    per_debtor: dict[tuple[str, str], dict[str, int]]) -> CurrencyAging:
    debtors = [
        DebtorAging(debtor=number, name=name, total=_from_cents(sum(b.values())),
                    buckets={k: _from_cents(v) for k, v in b.items()})
        for (number, name), b in per_debtor.items()
    ]
    debtors.sort(key=lambda d: (-d.total, d.debtor))
    return CurrencyAging(
        currency=currency,
        total=_from_cents(sum(cents.values())),
        buckets=tuple(AgingBucket(b, _from_cents(cents[b]), counts[b]) for b in BUCKETS),
        debtors=tuple(debtors),
    )


# --- DSO -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DsoMonth:
    month_end: date
    receivables: Decimal  # open on the month end
    sales: Decimal  # invoiced in that calendar month
    days: Decimal  # DSO
    complete: bool  # False: the sales ran out before the receivables did (days is a lower bound)

    def as_json(self) -> dict[str, Any]:
        return {"month_end": self.month_end.isoformat(), "receivables": money(self.receivables),
                "sales": money(self.sales), "dso": f"{self.days:.1f}", "complete": self.complete}


@dataclass(frozen=True)
class CurrencyDso:
    """DSO of the invoices in one currency: its receivables counted back through its own sales."""

    currency: str
    months: tuple[DsoMonth, ...]


@dataclass(frozen=True)
class Dso:
    """Days sales outstanding by the count-back method, per month end of the last twelve (see `count_back`), per
    currency: the main currency first, always, then every other with sales or receivables in those months.
    `months` are the main currency's."""

    name = "dso"
    columns = ("month_end", "currency", "receivables", "sales", "dso", "complete")
    as_of: date
    currencies: tuple[CurrencyDso, ...]

    @property
    def main(self) -> CurrencyDso:
        return self.currencies[0]

    @property
    def months(self) -> tuple[DsoMonth, ...]:
        return self.main.months

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "method": "count-back",
            "currency": self.main.currency,
            "months": [m.as_json() for m in self.main.months],
            "other_currencies": [{"currency": c.currency, "months": [m.as_json() for m in c.months]}
                                 for c in self.currencies[1:]],
        }

    def rows(self) -> list[dict[str, Any]]:
        return [{"month_end": m.month_end.isoformat(), "currency": c.currency, "receivables": money(m.receivables),
                 "sales": money(m.sales), "dso": f"{m.days:.1f}", "complete": "yes" if m.complete else "no"}
                for c in self.currencies for m in c.months]


def dso(session: Session, as_of: date) -> Dso:
    """Days sales outstanding by the count-back method, for each of the last twelve month ends up to `as_of`, per
    currency.

    For a month end: the receivables are what is open that day (invoices issued on or before it, less payments
    and credits whose `paid_on` is on or before it; the aging's total). They are counted back through the sales
    (the invoice amounts issued per calendar month) in the same currency, newest month first: each month whose
    sales they use up wholly adds all its days, the month in which they run out adds its days pro rata
    (`count_back`).

    Example: 150,000.00 open on 31 March; sales March 100,000.00, February 80,000.00. March is used up wholly
    (31 days, 50,000.00 left), then 50,000 / 80,000 of February's 28 days = 17.5: DSO 48.5 days.

    The sales per month come from one grouped query (per issue day and currency, summed into months here, which
    works alike on every database); the receivables of each month end from one aggregate query each
    (`receivables_on`)."""
    ends = month_ends(as_of)
    sales: dict[str, dict[tuple[int, int], int]] = defaultdict(lambda: defaultdict(int))
    for issued, currency, cents in session.execute(
        select(Invoice.issue_date, Invoice.currency, func.sum(_cents(Invoice.amount)))
        .where(Invoice.issue_date <= ends[-1])
        .group_by(Invoice.issue_date, Invoice.currency)
    ):
        sales[currency][(issued.year, issued.month)] += int(cents)
    receivables = [receivables_on(session, end) for end in ends]
    found = []
    for currency in currencies_in_order([*sales, *(c for r in receivables for c in r)]):
        months = _dso_months(ends, sales[currency], [r.get(currency, ZERO) for r in receivables])
        if currency == MAIN_CURRENCY or any(m.receivables or m.sales for m in months):
            found.append(CurrencyDso(currency, tuple(months)))
    return Dso(as_of=as_of, currencies=tuple(found))


def _dso_months(ends: list[date], sales: dict[tuple[int, int], int], receivables: list[Decimal]) -> list[DsoMonth]:
    """Each month end's DSO: its receivables counted back through the sales of its month and every one before."""
    first = min(sales, default=(ends[-1].year, ends[-1].month))
    months = []
    for end, open_then in zip(ends, receivables, strict=True):
        back, (year, month) = [], (end.year, end.month)
        while (year, month) >= first:
            back.append((calendar.monthrange(year, month)[1], _from_cents(sales.get((year, month), 0))))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        days, complete = count_back(open_then, back)
        months.append(DsoMonth(end, open_then, _from_cents(sales.get((end.year, end.month), 0)), days, complete))
    return months


# --- the calls made, and the promises made in them --------------------------------------------------------------

_ANSWERED_WITH = re.compile(r"\(one call with invoice [^)]*\)$")


@dataclass(frozen=True)
class CallMade:
    invoice_id: int
    completed_at: datetime
    completed_by: str | None
    outcome: dict[str, Any]

    @property
    def collector(self) -> str:
        return self.outcome.get("by") or self.completed_by or "unknown"


def _calls_made(session: Session, since: date, as_of: date) -> list[CallMade]:
    """Call tasks answered (not cancelled) from `since` through `as_of`, in Amsterdam days."""
    return [
        CallMade(invoice_id, completed_at, completed_by, outcome or {})
        for invoice_id, completed_at, completed_by, outcome in session.execute(
            select(HumanTask.invoice_id, HumanTask.completed_at, HumanTask.completed_by, HumanTask.outcome)
            .where(HumanTask.kind == TaskKind.call, HumanTask.status == TaskStatus.done,
                   HumanTask.completed_at >= _start_of(since),
                   HumanTask.completed_at < _start_of(as_of + timedelta(1)))
            .order_by(HumanTask.completed_at, HumanTask.id)
        )
    ]


def answered_with_another(outcome: dict[str, Any]) -> bool:
    """A call joined to another invoice's call of the same debtor is answered by that one call: its outcome's
    note says "(one call with invoice ...)" (`casework.answers.complete_call`). Not a call of its own."""
    return bool(_ANSWERED_WITH.search(outcome.get("note") or ""))


@dataclass
class PromiseCounts:
    made: int = 0
    kept: int = 0
    kept_in_part: int = 0
    broken: int = 0
    running: int = 0

    @property
    def kept_rate(self) -> Decimal | None:
        """Kept, of the promises decided (kept, kept in part or broken); running ones are not decided yet."""
        return rate(self.kept, self.kept + self.kept_in_part + self.broken)

    def add(self, verdict: str) -> None:
        self.made += 1
        setattr(self, verdict, getattr(self, verdict) + 1)

    def as_json(self) -> dict[str, Any]:
        return {"made": self.made, "kept": self.kept, "kept_in_part": self.kept_in_part, "broken": self.broken,
                "running": self.running, "kept_rate": pct(self.kept_rate)}


@dataclass(frozen=True)
class Promises:
    """Promises to pay made in calls from `since` through `as_of`, by the month they were made and by collector.
    A promise made in one call for several invoices of a debtor counts once per invoice: each is kept or not."""

    name = "promises"
    columns = ("month", "collector", "made", "kept", "kept_in_part", "broken", "running", "kept_rate")
    as_of: date
    since: date
    total: PromiseCounts
    months: dict[str, PromiseCounts]
    collectors: dict[str, PromiseCounts]
    by_month_and_collector: dict[tuple[str, str], PromiseCounts]

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "since": self.since.isoformat(),
            "total": self.total.as_json(),
            "months": [{"month": m, **c.as_json()} for m, c in self.months.items()],
            "collectors": [{"collector": k, **c.as_json()} for k, c in self.collectors.items()],
            "rows": self.rows(),
        }

    def rows(self) -> list[dict[str, Any]]:
        return [{"month": m, "collector": k, **c.as_json()} for (m, k), c in self.by_month_and_collector.items()]


def promises(session: Session, as_of: date) -> Promises:
    """The call tasks answered in the window; what is open on their invoices on `as_of` (one aggregate query)
    and the notes of broken promises (one query); then each promise's verdict by `promise_verdict`."""
    since = window_start(as_of)
    calls = [t for t in _calls_made(session, since, as_of) if t.outcome.get("promised_on")]
    ids = sorted({t.invoice_id for t in calls})
    opened = _open_on(as_of)
    open_now: dict[int, Decimal] = {}
    broken_notes: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(ids):
        for invoice_id, cents in session.execute(select(opened.c.id, opened.c.open).where(opened.c.id.in_(chunk))):
            open_now[invoice_id] = _from_cents(cents)
        for invoice_id, summary in session.execute(
            select(DossierEntry.invoice_id, DossierEntry.summary)
            .where(DossierEntry.invoice_id.in_(chunk), DossierEntry.kind == "note",
                   DossierEntry.summary.like("promise to pay by % broken%"),
                   DossierEntry.at < _start_of(as_of + timedelta(1)))
        ):
            broken_notes[invoice_id].append(summary)
    total = PromiseCounts()
    months = {m: PromiseCounts() for m in _months(since, as_of)}
    collectors: dict[str, PromiseCounts] = defaultdict(PromiseCounts)
    crossed: dict[tuple[str, str], PromiseCounts] = defaultdict(PromiseCounts)
    for task in calls:
        o = task.outcome
        on = o["promised_on"]
        noted = any(f"promise to pay by {on} broken" in s for s in broken_notes[task.invoice_id])
        verdict = promise_verdict(
            date.fromisoformat(on),
            Decimal(o["promised_amount"]) if o.get("promised_amount") else None,
            Decimal(o["open_at_call"]) if o.get("open_at_call") else None,
            open_now.get(task.invoice_id, ZERO), noted, as_of,
        )
        month, who = _month(local(task.completed_at).date()), task.collector
        for counts in (total, months[month], collectors[who], crossed[(month, who)]):
            counts.add(verdict)
    return Promises(as_of=as_of, since=since, total=total, months=months, collectors=dict(sorted(collectors.items())),
                    by_month_and_collector=dict(sorted(crossed.items())))


OUTCOMES = ("promise", "dispute", "plan requested", "copy requested", "no agreement", "not reached")


def call_outcomes(outcome: dict[str, Any]) -> list[str]:
    """What a call came to: not reached, or each of promise, dispute, plan requested, copy requested it holds
    (one call may hold several), or, reached and none of them, no agreement."""
    if not outcome.get("reached"):
        return ["not reached"]
    found = [name for name, key in (("promise", "promised_on"), ("dispute", "dispute"),
                                    ("plan requested", "plan_requested"), ("copy requested", "send_copy"))
             if outcome.get(key)]
    return found or ["no agreement"]


@dataclass
class CallCounts:
    attempts: int = 0
    reached: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    excuses: Counter[str] = field(default_factory=Counter)

    @property
    def reached_rate(self) -> Decimal | None:
        return rate(self.reached, self.attempts)

    def add(self, outcome: dict[str, Any]) -> None:
        self.attempts += 1
        self.reached += bool(outcome.get("reached"))
        self.outcomes.update(call_outcomes(outcome))
        if (outcome.get("excuse") or "").strip():
            self.excuses[outcome["excuse"].strip()] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "reached": self.reached,
            "reached_rate": pct(self.reached_rate),
            "outcomes": {name: self.outcomes[name] for name in OUTCOMES},
            "excuses": dict(sorted(self.excuses.items(), key=lambda kv: (-kv[1], kv[0]))),
        }


@dataclass(frozen=True)
class Calls:
    """Calls made from `since` through `as_of`, per collector: attempts (each call task answered; one call about
    several invoices of a debtor counts once), how many reached the debtor, what they came to, the excuses
    heard."""

    name = "calls"
    columns = ("collector", "attempts", "reached", "reached_rate", *OUTCOMES, "excuses")
    as_of: date
    since: date
    total: CallCounts
    collectors: dict[str, CallCounts]

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "since": self.since.isoformat(),
            "total": self.total.as_json(),
            "collectors": [{"collector": k, **c.as_json()} for k, c in self.collectors.items()],
        }

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for who, c in self.collectors.items():
            data = c.as_json()
            rows.append({"collector": who, "attempts": c.attempts, "reached": c.reached,
                         "reached_rate": data["reached_rate"], **data["outcomes"],
                         "excuses": "; ".join(f"{k}: {v}" for k, v in data["excuses"].items())})
        return rows


def calls(session: Session, as_of: date) -> Calls:
    since = window_start(as_of)
    total = CallCounts()
    collectors: dict[str, CallCounts] = defaultdict(CallCounts)
    for task in _calls_made(session, since, as_of):
        if answered_with_another(task.outcome):
            continue
        total.add(task.outcome)
        collectors[task.collector].add(task.outcome)
    return Calls(as_of=as_of, since=since, total=total, collectors=dict(sorted(collectors.items())))


# --- money collected, by the step before it ----------------------------------------------------------------------

# The steps in the order of the ladder.
STEPS = ("none", "call", "herinnering", "aanmaning", "ingebrekestelling", "incasso-aankondiging", "incasso")


def step_before(paid_on: date, taken: Iterable[tuple[date, str]]) -> str:
    """The last step taken on a day before `paid_on` ("none" if none was); of two on the same day, the one
    further along the ladder."""
    before = [(day, STEPS.index(step)) for day, step in taken if day < paid_on]
    return STEPS[max(before)[1]] if before else "none"


@dataclass(frozen=True)
class CurrencyCollected:
    """The money received in one currency."""

    currency: str
    total: Decimal
    steps: dict[str, Decimal]
    months: dict[str, dict[str, Decimal]]

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "total": money(self.total),
            "steps": {k: money(v) for k, v in self.steps.items()},
            "months": [{"month": m, "total": money(sum(s.values(), ZERO)), "steps": {k: money(v) for k, v in s.items()}}
                       for m, s in self.months.items()],
        }


@dataclass(frozen=True)
class Collected:
    """Money received (payments, not credits or settlements, not taken back) from `since` through `as_of`, per
    currency, per month of `paid_on` and per the last step of the ladder taken on the invoice on a day before it was
    paid (`step_before`): a call that reached the debtor, a message sent (herinnering, aanmaning, ingebrekestelling,
    incasso-aankondiging), or the hand-off (incasso); "none" when nothing came before it. `currencies`: the main
    currency first, always, then every other with money received; `total`, `steps` and `months` are the main
    currency's."""

    name = "collected"
    columns = ("month", "currency", *STEPS, "total")
    as_of: date
    since: date
    currencies: tuple[CurrencyCollected, ...]

    @property
    def main(self) -> CurrencyCollected:
        return self.currencies[0]

    @property
    def total(self) -> Decimal:
        return self.main.total

    @property
    def steps(self) -> dict[str, Decimal]:
        return self.main.steps

    @property
    def months(self) -> dict[str, dict[str, Decimal]]:
        return self.main.months

    def as_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "since": self.since.isoformat(), **self.main.as_json(),
                "other_currencies": [c.as_json() for c in self.currencies[1:]]}

    def rows(self) -> list[dict[str, Any]]:
        return [{"month": m, "currency": c.currency, **{k: money(v) for k, v in s.items()},
                 "total": money(sum(s.values(), ZERO))}
                for c in self.currencies for m, s in c.months.items()]


def collected(session: Session, as_of: date) -> Collected:
    """The payments in the window with their invoice's currency (one query) and the ladder's steps on their
    invoices (one query, joined to them); which step came before each payment is decided here, by Amsterdam
    days."""
    since = window_start(as_of)
    window = (Payment.kind == PaymentKind.payment, Payment.reversed_at.is_(None), Payment.paid_on >= since,
              Payment.paid_on <= as_of)
    paid = list(session.execute(
        select(Payment.invoice_id, Payment.paid_on, Payment.amount, Invoice.currency)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(*window)
    ))
    invoices_paid = select(Payment.invoice_id).where(*window).distinct().scalar_subquery()
    kinds = [s for s in STEPS if s != "none"]
    # A call counts once it reached the debtor (the outcome's summary starts "not reached" otherwise).
    taken: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for invoice_id, at, kind, summary in session.execute(
        select(DossierEntry.invoice_id, DossierEntry.at, DossierEntry.kind, DossierEntry.summary)
        .where(DossierEntry.kind.in_(kinds), DossierEntry.invoice_id.in_(invoices_paid),
               DossierEntry.at < _start_of(as_of))
    ):
        if kind == "call" and summary.startswith("not reached"):
            continue
        taken[invoice_id].append((local(at).date(), kind))
    window_months = _months(since, as_of)
    months: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(
        lambda: {m: dict.fromkeys(STEPS, ZERO) for m in window_months})
    for invoice_id, paid_on, amount, currency in paid:
        months[currency][_month(paid_on)][step_before(paid_on, taken[invoice_id])] += amount
    found = []
    for currency in currencies_in_order(months):
        steps = {s: sum((m[s] for m in months[currency].values()), ZERO) for s in STEPS}
        found.append(CurrencyCollected(currency, sum(steps.values(), ZERO), steps, months[currency]))
    return Collected(as_of=as_of, since=since, currencies=tuple(found))


def _chunks(ids: list[int], size: int = 5000) -> Iterable[list[int]]:
    """IN lists of a size every database takes."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


# --- all of them ---------------------------------------------------------------------------------------------------

Report = Aging | Dso | Promises | Calls | Collected
BUILD: dict[str, Callable[[Session, date], Report]] = {
    "aging": aging, "dso": dso, "promises": promises, "calls": calls, "collected": collected,
}


def build(session: Session, name: str, as_of: date) -> Report:
    return BUILD[name](session, as_of)


@dataclass(frozen=True)
class Reports:
    """The five reports of one day, as the report page shows them."""

    as_of: date
    aging: Aging
    dso: Dso
    promises: Promises
    calls: Calls
    collected: Collected

    @classmethod
    def of(cls, as_of: date, found: dict[str, Report]) -> Reports:
        parts = {name: found[name] for name in NAMES}
        for name, report in parts.items():
            if report.name != name or report.as_of != as_of:
                raise ValueError(f"{name}: expected the {name} report as of {as_of}, got {report.name} {report.as_of}")
        return cls(as_of=as_of, **parts)  # type: ignore[arg-type]

    def each(self) -> list[Report]:
        return [self.aging, self.dso, self.promises, self.calls, self.collected]


# --- in people's words -----------------------------------------------------------------------------------------
# What people read is in the installation's language (settings.toml `language`, nl or en); the keys above stay as
# they are. Numbers the Dutch way in nl (1.234,56 and 48,5), dates as dd-mm-jjjj; in en 1,234.56 and ISO dates.

LABELS = {
    "nl": {
        "not_due": "niet vervallen", "1-30": "1-30 dagen", "31-60": "31-60 dagen", "61-90": "61-90 dagen",
        "90+": "90+ dagen",
        "promise": "betaalbelofte", "dispute": "betwisting", "plan requested": "regeling gevraagd",
        "copy requested": "kopie gevraagd", "no agreement": "geen afspraak", "not reached": "niet bereikt",
        "none": "geen stap", "call": "gesprek", "herinnering": "herinnering", "aanmaning": "aanmaning",
        "ingebrekestelling": "ingebrekestelling", "incasso-aankondiging": "incasso-aankondiging",
        "incasso": "incasso",
        "unknown": "onbekend",
    },
    "en": {
        "not_due": "not due", "1-30": "1-30 days", "31-60": "31-60 days", "61-90": "61-90 days", "90+": "90+ days",
        "promise": "promise", "dispute": "dispute", "plan requested": "plan requested",
        "copy requested": "copy requested", "no agreement": "no agreement", "not reached": "not reached",
        "none": "no step", "call": "call", "herinnering": "herinnering", "aanmaning": "aanmaning",
        "ingebrekestelling": "ingebrekestelling", "incasso-aankondiging": "incasso-aankondiging",
        "incasso": "incasso",
        "unknown": "unknown",
    },
}
MONTH_NAMES = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
SHORT_MONTH_NAMES = {
    "nl": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
_DUTCH_MARKS = str.maketrans(",.", ".,")


def label(key: str, language: str) -> str:
    """A bucket, outcome, step or `unknown` as people read it; anything else (a collector's name) as it is."""
    return LABELS[language].get(key, key)


def number_text(value: Decimal | int, places: int, language: str) -> str:
    """1234.5 with two places: "1.234,50" in nl, "1,234.50" in en."""
    text = f"{value:,.{places}f}"
    return text.translate(_DUTCH_MARKS) if language == "nl" else text


def amount_text(value: Decimal, currency: str, language: str) -> str:
    """An amount with its currency before it, as the call sheet writes it: "EUR 1.234,50" (nl)."""
    return f"{currency} {number_text(value, 2, language)}"


def percent_text(value: Decimal | None, language: str) -> str:
    """"66,7%" (nl), "66.7%" (en); "–" when there was nothing to divide."""
    return "–" if value is None else f"{number_text(value, 1, language)}%"


def day_text(day: date, language: str) -> str:
    """31-03-2026 in nl, 2026-03-31 in en."""
    return f"{day.day:02d}-{day.month:02d}-{day.year:04d}" if language == "nl" else day.isoformat()


def month_text(month: str, language: str, short: bool = False) -> str:
    """A month key "2026-03" as "maart 2026" (nl) or "March 2026" (en); short: "mrt 2026", "Mar 2026"."""
    year, number = month.split("-")
    names = SHORT_MONTH_NAMES if short else MONTH_NAMES
    return f"{names[language][int(number) - 1]} {year}"
