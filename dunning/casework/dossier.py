"""The dossier: append-only evidence per invoice. Recording is idempotent by key (replays, retries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dunning.domain import markdown as md
from dunning.domain.time import local
from dunning.storage.models import DossierEntry, Invoice


def record(
    session: Session,
    invoice: Invoice,
    *,
    key: str,
    kind: str,
    at: datetime,
    summary: str,
    channel: str | None = None,
    by: str | None = None,
    message_id: str | None = None,
    content_hash: str | None = None,
    data: dict[str, Any] | None = None,
) -> DossierEntry:
    existing = session.scalars(select(DossierEntry).where(DossierEntry.key == key)).one_or_none()
    if existing is not None:
        return existing
    entry = DossierEntry(
        invoice_id=invoice.id,
        key=key,
        kind=kind,
        at=at,
        summary=summary,
        channel=channel,
        by=by,
        message_id=message_id,
        content_hash=content_hash,
        data=data,
    )
    session.add(entry)
    session.flush()
    return entry


def exists(session: Session, key: str) -> bool:
    return session.scalars(select(DossierEntry.id).where(DossierEntry.key == key)).first() is not None


def entries(session: Session, invoice: Invoice) -> list[DossierEntry]:
    return list(
        session.scalars(
            select(DossierEntry)
            .where(DossierEntry.invoice_id == invoice.id)
            .order_by(DossierEntry.at, DossierEntry.id)
        )
    )


def as_json(entry: DossierEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "kind": entry.kind,
        "channel": entry.channel,
        "by": entry.by,
        "summary": entry.summary,
        "message_id": entry.message_id,
        "content_hash": entry.content_hash,
    }


_TABLE = {
    "en": ("_No contact or evidence yet._", "| When (Amsterdam) | What | Channel | Who | Summary |"),
    "nl": ("_Nog geen contact of bewijs._", "| Wanneer (Amsterdam) | Wat | Kanaal | Wie | Samenvatting |"),
}


def as_markdown(items: list[DossierEntry], language: str = "en") -> str:
    """The dossier as a Markdown table for the sheets in the UI, its headings in `language`; what people and
    their books wrote shown as text, never as markup (`markdown.text`)."""
    empty, header = _TABLE.get(language, _TABLE["en"])
    if not items:
        return empty
    lines = [header, "|---|---|---|---|---|"]
    for e in items:
        when = local(e.at).strftime("%Y-%m-%d %H:%M")
        lines.append(f"| {when} | {e.kind} | {e.channel or ''} | {md.text(e.by)} | {md.text(e.summary)} |")
    return "\n".join(lines)
