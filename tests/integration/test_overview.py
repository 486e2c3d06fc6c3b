"""The daily overview names what waits for a person: open tasks, unposted letters, holds."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from test_storage import add_invoice, ok

from dunning import clock, db, holds, human_tasks, outbox, print_queue
from dunning.models import Channel, TaskKind
from dunning.outbox import Composed


def test_the_overview_lists_open_tasks_unposted_letters_and_holds(installation):
    printed = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    with db.transaction(installation) as s:
        invoice = add_invoice(s, "F-1")
        clock.set_simulated(s, datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
        human_tasks.open_task(s, invoice, TaskKind.call, "call-1", printed)
        letter = Composed("Jan, Kerkstraat 1", "herinnering F-1", b"%PDF-", None, {"printed_on": "2026-03-06"})
        message = outbox.prepare(s, invoice, "herinnering", Channel.letter, printed, lambda: letter)
        print_queue.put(installation, message)
        holds.put_on_hold(s, invoice.debtor, "by hand", printed, key="k")
    found = json.loads(ok(installation, "overview", "--json"))
    assert [(t["invoice"], t["kind"], t["days_open"]) for t in found["tasks"]] == [("F-1", "call", 3)]
    assert [(x["invoice"], x["printed_on"], x["days_waiting"]) for x in found["letters"]] == [("F-1", "2026-03-06", 3)]
    assert [h["debtor"] for h in found["holds"]] == ["D-1"]
    text = ok(installation, "overview")
    assert "not posted for 3 day(s)" in text and "# Daily overview 2026-03-09" in text


def test_the_overview_names_who_sorts_out_a_dispute_and_flags_it_when_overdue(installation):
    from dunning import disputes

    raised = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with db.transaction(installation) as s:
        invoice = add_invoice(s, "F-1")
        disputes.raise_dispute(s, invoice, "wrong price", raised, responsible="Marie", days=5)
        clock.set_simulated(s, datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    found = json.loads(ok(installation, "overview", "--json"))
    [task] = found["tasks"]
    assert (task["kind"], task["responsible"], task["due_on"]) == ("dispute", "Marie", "2026-03-06")
    assert task["overdue"] is True
    assert "Marie sorts it out by 2026-03-06 — **overdue**" in ok(installation, "overview")
