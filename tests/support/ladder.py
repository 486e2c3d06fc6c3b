"""The full collection ladder, a consumer's and a business's invoice from the call to the hand-off, with the law's
figures worked out by hand (tests/process/test_ladder_scenarios.py runs it on PostgreSQL)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from dunning.law import collection_costs, compute_claim, fourteen_day_term
from tests.support.engine import Engine, dossier_kinds, row


def walk_the_full_ladder_to_incasso(engine: Engine) -> None:
    """A consumer's three invoices and a business's one, from the call to the hand-off, each message once: the
    consumer gets one message per step naming all three (one call, one approval, one ingebrekestelling whose
    costs are computed over the three together), and the incasso gate still checks each invoice's evidence."""
    engine.import_csv(
        [
            row("C-1", "CONS", "consumer", "consument@example.com"),
            row("C-2", "CONS", "consumer", "consument@example.com", amount="200.00"),
            row("C-3", "CONS", "consumer", "consument@example.com", amount="145.00"),
            row("B-1", "BIZ", "business", "debiteuren@bedrijf.example.com"),
        ]
    )
    engine.set_clock("2026-01-02T10:00")
    assert engine.sweep().strip() == "Nothing to do.", "nothing is due before the due date"

    engine.set_clock("2026-01-09T10:00")  # due 5 Jan + 3 days grace
    out = engine.sweep()
    assert "C-1: started" in out and "B-1: started" in out
    tasks = engine.json("tasks")
    # One call per debtor: the consumer's three invoices are one call (whichever run asked first).
    assert sorted((t["invoice"][0], t["kind"], t["step"]) for t in tasks) == [
        ("B", "call", "call-1"),
        ("C", "call", "call-1"),
    ]
    run = engine.run_state("C-1")
    assert (run["type"], run["run_name"]) == ("PAUSED", "C-1") and "debtor:CONS" in run["tags"]
    assert engine.sink.messages() == [], "the call task must be completed before the e-mail fallback runs"

    engine.cli("call", "C-1", "--not-reached", "--by", "Anna")
    engine.cli("call", "B-1", "--reached", "--spoke-with", "Piet", "--promise", "2026-01-16", "--by", "Anna")
    assert engine.subjects() == [
        "Herinnering: facturen C-1, C-2 en C-3 zijn nog niet betaald",  # one call, one message about all three
        "Bevestiging van onze afspraak over factuur B-1",  # the promise, confirmed in writing
    ]

    engine.set_clock("2026-01-17T10:00")  # the day after the promise, still unpaid: call again
    engine.sweep()
    assert [(t["invoice"], t["step"]) for t in engine.json("tasks")] == [("B-1", "call-2")]
    assert "promise to pay by 2026-01-16 broken" in engine.json("dossier", "B-1")[-1]["summary"]
    engine.cli("call", "B-1", "--not-reached", "--by", "Anna")
    assert engine.subjects()[-1] == "Herinnering: factuur B-1 is nog niet betaald"

    engine.set_clock("2026-01-26T10:00")
    engine.sweep()
    assert [s for s in engine.subjects() if s.startswith("Aanmaning")] == [
        "Aanmaning: facturen C-1, C-2 en C-3 zijn nog steeds niet betaald",
        "Aanmaning: factuur B-1 is nog steeds niet betaald",
    ]

    engine.set_clock("2026-02-10T10:00")
    engine.sweep()
    # One approval for the consumer's one letter about three invoices (asked with the first; the others joined).
    assert sorted((t["invoice"][0], t["step"]) for t in engine.json("tasks")) == [
        ("B", "approve-ingebrekestelling"), ("C", "approve-ingebrekestelling")]
    engine.cli("approve", "C-3", "--by", "Marie")  # any of the three answers the one approval
    engine.cli("approve", "B-1", "--by", "Marie")
    assert sum(s.startswith("Ingebrekestelling") for s in engine.subjects()) == 2
    _assert_ingebrekestellingen_state_the_law_modules_figures(engine)
    letters = engine.json("letters")
    assert sorted(x["invoice"] for x in letters if x["step"] == "ingebrekestelling") == ["B-1", "C-1, C-2, C-3"]
    assert all(Path(x["file"]).read_bytes().startswith(b"%PDF") for x in letters)
    engine.cli("letters", "posted")
    assert engine.json("letters") == []

    engine.set_clock("2026-03-10T10:00")
    engine.sweep()
    assert sorted((t["invoice"][0], t["step"]) for t in engine.json("tasks")) == [
        ("B", "approve-incasso"), ("C", "approve-incasso")]
    engine.cli("approve", "C-1", "--by", "Marie")
    engine.cli("approve", "B-1", "--by", "Marie")
    announced = [s for s in engine.subjects() if s.startswith("Aankondiging")]
    assert announced == ["Aankondiging van overdracht aan een incassobureau: facturen C-1, C-2 en C-3",
                         "Aankondiging van overdracht aan een incassobureau: factuur B-1"], "told before the hand-off"
    assert engine.run_state("C-1")["type"] == "PAUSED" and not (engine.home / "incasso").exists()

    engine.set_clock("2026-03-18T10:00")  # seven days' notice have run
    engine.sweep()
    costs = {}
    for invoice in ("C-1", "C-2", "C-3", "B-1"):
        assert engine.run_state(invoice)["type"] == "COMPLETED"
        kinds = dossier_kinds(engine, invoice)
        for step in ("call", "herinnering", "aanmaning", "approval", "ingebrekestelling", "incasso-aankondiging",
                     "incasso"):
            assert step in kinds, (invoice, step, kinds)
        channels = [e["channel"] for e in engine.json("dossier", invoice) if e["kind"] == "ingebrekestelling"]
        assert channels == ["email", "letter"]
        export = json.loads((engine.home / "incasso" / f"{invoice}.json").read_text())
        assert export["invoice"]["number"] == invoice and export["dossier"]
        costs[invoice] = Decimal(export["claim"]["collection_costs"])
    # Due at the hand-off. The consumer's: each invoice's share of the costs over the three together (BIK over
    # EUR 1,555.00 = 15% = 233.25; alone they would have been 181.50 + 40.00 + 40.00 = 261.50).
    assert costs == {"C-1": Decimal("181.50"), "C-2": Decimal("30.00"), "C-3": Decimal("21.75"),
                     "B-1": Decimal("181.50")}
    assert len(engine.subjects()) == 9, "each message went out exactly once"
    assert engine.json("tasks") == []


def _letter(engine, subject: str) -> str:
    [message] = [m for m in engine.sink.messages() if str(m["Subject"]).strip() == subject]
    return " ".join(message.get_body(preferencelist=("plain",)).get_content().split())


def _assert_ingebrekestellingen_state_the_law_modules_figures(engine):
    # Posted Tuesday 10 Feb 2026 (and e-mailed): presumed delivered Thursday 12 Feb, 14 days from the day after
    # (BW 6:96 lid 6); the e-mail copy states the letter's later deadline.
    term = fourteen_day_term(date(2026, 2, 10), email=False)
    consumer = _letter(engine, "Ingebrekestelling: facturen C-1, C-2 en C-3")
    # One demand for three claims: the costs over the principal sums added together (Besluit BIK art. 2).
    costs = collection_costs(Decimal("1555.00"), consumer=True)
    assert (costs, term.deadline) == (Decimal("233.25"), date(2026, 2, 26))
    assert "Die zijn EUR 233,25" in consumer and "berekend over de facturen samen" in consumer
    for number, amount in (("C-1", "1.210,00"), ("C-2", "200,00"), ("C-3", "145,00")):
        assert f"Factuur {number} van 6 december 2025 (betalingskenmerk" in consumer and f"EUR {amount}" in consumer
    # Interest per invoice (BW 6:119, 4%) from the day after the aanmaning's term (31 Jan) up to the letter's day:
    # 9 days: 1,210.00 x 4% x 9/365 = 1.19; 200.00 -> 0.20; 145.00 -> 0.14. Total 1,556.53; with the costs 1,789.78.
    assert "Wettelijke rente van 1 februari 2026 tot vandaag: EUR 1,19" in consumer
    assert "Totaal: EUR 1.556,53" in consumer and "U betaalt dan in totaal EUR 1.789,78" in consumer
    assert "binnen veertien dagen, te rekenen vanaf de dag nadat u de brief heeft ontvangen" in consumer
    assert "uiterlijk 26 februari 2026" in consumer

    # Business: commercial interest from the day after the due date (BW 6:119a), costs due without a letter.
    # Worked out by hand, not by the law module:
    #   interest: due Monday 5 Jan 2026, so from 6 Jan up to the start of 10 Feb, the letter's day ("tot
    #     vandaag"): 26 days in January (6..31) + 9 in February (1..9) = 35 days. Rate 10.15% a year: the row of
    #     1 Jul 2025 and, unchanged, of 1 Jan 2026 in dunning/law/data/nl_rates_commercial.csv (ECB MRO 2.15 + 8;
    #     the 2026 row is marked unverified there), so one period, actual/365, rounded once to cents:
    #     1,210.00 x 10.15 / 100 x 35 / 365 = 4,298.525 / 365 = 11.7768 -> EUR 11.78
    #   collection costs (Besluit BIK scale, BW 6:96 lid 4): 15% of the first 2,500 = 1,210.00 x 15% = 181.50,
    #     above the minimum of EUR 40
    #   total: 1,210.00 + 11.78 + 181.50 = EUR 1,403.28
    business = _letter(engine, "Ingebrekestelling: factuur B-1")
    assert "tot vandaag: EUR 11,78" in business
    assert "Incassokosten: EUR 181,50" in business
    assert "Totaal: EUR 1.403,28" in business
    claim = compute_claim(
        Decimal("1210.00"), consumer=False, interest_from=date(2026, 1, 6), as_of=date(2026, 2, 10)
    )
    assert (claim.interest, claim.collection_costs, claim.outstanding) == (
        Decimal("11.78"), Decimal("181.50"), Decimal("1403.28")
    ), "the law module agrees with the hand computation"
