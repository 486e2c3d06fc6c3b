"""`dunning preview` shows what goes out: every message, by e-mail and by letter, in Dutch and in English, rendered
by the preview and by the path the send and print tasks take (up to the bytes queued in the outbox), is the same;
on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from dunning.casework import answers, disputes, human_tasks, personal_notes, plans
from dunning.casework.human_tasks import CallOutcome
from dunning.cli.letters import run_preview
from dunning.domain.kinds import Channel, DebtorKind, OutboxStatus, TaskKind
from dunning.domain.steps import Message, Step
from dunning.messaging import outbox, sending
from dunning.storage import clock, db
from dunning.storage.config import Installation
from dunning.storage.models import Debtor, Invoice

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, in contact hours
INTERNAL_NOTE = "Klonk geïrriteerd; betaalt na salaris."


@dataclass(frozen=True)
class Case:
    inst: Installation
    steps: dict[Message, Step]  # what the run sends for each message, with what it confirms or answers


def _case(inst: Installation, language: str) -> Case:
    """One invoice of 1,840.00 with everything a message can state on file: a call with a promise of 500.00
    and a copy to send, a payment plan, a rejected dispute, the aanmaning and ingebrekestelling sent, a note
    waiting for the next message and the invoice's PDF."""
    with db.transaction(inst) as s:
        clock.set_simulated(s, NOW)
        debtor = Debtor(number="D-1", name="Jan de Vries", kind=DebtorKind.consumer, email="jan@example.invalid",
                        street="Dorpsstraat 1", postcode="1234 AB", city="Utrecht", country="NL", language=language,
                        preferred_channel=Channel.email)
        invoice = Invoice(number="F-1", debtor=debtor, issue_date=date(2026, 9, 1), due_date=date(2026, 10, 1),
                          amount=Decimal("1840.00"), currency="EUR")
        s.add(invoice)
        s.flush()
        for message, deadline in ((Message.aanmaning, "2026-11-09"), (Message.ingebrekestelling, "2026-11-20")):
            # Sent earlier (an attempt of its own, so the messages composed below are new ones).
            earlier = outbox.Composed("jan@example.invalid", message.value, b"x", None, {"deadline": deadline})
            sent = outbox.prepare(s, invoice, Step.send(message), Channel.email, NOW, lambda c=earlier: c, attempt=9)
            sent.status = OutboxStatus.sent
        call = human_tasks.open_task(s, invoice, TaskKind.call, Step.call(1), NOW)
        answers.complete_call(s, call, CallOutcome(reached=True, spoke_with="Jan", promised_on=date(2026, 12, 4),
                                                   promised_amount=Decimal("500.00"), note=INTERNAL_NOTE,
                                                   send_copy=True), NOW)
        plan = plans.agree(s, invoice, [(date(2026, 12, 1), Decimal("920.00")), (date(2027, 1, 1), Decimal("920.00"))],
                           NOW)
        disputes.raise_dispute(s, invoice, "Levering was onvolledig", NOW)
        dispute = disputes.resolve(s, invoice, upheld=False, now=NOW, reason="De levering is op 1 september compleet "
                                   "afgeleverd; de getekende pakbon hebben wij bijgevoegd.")
        personal_notes.add(s, invoice, "Zoals besproken op maandag.", "Anna", NOW)
        steps = {m: Step.send(m) for m in Message} | {
            Message.betaalafspraak: Step.send(Message.betaalafspraak, about=Step.call(1)),
            Message.factuurkopie: Step.send(Message.factuurkopie, about=Step.call(1)),
            Message.betalingsregeling: Step.send(Message.betalingsregeling, about=Step.plan(plan.id)),
            Message.betwisting_afgewezen: Step.send(Message.betwisting_afgewezen, about=dispute.step),
        }
    copy = inst.home / "invoices" / "F-1.pdf"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"%PDF-1.4 the invoice")
    return Case(inst, steps)


def _preview(case: Case, message: Message, channel: Channel, language: str, out: Path) -> dict[str, bytes]:
    written = run_preview(case.inst.home, "F-1", step=message.value, out=out, channel=channel.value, lang=language)
    return {p.name.split(".", 2)[-1]: p.read_bytes() for p in written}


def _queued(case: Case, message: Message, channel: Channel) -> bytes:
    """What the send task (e-mail) or the print task (letter) puts in the outbox for this step."""
    with db.transaction(case.inst) as s:
        invoice = s.query(Invoice).filter_by(number="F-1").one()
        queue = sending.queue_email if channel is Channel.email else sending.queue_letter
        row = queue(s, case.inst, invoice, case.steps[message], NOW)
        assert row.content is not None
        return row.content


def _email_parts(content: bytes) -> dict[str, bytes]:
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    text, html = (parsed.get_body(preferencelist=(kind,)) for kind in ("plain", "html"))
    assert text is not None and html is not None
    # On the wire every line ends in CRLF (RFC 5322 2.1); the preview's files have the template's own line ends.
    # A long subject is folded right after "Subject:"; unfolded, the fold leaves a space no reader shows.
    return {
        "subject.txt": f"{parsed['Subject'].lstrip()}\n".encode(),
        "txt": text.get_content().replace("\r\n", "\n").encode(),
        "html": html.get_content().replace("\r\n", "\n").encode(),
    }


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("channel", [Channel.email, Channel.letter])
@pytest.mark.parametrize("message", list(Message))
def test_the_preview_is_exactly_what_the_send_and_print_tasks_queue(installation, tmp_path, message, channel,
                                                                    language):
    case = _case(installation, language)

    previewed = _preview(case, message, channel, language, tmp_path / "preview")
    queued = _queued(case, message, channel)

    if channel is Channel.letter:
        assert previewed == {"pdf": queued}  # the same PDF, byte for byte (its bytes follow from its content)
    else:
        assert previewed == _email_parts(queued)
    assert "Zoals besproken op maandag." in _text(previewed)  # the note waiting, not used up by the preview
    assert "RF98 F1" in _text(previewed)  # the payment reference on file (F-1's), to quote when paying


def _text(previewed: dict[str, bytes]) -> str:
    content = _pdf_text(previewed["pdf"]) if "pdf" in previewed else previewed["txt"].decode()
    return " ".join(content.split())


def _pdf_text(content: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.parametrize("channel", [Channel.email, Channel.letter])
def test_preview_of_a_promise_of_part_confirms_that_part_and_keeps_the_collectors_note_internal(installation,
                                                                                               tmp_path, channel):
    # Reported: a betaalafspraak for 500.00 of 1,840.00 previewed 1,840.00 and the collector's own note.
    case = _case(installation, "nl")
    previewed = _preview(case, Message.betaalafspraak, channel, "nl", tmp_path)
    text = _text(previewed)

    assert "U betaalt EUR 500,00 uiterlijk 4 december 2026." in text
    assert "nog EUR 1.340,00 open" in text
    assert "1.840,00 uiterlijk" not in text and "geïrriteerd" not in text and "salaris" not in text


@pytest.mark.parametrize("channel", [Channel.email, Channel.letter])
def test_preview_of_the_incasso_aankondiging_gives_the_notice_days_of_the_policy(installation, tmp_path, channel):
    # Reported: the preview gave 14 days where the run gives the policy's 7.
    case = _case(installation, "nl")
    previewed = _preview(case, Message.incasso_aankondiging, channel, "nl", tmp_path)
    text = _text(previewed)

    assert "uiterlijk 30 november 2026" in text  # 23 November + 7 days (Policy.incasso_notice_days)
    assert "7 december 2026" not in text
