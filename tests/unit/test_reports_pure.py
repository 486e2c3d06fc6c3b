"""The reports' arithmetic over plain values: aging buckets, month ends, the DSO count-back, what became of a
promise, what a call came to, which step preceded a payment; and hand-made reports as people read them, in the
installation's language, each currency apart."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from dunning.desk import report_pages
from dunning.desk.excuses import Excuse
from dunning.desk.report_pages import excuse_label, excuses_shown
from dunning.desk.reports import (
    BUCKETS,
    STEPS,
    Aging,
    AgingBucket,
    CallCounts,
    Calls,
    Collected,
    CurrencyAging,
    CurrencyCollected,
    CurrencyDso,
    DebtorAging,
    Dso,
    DsoMonth,
    PromiseCounts,
    Promises,
    amount_text,
    answered_with_another,
    bucket_bounds,
    bucket_of,
    call_outcomes,
    count_back,
    day_text,
    label,
    month_ends,
    month_text,
    number_text,
    percent_text,
    promise_verdict,
    rate,
    step_before,
    window_start,
)

D = Decimal


@pytest.mark.parametrize(("days", "bucket"), [
    (-10, "not_due"), (0, "not_due"),  # on the due date itself nothing is overdue yet
    (1, "1-30"), (30, "1-30"),
    (31, "31-60"), (60, "31-60"),
    (61, "61-90"), (90, "61-90"),
    (91, "90+"), (400, "90+"),
])
def test_days_overdue_fall_in_their_bucket(days, bucket):
    assert bucket_of(days) == bucket


def test_the_bucket_bounds_the_database_compares_with_sort_every_due_date_as_bucket_of_does():
    as_of = date(2026, 3, 31)
    bounds = bucket_bounds(as_of)
    assert [name for name, _ in bounds] == list(BUCKETS)
    for days in range(-40, 200):
        due = as_of - timedelta(days)
        found = next(name for name, first in bounds if first is None or due >= first)
        assert found == bucket_of(days), days


def test_month_ends_are_the_last_twelve_up_to_as_of():
    ends = month_ends(date(2026, 3, 15))
    assert len(ends) == 12
    assert ends[0] == date(2025, 3, 31) and ends[-1] == date(2026, 2, 28)  # March 2026 has not ended yet
    assert month_ends(date(2026, 3, 31))[-1] == date(2026, 3, 31)  # as_of is a month end itself
    assert month_ends(date(2024, 3, 1), 2) == [date(2024, 1, 31), date(2024, 2, 29)]  # a leap year


def test_the_window_is_twelve_calendar_months_with_as_ofs():
    assert window_start(date(2026, 3, 31)) == date(2025, 4, 1)
    assert window_start(date(2026, 12, 5)) == date(2026, 1, 1)
    assert window_start(date(2026, 1, 1)) == date(2025, 2, 1)


def test_count_back_the_docstrings_example():
    # 150,000 open on 31 March. March's 100,000 is used up wholly: 31 days, 50,000 left. February (28 days,
    # 80,000): 50,000 / 80,000 x 28 = 17.5 days. DSO 31 + 17.5 = 48.5.
    assert count_back(D("150000.00"), [(31, D("100000.00")), (28, D("80000.00"))]) == (D("48.5"), True)


def test_count_back_within_the_first_month_and_exactly_at_its_sales():
    # 1,000 open against March's 3,100: 1,000 / 3,100 x 31 = 10.0 days.
    assert count_back(D("1000.00"), [(31, D("3100.00"))]) == (D("10.0"), True)
    # All of March's sales open: 31 days exactly, February is not touched.
    assert count_back(D("3100.00"), [(31, D("3100.00")), (28, D("1.00"))]) == (D("31.0"), True)


def test_count_back_a_month_without_sales_adds_its_days_and_uses_up_nothing():
    # 500 open; March sold nothing (31 days), February 1,000: 500 / 1,000 x 28 = 14. DSO 31 + 14 = 45.0.
    assert count_back(D("500.00"), [(31, D("0.00")), (28, D("1000.00"))]) == (D("45.0"), True)
    # A month that credited more than it invoiced counts as one without sales.
    assert count_back(D("500.00"), [(31, D("-200.00")), (28, D("1000.00"))]) == (D("45.0"), True)


def test_count_back_rounds_to_a_tenth_and_says_when_the_sales_ran_out():
    # 4,800 open on 28 February: February's 2,800 wholly (28 days), 2,000 of January's 3,000:
    # 2,000 / 3,000 x 31 = 20.67. DSO 48.67 -> 48.7.
    assert count_back(D("4800.00"), [(28, D("2800.00")), (31, D("3000.00"))]) == (D("48.7"), True)
    # More open than was ever invoiced in the months given: every month's days, a lower bound.
    assert count_back(D("9000.00"), [(28, D("2800.00")), (31, D("3000.00"))]) == (D("59.0"), False)
    assert count_back(D("0.00"), [(31, D("100.00"))]) == (D("0.0"), True)


def test_rates_are_percentages_to_a_tenth_and_none_without_a_whole():
    assert rate(2, 3) == D("66.7")
    assert rate(0, 4) == D("0.0")
    assert rate(0, 0) is None


AS_OF = date(2026, 3, 31)


def test_a_promise_is_kept_once_all_that_was_open_is_paid():
    assert promise_verdict(date(2026, 3, 20), None, D("500.00"), D("0.00"), False, AS_OF) == "kept"
    # Kept counts even when it came in after the date: the sheet's rule asks only whether it was paid.
    assert promise_verdict(date(2026, 3, 1), None, None, D("0.00"), True, AS_OF) == "kept"


def test_a_promise_of_part_is_kept_once_that_part_came_in():
    # 400 open at the call, 100 promised: kept once at most 300 is open.
    assert promise_verdict(date(2026, 3, 20), D("100.00"), D("400.00"), D("300.00"), False, AS_OF) == "kept"
    assert promise_verdict(date(2026, 3, 20), D("100.00"), D("400.00"), D("300.01"), False, AS_OF) == "kept_in_part"


def test_a_promise_past_its_date_is_broken_or_kept_in_part():
    # 600 open at the call, all promised by 10 March; 200 came in: kept in part. Nothing came in: broken.
    assert promise_verdict(date(2026, 3, 10), None, D("600.00"), D("400.00"), False, AS_OF) == "kept_in_part"
    assert promise_verdict(date(2026, 3, 10), None, D("600.00"), D("600.00"), False, AS_OF) == "broken"
    # An older outcome without the open amount at the call: nothing to compare with, broken.
    assert promise_verdict(date(2026, 3, 10), None, None, D("400.00"), False, AS_OF) == "broken"


def test_a_promise_is_running_until_its_date_unless_a_note_says_it_is_broken():
    assert promise_verdict(date(2026, 4, 5), None, D("800.00"), D("800.00"), False, AS_OF) == "running"
    assert promise_verdict(AS_OF, None, D("800.00"), D("800.00"), False, AS_OF) == "running"  # due today
    assert promise_verdict(date(2026, 4, 5), None, D("800.00"), D("800.00"), True, AS_OF) == "broken"


def test_what_a_call_came_to():
    assert call_outcomes({"reached": False, "promised_on": None}) == ["not reached"]
    assert call_outcomes({"reached": True, "promised_on": "2026-03-20"}) == ["promise"]
    assert call_outcomes({"reached": True, "dispute": "wrong price", "plan_requested": True}) == [
        "dispute", "plan requested"]
    assert call_outcomes({"reached": True, "send_copy": True}) == ["copy requested"]
    assert call_outcomes({"reached": True, "dispute": "", "excuse": "Cannot pay now"}) == ["no agreement"]


def test_a_call_answered_with_another_invoices_call_is_not_a_call_of_its_own():
    assert answered_with_another({"note": "(one call with invoice Q-1)"})
    assert answered_with_another({"note": "will pay Friday (one call with invoice 2026-001)"})
    assert not answered_with_another({"note": "asked about invoice Q-1"})
    assert not answered_with_another({"note": None})


def test_the_step_before_a_payment_is_the_last_taken_on_an_earlier_day():
    taken = [(date(2026, 1, 10), "herinnering"), (date(2026, 1, 20), "aanmaning")]
    assert step_before(date(2026, 1, 10), taken) == "none"  # the herinnering went out that very day
    assert step_before(date(2026, 1, 20), taken) == "herinnering"
    assert step_before(date(2026, 2, 5), taken) == "aanmaning"
    # A call after the herinnering: the call came last.
    assert step_before(date(2026, 3, 12), [*taken, (date(2026, 3, 2), "call")]) == "call"
    # Two on one day: the one further along the ladder.
    assert step_before(date(2026, 3, 12), [(date(2026, 3, 2), "aanmaning"), (date(2026, 3, 2), "call")]) == "aanmaning"


# --- in the installation's language, per currency -------------------------------------------------------------------
# Hand-made reports, rendered as people read them: nl (the default) and en; the machine keys stay English.

def test_numbers_dates_and_months_the_dutch_way_in_nl_and_as_before_in_en():
    assert amount_text(D("1234567.5"), "EUR", "nl") == "EUR 1.234.567,50"
    assert amount_text(D("1234567.5"), "USD", "en") == "USD 1,234,567.50"
    assert amount_text(D("0.10"), "GBP", "nl") == "GBP 0,10"
    assert percent_text(D("66.7"), "nl") == "66,7%" and percent_text(D("66.7"), "en") == "66.7%"
    assert percent_text(None, "nl") == "–"
    assert number_text(D("48.5"), 1, "nl") == "48,5"
    assert day_text(date(2026, 3, 1), "nl") == "01-03-2026" and day_text(date(2026, 3, 1), "en") == "2026-03-01"
    assert month_text("2026-03", "nl") == "maart 2026" and month_text("2026-03", "en") == "March 2026"
    assert month_text("2025-10", "nl", short=True) == "okt 2025"
    assert month_text("2025-05", "en", short=True) == "May 2025"


def test_buckets_outcomes_and_steps_are_labelled_for_people_and_keep_their_keys():
    assert [label(b, "nl") for b in BUCKETS] == ["niet vervallen", "1-30 dagen", "31-60 dagen", "61-90 dagen",
                                                 "90+ dagen"]
    assert [label(b, "en") for b in BUCKETS] == ["not due", "1-30 days", "31-60 days", "61-90 days", "90+ days"]
    assert label("not reached", "nl") == "niet bereikt" and label("call", "nl") == "gesprek"
    assert label("Marie", "nl") == "Marie"  # a collector's name is no key
    assert BUCKETS == ("not_due", "1-30", "31-60", "61-90", "90+")


def test_an_excuse_reads_in_the_installations_language_however_it_was_typed():
    # The built-in list names it "Cannot pay now / Kan nu niet betalen".
    for heard in ("Cannot pay now", "kan nu niet betalen", "Cannot pay now / Kan nu niet betalen"):
        assert excuse_label(heard, "nl") == "Kan nu niet betalen"
        assert excuse_label(heard, "en") == "Cannot pay now"
    assert excuse_label("Klant is op vakantie", "en") == "Klant is op vakantie"  # a collector's own words
    only_dutch = (Excuse("Factuur kwijt", "Stuur een kopie."),)
    assert excuse_label("factuur kwijt", "en", only_dutch) == "Factuur kwijt"  # one language only: as the list has it
    heard = {"Cannot pay now": 2, "Kan nu niet betalen": 1, "Payment run is next week": 1, "op vakantie": 3}
    assert excuses_shown(heard, "nl") == [("Kan nu niet betalen", 3), ("op vakantie", 3),
                                          ("Betaalrun is volgende week", 1)]


def _aging() -> Aging:
    """As of 31 March 2026: EUR 180.00 not due (2 invoices) and 900.00 61-90 days (1), D-2 980.00 and D-1 100.00;
    USD 250.00 31-60 days (1), D-9. The currencies are never added: no 1,330.00 anywhere."""
    zero = D("0.00")
    eur = CurrencyAging("EUR", D("1080.00"), tuple(
        AgingBucket(b, amount, n) for b, amount, n in zip(
            BUCKETS, (D("180.00"), zero, zero, D("900.00"), zero), (2, 0, 0, 1, 0), strict=True)), (
        DebtorAging("D-2", "Bakkerij Smit", D("980.00"), {**dict.fromkeys(BUCKETS, zero), "not_due": D("80.00"),
                                                          "61-90": D("900.00")}),
        DebtorAging("D-1", "Jan de Vries", D("100.00"), {**dict.fromkeys(BUCKETS, zero), "not_due": D("100.00")}),
    ))
    usd = CurrencyAging("USD", D("250.00"), tuple(
        AgingBucket(b, D("250.00") if b == "31-60" else zero, 1 if b == "31-60" else 0) for b in BUCKETS), (
        DebtorAging("D-9", "Acme Inc.", D("250.00"), {**dict.fromkeys(BUCKETS, zero), "31-60": D("250.00")}),
    ))
    return Aging(AS_OF, (eur, usd))


def test_the_aging_json_keeps_the_euros_where_the_issue_has_them_and_the_rest_apart():
    found = _aging().as_json()
    assert list(found) == ["as_of", "currency", "total", "buckets", "debtors", "other_currencies"]
    assert (found["currency"], found["total"], found["buckets"][0]) == (
        "EUR", "1080.00", {"bucket": "not_due", "amount": "180.00", "invoices": 2})
    assert found["other_currencies"] == [{
        "currency": "USD", "total": "250.00",
        "buckets": [{"bucket": b, "amount": "250.00" if b == "31-60" else "0.00", "invoices": int(b == "31-60")}
                    for b in BUCKETS],
        "debtors": [{"debtor": "D-9", "name": "Acme Inc.", "total": "250.00",
                     "buckets": {b: "250.00" if b == "31-60" else "0.00" for b in BUCKETS}}],
    }]
    assert [(r["debtor"], r["currency"], r["total"]) for r in _aging().rows()] == [
        ("D-2", "EUR", "980.00"), ("D-1", "EUR", "100.00"), ("D-9", "USD", "250.00")]


def test_the_aging_in_dutch_shows_each_currency_apart_with_every_amount():
    text = report_pages.markdown(_aging(), "nl")
    assert text.startswith("## Ouderdomsanalyse, 31-03-2026\n")
    assert "nooit bij elkaar opgeteld" in text
    eur, usd = text.split("### EUR")[1].split("### USD")
    assert "Openstaand op 31-03-2026: **EUR 1.080,00** in 3 facturen van 2 debiteuren" in eur
    assert "| niet vervallen | EUR 180,00 | 2 |" in eur and "| **totaal** | **EUR 1.080,00** | 3 |" in eur
    assert "| Debiteur | Naam | Niet vervallen | 1-30 dagen | 31-60 dagen | 61-90 dagen | 90+ dagen | Totaal |" in eur
    assert "| D-2 | Bakkerij Smit | EUR 80,00 | EUR 0,00 | EUR 0,00 | EUR 900,00 | EUR 0,00 | EUR 980,00 |" in eur
    assert "Openstaand op 31-03-2026: **USD 250,00** in 1 factuur van 1 debiteur" in usd
    assert "| 31-60 dagen | USD 250,00 | 1 |" in usd and "EUR" not in usd
    assert "1.330" not in text
    rows = report_pages.table_rows(_aging(), "nl")
    assert [(r["Naam"], r["Totaal"]) for r in rows] == [
        ("Alle debiteuren", "EUR 1.080,00"), ("Bakkerij Smit", "EUR 980,00"), ("Jan de Vries", "EUR 100,00"),
        ("Alle debiteuren", "USD 250,00"), ("Acme Inc.", "USD 250,00")]
    assert report_pages.summary(_aging(), "nl").startswith(
        "Ouderdomsanalyse op 31-03-2026: EUR 1.080,00, USD 250,00 openstaand")
    english = report_pages.markdown(_aging(), "en")
    assert "Open on 2026-03-31: **EUR 1,080.00** in 3 invoices of 2 debtors" in english
    assert "| 31-60 days | USD 250.00 | 1 |" in english


def test_dso_per_currency_in_dutch():
    months = tuple(DsoMonth(end, D("100.00"), D("0.00"), D("31.0"), True) for end in month_ends(AS_OF)[:-1])
    eur = CurrencyDso("EUR", (*months, DsoMonth(AS_OF, D("4800.00"), D("2800.00"), D("48.7"), True)))
    usd = CurrencyDso("USD", (*months, DsoMonth(AS_OF, D("900.00"), D("0.00"), D("59.0"), False)))
    report = Dso(AS_OF, (eur, usd))
    assert report.as_json()["other_currencies"][0]["months"][-1] == {
        "month_end": "2026-03-31", "receivables": "900.00", "sales": "0.00", "dso": "59.0", "complete": False}
    text = report_pages.markdown(report, "nl")
    assert text.startswith("## DSO (dagen debiteurenstand), 31-03-2026\n") and "Terugtelmethode" in text
    assert "| Maandeinde | Debiteurenstand | Omzet die maand | DSO (dagen) |" in text
    assert "| 31-03-2026 | EUR 4.800,00 | EUR 2.800,00 | 48,7 |" in text
    assert "| 31-03-2026 | USD 900,00 | USD 0,00 | 59,0 (minstens) |" in text
    assert report_pages.summary(report, "nl") == (
        "DSO (terugtelmethode) per maandeinde; 31-03-2026: EUR 48,7 dagen, USD 59,0 dagen")


def test_promises_and_calls_in_dutch():
    since = window_start(AS_OF)
    kept, broken = PromiseCounts(), PromiseCounts()
    for verdict in ("kept", "kept", "kept_in_part", "running"):
        kept.add(verdict)
    broken.add("broken")
    total = PromiseCounts(made=5, kept=2, kept_in_part=1, broken=1, running=1)
    promised = Promises(AS_OF, since, total, {"2026-03": total}, {"Marie": kept, "unknown": broken},
                        {("2026-03", "Marie"): kept, ("2026-03", "unknown"): broken})
    text = report_pages.markdown(promised, "nl")
    # Kept rate: 2 kept of the 4 decided (kept, kept in part, broken) = 50.0%.
    assert "5 gedaan, 2 nagekomen, 1 deels nagekomen, 1 gebroken, 1 lopend; nakomingspercentage 50,0%" in text
    assert "| Maand | Gedaan | Nagekomen | Deels nagekomen | Gebroken | Lopend | Nakomingspercentage |" in text
    assert "| maart 2026 | 5 | 2 | 1 | 1 | 1 | 50,0% |" in text and "| onbekend | 1 | 0 | 0 | 1 | 0 | 0,0% |" in text
    assert report_pages.table_rows(promised, "nl")[0] == {
        "Maand": "maart 2026", "Medewerker": "Marie", "Gedaan": "4", "Nagekomen": "2", "Deels nagekomen": "1",
        "Gebroken": "0", "Lopend": "1", "Nakomingspercentage": "66,7%"}

    piet = CallCounts()
    for outcome in ({"reached": True, "promised_on": "2026-03-20", "excuse": "Cannot pay now"},
                    {"reached": True, "excuse": "Kan nu niet betalen"}, {"reached": False}):
        piet.add(outcome)
    calls = Calls(AS_OF, since, piet, {"Piet": piet})
    text = report_pages.markdown(calls, "nl")
    # 3 attempts, 2 reached: 66.7%; the excuse typed in both languages is one excuse, heard twice.
    assert "3 pogingen, 2 bereikt (66,7%)" in text
    assert ("| Medewerker | Pogingen | Bereikt | Bereikt % | Betaalbelofte | Betwisting | Regeling gevraagd | "
            "Kopie gevraagd | Geen afspraak | Niet bereikt |") in text
    assert "| Piet | 3 | 2 | 66,7% | 1 | 0 | 0 | 0 | 1 | 1 |" in text
    assert "| Kan nu niet betalen | 2 |" in text and "Cannot pay now" not in text
    assert report_pages.table_rows(calls, "nl")[0]["Gehoorde excuses"] == "Kan nu niet betalen: 2"
    assert calls.as_json()["total"]["excuses"] == {"Cannot pay now": 1, "Kan nu niet betalen": 1}  # as heard


def test_money_collected_per_currency_in_dutch():
    def month(**steps: str) -> dict[str, D]:
        return {s: D(steps.get(s.replace("-", "_"), "0.00")) for s in STEPS}

    eur = CurrencyCollected("EUR", D("1500.00"), month(call="1100.00", herinnering="400.00"),
                            {"2026-02": month(call="1100.00"), "2026-03": month(herinnering="400.00")})
    usd = CurrencyCollected("USD", D("200.00"), month(none="200.00"),
                            {"2026-02": month(), "2026-03": month(none="200.00")})
    report = Collected(AS_OF, window_start(AS_OF), (eur, usd))
    assert (report.as_json()["total"], report.as_json()["other_currencies"][0]["total"]) == ("1500.00", "200.00")
    text = report_pages.markdown(report, "nl")
    assert "Ontvangen van 01-04-2025 tot en met 31-03-2026: **EUR 1.500,00**" in text
    assert "Ontvangen van 01-04-2025 tot en met 31-03-2026: **USD 200,00**" in text
    assert ("| Maand | Geen stap | Gesprek | Herinnering | Aanmaning | Ingebrekestelling | Incasso-aankondiging | "
            "Incasso | Totaal |") in text
    assert "| februari 2026 | EUR 0,00 | EUR 1.100,00 | EUR 0,00 |" in text
    assert "| maart 2026 | USD 200,00 | USD 0,00 |" in text
    assert "1.700" not in text and "1700" not in text
    assert report_pages.summary(report, "nl").startswith(
        "Geïnd 01-04-2025 tot en met 31-03-2026: EUR 1.500,00, USD 200,00")
