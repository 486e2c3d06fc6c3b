"""Demo invoices for a newcomer: dates relative to today, so a call task is waiting at the first sweep.
They go through the same importer as any CSV file."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from dunning.casework.importer import COLUMNS, ImportResult, import_invoices

_DEBTORS = [
    # number, name, kind, email, phone, street, postcode, city, language, days overdue, amount
    (
        "DEB-001",
        "Jan de Vries",
        "consumer",
        "jan.devries@example.com",
        "+31 6 1234 5678",
        "Kerkstraat 1",
        "1017 GA",
        "Amsterdam",
        "nl",
        12,
        "249.95",
    ),
    (
        "DEB-002",
        "Bakkerij Bol B.V.",
        "business",
        "administratie@bakkerijbol.example.com",
        "+31 30 765 4321",
        "Oudegracht 100",
        "3511 AX",
        "Utrecht",
        "nl",
        30,
        "1840.00",
    ),
    (
        "DEB-003",
        "Green Fields Ltd",
        "business",
        "accounts@greenfields.example.com",
        "+44 20 7946 0000",
        "Damrak 70",
        "1012 LM",
        "Amsterdam",
        "en",
        6,
        "612.50",
    ),
    (
        "DEB-004",
        "Fatima el Amrani",
        "consumer",
        "f.elamrani@example.com",
        "+31 6 8765 4321",
        "Markt 5",
        "5611 EB",
        "Eindhoven",
        "nl",
        -10,
        "89.00",
    ),
]


def write_csv(path: Path, today: date) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for n, (number, name, kind, email, phone, street, pc, city, lang, overdue, amount) in enumerate(_DEBTORS):
            due = today - timedelta(days=overdue)
            issue = due - timedelta(days=30)
            invoice = f"2026-{1001 + n}"
            writer.writerow(
                [invoice, number, name, kind, email, phone, street, pc, city, "NL", lang, issue, due, amount, "EUR"]
            )
    return path


def load(session: Session, home: Path, today: date) -> ImportResult:
    home.mkdir(parents=True, exist_ok=True)
    return import_invoices(session, write_csv(home / "demo-invoices.csv", today))
