"""Credit hold: set and lifted by hand, listed, noted in the dossier and shown on the call sheet."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from test_storage import add_invoice, dunning, ok

from dunning.casework import answers, holds, human_tasks, invoices
from dunning.desk import sheets
from dunning.domain.kinds import TaskKind
from dunning.domain.steps import Step
from dunning.storage import db


def test_hold_by_hand_is_listed_noted_and_lifted(installation):
    with db.transaction(installation) as s:
        add_invoice(s, "F-1")
        add_invoice(s, "F-2")
    assert "on credit hold" in ok(installation, "hold", "D-1", "--reason", "two invoices overdue")
    [row] = json.loads(ok(installation, "holds", "--json"))
    assert (row["debtor"], row["reason"]) == ("D-1", "two invoices overdue")
    for number in ("F-1", "F-2"):
        notes = [e for e in json.loads(ok(installation, "dossier", number, "--json")) if e["kind"] == "note"]
        assert notes[-1]["summary"] == "credit hold: no new deliveries (two invoices overdue)"
    assert "lifted" in ok(installation, "hold", "D-1", "--off", "--by", "Marie")
    assert json.loads(ok(installation, "holds", "--json")) == []


def test_hold_on_an_unknown_debtor_is_a_one_line_error(installation):
    done = dunning(installation, "hold", "NOBODY")
    assert done.returncode == 2 and done.stderr == "dunning: error: unknown debtor 'NOBODY'\n"


def test_the_call_sheet_shows_the_hold_and_the_debtors_other_open_invoices(installation):
    now = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    with db.transaction(installation) as s:
        invoice = add_invoice(s, "F-1")
        add_invoice(s, "F-2", amount="75.00")
        holds.put_on_hold(s, invoice.debtor, "ingebrekestelling of invoice F-1", now, key="k")
        task = human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), now)
        sheet = sheets.call_sheet(s, invoices.get(s, "F-1"), task, "first call", language="en")
        blad = sheets.call_sheet(s, invoices.get(s, "F-1"), task, "first call")  # the installation's default, nl
    assert "**Credit hold since 2026-03-09: no new deliveries** (ingebrekestelling of invoice F-1)" in sheet
    assert "| Also open | F-2, due 2026-02-04 (33 days overdue): EUR 75.00 |" in sheet
    assert "due 2026-02-04 (33 days overdue) |" in sheet  # this invoice's own row
    assert "**Kredietstop sinds 2026-03-09: geen nieuwe leveringen** (ingebrekestelling of invoice F-1)" in blad
    assert "| Ook open | F-2, vervaldatum 2026-02-04 (33 dagen over de vervaldatum): EUR 75.00 |" in blad


def test_the_call_sheet_shows_disputes_plans_promises_the_last_three_contacts_and_the_excuses(installation):
    from dunning.casework import disputes, plans
    from dunning.casework.human_tasks import CallOutcome

    now = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    with db.transaction(installation) as s:
        invoice = add_invoice(s, "F-1")
        invoice.debtor.call_times = "mornings, not on Wednesday"
        for n, reached in enumerate((False, False, True), start=1):
            task = human_tasks.open_task(s, invoice, TaskKind.call, Step.parse(f"call-{n}"), now)
            outcome = CallOutcome(reached=reached, by="Anna", spoke_with="Jan" if reached else "",
                                  promised_on=date(2026, 3, 1) if reached else None)
            answers.complete_call(s, task, outcome, now)
        disputes.raise_dispute(s, invoice, "wrong price", now, responsible="Marie")
        disputes.resolve(s, invoice, upheld=False, now=now, reason="price as quoted")
        plans.agree(s, invoice, [(date(2026, 4, 1), invoice.amount)], now)
        task = human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-4"), now)
        sheet = sheets.call_sheet(s, invoice, task, "again", language="en")
    # Promised for 1 March, still all open when the fourth call is offered on 9 March: broken, even before the
    # ladder noted it.
    assert "to pay by **2026-03-01** (Anna): **broken**" in sheet
    assert "- dispute-1 raised 2026-03-09: wrong price; rejected (price as quoted)" in sheet
    assert "- payment plan agreed 2026-03-09: 2026-04-01 " in sheet and "**active**" in sheet
    contacts = sheet.split("### Last contacts")[1].split("###")[0]
    assert contacts.count("\n- ") == 3 and "reached Jan" in contacts
    assert "| Invoice not received / Factuur niet ontvangen |" in sheet
    assert "(best reached: mornings, not on Wednesday) |" in sheet


def test_what_debtors_and_staff_wrote_reaches_the_sheet_as_text_never_as_markup(installation):
    """A debtor named like an HTML tag, a hold reason with a pipe and a line break: the call sheet (the run's
    Markdown in the Prefect UI) shows them as characters, and its tables keep their columns (issue 14)."""
    now = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    with db.transaction(installation) as s:
        invoice = add_invoice(s, "F-1")
        invoice.debtor.name = "<img src=x onerror=alert(2)>"
        invoice.debtor.call_times = "**mornings** | not\nWednesday"
        holds.put_on_hold(s, invoice.debtor, "disputed | see mail\n# of 3 March", now, key="k")
        task = human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), now)
        sheet = sheets.call_sheet(s, invoices.get(s, "F-1"), task, "first call", language="en")
    assert "<img" not in sheet and "&lt;img src=x onerror=alert(2)&gt;" in sheet
    assert "(disputed \\| see mail # of 3 March)" in sheet
    assert "\\*\\*mornings\\*\\* \\| not Wednesday" in sheet
    for row in [line for line in sheet.splitlines() if line.startswith("| ")]:
        assert row.replace("\\|", "").count("|") in (3, 6), row  # two columns, or the dossier's five


def test_the_call_sheet_says_when_no_copy_of_the_invoice_is_on_file(installation):
    now = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
    missing = installation.invoice_copy("F-1")
    with db.transaction(installation) as s:
        invoice = add_invoice(s, "F-1")
        task = human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), now)
        sheet = sheets.call_sheet(s, invoice, task, "first call", language="en", missing_copy=missing)
        blad = sheets.call_sheet(s, invoice, task, "first call", missing_copy=missing)
        on_file = sheets.call_sheet(s, invoice, task, "first call", language="en")
    assert "**No copy of this invoice on file**" in sheet and "offering to send it, not the copy" in sheet
    assert "**Geen kopie van deze factuur op bestand**" in blad
    assert "No copy" not in on_file
