"""The excuses collectors hear most, each with a suggested answer, shown on every call sheet. The team edits
the list in DUNNING_HOME/excuses.toml (validated on load); without that file the built-in list below applies:

    [[excuse]]
    heard = "Invoice not received / Factuur niet ontvangen"
    answer = "Check the address, send a copy at once, agree a payment date."
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dunning.domain import markdown as md
from dunning.domain.errors import UserError
from dunning.storage.config import read_toml

FILENAME = "excuses.toml"


@dataclass(frozen=True)
class Excuse:
    heard: str
    answer: str


BUILT_IN = (
    Excuse(
        "Invoice not received / Factuur niet ontvangen",
        "Check the e-mail and postal address, send a copy now while on the phone, agree a payment date. / "
        "Controleer het adres, stuur direct een kopie en spreek een betaaldatum af.",
    ),
    Excuse(
        "Already paid / Al betaald",
        "Ask for the date, amount and account it was paid from; check the bank statement; if not found, agree "
        "a date. / Vraag datum, bedrag en rekening; controleer het afschrift; niet gevonden: spreek een datum af.",
    ),
    Excuse(
        "Invoice is with the approver / Factuur ligt ter goedkeuring",
        "Ask who approves and by when; ask to be put through or agree to call back on that day. / Vraag wie "
        "goedkeurt en wanneer; vraag door te verbinden of bel op die dag terug.",
    ),
    Excuse(
        "Payment run is next week / Betaalrun is volgende week",
        "Ask for the exact date of the run and confirm the invoice is in it; note it as the promised date. / "
        "Vraag de precieze datum en of de factuur erin zit; noteer die als toegezegde datum.",
    ),
    Excuse(
        "Cannot pay now / Kan nu niet betalen",
        "Listen; ask what can be paid now and when the rest; offer a payment plan. A consumer: point to "
        "geldfit.nl. / Luister; vraag wat nu kan en wanneer de rest; bied een betalingsregeling aan.",
    ),
    Excuse(
        "Something is wrong with the delivery / Er klopt iets niet aan de levering",
        "Ask exactly what and for which lines; register it as a dispute so only that invoice waits; ask to pay "
        "what is not contested. / Vraag wat precies; registreer een betwisting; vraag het onbetwiste deel te betalen.",
    ),
)


def load(home: Path) -> tuple[Excuse, ...]:
    path = home / FILENAME
    if not path.exists():
        return BUILT_IN
    raw = read_toml(path)
    items = raw.get("excuse")
    if set(raw) - {"excuse"} or not isinstance(items, list):
        raise UserError(f"{path}: expected a list of [[excuse]] tables with `heard` and `answer`")
    found = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or set(item) != {"heard", "answer"}:
            extra = sorted(set(item) - {"heard", "answer"}) if isinstance(item, dict) else []
            raise UserError(f"{path}: excuse {n}: give exactly `heard` and `answer`"
                            + (f" (unknown: {', '.join(extra)})" if extra else ""))
        heard, answer = item["heard"], item["answer"]
        if not (isinstance(heard, str) and heard.strip() and isinstance(answer, str) and answer.strip()):
            raise UserError(f"{path}: excuse {n}: `heard` and `answer` must be non-empty text")
        found.append(Excuse(heard.strip(), answer.strip()))
    return tuple(found)


_HEADER = {"en": "| Heard | Suggested answer |", "nl": "| Gehoord | Voorgesteld antwoord |"}


def as_markdown(excuses: tuple[Excuse, ...], language: str = "en") -> list[str]:
    rows = [f"| {md.text(e.heard)} | {md.text(e.answer)} |" for e in excuses]
    return [_HEADER.get(language, _HEADER["en"]), "|---|---|", *rows]
