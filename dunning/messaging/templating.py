"""Rendering the debtor's messages from Jinja2 templates in `templates/`, in the debtor's language.

Steps (the names the flow uses): ``herinnering``, ``aanmaning``, ``ingebrekestelling`` (one template per
language; it branches on ``claim.consumer``: a consumer gets the 14-dagenbrief of BW 6:96 lid 6, a business
the ingebrekestelling of BW 6:82), ``incasso-aankondiging`` (the debtor is told before the claim goes to a
collection agency), ``betaalafspraak`` (confirms what was agreed on the phone), ``betalingsregeling``
(confirms a payment plan and its instalments) and ``betwisting-afgewezen`` (a dispute was looked into and
rejected: why the invoice stands) and ``factuurkopie`` (a copy of the invoice, promised on the phone), and
``rekeningoverzicht`` (the statement of account a person sends on request, `statement_of_account`: an overview
of what is open, not a step of the ladder).

E-mail templates live in `templates/email/` as three files per step and language, so an operator can edit
one piece without touching the others::

    herinnering.nl.subject.txt   one line
    herinnering.nl.txt           plain text part
    herinnering.nl.html          HTML part (autoescaped)

Letter templates live in `templates/letter/` as one file per step and language (``herinnering.nl.html``),
extending ``letter/_layout.html``; they render to a small, well-formed XHTML vocabulary that
`dunning.messaging.letters` lays out on A4 (see the comment at the top of ``letter/_layout.html``). Labels of the frame
(date, reference, page numbers) are in ``letter/_words.{lang}.html``; the font in ``letter/fonts/``.

An installation may put files with the same names in its own folder (`override_dir`, DUNNING_HOME/templates,
e.g. ``DUNNING_HOME/templates/letter/herinnering.nl.html``); those are found first. All templates render in a
sandbox (operators edit them) with StrictUndefined: a misspelt variable fails loudly when rendering (so at
`dunning preview` time), never a blank in a letter.

Context contract (mappings, or objects with these attributes, as `config.Creditor` is):

- ``debtor``: ``name``, ``number``, ``kind`` (``'consumer'`` or ``'business'``); ``contact_name`` (optional: the
  person addressed, "t.a.v." on a letter and in the salutation), ``contact_salutation`` (optional: ``'heer'``,
  ``'mevrouw'``, ``'mr'`` or ``'ms'``, how to greet that person, or a consumer; `salutation`); address lines ``street``,
  ``postcode``, ``city``, ``country`` (ISO 3166 alpha-2; None or ``'NL'`` prints no country line). The
  address is optional for e-mail and required for a letter.
- ``invoice``: ``number``, ``issue_date`` (date), ``due_date`` (date), ``amount`` and ``open_amount``
  (Decimal), ``currency`` (ISO 4217, e.g. ``'EUR'``), ``payment_reference`` (the invoice's structured creditor
  reference, ISO 11649, printed in groups of four: ``'RF81 F202 6011 7'``; `dunning.bank.references`). Every
  message states it next to the IBAN and asks the debtor to quote it: a payment that carries it is matched to
  this invoice. Required, in every invoice mapping (``invoice``, ``open_invoices``, ``combined``): templates
  use it directly, and a reference that is not valid ISO 11649 is refused (`FieldError`).
- ``open_invoices``: list of invoice mappings like ``invoice``: every open invoice of this debtor (this one
  included); listed, each with its own payment reference, when there is more than one. Default: empty.
- ``creditor``: ``name``, ``email``, ``phone``, ``iban``; optional (default None): ``street``, ``postcode``,
  ``city``, ``country``, ``kvk`` (Chamber of Commerce number, Handelsregisterwet art. 20), ``vat_number``,
  ``website``, ``signatory`` (`config.Signatory`, or a mapping ``{"default": ..., "<step>": ...}``: who signs).
- ``salutation`` (str): the greeting line with its comma ("Geachte heer Jansen,", "Dear Sir or Madam,"). Default:
  made from the debtor by `dunning.messaging.salutation` in the message's language and ``tone``.
- ``tone``: ``'formal'`` (default) or ``'informal'`` (the debtor's policy): "Beste Jan," instead of "Geachte ...".
- ``signatory`` (str or None): who signs, printed under the closing above the company name. Default: the
  creditor's signatory for this step, else their default, else nobody (the company name alone).
- ``today`` (date): the date of the message
- ``pay_by`` (date or None): the date asked to pay by; required for the ingebrekestelling (for a letter to a
  consumer: ``dunning.law.fourteen_day_term(posted).deadline``) and for the incasso-aankondiging (the first
  day the claim may be handed over is the day after it)
- ``claim`` (`dunning.domain.statement.Statement` or None): principal, interest, costs as the law module states
  them; required for the ingebrekestelling, optional for the incasso-aankondiging
- ``interest_rates``: list of ``{from: date, percent: Decimal}``, the statutory rates the claim's interest runs at
  from ``claim.interest_from`` up to ``today`` (a new row where the rate changed, BW 6:120). Default: from the
  packaged rate tables (`compose` passes the installation's own)
- ``personal_note`` (str or None): the collector's free-text paragraph; line breaks are kept
- ``agreement`` (betaalafspraak only): ``promised_on`` (date), ``amount`` (Decimal), ``spoke_with`` (str, may
  be empty), ``note`` (str or None)
- ``plan`` (betalingsregeling only): list of ``{due: date, amount: Decimal}``, in order
- ``dispute`` (betwisting-afgewezen only): ``raised_on`` (date), ``answer`` (str: why the invoice stands,
  written for the debtor; line breaks are kept)
- ``combined`` (herinnering, aanmaning and betaalafspraak e-mails): list of invoice mappings like ``invoice``:
  the debtor's other invoices this one message is also about (messages to one debtor on one day are combined);
  each one's payment reference is stated in the list of open invoices. Default: empty.
- ``copy_attached`` (bool): the invoice's own PDF goes with the message (DUNNING_HOME/invoices/). Default
  False.
- ``agency`` (str or None): the collection agency's name, for the incasso-aankondiging
- ``reference`` (str): our reference, printed on letters; default the invoice number
- letters only: ``sent_on`` (date printed on the letter; default ``today``) and ``posted_on`` (date or None)
- ``amount_lines`` (list of ``(label, Decimal)``): kept for operator templates written against it
- ``statement_items`` (rekeningoverzicht only): list of invoice mappings like ``invoice`` (each with its own
  ``payment_reference``), one per open invoice of the debtor, oldest due date first, each also with ``paid``
  (Decimal: the payments that stand, and what the books settled), ``credited`` (Decimal: credit notes and
  write-offs), so ``amount - paid - credited == open_amount``, and ``entries``: list of ``{on: date, amount:
  Decimal, kind: 'payment' | 'credit_note' | 'write_off' | 'settled', reversed: bool}`` in date order; a payment
  the bank took back is listed with ``reversed`` True and counts in neither ``paid`` nor ``open_amount``.
  Default: empty; the rekeningoverzicht templates then list ``open_invoices`` (a message composed on the
  ladder's path, `dunning preview --step rekeningoverzicht`, has no payments to show).
- ``statement_credits`` (rekeningoverzicht only): list of ``{since: date, amount: Decimal, currency: str,
  reference: str or None}``: what the debtor paid beyond what was open, not yet applied to an invoice nor taken
  back. Default: empty.

Everything except ``debtor``, ``invoice``, ``creditor``, ``today`` and the step's own keys may be left out;
other keys (e.g. ``by_post``) are passed through for operators' templates.
``lang`` is added by the renderer. Filters: ``amount|money(currency)``, ``date|longdate``, ``code|country`` and
``rate|percent`` ("10,15%"), in the message's language; ``name|fullstop`` ends a sentence with a name that may end in
a full stop of its own ("Voorbeeld B.V." stays "Voorbeeld B.V.", never "B.V..").

Data is checked before anything renders, by the rule of `dunning.domain.fields` (the one the importer, the
CLI and the forms apply when data comes in): a tab, line break or other control character in a name, number
or address line, or a control character in free text, raises `FieldError` naming the field (it would split a
mail header or an address block); so does a payment reference that is not a valid ISO 11649 reference (the
debtor would quote what no bank line can be matched by). What composes a message from stored data
(`dunning.messaging.compose`) refuses such a message as a business refusal; here it is an assertion.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, get_currency_precision
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, pass_context, select_autoescape
from jinja2.loaders import split_template_path
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from stdnum import iso11649

from dunning.domain.errors import UserError
from dunning.domain.fields import line_problem, text_problem
from dunning.domain.steps import LADDER, Message
from dunning.law import load_rates
from dunning.messaging.salutation import TONES, addressee, closing, salutation

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
LOCALES = {"nl": "nl_NL", "en": "en_GB"}
LADDER_STEPS = tuple(m.value for m in LADDER)
STEPS = tuple(m.value for m in Message)  # one template per message and language
CHANNELS = ("email", "letter")

DEBTOR_OPTIONAL = {"street": None, "postcode": None, "city": None, "country": None, "contact_name": None,
                   "contact_salutation": None}
CREDITOR_OPTIONAL = {
    "street": None,
    "postcode": None,
    "city": None,
    "country": None,
    "kvk": None,
    "vat_number": None,
    "website": None,
    "signatory": None,
}
_SINGLE_LINE = {
    "debtor": ("name", "number", "street", "postcode", "city", "country", "contact_name"),
    "creditor": ("name", "email", "phone", "iban", *CREDITOR_OPTIONAL),
    "invoice": ("number", "currency", "payment_reference"),
    "agreement": ("spoke_with",),
}


class FieldError(UserError, ValueError):
    """Data unfit for a message: a line break in a name or address line, a missing address for a letter."""

    def __init__(self, field: str, problem: str, value: object = None, *, sep: str = " "):
        # sep ": " for a problem in `dunning.domain.fields`' words ("debtor.name: line breaks ... not allowed")
        super().__init__(f"{field}{sep}{problem}" + ("" if value is None else f": {value!r}"))
        self.field = field


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _locale(lang: str) -> str:
    try:
        return LOCALES[lang]
    except KeyError:
        raise ValueError(f"unsupported language {lang!r}; expected one of {sorted(LOCALES)}") from None


def check_step(step: str) -> str:
    if step not in STEPS:
        raise UserError(f"unknown step {step!r}; expected one of {', '.join(STEPS)}")
    return step


def money(amount: Decimal, currency: str, lang: str) -> str:
    """'EUR 1.234,56' (nl) / 'EUR 1,234.56' (en): the ISO code avoids any doubt about which currency."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money amounts must be Decimal, got {type(amount).__name__} {amount!r}")
    digits = get_currency_precision(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        # Rounding is a legal decision (interest, costs): make it where the figure is computed, not here.
        raise ValueError(f"{amount} has more decimals than {currency} allows; round it before formatting")
    return format_currency(amount, currency, format="¤¤ #,##0.00;¤¤ -#,##0.00", locale=_locale(lang))


def longdate(d: date, lang: str) -> str:
    """'22 november 2026' (nl) / '22 November 2026' (en)."""
    if not isinstance(d, date):
        raise TypeError(f"longdate needs a date, got {type(d).__name__} {d!r}")
    return format_date(d, format="long", locale=_locale(lang))


def percent(rate: Decimal, lang: str) -> str:
    """A rate per year as the official tables write it: '4%' for a whole number, else two decimals (or the
    table's own, if more): '10,40%' (nl) / '10.40%' (en)."""
    if not isinstance(rate, Decimal):
        raise TypeError(f"percent needs a Decimal, got {type(rate).__name__} {rate!r}")
    pattern = "#,##0" if rate == rate.to_integral_value() else "#,##0.00####"
    return format_decimal(rate, format=pattern, locale=_locale(lang)) + "%"


def fullstop(text: str) -> str:
    """`text` ending a sentence: a full stop added, unless it ends in one already ("Voorbeeld B.V.")."""
    return text if text.endswith(".") else f"{text}."


def country_name(code: str, lang: str) -> str:
    """'BE' -> 'België' (nl) / 'Belgium' (en); an unknown code is printed as given."""
    return Locale.parse(_locale(lang)).territories.get(code.upper(), code)


def _defined(*values: Any) -> None:
    # Filters receive an Undefined instead of raising; make it raise the usual "x is undefined" error.
    for value in values:
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()


@pass_context
def _money_filter(ctx: Context, amount: Decimal, currency: str, lang: str | None = None) -> str:
    _defined(amount, currency)
    return money(amount, currency, lang or ctx["lang"])


@pass_context
def _longdate_filter(ctx: Context, d: date, lang: str | None = None) -> str:
    _defined(d)
    return longdate(d, lang or ctx["lang"])


@pass_context
def _percent_filter(ctx: Context, rate: Decimal, lang: str | None = None) -> str:
    _defined(rate)
    return percent(rate, lang or ctx["lang"])


@pass_context
def _and_list_filter(ctx: Context, items: Any) -> str:
    """"F-1, F-2 en F-3" / "F-1, F-2 and F-3": the invoices one message names, in a sentence."""
    names = [str(i) for i in items]
    word = {"nl": "en"}.get(ctx["lang"], "and")
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"


def _fullstop_filter(text: str) -> str:
    _defined(text)
    return fullstop(str(text))


@pass_context
def _country_filter(ctx: Context, code: str, lang: str | None = None) -> str:
    _defined(code)
    return country_name(code, lang or ctx["lang"])


class _OverridableLoader(FileSystemLoader):
    """A FileSystemLoader whose compiled templates also go stale when an operator adds an override for them:
    a running engine then sends what `dunning preview` shows, without a restart."""

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        pieces = split_template_path(template)

        def current() -> bool:
            candidates = (os.path.normpath(posixpath.join(d, *pieces)) for d in self.searchpath)
            return next((c for c in candidates if os.path.isfile(c)), None) == filename and uptodate()

        return source, filename, current


def make_environment(override_dir: Path | None = None) -> SandboxedEnvironment:
    search = [override_dir, TEMPLATES_DIR] if override_dir else [TEMPLATES_DIR]
    env = SandboxedEnvironment(
        loader=_OverridableLoader(search),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # what an operator sees in the file is what the debtor gets
    )
    env.filters["money"] = _money_filter
    env.filters["longdate"] = _longdate_filter
    env.filters["country"] = _country_filter
    env.filters["percent"] = _percent_filter
    env.filters["fullstop"] = _fullstop_filter
    env.filters["and_list"] = _and_list_filter
    return env


@lru_cache(maxsize=16)
def _environment(override_dir: Path | None) -> SandboxedEnvironment:
    # One environment per folder keeps compiled templates; the loader still notices edited files (mtime).
    return make_environment(override_dir)


def environment(override_dir: Path | None = None) -> SandboxedEnvironment:
    return _environment(Path(override_dir).resolve() if override_dir else None)


# -- the context -------------------------------------------------------------------------------------------


def as_dict(value: Any) -> dict[str, Any]:
    """A context value (a mapping, a dataclass or an object with attributes) as a dict."""
    if isinstance(value, Mapping):
        return dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return dict(vars(value))


def _check_line(field: str, value: Any) -> None:
    problem = line_problem(value) if isinstance(value, str) else None
    if problem:
        raise FieldError(field, problem, value, sep=": ")


def _check_payment_reference(field: str, value: Any) -> None:
    # A missing one fails when a template uses it (StrictUndefined); one given must be what a bank line can carry.
    if value is not None and not (isinstance(value, str) and iso11649.is_valid(value)):
        raise FieldError(field, "is not a valid ISO 11649 creditor reference (RF..)", value)


def check_context(context: Mapping[str, Any]) -> None:
    """Refuse data that would break out of its line (a mail header, an address block): names the field."""
    for key, fields in _SINGLE_LINE.items():
        value = context.get(key)
        if value is None:
            continue
        record = as_dict(value)
        for name in fields:
            _check_line(f"{key}.{name}", record.get(name))
    _check_line("reference", context.get("reference"))
    for key in ("open_invoices", "combined", "statement_items"):
        for i, other in enumerate(context.get(key) or ()):
            record = as_dict(other)
            for name in ("number", "payment_reference"):
                _check_line(f"{key}[{i}].{name}", record.get(name))
            _check_payment_reference(f"{key}[{i}].payment_reference", record.get("payment_reference"))
    for i, credit in enumerate(context.get("statement_credits") or ()):
        _check_line(f"statement_credits[{i}].reference", as_dict(credit).get("reference"))
    if context.get("invoice") is not None:
        _check_payment_reference("invoice.payment_reference", as_dict(context["invoice"]).get("payment_reference"))
    free_text = (
        ("personal_note", context.get("personal_note")),
        ("agreement.note", as_dict(context["agreement"]).get("note") if context.get("agreement") else None),
        ("dispute.answer", as_dict(context["dispute"]).get("answer") if context.get("dispute") else None),
    )
    for field, text in free_text:
        if text is not None and not isinstance(text, str):
            raise FieldError(field, f"must be text, not {type(text).__name__}")
        problem = text_problem(text) if text else None
        if problem:
            raise FieldError(field, problem, text, sep=": ")


def prepare_context(context: Mapping[str, Any], lang: str, step: str | None = None) -> dict[str, Any]:
    """The values a template sees: checked, with defaults for the optional keys, and ``lang``; `step` (the
    message) chooses who signs."""
    _locale(lang)
    check_context(context)
    values: dict[str, Any] = {
        "tone": "formal",
        "pay_by": None,
        "personal_note": None,
        "amount_lines": [],
        "open_invoices": [],
        "combined": [],
        "claims": [],
        "copy_attached": False,
        "claim": None,
        "agency": None,
        "posted_on": None,
        "statement_items": [],
        "statement_credits": [],
        **context,
        "lang": lang,
    }
    if "debtor" in values:
        values["debtor"] = {**DEBTOR_OPTIONAL, **as_dict(values["debtor"])}
    if "creditor" in values:
        values["creditor"] = {**CREDITOR_OPTIONAL, **as_dict(values["creditor"])}
    if "reference" not in values and "invoice" in values:
        values["reference"] = as_dict(values["invoice"]).get("number")
    if "sent_on" not in values and "today" in values:
        values["sent_on"] = values["today"]
    if isinstance(values["personal_note"], str):
        values["personal_note"] = values["personal_note"].replace("\r\n", "\n").replace("\r", "\n").strip() or None
    if "salutation" not in values and "debtor" in values:
        values["salutation"] = _salutation(values["debtor"], lang, values["tone"])
    if "closing" not in values:
        values["closing"] = closing(lang, values.get("salutation") or "", tone=values["tone"])
    if "signatory" not in values:
        values["signatory"] = _signatory(values["creditor"]["signatory"], step) if "creditor" in values else None
    _check_line("creditor.signatory", values["signatory"])
    if "interest_rates" not in values:
        values["interest_rates"] = interest_rates(values["claim"], values["today"]) if "today" in values else []
    return values


def _salutation(debtor: Mapping[str, Any], lang: str, tone: str) -> str:
    """The greeting of `salutation`; a title it does not know is the debtor's data, refused naming the field."""
    if tone not in TONES:
        raise ValueError(f"unknown tone {tone!r}; expected one of {', '.join(TONES)}")
    person = addressee(kind=debtor.get("kind") or "", name=debtor.get("name"), contact_name=debtor.get("contact_name"))
    try:
        return salutation(lang, person, title=debtor.get("contact_salutation"), tone=tone)
    except ValueError as e:
        raise FieldError("debtor.contact_salutation", str(e), sep=": ") from None


def _signatory(signatory: Any, step: str | None) -> str | None:
    """Who signs `step`'s message: the creditor's `config.Signatory`, or a mapping {"default": ..., step: ...}."""
    if signatory is None:
        return None
    if hasattr(signatory, "for_message"):
        return signatory.for_message(step) if step else signatory.default
    found = dict(signatory)
    return (found.get(step) if step else None) or found.get("default")


def interest_rates(claim: Any, today: date, law_dir: Path | None = None) -> list[dict[str, Any]]:
    """The statutory rates a claim's interest runs at, from its first day up to `today`, as the letter states
    them: ``[{from, percent}]``, the first from the interest's first day, then one per change of rate (BW 6:120:
    a new rate applies to running interest from its effective date). Empty while no interest runs."""
    start = as_dict(claim).get("interest_from") if claim is not None else None
    if start is None:
        return []
    table = load_rates("non-commercial" if as_dict(claim)["consumer"] else "commercial", law_dir)
    stated: list[dict[str, Any]] = []
    for rate in table:
        if rate.effective_from > today:
            break
        if rate.effective_from <= start:
            stated = [{"from": start, "percent": rate.percent}]
        elif not stated or stated[-1]["percent"] != rate.percent:
            stated.append({"from": rate.effective_from, "percent": rate.percent})
    return stated


# -- rendering ---------------------------------------------------------------------------------------------


def render_email(
    step: str, language: str, context: Mapping[str, Any], override_dir: Path | None = None
) -> RenderedEmail:
    values = prepare_context(context, language, step)
    env = environment(override_dir)

    def render(suffix: str) -> str:
        return env.get_template(f"email/{step}.{language}.{suffix}").render(values)

    return RenderedEmail(subject=render("subject.txt").strip(), text=render("txt"), html=render("html"))


def render_letter_markup(
    step: str, language: str, context: Mapping[str, Any], override_dir: Path | None = None
) -> str:
    """The letter as the XHTML markup `dunning.messaging.letters` lays out (also what the letter benchmark compares)."""
    values = prepare_context(context, language, step)
    return environment(override_dir).get_template(f"letter/{step}.{language}.html").render(values)
