"""The finance desk's reports over small hand-made books, on SQLite and PostgreSQL: the aging to the cent, DSO by
count-back, promises, calls and money collected, amounts in other currencies kept apart, the `dunning report` verb
(JSON, CSV, a wrong name, the installation's language) and the report page with its charts. Every figure below is
worked out by hand in the comments."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from dunning.casework import answers, books, cases, dossier, human_tasks, invoices, ledger
from dunning.casework.human_tasks import CallOutcome
from dunning.desk import report_pages, reports
from dunning.domain.kinds import Channel, DebtorKind, PaymentKind, TaskKind
from dunning.domain.steps import Step
from dunning.domain.time import AMSTERDAM
from dunning.storage import clock, db
from dunning.storage.models import Debtor, Invoice
from tests.support import cli

D = Decimal
AS_OF = date(2026, 3, 31)
NOW = datetime(2026, 4, 1, 9, 0, tzinfo=AMSTERDAM)


@pytest.fixture(autouse=True)
def report_verb(monkeypatch: pytest.MonkeyPatch) -> None:
    """`dunning report` as dunning/cli/main.py registers it (added here until it does)."""
    from dunning.cli import main
    from dunning.cli import reports as report_cli

    if not any(c.name == "report" for c in main.app.registered_commands):
        monkeypatch.setattr(main.app, "registered_commands",
                            [*main.app.registered_commands, *report_cli.verbs.registered_commands])


def add(s, number: str, amount: str, issued: date, due: date, debtor: str = "D-1", name: str = "Jan de Vries",
        currency: str = "EUR") -> Invoice:
    found = s.scalars(select(Debtor).where(Debtor.number == debtor)).one_or_none()
    if found is None:
        found = Debtor(number=debtor, name=name, kind=DebtorKind.business, email=f"{debtor}@example.nl", language="nl",
                       preferred_channel=Channel.email)
    invoice = Invoice(number=number, debtor=found, issue_date=issued, due_date=due, amount=D(amount), currency=currency)
    s.add(invoice)
    s.flush()
    return invoice


def pay(s, invoice: Invoice, amount: str, on: date) -> None:
    invoices.register_payment(s, invoice, D(amount), on, NOW)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=AMSTERDAM)


def run(*args: str):  # type: ignore[no-untyped-def]
    return cli.run(*args)


def ok(*args: str) -> str:
    done = run(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


# --- aging ---------------------------------------------------------------------------------------------------------

def aging_book(installation) -> None:
    """As of 31 March 2026 (February has 28 days):

    D-1 Jan de Vries
      F-1  100.00 due 31-03-2026, 0 days overdue                                   not_due   100.00
      F-2  250.00 due 01-03-2026, 30 days; 50.10 paid on 10 March                  1-30      199.90
      F-3  300.00 due 31-01-2026, 59 days; 300.00 paid but taken back by the bank  31-60     300.00
    D-2 Bakkerij Smit
      F-4 1000.00 due 31-12-2025, 90 days; a credit note of 100.00                 61-90     900.00
      F-5    0.30 due 30-12-2025, 91 days; 0.10 paid twice                          90+         0.10
      F-6  500.00 due 31-10-2025, settled in the ledger                            (nothing open)
      F-7   80.00 due 04-04-2026; 80.00 paid, but on 2 April: open on 31 March     not_due    80.00
      F-8  999.00 issued 1 April 2026: not in the books on 31 March                (left out)
      F-9   50.00 due 01-03-2026, 60.00 paid                                       (nothing open)

    Buckets: not_due 180.00 (2), 1-30 199.90 (1), 31-60 300.00 (1), 61-90 900.00 (1), 90+ 0.10 (1);
    total 180.00 + 199.90 + 300.00 + 900.00 + 0.10 = 1,580.00. D-1 599.90, D-2 980.10."""
    with db.transaction(installation) as s:
        f1 = add(s, "F-1", "100.00", date(2026, 3, 1), date(2026, 3, 31))
        f2 = add(s, "F-2", "250.00", date(2026, 2, 1), date(2026, 3, 1))
        pay(s, f2, "50.10", date(2026, 3, 10))
        f3 = add(s, "F-3", "300.00", date(2026, 1, 1), date(2026, 1, 31))
        pay(s, f3, "300.00", date(2026, 2, 15))
        f3.payments[0].reversed_at = datetime(2026, 2, 17, 8, 0, tzinfo=UTC)
        f4 = add(s, "F-4", "1000.00", date(2025, 12, 1), date(2025, 12, 31), "D-2", "Bakkerij Smit")
        invoices.register_credit(s, f4, D("100.00"), PaymentKind.credit_note, "price corrected", at(date(2026, 1, 5)))
        f5 = add(s, "F-5", "0.30", date(2025, 11, 1), date(2025, 12, 30), "D-2")
        pay(s, f5, "0.10", date(2026, 1, 2))
        pay(s, f5, "0.10", date(2026, 1, 3))
        f6 = add(s, "F-6", "500.00", date(2025, 10, 1), date(2025, 10, 31), "D-2")
        books.settle(s, f6, D("500.00"), date(2026, 1, 4), NOW, "open-items list")
        f7 = add(s, "F-7", "80.00", date(2026, 3, 5), date(2026, 4, 4), "D-2")
        pay(s, f7, "80.00", date(2026, 4, 2))
        add(s, "F-8", "999.00", date(2026, 4, 1), date(2026, 5, 1), "D-2")
        f9 = add(s, "F-9", "50.00", date(2026, 2, 1), date(2026, 3, 1), "D-2")
        pay(s, f9, "60.00", date(2026, 3, 1))
        assert f1.id


def test_aging_buckets_to_the_cent_adding_up_to_the_total(installation):
    aging_book(installation)
    with db.transaction(installation) as s:
        found = reports.aging(s, AS_OF)
    assert [(b.bucket, b.amount, b.invoices) for b in found.buckets] == [
        ("not_due", D("180.00"), 2), ("1-30", D("199.90"), 1), ("31-60", D("300.00"), 1), ("61-90", D("900.00"), 1),
        ("90+", D("0.10"), 1),
    ]
    assert found.total == D("1580.00") == sum(b.amount for b in found.buckets)
    assert [(d.debtor, d.name, d.total) for d in found.debtors] == [
        ("D-2", "Bakkerij Smit", D("980.10")), ("D-1", "Jan de Vries", D("599.90"))]
    assert found.debtors[0].buckets == {"not_due": D("80.00"), "1-30": D("0.00"), "31-60": D("0.00"),
                                        "61-90": D("900.00"), "90+": D("0.10")}
    for d in found.debtors:
        assert sum(d.buckets.values()) == d.total
    assert all(type(b.amount) is Decimal for b in found.buckets)


def test_the_aging_on_a_day_is_what_is_open_then(installation):
    aging_book(installation)
    with db.transaction(installation) as s:
        # 3 April: F-7 is paid (2 April), F-8 is in the books (issued 1 April, not due), F-1 is 3 days overdue:
        # 1,580.00 - 80.00 + 999.00 = 2,499.00.
        later = reports.aging(s, date(2026, 4, 3))
        # 16 February: F-1, F-7, F-8 not issued yet; F-2 250.00 (its payment is of 10 March) and F-9 50.00 not
        # due; F-3 300.00 16 days (the payment the bank took back never counts); F-4 900.00 (credited 5 January)
        # 47 days and F-5 0.10 48 days; F-6 settled on 4 January.
        earlier = reports.aging(s, date(2026, 2, 16))
        # What `dunning invoices` calls open, today: with nothing dated later, the same total.
        today = {r["invoice"]: D(r["open"]) for r in ledger.invoice_rows(s)}
    assert later.total == D("2499.00")
    assert later.total == sum((v for v in today.values() if v > 0), D("0.00"))
    assert {b.bucket: b.amount for b in earlier.buckets} == {
        "not_due": D("300.00"), "1-30": D("300.00"), "31-60": D("900.10"), "61-90": D("0.00"), "90+": D("0.00")}
    assert earlier.total == D("1500.10")


def test_aging_as_json_has_the_documented_shape(installation):
    aging_book(installation)
    found = json.loads(ok("report", "aging", "--as-of", "2026-03-31", "--json"))
    assert set(found) == {"as_of", "currency", "total", "buckets", "debtors", "other_currencies"}
    assert found["as_of"] == "2026-03-31" and found["total"] == "1580.00"
    assert found["currency"] == "EUR" and found["other_currencies"] == []  # everything is in euros
    assert found["buckets"][1] == {"bucket": "1-30", "amount": "199.90", "invoices": 1}
    assert [b["bucket"] for b in found["buckets"]] == ["not_due", "1-30", "31-60", "61-90", "90+"]
    assert found["debtors"][1] == {
        "debtor": "D-1", "name": "Jan de Vries", "total": "599.90",
        "buckets": {"not_due": "100.00", "1-30": "199.90", "31-60": "300.00", "61-90": "0.00", "90+": "0.00"},
    }
    total = sum(D(b["amount"]) for b in found["buckets"])
    assert f"{total:.2f}" == found["total"]


def test_aging_as_csv_with_commas_and_a_decimal_point(installation, tmp_path):
    aging_book(installation)
    target = tmp_path / "aging.csv"
    done = run("report", "aging", "--as-of", "2026-03-31", "--csv", str(target))
    assert done.returncode == 0, done.stderr
    assert "## Ouderdomsanalyse, 31-03-2026" in done.stdout and "EUR 1.580,00" in done.stdout  # nl, the default
    text = target.read_text(encoding="utf-8")
    assert text.splitlines()[:3] == [  # the same in every language
        "debtor,name,currency,not_due,1-30,31-60,61-90,90+,total",
        "D-2,Bakkerij Smit,EUR,80.00,0.00,0.00,900.00,0.10,980.10",
        "D-1,Jan de Vries,EUR,100.00,199.90,300.00,0.00,0.00,599.90",
    ]
    assert len(list(csv.DictReader(text.splitlines()))) == 2


def test_the_report_reads_in_the_installations_language_and_its_json_and_csv_do_not(installation, tmp_path):
    aging_book(installation)
    dutch = ok("report", "aging", "--as-of", "2026-03-31", "--csv", str(tmp_path / "nl.csv"))
    dutch_json = ok("report", "aging", "--as-of", "2026-03-31", "--json")
    (installation.home / "settings.toml").write_text('language = "en"\n', encoding="utf-8")
    english = ok("report", "aging", "--as-of", "2026-03-31", "--csv", str(tmp_path / "en.csv"))
    assert ok("report", "aging", "--as-of", "2026-03-31", "--json") == dutch_json
    assert (tmp_path / "en.csv").read_bytes() == (tmp_path / "nl.csv").read_bytes()
    # The buckets of aging_book: not_due 180.00 (2), ..., 90+ 0.10 (1); total 1,580.00 in 6 invoices of 2 debtors.
    assert "## Ouderdomsanalyse, 31-03-2026" in dutch
    assert "Openstaand op 31-03-2026: **EUR 1.580,00** in 6 facturen van 2 debiteuren" in dutch
    assert "| niet vervallen | EUR 180,00 | 2 |" in dutch and "| 90+ dagen | EUR 0,10 | 1 |" in dutch
    assert "| D-2 | Bakkerij Smit | EUR 80,00 | EUR 0,00 | EUR 0,00 | EUR 900,00 | EUR 0,10 | EUR 980,10 |" in dutch
    assert "## Aging, 2026-03-31" in english
    assert "Open on 2026-03-31: **EUR 1,580.00** in 6 invoices of 2 debtors" in english
    assert "| not due | EUR 180.00 | 2 |" in english and "| 90+ days | EUR 0.10 | 1 |" in english


def currency_book(installation) -> None:
    """Three currencies, as of 31 March 2026. D-1 has invoices in euros and in dollars.

    E-1 EUR 1000.00 D-1  issued 1 Mar, due 31 Mar                                 not_due 1000.00
    E-2 EUR  400.00 D-1  issued 1 Feb, due 3 Mar; 400.00 paid 20 Mar, no step before      (nothing open)
    U-1 USD  500.00 D-1  issued 1 Feb, due 3 Mar (28 days); herinnering 5 Mar, 200.00
                         paid 10 Mar                                               1-30     300.00
    U-2 USD  250.00 D-US issued 10 Jan, due 9 Feb (50 days)                        31-60    250.00
    G-1 GBP   80.00 D-UK issued 15 Mar, due 14 Apr                                 not_due   80.00

    Aging: EUR 1,000.00; GBP 80.00; USD 550.00 (D-1 300.00 before D-US 250.00). Never EUR 1,630.00.
    DSO on 31 March (count-back in each currency's own sales):
      EUR 1,000.00 against March's 1,000.00: 31.0 days.
      USD 550.00: March sold nothing (31 days), February's 500.00 wholly (28 days), 50.00 of January's 250.00:
          50 / 250 x 31 = 6.2. DSO 65.2.  On 28 February: 750.00; February's 500.00 (28), January's 250.00 wholly
          (31): 59.0.
      GBP 80.00 against March's 80.00: 31.0 days.
    Collected: EUR 400.00 in March, no step before it; USD 200.00 in March, after the herinnering; nothing in GBP."""
    with db.transaction(installation) as s:
        add(s, "E-1", "1000.00", date(2026, 3, 1), date(2026, 3, 31))
        e2 = add(s, "E-2", "400.00", date(2026, 2, 1), date(2026, 3, 3))
        pay(s, e2, "400.00", date(2026, 3, 20))
        u1 = add(s, "U-1", "500.00", date(2026, 2, 1), date(2026, 3, 3), currency="USD")
        dossier.record(s, u1, key="U-1:herinnering:email:1", kind="herinnering", at=at(date(2026, 3, 5)),
                       summary="herinnering sent")
        pay(s, u1, "200.00", date(2026, 3, 10))
        add(s, "U-2", "250.00", date(2026, 1, 10), date(2026, 2, 9), "D-US", "Acme Inc.", "USD")
        add(s, "G-1", "80.00", date(2026, 3, 15), date(2026, 4, 14), "D-UK", "Widgets Ltd", "GBP")


def test_amounts_in_different_currencies_are_reported_apart_and_never_added(installation, tmp_path):
    currency_book(installation)
    with db.transaction(installation) as s:
        aging, dso, collected = (reports.build(s, name, AS_OF) for name in ("aging", "dso", "collected"))
    assert isinstance(aging, reports.Aging) and isinstance(dso, reports.Dso)
    assert isinstance(collected, reports.Collected)
    assert [(c.currency, c.total, [b.amount for b in c.buckets if b.invoices]) for c in aging.currencies] == [
        ("EUR", D("1000.00"), [D("1000.00")]), ("GBP", D("80.00"), [D("80.00")]),
        ("USD", D("550.00"), [D("300.00"), D("250.00")])]
    assert [(d.debtor, d.total) for d in aging.currencies[2].debtors] == [("D-1", D("300.00")), ("D-US", D("250.00"))]
    assert [(c.currency, c.months[-1].receivables, c.months[-1].days) for c in dso.currencies] == [
        ("EUR", D("1000.00"), D("31.0")), ("GBP", D("80.00"), D("31.0")), ("USD", D("550.00"), D("65.2"))]
    assert (dso.currencies[2].months[-2].receivables, dso.currencies[2].months[-2].days) == (D("750.00"), D("59.0"))
    assert [(c.currency, c.total) for c in collected.currencies] == [("EUR", D("400.00")), ("USD", D("200.00"))]
    assert collected.currencies[1].months["2026-03"]["herinnering"] == D("200.00")

    # The JSON: the euros where the issue documents them, the others in `other_currencies`, by code.
    found = json.loads(ok("report", "aging", "--as-of", "2026-03-31", "--json"))
    assert (found["currency"], found["total"], [d["debtor"] for d in found["debtors"]]) == ("EUR", "1000.00", ["D-1"])
    usd = found["other_currencies"][1]
    assert [c["currency"] for c in found["other_currencies"]] == ["GBP", "USD"]
    assert set(usd) == {"currency", "total", "buckets", "debtors"} and usd["total"] == "550.00"
    assert [(b["bucket"], b["amount"], b["invoices"]) for b in usd["buckets"]][1:3] == [
        ("1-30", "300.00", 1), ("31-60", "250.00", 1)]
    dso_json = json.loads(ok("report", "dso", "--as-of", "2026-03-31", "--json"))
    assert [(c["currency"], c["months"][-1]["dso"]) for c in dso_json["other_currencies"]] == [
        ("GBP", "31.0"), ("USD", "65.2")]
    text = ok("report", "aging", "--as-of", "2026-03-31", "--csv", str(tmp_path / "aging.csv"))
    assert (tmp_path / "aging.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        "D-1,Jan de Vries,EUR,1000.00,0.00,0.00,0.00,0.00,1000.00",
        "D-UK,Widgets Ltd,GBP,80.00,0.00,0.00,0.00,0.00,80.00",
        "D-1,Jan de Vries,USD,0.00,300.00,0.00,0.00,0.00,300.00",
        "D-US,Acme Inc.,USD,0.00,0.00,250.00,0.00,0.00,250.00",
    ]
    # The text: each currency under its own heading, every amount with its currency, no sum across them.
    assert "### EUR" in text and "### GBP" in text and "### USD" in text
    assert "Openstaand op 31-03-2026: **USD 550,00** in 2 facturen van 2 debiteuren" in text
    assert "| **totaal** | **EUR 1.000,00** | 1 |" in text and "| **totaal** | **USD 550,00** | 2 |" in text
    assert "1.630" not in text and "1630" not in json.dumps(found)
    assert "| 31-03-2026 | USD 550,00 | USD 0,00 | 65,2 |" in ok("report", "dso", "--as-of", "2026-03-31")


def test_a_wrong_report_name_is_one_line_naming_the_reports(installation):
    done = run("report", "agin")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "unknown report 'agin'" in done.stderr
    for name in ("aging", "dso", "promises", "calls", "collected", "all"):
        assert name in done.stderr
    assert run("report", "all", "--json").returncode == 2
    assert "--as-of date: not a date (YYYY-MM-DD): '31-03-2026'" in run("report", "dso", "--as-of", "31-03-2026").stderr


# --- DSO ------------------------------------------------------------------------------------------------------------

def dso_book(installation) -> None:
    """Sales: January 2026 3,000.00 (A), February 2,800.00 (B), March 3,100.00 (C); nothing before.
    A is paid 1,000.00 on 20 February and 2,000.00 on 20 March; B 800.00 on 25 March; a credit note of 100.00 on C
    dated 2 April (after the last month end)."""
    with db.transaction(installation) as s:
        a = add(s, "A", "3000.00", date(2026, 1, 15), date(2026, 2, 14))
        b = add(s, "B", "2800.00", date(2026, 2, 10), date(2026, 3, 12))
        c = add(s, "C", "3100.00", date(2026, 3, 5), date(2026, 4, 4))
        pay(s, a, "1000.00", date(2026, 2, 20))
        pay(s, a, "2000.00", date(2026, 3, 20))
        pay(s, b, "800.00", date(2026, 3, 25))
        invoices.register_credit(s, c, D("100.00"), PaymentKind.credit_note, "discount", at(date(2026, 4, 2)))


def test_dso_by_count_back_over_a_small_book(installation):
    dso_book(installation)
    with db.transaction(installation) as s:
        found = reports.dso(s, AS_OF)
        on_february = reports.aging(s, date(2026, 2, 28)).total
    months = {m.month_end: m for m in found.months}
    assert [m.month_end for m in found.months][0] == date(2025, 4, 30) and len(found.months) == 12
    # 31 January: A's 3,000.00 open, January sold 3,000.00: 3,000 / 3,000 x 31 = 31.0 days.
    jan = months[date(2026, 1, 31)]
    assert (jan.receivables, jan.sales, jan.days, jan.complete) == (D("3000.00"), D("3000.00"), D("31.0"), True)
    # 28 February: A 2,000.00 + B 2,800.00 = 4,800.00. February's 2,800.00 wholly (28 days), then 2,000.00 of
    # January's 3,000.00: 2,000 / 3,000 x 31 = 20.67. DSO 48.67 -> 48.7.
    feb = months[date(2026, 2, 28)]
    assert (feb.receivables, feb.sales, feb.days) == (D("4800.00"), D("2800.00"), D("48.7"))
    # 31 March: A 0, B 2,000.00, C 3,100.00 (its credit note is dated 2 April) = 5,100.00. March's 3,100.00 wholly
    # (31 days), then 2,000.00 of February's 2,800.00: 2,000 / 2,800 x 28 = 20.0. DSO 51.0.
    mar = months[date(2026, 3, 31)]
    assert (mar.receivables, mar.sales, mar.days) == (D("5100.00"), D("3100.00"), D("51.0"))
    # Before January nothing was open.
    assert all((m.receivables, m.days) == (D("0.00"), D("0.0")) for m in found.months[:9])
    # The receivables DSO counts back from are the aging's total on that day.
    assert on_february == D("4800.00")


def test_dso_through_the_cli(installation):
    dso_book(installation)
    found = json.loads(ok("report", "dso", "--as-of", "2026-03-31", "--json"))
    assert found["method"] == "count-back" and found["currency"] == "EUR" and found["other_currencies"] == []
    assert found["months"][-1] == {"month_end": "2026-03-31", "receivables": "5100.00", "sales": "3100.00",
                                   "dso": "51.0", "complete": True}
    text = ok("report", "dso", "--as-of", "2026-03-31")
    assert "| 28-02-2026 | EUR 4.800,00 | EUR 2.800,00 | 48,7 |" in text


# --- promises, calls, money collected -----------------------------------------------------------------------------

def call(s, invoice: Invoice, number: int, day: date, by: str, **outcome) -> None:  # type: ignore[no-untyped-def]
    task = human_tasks.open_call(s, invoice, Step.call(number), at(day, 9))
    answers.complete_call(s, task, CallOutcome(by=by, **outcome), at(day))


def people_book(installation) -> None:
    """Calls and promises in February and March 2026, by Marie and Piet; then the payments.

    P-1 500.00  10 Feb Marie: promises all by 20 Feb; 500.00 paid 18 Feb                     kept
    P-2 400.00  11 Feb Marie: not reached; 12 Feb Marie: 100.00 by 25 Feb ("Payment run is
                next week"); 100.00 paid 24 Feb (300.00 <= 400.00 - 100.00)                  kept
    P-3 600.00   2 Mar Piet: all by 10 Mar; 200.00 paid 12 Mar                               kept in part
    P-4 700.00   3 Mar Piet: all by 15 Mar ("Cannot pay now"); nothing; the engine's note   broken
    P-5 800.00  25 Mar Piet: all by 5 April                                                  running
    P-6 900.00  26 Mar Piet: asks for a payment plan ("Cannot pay now")                      (no promise)
    P-8 100.00  27 Mar Piet: disputes it                                                      (no promise)
    Q-1 300.00 and Q-2 200.00 of one debtor, one call 5 Mar by Marie: all by 20 Mar;
                Q-1 paid 300.00 on 18 Mar, Q-2 nothing                                        kept, broken
    X-1         a call on 31 March 2025, before the twelve months                            (left out)

    Promises: made 7; kept 3 (P-1, P-2, Q-1), kept in part 1 (P-3), broken 2 (P-4, Q-2), running 1 (P-5);
    kept rate 3 / 6 = 50.0%. Marie: 4 made, 3 kept, 1 broken: 75.0%. Piet: 3 made, 1 in part, 1 broken, 1
    running: 0 / 2 = 0.0%.
    Calls: Marie 4 attempts (P-1, P-2 twice, Q-1; Q-2 was answered by Q-1's call), 3 reached (75.0%): promise 3,
    not reached 1. Piet 5 attempts, 5 reached (100.0%): promise 3, plan requested 1, dispute 1; "Cannot pay now"
    twice. All: 9 attempts, 8 reached, 88.9%.

    Ladder messages and more payments, for money collected (twelve months from 1 April 2025):
    R-1 1000.00 herinnering 10 Jan, aanmaning 20 Jan; 400.00 paid 20 Jan (after the herinnering: the aanmaning
                went out that day), 600.00 paid 5 Feb (after the aanmaning)
    R-2  250.00 paid 1 Mar, no step before it
    R-3  700.00 ingebrekestelling 1 Mar; 700.00 paid 10 Mar and taken back by the bank; a credit note 50.00
    R-4   50.00 paid 15 March 2025, before the twelve months
    P-3's herinnering on 20 Feb came before its call on 2 Mar: its 200.00 follows the call.

    Collected: January 400.00 (herinnering); February 600.00 call (P-1 500 + P-2 100) and 600.00 aanmaning;
    March 500.00 call (P-3 200 + Q-1 300) and 250.00 none. Total 2,350.00: none 250, call 1,100, herinnering 400,
    aanmaning 600."""
    with db.transaction(installation) as s:
        p1 = add(s, "P-1", "500.00", date(2026, 1, 1), date(2026, 2, 1), "D-11")
        p2 = add(s, "P-2", "400.00", date(2026, 1, 1), date(2026, 2, 1), "D-12")
        p3 = add(s, "P-3", "600.00", date(2026, 1, 1), date(2026, 2, 1), "D-13")
        p4 = add(s, "P-4", "700.00", date(2026, 1, 1), date(2026, 2, 1), "D-14")
        p5 = add(s, "P-5", "800.00", date(2026, 2, 1), date(2026, 3, 1), "D-15")
        p6 = add(s, "P-6", "900.00", date(2026, 2, 1), date(2026, 3, 1), "D-16")
        p8 = add(s, "P-8", "100.00", date(2026, 2, 1), date(2026, 3, 1), "D-18")
        q1 = add(s, "Q-1", "300.00", date(2026, 1, 1), date(2026, 2, 1), "D-17")
        q2 = add(s, "Q-2", "200.00", date(2026, 1, 1), date(2026, 2, 1), "D-17")
        x1 = add(s, "X-1", "100.00", date(2025, 2, 1), date(2025, 3, 1), "D-19")
        r1 = add(s, "R-1", "1000.00", date(2025, 12, 1), date(2026, 1, 1), "D-20")
        r2 = add(s, "R-2", "250.00", date(2026, 2, 1), date(2026, 3, 1), "D-20")
        r3 = add(s, "R-3", "700.00", date(2026, 1, 1), date(2026, 2, 1), "D-20")
        r4 = add(s, "R-4", "50.00", date(2025, 2, 1), date(2025, 3, 1), "D-20")

        call(s, p1, 1, date(2026, 2, 10), "Marie", reached=True, promised_on=date(2026, 2, 20))
        call(s, p2, 1, date(2026, 2, 11), "Marie", reached=False)
        call(s, p2, 2, date(2026, 2, 12), "Marie", reached=True, promised_on=date(2026, 2, 25),
             promised_amount=D("100.00"), excuse="Payment run is next week")
        dossier.record(s, p3, key="P-3:herinnering:email:1", kind="herinnering", at=at(date(2026, 2, 20)),
                       summary="herinnering sent")
        call(s, p3, 1, date(2026, 3, 2), "Piet", reached=True, promised_on=date(2026, 3, 10))
        call(s, p4, 1, date(2026, 3, 3), "Piet", reached=True, promised_on=date(2026, 3, 15), excuse="Cannot pay now")
        cases.note_broken_promise(s, p4, Step.call(1), date(2026, 3, 15), at(date(2026, 3, 16)))
        call(s, p5, 1, date(2026, 3, 25), "Piet", reached=True, promised_on=date(2026, 4, 5))
        call(s, p6, 1, date(2026, 3, 26), "Piet", reached=True, plan_requested=True, excuse="Cannot pay now")
        call(s, p8, 1, date(2026, 3, 27), "Piet", reached=True, dispute="wrong price")
        lead = human_tasks.open_call(s, q1, Step.call(1), at(date(2026, 3, 5), 8))
        joined = human_tasks.open_call(s, q2, Step.call(1), at(date(2026, 3, 5), 8))
        assert joined.joined_to_id == lead.id  # one call with the debtor about both invoices
        call(s, q1, 1, date(2026, 3, 5), "Marie", reached=True, promised_on=date(2026, 3, 20))
        assert joined.completed_by == "Marie"  # answered by Q-1's call
        call(s, x1, 1, date(2025, 3, 31), "Marie", reached=True, promised_on=date(2025, 4, 10))

        pay(s, p1, "500.00", date(2026, 2, 18))
        pay(s, p2, "100.00", date(2026, 2, 24))
        pay(s, p3, "200.00", date(2026, 3, 12))
        pay(s, q1, "300.00", date(2026, 3, 18))

        for kind, day in (("herinnering", date(2026, 1, 10)), ("aanmaning", date(2026, 1, 20))):
            dossier.record(s, r1, key=f"R-1:{kind}:email:1", kind=kind, at=at(day), summary=f"{kind} sent")
        pay(s, r1, "400.00", date(2026, 1, 20))
        pay(s, r1, "600.00", date(2026, 2, 5))
        pay(s, r2, "250.00", date(2026, 3, 1))
        dossier.record(s, r3, key="R-3:ingebrekestelling:email:1", kind="ingebrekestelling", at=at(date(2026, 3, 1)),
                       summary="ingebrekestelling sent")
        pay(s, r3, "700.00", date(2026, 3, 10))
        r3.payments[-1].reversed_at = at(date(2026, 3, 12))
        invoices.register_credit(s, r3, D("50.00"), PaymentKind.credit_note, "goodwill", at(date(2026, 3, 13)))
        pay(s, r4, "50.00", date(2025, 3, 15))


def counts(c: dict) -> tuple:
    return c["made"], c["kept"], c["kept_in_part"], c["broken"], c["running"], c["kept_rate"]


def test_promises_made_kept_kept_in_part_broken_and_running(installation):
    people_book(installation)
    with db.transaction(installation) as s:
        found = reports.promises(s, AS_OF).as_json()
    assert found["since"] == "2025-04-01"
    assert counts(found["total"]) == (7, 3, 1, 2, 1, "50.0")
    assert {c["collector"]: counts(c) for c in found["collectors"]} == {
        "Marie": (4, 3, 0, 1, 0, "75.0"), "Piet": (3, 0, 1, 1, 1, "0.0")}
    months = {m["month"]: counts(m) for m in found["months"]}
    assert len(months) == 12 and months["2025-04"] == (0, 0, 0, 0, 0, None)
    assert months["2026-02"] == (2, 2, 0, 0, 0, "100.0")
    assert months["2026-03"] == (5, 1, 1, 2, 1, "25.0")  # Q-1 kept; P-3 in part; P-4, Q-2 broken; P-5 running
    assert {(r["month"], r["collector"]): counts(r) for r in found["rows"]} == {
        ("2026-02", "Marie"): (2, 2, 0, 0, 0, "100.0"),
        ("2026-03", "Marie"): (2, 1, 0, 1, 0, "50.0"),
        ("2026-03", "Piet"): (3, 0, 1, 1, 1, "0.0"),
    }


def test_calls_per_collector_attempts_reached_outcomes_and_excuses(installation):
    people_book(installation)
    found = json.loads(ok("report", "calls", "--as-of", "2026-03-31", "--json"))
    collectors = {c["collector"]: c for c in found["collectors"]}
    marie, piet = collectors["Marie"], collectors["Piet"]
    assert (marie["attempts"], marie["reached"], marie["reached_rate"]) == (4, 3, "75.0")
    assert marie["outcomes"] == {"promise": 3, "dispute": 0, "plan requested": 0, "copy requested": 0,
                                 "no agreement": 0, "not reached": 1}
    assert marie["excuses"] == {"Payment run is next week": 1}
    assert (piet["attempts"], piet["reached"], piet["reached_rate"]) == (5, 5, "100.0")
    assert (piet["outcomes"]["promise"], piet["outcomes"]["plan requested"], piet["outcomes"]["dispute"]) == (3, 1, 1)
    assert piet["excuses"] == {"Cannot pay now": 2}
    assert (found["total"]["attempts"], found["total"]["reached"], found["total"]["reached_rate"]) == (9, 8, "88.9")


def test_money_collected_per_month_and_the_step_before_it(installation):
    people_book(installation)
    with db.transaction(installation) as s:
        found = reports.collected(s, AS_OF)
    zero = D("0.00")
    assert found.months["2026-01"] == {**dict.fromkeys(reports.STEPS, zero), "herinnering": D("400.00")}
    assert found.months["2026-02"] == {**dict.fromkeys(reports.STEPS, zero), "call": D("600.00"),
                                       "aanmaning": D("600.00")}
    assert found.months["2026-03"] == {**dict.fromkeys(reports.STEPS, zero), "call": D("500.00"), "none": D("250.00")}
    assert found.months["2025-04"] == dict.fromkeys(reports.STEPS, zero)
    assert found.total == D("2350.00")
    assert found.steps == {**dict.fromkeys(reports.STEPS, zero), "none": D("250.00"), "call": D("1100.00"),
                           "herinnering": D("400.00"), "aanmaning": D("600.00")}
    data = json.loads(ok("report", "collected", "--as-of", "2026-03-31", "--json"))
    assert data["total"] == "2350.00" and data["steps"]["call"] == "1100.00"
    assert data["months"][-1] == {"month": "2026-03", "total": "750.00",
                                  "steps": {**dict.fromkeys(reports.STEPS, "0.00"), "call": "500.00", "none": "250.00"}}


# --- the report page ------------------------------------------------------------------------------------------------

def test_report_all_writes_the_page_with_both_charts(installation):
    aging_book(installation)
    people_book(installation)
    with db.transaction(installation) as s:
        clock.set_simulated(s, at(AS_OF, 12))  # `report all` without --as-of: today by the installation's clock
    done = run("report", "all")
    assert done.returncode == 0, done.stderr
    folder = installation.home / "reports" / "2026-03-31"
    assert done.stdout.strip() == str(folder)
    names = {p.name for p in folder.iterdir()}
    assert {"index.html", "aging.svg", "dso.svg", "aging.png", "dso.png", "aging.csv", "dso.csv", "promises.csv",
            "calls.csv", "collected.csv"} <= names
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert '<img src="aging.svg"' in page and '<img src="dso.svg"' in page
    assert '<html lang="nl">' in page and "<h1>Rapportages 31-03-2026</h1>" in page
    assert "<style>" in page and "http" not in page  # nothing to fetch: no stylesheet, script or image elsewhere
    with db.transaction(installation) as s:
        total = reports.aging(s, AS_OF).total
    assert f"<strong>{reports.amount_text(total, 'EUR', 'nl')}</strong>" in page and "Bakkerij Smit" in page
    assert "Deels nagekomen" in page and "Kept in part" not in page
    for chart in ("aging.svg", "dso.svg"):
        svg = (folder / chart).read_bytes()
        assert svg.startswith(b"<?xml") and b"<svg" in svg and b"<dc:date>" not in svg
    assert (folder / "aging.png").read_bytes().startswith(b"\x89PNG")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert run("report", "all", "--as-of", "2026-03-31").returncode == 0
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # the same reports, the same bytes


def test_the_artifact_markdown_shows_the_charts_as_images_and_names_the_page(installation, tmp_path):
    aging_book(installation)
    with db.transaction(installation) as s:
        every = reports.Reports.of(AS_OF, {name: reports.build(s, name, AS_OF) for name in reports.NAMES})
    charts = report_pages.charts(every)
    paths = report_pages.write_folder(tmp_path / "r", every, charts)
    text = report_pages.artifact_markdown(every, charts, paths[0])
    assert text.count("](data:image/png;base64,") == 2
    assert str(paths[0]) in text and "## Ouderdomsanalyse, 31-03-2026" in text
    rows = report_pages.table_rows(every.aging)
    assert rows[0] == {"Debiteur": "", "Naam": "Alle debiteuren", "Niet vervallen": "EUR 180,00",
                       "1-30 dagen": "EUR 199,90", "31-60 dagen": "EUR 300,00", "61-90 dagen": "EUR 900,00",
                       "90+ dagen": "EUR 0,10", "Totaal": "EUR 1.580,00"}


def test_reports_over_an_empty_book(installation):
    for name in reports.NAMES:
        done = run("report", name, "--as-of", "2026-03-31", "--json")
        assert done.returncode == 0, done.stderr
    assert json.loads(ok("report", "aging", "--as-of", "2026-03-31", "--json"))["total"] == "0.00"
    assert run("report", "all", "--as-of", "2026-03-31").returncode == 0


def test_promise_counts_need_an_outcome_with_a_date(installation):
    """A call task opened but never answered is no attempt and no promise."""
    with db.transaction(installation) as s:
        invoice = add(s, "F-1", "100.00", date(2026, 1, 1), date(2026, 2, 1))
        human_tasks.open_task(s, invoice, TaskKind.call, Step.call(1), at(date(2026, 3, 2)))
        found = reports.calls(s, AS_OF)
        promised = reports.promises(s, AS_OF)
    assert found.total.attempts == 0 and promised.total.made == 0
