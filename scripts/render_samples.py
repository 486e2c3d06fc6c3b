"""Sample renders of every message: each step x channel x language, for a consumer and a business debtor, so a
reader can judge the wording and the layout without running anything. No database: the messages are rendered
from fixed demo facts with the project's templates and the law module, on a fixed calendar.

    .venv/bin/python scripts/render_samples.py [--out docs/samples]

Writes <out>/<consumer|business>/<step>.<lang>.pdf (the letter) and <step>.<lang>.email.txt (the e-mail's
subject and text), the business ingebrekestelling once more as the policy business_costs = "announce" has it, and
the consumer's 14-dagenbrief about three invoices at once (one letter, the costs over their total).
The same templates and dates give the same files (the PDFs are deterministic)."""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dunning.bank.references import payment_reference, printed  # noqa: E402
from dunning.domain.statement import state_claim, together  # noqa: E402
from dunning.law import CostShare, combined_collection_costs, fourteen_day_term  # noqa: E402
from dunning.messaging.letters import render_letter_pdf  # noqa: E402
from dunning.messaging.templating import STEPS, render_email  # noqa: E402
from dunning.storage.config import Creditor, Signatory  # noqa: E402

LANGUAGES = ("nl", "en")
ISSUED, DUE = date(2026, 9, 1), date(2026, 10, 1)
# The day each step goes out, along the default policy's ladder (a Monday for the formal letter: BW 6:96 lid 6)
DAYS = {"herinnering": date(2026, 10, 8), "aanmaning": date(2026, 10, 15), "ingebrekestelling": date(2026, 11, 23),
        "incasso-aankondiging": date(2026, 12, 21)}
OTHER_DAY = date(2026, 11, 23)
AANMANING_TERM = DAYS["aanmaning"] + timedelta(days=14)  # the notice of default (BW 6:82) a consumer's interest follows

CREDITOR = Creditor(
    name="Bakkerij Jansen B.V.", email="debiteuren@bakkerij-jansen.example", phone="+31 20 555 0101",
    street="Herengracht 1", postcode="1015 BA", city="Amsterdam", iban="NL91 ABNA 0417 1643 00", kvk="12345678",
    signatory=Signatory(default="Anna Smit, debiteurenbeheer",
                        steps=(("ingebrekestelling", "Piet de Boer, directeur"),)),
)
DEBTORS = {
    "consumer": {"name": "Jan de Vries", "number": "D-0042", "kind": "consumer", "street": "Keizersgracht 123",
                 "postcode": "1015 CJ", "city": "Amsterdam", "country": "NL", "contact_name": None},
    "business": {"name": "Grand Café De Markt B.V.", "number": "D-0117", "kind": "business", "street": "Markt 12a",
                 "postcode": "3511 AB", "city": "Utrecht", "country": "NL", "contact_name": "Marie de Vries"},
}
AMOUNT = Decimal("1234.56")


def invoice(number: str, amount: Decimal = AMOUNT) -> dict[str, Any]:
    return {"number": number, "issue_date": ISSUED, "due_date": DUE, "amount": amount, "open_amount": amount,
            "currency": "EUR", "payment_reference": printed(payment_reference(number))}


def pay_by(step: str, kind: str) -> date | None:
    today = DAYS.get(step, OTHER_DAY)
    if step == "aanmaning":
        return AANMANING_TERM
    if step == "ingebrekestelling":
        return fourteen_day_term(today).deadline if kind == "consumer" else today + timedelta(days=14)
    if step == "incasso-aankondiging":
        return today + timedelta(days=7)
    return None


def claim(step: str, kind: str, business_costs: str) -> Any:
    """What the formal letters state (compose.py: only the ingebrekestelling and the incasso-aankondiging)."""
    if step not in ("ingebrekestelling", "incasso-aankondiging"):
        return None
    term = pay_by("ingebrekestelling", kind)
    return state_claim(consumer=kind == "consumer", amount=AMOUNT, due_date=DUE, payments=[],
                       today=DAYS[step], default_notice_deadline=AANMANING_TERM, term_deadline=term,
                       business_costs=business_costs)


ANSWERS = {"nl": "De bestelling is op 1 september compleet geleverd; de afleverbon is voor ontvangst getekend.",
           "en": "The order was delivered complete on 1 September; the delivery note was signed for receipt."}


def context(step: str, kind: str, language: str, business_costs: str = "charge") -> dict[str, Any]:
    today = DAYS.get(step, OTHER_DAY)
    first = invoice("F-2026-0117")
    return {
        "debtor": DEBTORS[kind],
        "invoice": first,
        "open_invoices": [first, invoice("F-2026-0121")] if step == "rekeningoverzicht" else [first],
        "creditor": CREDITOR,
        "today": today,
        "sent_on": today,
        "reference": first["number"],
        "pay_by": pay_by(step, kind),
        "claim": claim(step, kind, business_costs),
        "by_post": step == "ingebrekestelling",
        "personal_note": None,
        "copy_attached": False,
        "agency": "Incasso Noord B.V.",
        "agreement": {"promised_on": today + timedelta(days=7), "amount": Decimal("500.00"), "spoke_with": "",
                      "note": None},
        "plan": [{"due": date(2026, 12, 1), "amount": Decimal("617.28")},
                 {"due": date(2027, 1, 1), "amount": Decimal("617.28")}],
        "dispute": {"raised_on": date(2026, 11, 2), "answer": ANSWERS[language]},
    }


THREE = (("F-2026-0117", Decimal("1234.56")), ("F-2026-0121", Decimal("310.00")), ("F-2026-0125", Decimal("95.00")))


def combined_context(language: str) -> dict[str, Any]:
    """The consumer's ingebrekestelling about three invoices due together (compose.py `_combine`): each claim with
    its share of the costs over the three principal sums added together."""
    values = context("ingebrekestelling", "consumer", language)
    term = pay_by("ingebrekestelling", "consumer")
    shares = combined_collection_costs([a for _, a in THREE], consumer=True)
    claims = [state_claim(consumer=True, amount=a, due_date=DUE, payments=[], today=DAYS["ingebrekestelling"],
                          default_notice_deadline=AANMANING_TERM, term_deadline=term, cost_share=CostShare(s, a))
              for (_, a), s in zip(THREE, shares, strict=True)]
    named = [invoice(n, a) for n, a in THREE]
    return {**values, "invoice": named[0], "combined": named[1:], "claim": together(claims),
            "claims": [{"invoice": i, "claim": c} for i, c in zip(named, claims, strict=True)]}


def write(folder: Path, name: str, step: str, language: str, values: dict[str, Any]) -> list[Path]:
    email = render_email(step, language, values)
    text = folder / f"{name}.{language}.email.txt"
    text.write_text(f"Subject: {email.subject}\n\n{email.text}", encoding="utf-8")
    pdf = folder / f"{name}.{language}.pdf"
    pdf.write_bytes(render_letter_pdf(step, language, values))
    return [text, pdf]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "samples")
    out = parser.parse_args().out
    written: list[Path] = []
    for kind in DEBTORS:
        folder = out / kind
        folder.mkdir(parents=True, exist_ok=True)
        for step in STEPS:
            for language in LANGUAGES:
                written += write(folder, step, step, language, context(step, kind, language))
    for language in LANGUAGES:
        written += write(out / "business", "ingebrekestelling.costs-announced", "ingebrekestelling", language,
                         context("ingebrekestelling", "business", language, "announce"))
        written += write(out / "consumer", "ingebrekestelling.three-invoices", "ingebrekestelling", language,
                         combined_context(language))
    size = sum(p.stat().st_size for p in written)
    print(f"{len(written)} files, {size / 1024:.0f} KiB, in {out}")


if __name__ == "__main__":
    main()
