"""The collection ladder end to end: a real Prefect server, served deployments, a real SMTP server and the
`dunning` command, on simulated time, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dunning.law import collection_costs, compute_claim, fourteen_day_term

pytestmark = pytest.mark.prefect


def _row(invoice: str, debtor: str, kind: str, email: str = "", amount: str = "1210.00", due: str = "2026-01-05"):
    return {
        "invoice_number": invoice,
        "debtor_number": debtor,
        "debtor_name": f"Debtor {debtor}",
        "debtor_kind": kind,
        "email": email,
        "phone": "+31 20 000 0000",
        "street": "Dorpsstraat 1",
        "postcode": "1234 AB",
        "city": "Utrecht",
        "country": "NL",
        "language": "nl",
        "issue_date": "2025-12-06",
        "due_date": due,
        "amount": amount,
        "currency": "EUR",
    }


def _kinds(engine, invoice: str) -> list[str]:
    return [e["kind"] for e in engine.json("dossier", invoice)]


def test_consumer_and_business_invoices_walk_the_full_ladder_to_incasso(engine):
    engine.import_csv(
        [
            _row("C-1", "CONS", "consumer", "consument@example.com"),
            _row("B-1", "BIZ", "business", "debiteuren@bedrijf.example.com"),
        ]
    )
    engine.set_clock("2026-01-02T10:00")
    assert engine.sweep().strip() == "Nothing to do.", "nothing is due before the due date"

    engine.set_clock("2026-01-09T10:00")  # due 5 Jan + 3 days grace
    out = engine.sweep()
    assert "C-1: started" in out and "B-1: started" in out
    tasks = engine.json("tasks")
    assert sorted((t["invoice"], t["kind"], t["step"]) for t in tasks) == [
        ("B-1", "call", "call-1"),
        ("C-1", "call", "call-1"),
    ]
    run = engine.run_state("C-1")
    assert (run["type"], run["run_name"]) == ("PAUSED", "C-1") and "debtor:CONS" in run["tags"]
    assert engine.sink.messages() == [], "the call task must be completed before the e-mail fallback runs"

    engine.cli("call", "C-1", "--not-reached", "--by", "Anna")
    engine.cli("call", "B-1", "--reached", "--spoke-with", "Piet", "--promise", "2026-01-16", "--by", "Anna")
    assert engine.subjects() == [
        "Herinnering: factuur C-1 is nog niet betaald",
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
        "Aanmaning: factuur C-1 is nog steeds niet betaald",
        "Aanmaning: factuur B-1 is nog steeds niet betaald",
    ]

    engine.set_clock("2026-02-10T10:00")
    engine.sweep()
    assert sorted(t["step"] for t in engine.json("tasks")) == ["approve-ingebrekestelling"] * 2
    engine.cli("approve", "C-1", "--by", "Marie")
    engine.cli("approve", "B-1", "--by", "Marie")
    assert sum(s.startswith("Ingebrekestelling") for s in engine.subjects()) == 2
    _assert_ingebrekestellingen_state_the_law_modules_figures(engine)
    letters = engine.json("letters")
    assert sorted(x["invoice"] for x in letters if x["step"] == "ingebrekestelling") == ["B-1", "C-1"]
    assert all(Path(x["file"]).read_bytes().startswith(b"%PDF") for x in letters)
    engine.cli("letters", "posted")
    assert engine.json("letters") == []

    engine.set_clock("2026-03-10T10:00")
    engine.sweep()
    engine.cli("approve", "C-1", "--by", "Marie")
    engine.cli("approve", "B-1", "--by", "Marie")
    announced = [s for s in engine.subjects() if s.startswith("Aankondiging")]
    assert len(announced) == 2, "the debtor is told before the hand-off"
    assert engine.run_state("C-1")["type"] == "PAUSED" and not (engine.home / "incasso").exists()

    engine.set_clock("2026-03-18T10:00")  # seven days' notice have run
    engine.sweep()
    for invoice in ("C-1", "B-1"):
        assert engine.run_state(invoice)["type"] == "COMPLETED"
        kinds = _kinds(engine, invoice)
        for step in ("call", "herinnering", "aanmaning", "approval", "ingebrekestelling", "incasso-aankondiging",
                     "incasso"):
            assert step in kinds, (invoice, step, kinds)
        channels = [e["channel"] for e in engine.json("dossier", invoice) if e["kind"] == "ingebrekestelling"]
        assert channels == ["email", "letter"]
        export = json.loads((engine.home / "incasso" / f"{invoice}.json").read_text())
        assert export["invoice"]["number"] == invoice and export["dossier"]
        assert Decimal(export["claim"]["collection_costs"]) == Decimal("181.50"), "costs are due at the hand-off"
    assert len(engine.subjects()) == 9, "each message went out exactly once"
    assert engine.json("tasks") == []


def _letter(engine, subject: str) -> str:
    [message] = [m for m in engine.sink.messages() if str(m["Subject"]).strip() == subject]
    return " ".join(message.get_body(preferencelist=("plain",)).get_content().split())


def _assert_ingebrekestellingen_state_the_law_modules_figures(engine):
    # Posted Tuesday 10 Feb 2026 (and e-mailed): presumed delivered Thursday 12 Feb, 14 days from the day after
    # (BW 6:96 lid 6); the e-mail copy states the letter's later deadline.
    term = fourteen_day_term(date(2026, 2, 10), email=False)
    consumer = _letter(engine, "Ingebrekestelling: factuur C-1")
    costs = collection_costs(Decimal("1210.00"), consumer=True)
    assert (costs, term.deadline) == (Decimal("181.50"), date(2026, 2, 26))
    assert "Die zijn EUR 181,50" in consumer
    assert "binnen veertien dagen, te rekenen vanaf de dag nadat u de brief heeft ontvangen" in consumer
    assert "uiterlijk 26 februari 2026" in consumer

    # Business: commercial interest from the day after the due date (BW 6:119a), costs due without a letter.
    business = _letter(engine, "Ingebrekestelling: factuur B-1")
    claim = compute_claim(
        Decimal("1210.00"), consumer=False, interest_from=date(2026, 1, 6), as_of=date(2026, 2, 10)
    )
    assert f"tot vandaag: EUR {claim.interest}".replace(".", ",") in business
    assert "Incassokosten: EUR 181,50" in business
    assert f"Totaal: EUR {claim.outstanding:,.2f}".translate(str.maketrans(",.", ".,")) in business


def test_payment_midway_stops_the_run_and_nothing_more_is_sent(engine):
    engine.import_csv([_row("P-1", "PAYER", "consumer", "betaler@example.com", amount="100.00")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "P-1", "--not-reached")
    assert len(engine.subjects()) == 1

    engine.cli("pay", "P-1", "60.00", "--date", "2026-01-12")
    engine.sweep()
    assert engine.run_state("P-1")["type"] == "PAUSED", "a partial payment does not stop the ladder"
    engine.cli("pay", "P-1", "40.00", "--date", "2026-01-13")
    engine.sweep()
    assert engine.run_state("P-1")["type"] == "COMPLETED"
    engine.set_clock("2026-03-01T10:00")
    assert engine.sweep().strip() == "Nothing to do."
    assert len(engine.subjects()) == 1
    assert _kinds(engine, "P-1")[-1] == "note" and "paid" in engine.json("dossier", "P-1")[-1]["summary"]


def test_payment_while_a_call_is_waiting_closes_the_case(engine):
    engine.import_csv([_row("P-2", "PAYER2", "business", "b@example.com", amount="50.00")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("pay", "P-2", "50.00")
    engine.sweep()
    assert engine.run_state("P-2")["type"] == "COMPLETED"
    assert engine.json("tasks") == [] and engine.subjects() == []


def test_incasso_gate_refuses_when_evidence_is_missing(engine):
    # Neither an e-mail nor a postal address: nothing can go out, so the dossier never gets the evidence the
    # gate demands.
    engine.import_csv([_row("G-1", "NOMAIL", "business", email="") | {"street": "", "postcode": "", "city": ""}])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "G-1", "--not-reached")
    engine.set_clock("2026-01-17T10:00")
    engine.sweep()
    engine.set_clock("2026-02-02T10:00")
    engine.sweep()
    engine.cli("approve", "G-1", "--by", "Marie")
    engine.set_clock("2026-03-01T10:00")
    engine.sweep()
    run = engine.run_state("G-1")
    assert run["type"] == "FAILED"
    assert "herinnering evidence" in run["message"] and "aanmaning evidence" in run["message"]
    assert "ingebrekestelling evidence" in run["message"]
    assert not (engine.home / "incasso" / "G-1.json").exists()
    assert "incasso" not in _kinds(engine, "G-1")
    assert engine.subjects() == []


def test_crash_between_sending_and_recording_leaves_one_message_and_one_entry(engine):
    engine.import_csv([_row("K-1", "CRASH", "consumer", "crash@example.com")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    with __import__("dunning.storage.db", fromlist=["db"]).engine_for(engine.database_url).begin() as c:
        c.exec_driver_sql(
            "INSERT INTO setting (key, value) VALUES ('test.crash_after_send', 'K-1:herinnering:email:1')"
        )
    out = engine.cli("call", "K-1", "--not-reached").stdout
    assert "Crashed" in out, out
    assert len(engine.subjects()) == 1, "the server accepted the message before the process died"

    out = engine.sweep()
    assert "K-1: restarted" in out, out
    assert engine.run_state("K-1")["type"] == "PAUSED"
    assert len(engine.subjects()) == 1, "never sent twice"
    herinneringen = [e for e in engine.json("dossier", "K-1") if e["kind"] == "herinnering"]
    assert len(herinneringen) == 1
    assert "unconfirmed" in herinneringen[0]["summary"]


def test_a_call_due_on_saturday_night_is_offered_on_monday_at_seven(engine):
    engine.import_csv([_row("N-1", "NIGHT", "consumer", "nacht@example.com")])
    engine.set_clock("2026-01-10T21:30")  # a Saturday: no calls between 20:00 and 07:00, nor on Sundays
    engine.sweep()
    assert engine.json("tasks") == [] and engine.run_state("N-1")["type"] == "PAUSED"
    engine.set_clock("2026-01-11T12:00")
    assert engine.sweep().strip() == "Nothing to do."
    engine.set_clock("2026-01-12T07:00")
    engine.sweep()
    assert [(t["invoice"], t["kind"]) for t in engine.json("tasks")] == [("N-1", "call")]


def test_a_letter_holds_its_run_until_it_is_posted_and_a_late_one_is_printed_anew(engine):
    engine.import_csv([_row("L-1", "PAPER", "consumer", email="")])  # no e-mail address: letters it is
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    engine.cli("call", "L-1", "--not-reached")
    [letter] = engine.json("letters")
    assert (letter["invoice"], letter["step"], letter["printed_on"]) == ("L-1", "herinnering", "2026-01-09")
    assert Path(letter["file"]).read_bytes().startswith(b"%PDF")
    assert engine.run_state("L-1")["type"] == "PAUSED" and engine.subjects() == []

    engine.set_clock("2026-01-12T10:00")
    engine.sweep()  # the run looks again: still not posted, it keeps waiting
    assert "herinnering" not in _kinds(engine, "L-1")
    out = engine.cli("letters", "posted").stdout  # posted on the 12th: the letter of the 9th is void
    assert "voided" in out and not Path(letter["file"]).exists()
    engine.sweep()
    [reprinted] = engine.json("letters")
    assert reprinted["printed_on"] == "2026-01-12" and reprinted["file"] != letter["file"]
    engine.cli("letters", "posted")
    engine.sweep()
    [entry] = [e for e in engine.json("dossier", "L-1") if e["kind"] == "herinnering"]
    assert entry["channel"] == "letter"
    assert engine.run_state("L-1")["type"] == "PAUSED" and engine.json("tasks") == []


def test_the_scheduled_sweep_starts_runs_that_pause_on_their_call(engine):
    # The path `dunning run` takes every minute: the sweep deployment itself, not the CLI.
    engine.import_csv([_row("S-1", "SCHEDULED", "consumer", "sweep@example.com")])
    engine.set_clock("2026-01-09T10:00")
    instance = engine.env["DUNNING_INSTANCE"]
    sweep = _api(engine, f"/deployments/name/sweep/{instance}")
    run = _api(engine, f"/deployments/{sweep['id']}/create_flow_run", {"name": "scheduled sweep"})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if _api(engine, f"/flow_runs/{run['id']}")["state"]["type"] == "COMPLETED" and engine.json("tasks"):
            if engine.run_state("S-1")["type"] == "PAUSED":
                break
        time.sleep(1)
    assert engine.run_state("S-1")["type"] == "PAUSED", engine.run_state("S-1")
    assert [(t["invoice"], t["kind"]) for t in engine.json("tasks")] == [("S-1", "call")]


def _api(engine, path: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        engine.api + path, data=data, method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.loads(r.read())


def test_not_reached_is_tried_again_in_the_afternoon_and_a_policy_change_applies_at_the_next_wake_up(engine):
    (engine.home / "policies.toml").unlink()  # the built-in default: three tries
    engine.import_csv([_row("R-1", "RETRY", "consumer", "retry@example.com")])
    engine.set_clock("2026-01-09T10:00")  # a Friday morning
    engine.sweep()
    engine.cli("call", "R-1", "--not-reached")
    assert engine.subjects() == [] and engine.json("tasks") == []
    engine.set_clock("2026-01-09T14:00")
    engine.sweep()
    assert [(t["invoice"], t["step"]) for t in engine.json("tasks")] == [("R-1", "call-2")]
    engine.cli("call", "R-1", "--not-reached")
    assert engine.subjects() == [], "the third try is on Monday morning"

    (engine.home / "policies.toml").write_text('[default]\ncall_attempts = 2\n', encoding="utf-8")
    engine.set_clock("2026-01-12T09:30")
    engine.sweep()
    assert engine.subjects() == ["Herinnering: factuur R-1 is nog niet betaald"]
