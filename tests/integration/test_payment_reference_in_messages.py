"""Every message states the invoice's payment reference (ISO 11649, "RF..") next to the IBAN and asks the debtor to
quote it, so the payment can be matched by it (matching rule 1): every step, by e-mail (text and HTML) and by
letter, in Dutch and in English; a message about several invoices gives each its own. Composed from the
database as sending does, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader
from stdnum import iso11649

from dunning.bank.references import payment_reference, printed, references_in
from dunning.casework import answers, disputes, human_tasks, plans
from dunning.casework.human_tasks import CallOutcome
from dunning.domain.kinds import Channel, DebtorKind, OutboxStatus, TaskKind
from dunning.domain.policy import DEFAULT
from dunning.domain.steps import Message, Step
from dunning.messaging import compose, outbox
from dunning.messaging.combining import COMBINABLE
from dunning.messaging.templating import render_letter_markup
from dunning.storage import clock, db
from dunning.storage.config import Installation
from dunning.storage.models import Debtor, Invoice

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NEAR = 300  # characters between the IBAN and a reference, whitespace collapsed: the same instruction or list

# Listed in the open invoices: oldest due date first.
NUMBERS = ("F-2026-0117", "F-2026-0201", "F-2026-0300")


@dataclass(frozen=True)
class Case:
    steps: dict[Message, Step]
    references: dict[str, str]  # invoice number -> the compact reference on file


def _case(inst: Installation, language: str) -> Case:
    """Three open invoices of one debtor, the first with everything a message can state on file; the third's
    reference on file is a digest (its number's readable one was taken), which messages must state as it is."""
    with db.transaction(inst) as s:
        clock.set_simulated(s, NOW)
        debtor = Debtor(number="D-1", name="Jan de Vries", kind=DebtorKind.consumer, email="jan@example.invalid",
                        street="Dorpsstraat 1", postcode="1234 AB", city="Utrecht", country="NL", language=language,
                        preferred_channel=Channel.email)
        invoice = Invoice(number=NUMBERS[0], debtor=debtor, issue_date=date(2026, 9, 1), due_date=date(2026, 10, 1),
                          amount=Decimal("1840.00"), currency="EUR")
        second = Invoice(number=NUMBERS[1], debtor=debtor, issue_date=date(2026, 9, 3), due_date=date(2026, 10, 3),
                         amount=Decimal("99.00"), currency="EUR")
        third = Invoice(number=NUMBERS[2], debtor=debtor, issue_date=date(2026, 9, 5), due_date=date(2026, 10, 5),
                        amount=Decimal("250.00"), currency="EUR",
                        payment_reference=payment_reference(NUMBERS[2], hashed=True))
        s.add_all([invoice, second, third])
        s.flush()
        for message, deadline in ((Message.aanmaning, "2026-11-09"), (Message.ingebrekestelling, "2026-11-20")):
            earlier = outbox.Composed("jan@example.invalid", message.value, b"x", None, {"deadline": deadline})
            sent = outbox.prepare(s, invoice, Step.send(message), Channel.email, NOW, lambda c=earlier: c, attempt=9)
            sent.status = OutboxStatus.sent
        call = human_tasks.open_task(s, invoice, TaskKind.call, Step.call(1), NOW)
        answers.complete_call(s, call, CallOutcome(reached=True, spoke_with="Jan", promised_on=date(2026, 12, 4),
                                                   promised_amount=Decimal("500.00"), send_copy=True), NOW)
        plan = plans.agree(s, invoice, [(date(2026, 12, 1), Decimal("920.00")), (date(2027, 1, 1), Decimal("920.00"))],
                           NOW)
        disputes.raise_dispute(s, invoice, "Levering was onvolledig", NOW)
        dispute = disputes.resolve(s, invoice, upheld=False, now=NOW, reason="De levering was compleet.")
        steps = {m: Step.send(m) for m in Message} | {
            Message.betaalafspraak: Step.send(Message.betaalafspraak, about=Step.call(1)),
            Message.factuurkopie: Step.send(Message.factuurkopie, about=Step.call(1)),
            Message.betalingsregeling: Step.send(Message.betalingsregeling, about=Step.plan(plan.id)),
            Message.betwisting_afgewezen: Step.send(Message.betwisting_afgewezen, about=dispute.step),
        }
        references = {i.number: str(i.payment_reference) for i in (invoice, second, third)}
    return Case(steps, references)


def _plain(markup: str) -> str:
    """What a reader sees of HTML: the text, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def _distance(text: str, a: str, b: str) -> int:
    """The fewest characters between an occurrence of `a` and one of `b` (0 when they touch or overlap)."""
    starts_a = [m.start() for m in re.finditer(re.escape(a), text)]
    starts_b = [m.start() for m in re.finditer(re.escape(b), text)]
    assert starts_a and starts_b, (a, b)
    return min(max(0, sb - (sa + len(a)), sa - (sb + len(b))) for sa in starts_a for sb in starts_b)


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("channel", [Channel.email, Channel.letter])
@pytest.mark.parametrize("message", list(Message))
def test_every_message_states_each_invoices_payment_reference_next_to_the_iban(installation, message, channel,
                                                                                language):
    case = _case(installation, language)
    combined = channel is Channel.email and message in COMBINABLE
    with db.transaction(installation) as s:
        invoice, *others = (s.query(Invoice).filter_by(number=n).one() for n in NUMBERS)
        composition = compose.compose(s, installation, invoice, case.steps[message], channel, NOW, DEFAULT,
                                      also=others if combined else (), preview=True, language=language)
    iban = str(installation.creditor.iban)
    if channel is Channel.email:
        texts = {"text": " ".join(composition.email.text.split()), "html": _plain(composition.email.html)}
    else:
        markup = render_letter_markup(message.value, language, composition.values, installation.home / "templates")
        body = markup[markup.index('<div class="body">'):]  # not the sender block's and the footer's IBAN
        texts = {"letter": _plain(body), "pdf": _pdf_text(composition.pdf)}

    # The open invoices are listed (each with its reference) where the message lists them, and a combined e-mail
    # always does; the others are about their own invoice only.
    lists_all = message in (Message.herinnering, Message.aanmaning, Message.incasso_aankondiging,
                            Message.rekeningoverzicht) or combined
    stated = NUMBERS if lists_all else NUMBERS[:1]
    label = "betalingskenmerk" if language == "nl" else "payment reference"
    for part, text in texts.items():
        for number in stated:
            reference = printed(case.references[number])
            assert reference in text, (part, number)
            if part != "pdf":
                assert _distance(text, iban, reference) <= NEAR, (part, number)
        for number in set(NUMBERS) - set(stated):
            assert printed(case.references[number]) not in text, (part, number)
        assert label in text.lower(), part  # the debtor is asked to quote it, by its name
        assert "omschrijving" not in text.lower() and "quoting invoice" not in text, part  # not the number instead

    # Every reference the letter prints, read back from the PDF and compacted, is valid ISO 11649 and the one on
    # file: what a debtor copies from paper into a banking app is matched by it.
    if channel is Channel.letter:
        text = texts["pdf"]
        found = set()
        for start in (m.start() for m in re.finditer(r"RF\d\d", text)):
            [number] = [n for n in stated if text.startswith(printed(case.references[n]), start)]
            compact = text[start:start + len(printed(case.references[number]))].replace(" ", "")
            assert iso11649.is_valid(compact) and compact == case.references[number]
            found.add(number)
        assert found == set(stated)
        assert references_in(f"Betaling {printed(case.references[NUMBERS[0]])}") == [[case.references[NUMBERS[0]]]]


def test_the_reference_stated_is_the_one_on_file_and_a_new_invoice_gets_its_readable_one(installation):
    with db.transaction(installation) as s:
        debtor = Debtor(number="D-9", name="Piet", kind=DebtorKind.business, email="piet@example.invalid",
                        language="nl", preferred_channel=Channel.email)
        hashed = payment_reference("F/7", hashed=True)
        on_file = Invoice(number="F/7", debtor=debtor, issue_date=date(2026, 9, 1), due_date=date(2026, 10, 1),
                          amount=Decimal("10.00"), payment_reference=hashed)
        s.add(on_file)
        s.flush()
        values = compose.compose(s, installation, on_file, Step.send(Message.herinnering), Channel.email, NOW,
                                 DEFAULT, preview=True).values
    assert values["invoice"]["payment_reference"] == printed(hashed)
    assert [i["payment_reference"] for i in values["open_invoices"]] == [printed(hashed)]
    assert compose._payment_reference(Invoice(number="F/8")) == printed(payment_reference("F/8")) == "RF06 F8"
