"""The cost of a letter: rendering N letters to print-ready PDF, against rendering the same letters' HTML (the
Jinja2 markup the PDF is laid out from) without making a PDF, in the same run. The e-mail of the same step is
timed too, for scale.

    .venv/bin/python benchmarks/letters.py [--letters 1000] [--step ingebrekestelling] [--lang nl]

Each letter has its own debtor name, invoice number and amount, as in a real batch; one process, one core."""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dunning.bank.references import payment_reference, printed  # noqa: E402
from dunning.domain.statement import state_claim  # noqa: E402
from dunning.law import fourteen_day_term  # noqa: E402
from dunning.messaging.letters import render_letter_pdf  # noqa: E402
from dunning.messaging.templating import render_email, render_letter_markup  # noqa: E402

POSTED = date(2026, 11, 23)


def contexts(n: int, kind: str) -> list[dict]:
    pay_by = fourteen_day_term(POSTED).deadline
    out = []
    for i in range(n):
        amount = Decimal(100 + i * 7) + Decimal("0.45")
        number = f"F-2026-{i:05d}"
        invoice = {"number": number, "issue_date": date(2026, 9, 1), "due_date": date(2026, 10, 1),
                   "amount": amount, "open_amount": amount, "currency": "EUR",
                   "payment_reference": printed(payment_reference(number))}
        out.append({
            "debtor": {"name": f"Zoë de Vries-Łódź {i}", "number": f"D-{i:05d}", "kind": kind,
                       "street": f"Keizersgracht {i % 500 + 1}", "postcode": "1015 CJ", "city": "Amsterdam",
                       "country": "NL"},
            "invoice": invoice,
            "open_invoices": [invoice],
            "creditor": {"name": "Voorbeeld B.V.", "email": "debiteuren@example.invalid", "phone": "020 123 4567",
                         "iban": "NL91 ABNA 0417 1643 00", "street": "Herengracht 1", "postcode": "1015 BA",
                         "city": "Amsterdam", "kvk": "12345678"},
            "today": POSTED,
            "pay_by": pay_by if kind == "consumer" else POSTED + timedelta(days=14),
            "claim": state_claim(consumer=kind == "consumer", amount=amount, due_date=date(2026, 10, 1), payments=[],
                                 today=POSTED, default_notice_deadline=date(2026, 11, 1),
                                 term_deadline=pay_by if kind == "consumer" else None),
            "agreement": {"promised_on": POSTED + timedelta(days=7), "amount": amount, "spoke_with": "", "note": None},
            "plan": [{"due": POSTED + timedelta(days=30), "amount": amount}],
            "personal_note": "Zoals besproken aan de telefoon." if i % 3 == 0 else None,
        })
    return out


def timed(label: str, work: Callable[[dict], object], items: list[dict]) -> tuple[float, int]:
    work(items[0])  # compile the templates and load the font once, as a running engine has
    start = time.perf_counter()
    size = 0
    for item in items:
        result = work(item)
        size += len(result) if isinstance(result, (bytes, str)) else 0
    elapsed = time.perf_counter() - start
    print(f"{label:<34} {elapsed:8.2f} s  {elapsed / len(items) * 1000:8.2f} ms each  {size / len(items):10.0f} "
          "bytes each")
    return elapsed, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=1000)
    parser.add_argument("--step", default="ingebrekestelling")
    parser.add_argument("--lang", default="nl")
    parser.add_argument("--kind", default="consumer", choices=("consumer", "business"))
    args = parser.parse_args()
    items = contexts(args.letters, args.kind)
    print(f"{args.letters} letters: {args.step}, {args.lang}, {args.kind}")
    html, _ = timed("letter HTML (Jinja2 only)", lambda c: render_letter_markup(args.step, args.lang, c), items)
    timed("e-mail subject + text + HTML", lambda c: render_email(args.step, args.lang, c).html, items)
    pdf, _ = timed("letter PDF (Jinja2 + fpdf2)", lambda c: render_letter_pdf(args.step, args.lang, c), items)
    print(f"PDF / HTML: {pdf / html:.1f}x")
    one = render_letter_pdf(args.step, args.lang, items[0])
    again = render_letter_pdf(args.step, args.lang, items[0])
    print(f"deterministic: {one == again} (sha256 {hashlib.sha256(one).hexdigest()[:16]}...)")


if __name__ == "__main__":
    main()
