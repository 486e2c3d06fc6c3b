"""The send task against a real SMTP server (aiosmtpd, via MailSink): the bytes queued are the bytes received; a
server that is down keeps the message queued; bad stored data is a refusal, not a failed run."""

from __future__ import annotations

import asyncio

import pytest
from prefect.logging import disable_run_logger
from sqlalchemy import select
from test_sending import HERINNERING, NOW, dossier_of, herinnering_due

from dunning.domain.kinds import OutboxStatus
from dunning.messaging.mailer import TransientMailError
from dunning.messaging.mailsink import MailSink, free_port
from dunning.storage import clock, db
from dunning.storage.models import OutboxMessage
from tasks import runtime
from tasks.messages import send_step


@pytest.fixture
def smtp_port(installation, monkeypatch) -> int:
    port = free_port()
    monkeypatch.setenv("DUNNING_SMTP_PORT", str(port))
    runtime.installation.cache_clear()
    with db.transaction(installation) as s:
        clock.set_simulated(s, NOW)
    yield port
    runtime.installation.cache_clear()


def _send(step=HERINNERING) -> str:
    with disable_run_logger():  # the task's body, without a Prefect server
        return asyncio.run(send_step.fn("F-1", step))


def test_send_step_hands_the_queued_bytes_to_the_mail_server_and_records_them(installation, smtp_port, tmp_path):
    herinnering_due(installation, "F-1")
    with MailSink(tmp_path / "mail", port=smtp_port) as sink:
        assert _send() == "sent"
        assert _send(str(HERINNERING)) == "sent"  # a replay, with the step as a run started earlier passes it
        [received] = sink.files()
    with db.transaction(installation) as s:
        row = s.scalars(select(OutboxMessage)).one()
        assert (row.status, received.read_bytes()) == (OutboxStatus.sent, row.content)


def test_send_step_with_the_mail_server_down_keeps_the_email_queued_and_says_try_later(installation, smtp_port):
    herinnering_due(installation, "F-1")

    with pytest.raises(TransientMailError, match="will retry"):
        _send()

    with db.transaction(installation) as s:
        assert s.scalars(select(OutboxMessage)).one().status is OutboxStatus.queued


def test_send_step_refuses_a_debtor_name_with_a_tab_instead_of_failing_the_run(installation, smtp_port):
    herinnering_due(installation, "F-1", name="Jan\tde Vries")

    assert _send() == "refused"

    assert any("debtor.name: line breaks" in summary for kind, summary in dossier_of(installation) if kind == "note")
