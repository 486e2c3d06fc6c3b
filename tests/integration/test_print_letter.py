"""A letter that cannot be printed is refused with its reason, never retried and never crashes the run."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from prefect.logging import disable_run_logger
from test_storage import add_invoice, ok

from dunning.storage import clock, db
from tasks import runtime
from tasks.messages import print_letter


@pytest.fixture
def task_installation(installation):
    runtime.installation.cache_clear()
    yield installation
    runtime.installation.cache_clear()


def test_a_name_the_letter_font_cannot_print_refuses_the_letter_with_its_reason(task_installation):
    with db.transaction(task_installation) as s:
        invoice = add_invoice(s, "F-1")
        invoice.debtor.name, invoice.debtor.street = "王小明", "Kerkstraat 1"
        invoice.debtor.postcode, invoice.debtor.city = "1017 GA", "Amsterdam"
        clock.set_simulated(s, datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    with disable_run_logger():  # the task's body, without a Prefect server
        assert print_letter.fn("F-1", "herinnering") == "refused"
    [note] = [e for e in json.loads(ok(task_installation, "dossier", "F-1", "--json")) if e["kind"] == "note"]
    assert "herinnering not sent by letter" in note["summary"] and "cannot print" in note["summary"]
    assert json.loads(ok(task_installation, "letters", "--json")) == []
