"""Letters waiting to be printed and posted. A letter is printed into the folder of its day and counts as sent
only once someone marks it posted; the posting date is what its terms count from (BW 6:96 lid 6). A letter
not posted on the day it was printed for is voided and printed anew, so no letter states a term that is
already running short."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.casework import dossier
from dunning.domain.kinds import Channel, OutboxStatus
from dunning.messaging import outbox
from dunning.storage import files
from dunning.storage.config import Installation
from dunning.storage.models import Invoice, OutboxMessage


def folder(inst: Installation, printed_on: date) -> Path:
    return inst.home / "letters" / printed_on.isoformat()


def file_for(inst: Installation, message: OutboxMessage) -> Path:
    """The letter's file in its day's folder, named after its outbox key as a safe file name: the key holds the
    invoice number, which the debtor's books chose (`F-1:herinnering:letter:1` -> `F-1_herinnering_letter_1.pdf`)."""
    return files.inside(folder(inst, printed_on(message)), f"{files.slug(message.key.replace(':', '_'))}.pdf")


def printed_on(message: OutboxMessage) -> date:
    return date.fromisoformat((message.data or {})["printed_on"])


def put(inst: Installation, message: OutboxMessage) -> Path:
    """Write the letter into its day's folder (again after a crash: same bytes, same name)."""
    path = file_for(inst, message)
    if not path.exists():
        assert message.content is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(message.content)
        tmp.replace(path)
    return path


def waiting(session: Session) -> list[OutboxMessage]:
    """The letters to print and post: one per letter (a letter naming several invoices is its first invoice's
    row; the others' rows are posted with it)."""
    return [m for m in _queued(session) if outbox.lead_of(session, m) is None]


def _queued(session: Session) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(
        OutboxMessage.channel == Channel.letter, OutboxMessage.status == OutboxStatus.queued
    )
    return list(session.scalars(query.order_by(OutboxMessage.created_at, OutboxMessage.id)))


@dataclass
class Posting:
    posted: list[OutboxMessage] = field(default_factory=list)
    voided: list[OutboxMessage] = field(default_factory=list)
    not_yet_printed: list[OutboxMessage] = field(default_factory=list)


def mark_posted(session: Session, inst: Installation, on: date, now: datetime) -> Posting:
    """Everything in the queue printed for `on` becomes posted (and its run is woken); older letters are
    voided and their runs woken to print them anew."""
    result = Posting()
    for message in _queued(session):
        invoice = session.get_one(Invoice, message.invoice_id)
        day = printed_on(message)
        if day > on:
            result.not_yet_printed.append(message)
            continue
        if day == on:
            message.data = {**(message.data or {}), "posted_on": on.isoformat()}
            outbox.mark_sent(session, message, invoice, now, confirmed=True)
            result.posted.append(message)
        else:
            _void(session, inst, message, invoice, on, now)
            result.voided.append(message)
        invoice.wake_at = now
    return result


def invoice_number(session: Session, message: OutboxMessage) -> str:
    """The invoice a letter is about; a letter naming several: all of them ("F-1, F-2")."""
    rows = [message, *outbox.sent_with(session, message)]
    return ", ".join(sorted(session.get_one(Invoice, m.invoice_id).number for m in rows))


def describe(session: Session, done: Posting, on: date) -> list[str]:
    """A line per letter (a letter naming several invoices names them on its one line)."""
    posted = [m for m in done.posted if outbox.lead_of(session, m) is None]
    voided = [m for m in done.voided if outbox.lead_of(session, m) is None]
    lines = [f"{invoice_number(session, m)}: {m.step} letter posted on {on.isoformat()}" for m in posted]
    lines += [
        f"{invoice_number(session, m)}: {m.step} letter of {printed_on(m).isoformat()} voided (not posted on "
        "the day it was printed for); a new one is printed at the next sweep"
        for m in voided
    ]
    return lines


def _void(session: Session, inst: Installation, message: OutboxMessage, invoice: Invoice, on: date,
          now: datetime) -> None:
    message.status = OutboxStatus.voided
    message.last_error = f"printed for {printed_on(message).isoformat()} but not posted until {on.isoformat()}"
    path = file_for(inst, message)
    if path.exists():
        # Out of the print folder, so nobody posts a letter whose stated term is too short.
        target = inst.home / "letters" / "voided" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
    dossier.record(
        session,
        invoice,
        key=f"{message.key}:voided",
        kind="note",
        at=now,
        channel=Channel.letter.value,
        summary=f"{message.step} letter voided ({message.last_error}); a new letter is printed",
    )
