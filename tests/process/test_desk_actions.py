"""Every desk action from the Prefect UI's "Run": each deployment of flows/desk_actions.py started through the API
with parameters as the UI's form sends them (`POST /deployments/{id}/create_flow_run`), its run executed in this
process (tests/process/conftest.py). Each does what its `dunning` verb does; a mistake fails the run with the
verb's one-line message as the state's message and changes nothing; the forms are in the installation's
language, with dates as dates."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from dunning.storage import db
from tests.support.engine import COLUMNS, row
from tests.support.runner import InProcessRunner
from tests.support.statements import Movement, camt

pytestmark = [pytest.mark.prefect, pytest.mark.timeout(300)]  # the whole file takes seconds

ACTIONS = ("register-payment", "agree-plan", "credit-hold", "register-dispute", "resolve-dispute", "add-note",
           "send-statement", "import-file")


@dataclass
class Desk:
    engine: Any
    deployments: dict[str, str]  # action -> deployment id

    def start(self, action: str, **parameters: object) -> str:
        """What the UI's Run form does: a flow run of the deployment with these parameters."""
        run = self.engine.api_call(f"/deployments/{self.deployments[action]}/create_flow_run",
                                   {"parameters": parameters})
        return str(run["id"])

    def run(self, action: str, **parameters: object) -> dict:
        """Start the action and wait for its run to end: its final state (type, message)."""
        return self.ended(self.start(action, **parameters))

    def run_all(self, *actions: tuple[str, dict]) -> list[dict]:
        """Start them all, then wait for each: their final states, in order."""
        return [self.ended(run_id) for run_id in [self.start(action, **parameters) for action, parameters in actions]]

    def ended(self, run_id: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            state = self.engine.api_call(f"/flow_runs/{run_id}")["state"]
            if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                return state
            assert time.monotonic() < deadline, f"run {run_id} did not end: {state}"
            time.sleep(0.1)


@pytest.fixture
def desk(engine) -> Iterator[Desk]:
    """The desk-action deployments of this installation, registered as deployments/serve.py serves them, in the
    installation's language; their runs executed here."""
    from flows.desk_actions import desk_action_deployments, desk_action_flows
    from tasks.runtime import installation

    language = getattr(installation(), "language", "nl")
    instance = engine.env["DUNNING_INSTANCE"]
    flows = {f.name: f for f in desk_action_flows(language)}
    ids = {d.flow_name: d.apply() for d in desk_action_deployments(instance, language)}
    assert set(ids) == set(ACTIONS)
    runner = InProcessRunner({ids[name]: flows[name] for name in ids}).start()
    try:
        yield Desk(engine, {name: str(i) for name, i in ids.items()})
    finally:
        runner.stop()
    assert not runner.errors, "\n".join(runner.errors)


def _completed(state: dict, message: str) -> None:
    assert (state["type"], state["message"]) == ("COMPLETED", message), state


def _failed(state: dict, message: str) -> None:
    assert (state["type"], state["message"]) == ("FAILED", message), state


def _cli_error(engine, *args: str) -> str:
    """The one line `dunning ARGS` prints for the same mistake."""
    result = engine.cli(*args, check=False)
    assert result.returncode == 2, result
    return result.stderr.strip().removeprefix("dunning: error: ")


def _cli_line(engine, *args: str) -> str:
    """The line `dunning ARGS` prints when it succeeds."""
    return engine.cli(*args).stdout.strip()


def _notes(engine, invoice: str) -> list[tuple[str, str | None]]:
    with db.engine_for(engine.database_url).connect() as c:
        query = text("SELECT n.text, n.by FROM personal_note n JOIN invoice i ON i.id = n.invoice_id "
                     "WHERE i.number = :n ORDER BY n.id")
        return [(r[0], r[1]) for r in c.execute(query, {"n": invoice})]


def _everything(engine) -> dict:
    """What a mistake must leave as it was."""
    return {
        "dossiers": {n: engine.json("dossier", n) for n in ("F-1", "F-2", "F-3")},
        "tasks": engine.json("tasks"),
        "holds": engine.json("holds"),
        "disputes": engine.json("disputes"),
        "notes": _notes(engine, "F-3"),
    }


def _book(engine) -> None:
    engine.import_csv([
        row("F-1", "PAYS", "consumer", "een@example.com", amount="300.00"),
        row("F-2", "PLANS", "consumer", "twee@example.com", amount="300.00"),
        row("F-3", "NOTES", "business", "drie@example.com", amount="80.00"),
    ])
    engine.set_clock("2026-01-02T10:00")  # before their due date: no runs yet


def test_each_desk_action_does_what_its_verb_does(engine, desk):
    _book(engine)
    instalments = [{"date": f"2026-0{m}-01", "amount": "100.00"} for m in (2, 3, 4)]
    # Started together, as several people at the desk would; each invoice's actions one after the other.
    for states, messages in [
        (desk.run_all(("register-payment", {"invoice": "F-1", "amount": "100.00", "date": "2026-01-01"}),
                      ("agree-plan", {"invoice": "F-2", "instalments": instalments, "by": "Anna"}),
                      ("credit-hold", {"debtor": "PAYS"}),
                      ("add-note", {"invoice": "F-3", "text": "Zoals vanmorgen besproken.", "by": "Anna"})),
         ["F-1: payment of EUR 100.00 registered; open EUR 200.00",
          "F-2: payment plan of 3 instalments, EUR 300.00 in all, agreed",
          "PAYS: on credit hold",
          "F-3: note added; it goes with the next message (see it with `dunning preview`)"]),
        # The date left empty (left out, or null): today, as `dunning pay` without --date.
        (desk.run_all(("register-payment", {"invoice": "F-1", "amount": "50.00"}),
                      ("credit-hold", {"debtor": "PAYS", "off": True, "by": "Anna"})),
         ["F-1: payment of EUR 50.00 registered; open EUR 150.00", "PAYS: credit hold lifted"]),
        (desk.run_all(("register-payment", {"invoice": "F-1", "amount": " 25.5 ", "date": None}),
                      ("credit-hold", {"debtor": "PAYS", "off": True})),
         ["F-1: payment of EUR 25.50 registered; open EUR 124.50", "PAYS: was not on hold"]),
    ]:
        for state, message in zip(states, messages, strict=True):
            _completed(state, message)

    payments = [e["summary"] for e in engine.json("dossier", "F-1") if e["kind"] == "payment"]
    assert payments == [
        "payment of EUR 100.00 on 2026-01-01 (recorded by hand); open EUR 200.00",
        "payment of EUR 50.00 on 2026-01-02 (recorded by hand); open EUR 150.00",
        "payment of EUR 25.50 on 2026-01-02 (recorded by hand); open EUR 124.50",
    ]
    [plan] = [e for e in engine.json("dossier", "F-2") if e["kind"] == "plan"]
    assert plan["summary"] == ("payment plan agreed: 3 instalments (2026-02-01 100.00, 2026-03-01 100.00, "
                               "2026-04-01 100.00)")
    assert plan["by"] == "Anna"
    notes = [e["summary"] for e in engine.json("dossier", "F-1") if e["kind"] == "note"]
    assert notes == ["credit hold: no new deliveries (put on hold by hand)", "credit hold lifted by Anna"]
    assert engine.json("holds") == []
    assert _notes(engine, "F-3") == [("Zoals vanmorgen besproken.", "Anna")]

    _send_statement_sends_the_statement_of_account_once_a_day(engine, desk)
    _import_file_takes_in_one_file_of_an_inbox_as_the_scheduled_import_would(engine, desk)


def _send_statement_sends_the_statement_of_account_once_a_day(engine, desk: Desk) -> None:
    _completed(desk.run("send-statement", debtor="PLANS"),
               "PLANS: statement of account sent by email to twee@example.com")
    [mail] = engine.sink.messages()
    assert "<twee@example.com>" in mail["To"] and "F-2" in mail.get_body(("plain",)).get_content()
    # Once a day per channel, as the verb: asked again, nothing goes out.
    _completed(desk.run("send-statement", debtor="PLANS", channel="email"),
               "PLANS: today's statement of account by email was sent already")
    assert len(engine.sink.messages()) == 1
    statements = [e for e in engine.json("dossier", "F-2") if "statement of account" in e["summary"]]
    assert len(statements) == 1, statements
    # By letter: into the print queue; asking again (here or with the verb) gives the same answer.
    by_letter = desk.run("send-statement", debtor="PLANS", channel="letter")
    assert by_letter["type"] == "COMPLETED" and "print queue" in by_letter["message"], by_letter
    assert _cli_line(engine, "statement", "PLANS", "--send", "--channel", "letter") == by_letter["message"]


def test_a_dispute_from_the_form_wakes_the_run_and_upheld_it_credits_and_closes_the_case(engine, desk):
    engine.import_csv([row("U-1", "UPHELD", "consumer", "klant@example.com", amount="80.00")])
    engine.set_clock("2026-01-09T10:00")
    engine.sweep()
    assert [t["kind"] for t in engine.json("tasks")] == ["call"]
    waiting_for_the_call = engine.run_state("U-1")

    _completed(desk.run("register-dispute", invoice="U-1", reason="Never received the parcel",
                        responsible="Marie", due="2026-01-20", by="Anna"),
               "U-1: dispute-1 registered, to be sorted out by 2026-01-20; escalation stands still")
    [task] = engine.json("tasks")
    assert (task["kind"], task["responsible"], task["due_on"]) == ("dispute", "Marie", "2026-01-20")
    # Woken as `dunning dispute` wakes it: the run looked at the dispute and waits again.
    _paused_anew(engine, "U-1", waiting_for_the_call["state_id"])

    _completed(desk.run("resolve-dispute", invoice="U-1", verdict="upheld",
                        reason="Carrier confirms the parcel was lost", by="Marie"),
               "U-1: dispute-1 upheld; open EUR 0.00")
    deadline = time.monotonic() + 60
    while engine.run_state("U-1")["type"] != "COMPLETED":
        assert time.monotonic() < deadline, engine.run_state("U-1")
        time.sleep(0.1)
    dossier = engine.json("dossier", "U-1")
    assert "credit note of EUR 80.00" in next(e["summary"] for e in dossier if e["kind"] == "credit")
    assert dossier[-1]["summary"] == "case closed: dispute upheld"
    assert engine.subjects() == [], "nothing was sent: the debtor was right"


def _paused_anew(engine, invoice: str, before: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        state = engine.run_state(invoice)
        if state["type"] == "PAUSED" and state["state_id"] != before:
            return
        assert time.monotonic() < deadline, state
        time.sleep(0.1)


def test_a_mistake_fails_the_run_with_the_verbs_message_and_changes_nothing(engine, desk):
    _book(engine)
    engine.cli("pay", "F-3", "80.00")  # paid in full
    engine.cli("dispute", "F-1", "--reason", "Says the chairs were damaged")
    before = _everything(engine)

    mistakes = [
        (("register-payment", {"invoice": "NOPE", "amount": "10.00"}), ("pay", "NOPE", "10.00")),
        (("register-dispute", {"invoice": "F-3", "reason": "Wrong price"}),
         ("dispute", "F-3", "--reason", "Wrong price")),
        (("register-dispute", {"invoice": "F-2", "reason": " "}), ("dispute", "F-2", "--reason", " ")),
        (("resolve-dispute", {"invoice": "F-2", "verdict": "rejected", "reason": "No"}),
         ("resolve", "F-2", "--rejected", "--reason", "No")),
        (("agree-plan", {"invoice": "F-2", "instalments": [{"date": "2026-02-01", "amount": "100.00"},
                                                             {"date": "2026-03-01", "amount": "100.00"}]}),
         ("plan", "F-2", "--instalment", "2026-02-01=100.00", "--instalment", "2026-03-01=100.00")),
        (("agree-plan", {"invoice": "F-1", "instalments": [{"date": "2026-02-01", "amount": "300.00"}]}),
         ("plan", "F-1", "--instalment", "2026-02-01=300.00")),
        (("credit-hold", {"debtor": "NOBODY"}), ("hold", "NOBODY")),
        (("add-note", {"invoice": "F-3", "text": "   "}), ("note", "F-3", "   ")),
        (("send-statement", {"debtor": "NOBODY"}), ("statement", "NOBODY", "--send")),
    ]
    runs = [(desk.start(action, **parameters), verb) for (action, parameters), verb in mistakes]
    for run_id, verb in runs:
        _failed(desk.ended(run_id), _cli_error(engine, *verb))
    assert _cli_error(engine, "pay", "F-2", "12.345") == (
        "AMOUNT: malformed amount '12.345': use digits with a decimal comma or point, e.g. 125,50 or 125.50")
    _failed(desk.run("resolve-dispute", invoice="F-1", verdict="upheld", credit="1.001"),
            "'Creditbedrag': malformed amount '1.001': use digits with a decimal comma or point, e.g. 125,50 or 125.50")
    _failed(desk.run("register-payment", invoice="F-2", amount="12.345"),
            "'Bedrag': malformed amount '12.345': use digits with a decimal comma or point, e.g. 125,50 or 125.50")

    # A value the domain refuses by name: the verb names its option, the run the field's title on the form.
    assert _cli_error(engine, "resolve", "F-1", "--rejected") == (
        "a rejection needs a --reason: the debtor is told why the invoice stands")
    _failed(desk.run("resolve-dispute", invoice="F-1", verdict="rejected"),
            "a rejection needs a 'Reden': the debtor is told why the invoice stands")
    _failed(desk.run("resolve-dispute", invoice="F-1", verdict="rejected", reason="No", credit="10.00"),
            "a 'Creditbedrag' or a write-off goes with a dispute upheld")
    _failed(desk.run("resolve-dispute", invoice="F-1", verdict="upheld", credit="500.00"),
            "'Creditbedrag' 500.00 is more than the open EUR 300.00")
    _failed(desk.run("agree-plan", invoice="F-2", instalments=[]), "a payment plan needs at least one 'Termijn'")
    _failed(desk.run("register-dispute", invoice="F-2", reason="Wrong price", due="2026-01-01"),
            "'Uitzoeken voor' 2026-01-01 is in the past (today is 2026-01-02)")

    # What the form itself refuses never becomes a run: the server checks the form against its schema.
    for action, parameters in [
        ("register-payment", {"invoice": "F-2", "amount": "12,50"}),
        ("register-payment", {"invoice": "F-2"}),
        ("add-note", {"invoice": "F-2", "text": "bell\x07"}),
        ("resolve-dispute", {"invoice": "F-1", "verdict": "maybe"}),
    ]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            desk.start(action, **parameters)
        assert refused.value.code == 409, (action, parameters)

    assert _everything(engine) == before


def _import_file_takes_in_one_file_of_an_inbox_as_the_scheduled_import_would(engine, desk: Desk) -> None:
    home = engine.home
    invoices, bank = home / "inbox" / "invoices", home / "inbox" / "bank"
    invoices.mkdir(parents=True)
    bank.mkdir(parents=True)
    lines = [",".join(COLUMNS), ",".join(row("I-1", "INBOX", "consumer", "inbox@example.com").get(c, "")
                                         for c in COLUMNS)]
    (invoices / "export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (invoices / "other.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    _completed(desk.run("import-file", inbox="invoices", file="export.csv"),
               "export.csv: 1 invoices added, 0 unchanged; 1 debtors added, 0 updated")
    assert (invoices / "done" / "export.csv").is_file() and not (invoices / "export.csv").exists()
    assert (invoices / "other.csv").is_file(), "only the file named"
    assert engine.json("dossier", "I-1") == []  # known now: the verb refuses an unknown invoice

    from dunning.bank.references import payment_reference

    (bank / "feb.xml").write_text(camt([Movement("1210.00", reference=payment_reference("I-1"))]), encoding="utf-8")
    state = desk.run("import-file", inbox="bank", file="feb.xml")
    assert state["type"] == "COMPLETED" and "1 matched" in state["message"], state
    assert (bank / "done" / "feb.xml").is_file()
    assert "payment" in [e["kind"] for e in engine.json("dossier", "I-1")]

    # Not there (or not a name in the inbox): nothing moves.
    _failed(desk.run("import-file", inbox="bank", file="export.csv"), f"no file 'export.csv' in {bank}")
    _failed(desk.run("import-file", inbox="invoices", file=".."), f"no file '..' in {invoices}")
    # Refused whole: into failed/ with the reason beside it, as the scheduled import does.
    (bank / "wrong.xml").write_text(camt([Movement("5.00")], account="NL02ABNA0123456789"), encoding="utf-8")
    state = desk.run("import-file", inbox="bank", file="wrong.xml")
    assert state["type"] == "FAILED" and "NL02ABNA0123456789" in state["message"], state
    assert (bank / "failed" / "wrong.xml.error.txt").read_text(encoding="utf-8").strip() == state["message"]


def test_the_forms_are_in_the_installations_language_with_dates_as_dates(prefect_here):
    """The parameter schemas as the server holds them for the UI's Run form. (The `desk` fixture registers them
    in the language the installation's settings.toml names, nl by default.)"""
    from flows.desk_actions import desk_action_deployments

    def schemas(language: str) -> dict[str, dict]:
        instance = f"forms-{language}-{time.monotonic_ns()}"
        for deployment in desk_action_deployments(instance, language):
            deployment.apply()
        return {a: _get(prefect_here, f"/deployments/name/{a}/{instance}")["parameter_openapi_schema"]
                for a in ACTIONS}

    nl, en = schemas("nl"), schemas("en")

    def titles(schema: dict) -> dict[str, str]:
        return {name: p["title"] for name, p in schema["properties"].items()}

    assert titles(nl["register-payment"]) == {"invoice": "Factuur", "amount": "Bedrag", "date": "Betaaldatum"}
    assert titles(en["register-payment"]) == {"invoice": "Invoice", "amount": "Amount", "date": "Payment date"}
    assert titles(nl["resolve-dispute"]) == {"invoice": "Factuur", "verdict": "Uitkomst", "reason": "Reden",
                                             "credit": "Creditbedrag", "write_off": "Afboeken", "by": "Uw naam"}
    assert titles(en["credit-hold"]) == {"debtor": "Debtor", "reason": "Reason", "off": "Lift the hold",
                                         "by": "Your name"}
    # Parameters named as the verb's arguments and options, each with its title and description on the form, in
    # the order the UI shows them (`position`: a server on PostgreSQL keeps the schema as JSONB, key order lost).
    def in_order(schema: dict) -> list[str]:
        return sorted(schema["properties"], key=lambda name: schema["properties"][name]["position"])

    assert {a: in_order(s) for a, s in nl.items()} == {
        "register-payment": ["invoice", "amount", "date"],
        "agree-plan": ["invoice", "instalments", "costs", "by"],
        "credit-hold": ["debtor", "reason", "off", "by"],
        "register-dispute": ["invoice", "reason", "responsible", "due", "by"],
        "resolve-dispute": ["invoice", "verdict", "reason", "credit", "write_off", "by"],
        "add-note": ["invoice", "text", "by"],
        "send-statement": ["debtor", "channel"],
        "import-file": ["inbox", "file"],
    }
    for schema in [*nl.values(), *en.values()]:
        for name, p in schema["properties"].items():
            assert p.get("title") not in (None, name) and p.get("description"), (name, p)
    assert nl["add-note"]["properties"]["text"]["description"].startswith("Een alinea in uw eigen woorden")

    # Dates as dates: a date picker, empty unless given (no null to choose), the verb's default when left empty.
    for schema, name in [(nl["register-payment"], "date"), (nl["register-dispute"], "due")]:
        p = schema["properties"][name]
        assert (p["type"], p["format"]) == ("string", "date") and "default" not in p and "anyOf" not in p, p
        assert name not in schema.get("required", [])
    [instalment] = nl["agree-plan"]["definitions"].values()
    assert instalment["title"] == "Termijn"
    assert instalment["properties"]["date"] == {
        "type": "string", "format": "date", "title": "Uiterlijk op", "description": "Uiterlijk op deze dag betaald."}
    assert en["agree-plan"]["properties"]["instalments"]["title"] == "Instalments"
    # Amounts as text with a dot, choices as enums.
    assert nl["register-payment"]["properties"]["amount"]["type"] == "string"
    assert nl["agree-plan"]["properties"]["costs"]["default"] == "0.00"
    assert nl["resolve-dispute"]["definitions"]["Verdict"]["enum"] == ["upheld", "rejected"]
    assert nl["import-file"]["definitions"]["Inbox"]["enum"] == ["bank", "invoices"]
    channel = nl["send-statement"]["properties"]["channel"]
    assert "default" not in channel and "anyOf" not in channel and channel["title"] == "Kanaal", channel
    assert nl["send-statement"]["definitions"]["StatementChannel"]["enum"] == ["email", "letter"]


def _get(api: str, path: str) -> dict:
    with urllib.request.urlopen(api + path, timeout=30) as r:
        return json.loads(r.read())
