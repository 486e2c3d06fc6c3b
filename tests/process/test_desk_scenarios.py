"""The collector's desk: disputes, payment plans, courtesy calls and one call per debtor, on a real Prefect server
with the runs executed in this process (tests/process/conftest.py), through the `dunning` verbs on simulated time.
One call per debtor and the combined e-mail rest on row locks, so those run on PostgreSQL too. The dispute
resolved in the run's own form runs end to end in tests/flows."""

from __future__ import annotations

import pytest

from tests.support.databases import on_both_databases
from tests.support.engine import dossier_kinds, row

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]  # most take seconds


def test_a_dispute_parks_one_invoice_while_the_debtors_other_invoice_escalates(engine):
    engine.import_csv(
        [
            row("D-1", "DISP", "business", "inkoop@bedrijf.example.com", amount="300.00"),
            row("D-2", "DISP", "business", "inkoop@bedrijf.example.com", amount="200.00"),
        ]
    )
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "D-1", "--not-reached")  # one call for both invoices, one herinnering for both
    assert engine.subjects() == ["Herinnering: facturen D-1 en D-2 zijn nog niet betaald"]

    out = engine.cli(
        "dispute", "D-1", "--reason", "Says two of the ten chairs arrived damaged", "--responsible", "Marie",
        "--by", "Anna",
    ).stdout
    assert "dispute-1 registered, to be sorted out by 2026-01-19" in out
    [task] = engine.json("tasks")
    assert (task["invoice"], task["kind"], task["responsible"], task["due_on"]) == (
        "D-1", "dispute", "Marie", "2026-01-19"
    )
    assert engine.run_state("D-1")["type"] == "PAUSED"

    engine.set_clock("2026-01-16T10:00")  # the aanmaning's day for both
    engine.sweep()
    assert engine.subjects()[1:] == ["Aanmaning: factuur D-2 is nog steeds niet betaald"], "D-1 stands still"
    engine.set_clock("2026-01-19T10:00")
    engine.sweep()
    assert len(engine.subjects()) == 2

    # Rejected: the debtor is told why, and the ladder goes on where it stopped (the aanmaning, a week later).
    out = engine.cli(
        "resolve", "D-1", "--rejected", "--reason", "The delivery note signed on 5 January lists ten undamaged "
        "chairs.", "--by", "Marie",
    ).stdout
    assert "dispute-1 rejected" in out
    assert engine.subjects()[-1] == "Uw bezwaar tegen factuur D-1"
    told = engine.sink.messages()[-1]
    assert "ten undamaged" in told.get_body(preferencelist=("plain",)).get_content()
    engine.set_clock("2026-01-25T10:00")
    engine.sweep()
    assert len(engine.subjects()) == 3
    engine.set_clock("2026-01-26T10:00")
    engine.sweep()
    assert engine.subjects()[-1] == "Aanmaning: factuur D-1 is nog steeds niet betaald"
    kinds = dossier_kinds(engine, "D-1")
    assert kinds.count("dispute") == 2 and kinds.count("aanmaning") == 1
    assert engine.json("tasks") == []


def test_a_dispute_raised_while_a_call_waits_sets_the_call_aside_and_upheld_credits_and_closes(engine):
    engine.import_csv([row("U-1", "UPHELD", "consumer", "klant@example.com", amount="80.00")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    assert [t["kind"] for t in engine.json("tasks")] == ["call"]

    engine.cli("dispute", "U-1", "--reason", "Never received the parcel")
    assert [t["kind"] for t in engine.json("tasks")] == ["dispute"], "the call is set aside"
    assert engine.run_state("U-1")["type"] == "PAUSED"

    engine.cli("resolve", "U-1", "--upheld", "--reason", "Carrier confirms the parcel was lost", "--by", "Marie")
    assert engine.run_state("U-1")["type"] == "COMPLETED"
    dossier = engine.json("dossier", "U-1")
    assert [e["kind"] for e in dossier if e["kind"] in ("dispute", "credit")] == ["dispute", "dispute", "credit"]
    assert "credit note of EUR 80.00" in next(e["summary"] for e in dossier if e["kind"] == "credit")
    assert dossier[-1]["summary"] == "case closed: dispute upheld"
    assert engine.subjects() == [], "nothing was sent: the debtor was right"


def test_a_payment_plan_asked_for_holds_the_herinnering_and_a_missed_instalment_resumes_the_ladder(engine):
    engine.import_csv([row("PL-1", "PLAN", "consumer", "gezin@example.com", amount="300.00")])
    engine.set_clock("2026-01-09T10:00")  # a Friday
    engine.sweep()
    engine.cli("call", "PL-1", "--reached", "--spoke-with", "Mevr. Jansen", "--plan-requested", "--note",
               "Lost her job; asks to pay in three parts")
    assert engine.subjects() == [], "asked for a plan: no herinnering while it is being agreed"
    engine.set_clock("2026-01-12T10:00")
    engine.sweep()
    assert engine.subjects() == []
    overview = engine.cli("overview").stdout
    assert "**PL-1** (Debtor PLAN): gevraagd op 2026-01-09; de escalatie wacht tot 2026-01-14" in overview

    bad = engine.cli("plan", "PL-1", "--instalment", "2026-02-01=100.00", "--instalment", "2026-03-01=100.00",
                     check=False)
    assert bad.returncode == 2
    assert "add up to 200.00, but open 300.00 plus costs 0.00 is 300.00 (difference 100.00)" in bad.stderr

    engine.cli("plan", "PL-1", "--instalment", "2026-02-01=100.00", "--instalment", "2026-03-01=100.00",
               "--instalment", "2026-04-01=100.00", "--by", "Anna")
    assert engine.subjects() == ["Uw betalingsregeling voor factuur PL-1"]
    plan_mail = engine.sink.messages()[-1].get_body(preferencelist=("plain",)).get_content()
    assert "Termijn 3: EUR 100,00, uiterlijk 1 april 2026" in plan_mail
    assert engine.json("overview")["plan_requests"] == []

    engine.set_clock("2026-01-16T10:00")  # the herinnering would be due now without the request: the plan holds it
    engine.sweep()
    engine.set_clock("2026-01-30T10:00")  # a payment is registered on or after its day, never ahead of it
    engine.cli("pay", "PL-1", "100.00", "--date", "2026-01-30")
    engine.set_clock("2026-02-07T10:00")
    engine.sweep()
    assert len(engine.subjects()) == 1, "instalment 1 paid: nothing is sent"

    # Instalment 2 is not paid: five days grace, then the plan breaks and the ladder takes up where it stood.
    engine.set_clock("2026-03-06T10:00")
    engine.sweep()
    assert len(engine.subjects()) == 1
    engine.set_clock("2026-03-07T10:00")
    engine.sweep()
    broken = [e for e in engine.json("dossier", "PL-1") if e["kind"] == "plan"][-1]
    assert broken["summary"].startswith("payment plan broken: instalment 2 of 3 (100.00 due 2026-03-01)")
    assert engine.subjects()[-1] == "Herinnering: factuur PL-1 is nog niet betaald"
    assert "EUR 200,00" in engine.sink.messages()[-1].get_body(preferencelist=("plain",)).get_content()
    engine.set_clock("2026-03-14T10:00")
    engine.sweep()
    assert engine.subjects()[-1] == "Aanmaning: factuur PL-1 is nog steeds niet betaald"


def test_a_kept_payment_plan_completes_the_case(engine):
    engine.import_csv([row("PK-1", "KEPT", "business", "admin@klein.example.com", amount="150.00")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("plan", "PK-1", "--instalment", "2026-01-20=80.00", "--instalment", "2026-02-20=80.00",
               "--costs", "10.00")
    assert [t["kind"] for t in engine.json("tasks")] == [], "the call is set aside: a plan was agreed"
    engine.set_clock("2026-01-19T12:00")
    engine.cli("pay", "PK-1", "80.00", "--date", "2026-01-19")
    engine.set_clock("2026-02-18T12:00")
    engine.cli("pay", "PK-1", "80.00", "--date", "2026-02-18")
    engine.sweep()
    assert engine.run_state("PK-1")["type"] == "COMPLETED"
    plan_entries = [e["summary"] for e in engine.json("dossier", "PK-1") if e["kind"] == "plan"]
    assert plan_entries[-1] == "payment plan kept: every instalment paid"
    assert engine.subjects() == ["Uw betalingsregeling voor factuur PK-1"]


def test_a_debtor_who_paid_late_before_gets_a_courtesy_call_before_the_due_date(engine):
    history = [("H-1", "2025-10-01", "2025-10-21"), ("H-2", "2025-11-03", "2025-11-20"),
               ("H-3", "2025-12-01", "2025-12-16")]
    engine.import_csv(
        [{**row(n, "LATE", "business", "crediteuren@laat.example.com", amount="100.00", due=due),
          "issue_date": "2025-09-01"} for n, due, _ in history]
        + [row("N-1", "LATE", "business", "crediteuren@laat.example.com", amount="250.00", due="2026-02-12"),
           row("T-1", "ONTIME", "business", "ap@optijd.example.com", amount="250.00", due="2026-02-12")]
    )
    for number, _, paid_on in history:
        engine.cli("pay", number, "100.00", "--date", paid_on)

    engine.set_clock("2026-02-08T10:00")
    assert engine.sweep().strip() == "Nothing to do."
    engine.set_clock("2026-02-09T10:00")  # three days before the due date
    assert "N-1: started" in engine.sweep()
    [task] = engine.json("tasks")
    assert (task["invoice"], task["kind"], task["step"]) == ("N-1", "call", "courtesy-call")

    engine.cli("call", "N-1", "--reached", "--spoke-with", "Inge, accounts payable", "--excuse",
               "Invoice not received / Factuur niet ontvangen", "--send-copy", "--note", "In the run of the 11th")
    assert engine.json("tasks") == []
    assert engine.subjects() == ["Gegevens van factuur N-1"]
    assert engine.run_state("N-1")["type"] == "PAUSED", "waiting for the due date"
    engine.set_clock("2026-02-11T10:00")
    engine.cli("pay", "N-1", "250.00", "--date", "2026-02-11")
    engine.set_clock("2026-02-16T10:00")
    out = engine.sweep()
    assert engine.subjects() == ["Gegevens van factuur N-1"]
    assert engine.run_state("N-1")["type"] == "COMPLETED"
    assert "T-1: started" in out, "the punctual debtor's invoice starts after its due date, as usual"
    [task] = engine.json("tasks")
    assert (task["invoice"], task["step"]) == ("T-1", "call-1")


@on_both_databases  # one call per debtor and one combined message rest on row locks
def test_three_invoices_of_one_debtor_make_one_call_task_and_one_combined_email(engine):
    engine.import_csv(
        [row(n, "THREE", "business", "boekhouding@drie.example.com", amount=a)
         for n, a in (("T3-1", "100.00"), ("T3-2", "200.00"), ("T3-3", "300.00"))]
    )
    engine.set_clock("2026-01-09T10:00")
    out = engine.sweep()
    assert all(f"T3-{n}: started" in out for n in (1, 2, 3))
    [task] = engine.json("tasks")
    assert (task["kind"], task["step"], sorted([task["invoice"], *task["also_for"]])) == (
        "call", "call-1", ["T3-1", "T3-2", "T3-3"]
    )

    engine.cli("call", "T3-2", "--not-reached", "--by", "Anna")  # any of the three answers the one call
    [mail] = engine.sink.messages()
    assert str(mail["Subject"]).strip() == "Herinnering: facturen T3-1, T3-2 en T3-3 zijn nog niet betaald"
    for n in (1, 2, 3):
        kinds = dossier_kinds(engine, f"T3-{n}")
        assert kinds.count("call") == 1 and kinds.count("herinnering") == 1, (n, kinds)
    dossiers = [engine.json("dossier", f"T3-{n}") for n in (1, 2, 3)]
    evidence = [e["summary"] for d in dossiers for e in d if e["kind"] == "herinnering"]
    assert len(evidence) == 3 and sum("one message with invoice" in s for s in evidence) == 2
    assert engine.json("tasks") == []

    engine.set_clock("2026-01-16T10:00")
    engine.sweep()
    assert len(engine.sink.messages()) == 2
    assert str(engine.sink.messages()[-1]["Subject"]).strip().startswith("Aanmaning: facturen T3-1, T3-2 en T3-3")


@on_both_databases  # one call per debtor and one combined message rest on row locks
def test_when_the_invoice_whose_call_covered_the_others_is_paid_the_call_stays_for_the_rest(engine):
    engine.import_csv(
        [row(n, "TWO", "business", "ap@twee.example.com", amount="100.00") for n in ("W-1", "W-2")]
    )
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    [task] = engine.json("tasks")
    lead, other = task["invoice"], task["also_for"][0]
    engine.cli("pay", lead, "100.00")
    engine.sweep()
    engine.sweep()  # the released run takes the call over
    [task] = engine.json("tasks")
    assert (task["invoice"], task["also_for"]) == (other, [])
    assert engine.run_state(lead)["type"] == "COMPLETED"


@on_both_databases  # one call per debtor and one combined message rest on row locks
def test_a_promise_in_one_call_about_two_invoices_is_confirmed_once_and_broken_it_gets_one_call_the_next_day(
    engine,
):
    engine.import_csv([row(n, "PROM", "business", "ap@belofte.example.com", amount="100.00")
                       for n in ("P2-1", "P2-2")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "P2-1", "--reached", "--spoke-with", "Kees, controller", "--promise", "2026-01-20",
               "--summarised", "--by", "Anna")
    assert engine.subjects() == ["Bevestiging van onze afspraak over facturen P2-1 en P2-2"]
    text = engine.sink.messages()[0].get_body(preferencelist=("plain",)).get_content()
    assert "U betaalt EUR 200,00 uiterlijk 20 januari 2026" in text

    engine.set_clock("2026-01-20T18:00")
    engine.sweep()
    assert engine.json("tasks") == [], "the promised day itself is not over yet"
    engine.set_clock("2026-01-21T10:00")  # the day after the promise, unpaid: call again at once
    engine.sweep()
    [task] = engine.json("tasks")
    assert (task["step"], sorted([task["invoice"], *task["also_for"]])) == ("call-2", ["P2-1", "P2-2"])
    for n in ("P2-1", "P2-2"):
        assert any("promise to pay by 2026-01-20 broken" in e["summary"] for e in engine.json("dossier", n))
    assert len(engine.subjects()) == 1
