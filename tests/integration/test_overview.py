"""The daily overview names what waits for a person: open tasks, unposted letters, holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from test_storage import add_invoice, ok

from dunning.casework import answers, holds, human_tasks
from dunning.domain.kinds import Channel, TaskKind
from dunning.domain.steps import Step
from dunning.messaging import outbox, print_queue
from dunning.messaging.outbox import Composed
from dunning.storage import clock, db


def test_the_overview_lists_open_tasks_unposted_letters_and_holds(installation):
    printed = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    with db.transaction(installation) as s:
        invoice = add_invoice(s, "F-1")
        clock.set_simulated(s, datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
        human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), printed)
        letter = Composed("Jan, Kerkstraat 1", "herinnering F-1", b"%PDF-", None, {"printed_on": "2026-03-06"})
        message = outbox.prepare(s, invoice, "herinnering", Channel.letter, printed, lambda: letter)
        print_queue.put(installation, message)
        holds.put_on_hold(s, invoice.debtor, "by hand", printed, key="k")
    found = json.loads(ok(installation, "overview", "--json"))
    assert [(t["invoice"], t["kind"], t["days_open"]) for t in found["tasks"]] == [("F-1", "call", 3)]
    assert [(x["invoice"], x["printed_on"], x["days_waiting"]) for x in found["letters"]] == [("F-1", "2026-03-06", 3)]
    assert [h["debtor"] for h in found["holds"]] == ["D-1"]
    text = ok(installation, "overview")  # in the installation's language: nl unless settings.toml says en
    assert "3 dag(en) niet gepost" in text and "# Dagoverzicht 2026-03-09" in text
    assert "[Alle runs die op iemand wachten](http" in text and "/v2/runs?tags=awaiting:call," in text
    (installation.home / "settings.toml").write_text('language = "en"\n', encoding="utf-8")
    text = ok(installation, "overview")
    assert "not posted for 3 day(s)" in text and "# Daily overview 2026-03-09" in text


def test_the_overview_names_who_sorts_out_a_dispute_and_flags_it_when_overdue(installation):
    from dunning.casework import disputes

    raised = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with db.transaction(installation) as s:
        invoice = add_invoice(s, "F-1")
        disputes.raise_dispute(s, invoice, "wrong price", raised, responsible="Marie", days=5)
        clock.set_simulated(s, datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    found = json.loads(ok(installation, "overview", "--json"))
    [task] = found["tasks"]
    assert (task["kind"], task["responsible"], task["due_on"]) == ("dispute", "Marie", "2026-03-06")
    assert task["overdue"] is True
    assert "Marie handelt het af uiterlijk 2026-03-06 — **te laat**" in ok(installation, "overview")


def test_the_overview_lists_payment_plans_asked_for_until_one_is_agreed(installation):
    from datetime import date
    from decimal import Decimal

    from dunning.casework import plans

    asked = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    with db.transaction(installation) as s:
        invoice = add_invoice(s, "F-1")
        call = human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), asked)
        outcome = human_tasks.CallOutcome(reached=True, spoke_with="Mevr. Jansen", plan_requested=True, by="Anna")
        answers.complete_call(s, call, outcome, asked)
        clock.set_simulated(s, datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    found = json.loads(ok(installation, "overview", "--json"))
    assert found["plan_requests"] == [
        {
            "invoice": "F-1",
            "debtor": invoice.debtor.name,
            "asked_on": "2026-03-05",
            "by": "Anna",
            "escalation_waits_until": "2026-03-10",
            "escalation_went_on": False,
        }
    ]
    assert "de escalatie wacht tot 2026-03-10 — spreek hem af met `dunning plan F-1" in ok(installation, "overview")

    with db.transaction(installation) as s:
        clock.set_simulated(s, datetime(2026, 3, 11, 9, 0, tzinfo=UTC))
    assert "niet afgesproken, dus de escalatie ging verder op 2026-03-10" in ok(installation, "overview")

    with db.transaction(installation) as s:
        invoice = s.merge(invoice)
        open_now = plans.invoices.open_amount(s, invoice)
        plans.agree(s, invoice, [(date(2026, 4, 1), open_now - Decimal("1.00")), (date(2026, 5, 1), Decimal("1.00"))],
                    datetime(2026, 3, 11, 9, 0, tzinfo=UTC))
    assert json.loads(ok(installation, "overview", "--json"))["plan_requests"] == []
