"""`dunning claim`, `dunning letter-term` and `dunning law confirm-rate`: the law module from the command line.
Fast paths: they import neither Prefect nor SQLAlchemy."""

from __future__ import annotations

import getpass
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from dunning.domain.errors import UserError
from dunning.domain.kinds import KIND_ALIASES, DebtorKind
from dunning.law import (
    CONFIRMATIONS_FILE,
    CONFIRMATIONS_HEADER,
    Claim,
    DataFileError,
    MissingRateError,
    Term,
    compute_claim,
    describe_row,
    fourteen_day_term,
    load_confirmations,
    load_rates,
    unconfirmed,
)
from dunning.law import missing_rate_warning as _missing_rate_warning
from dunning.law.rates import rate_kind

_KINDS = {**{k.value: k.value for k in DebtorKind}, **KIND_ALIASES}  # what --kind takes
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


def parse_date(text: str, what: str) -> date:
    """YYYY-MM-DD within the years the law's tables and a term's arithmetic can hold (`fields.parse_day`)."""
    from dunning.domain.fields import parse_day

    try:
        return parse_day(text)
    except ValueError as e:
        raise UserError(f"{what}: {e}") from None


def parse_amount(text: str, what: str) -> Decimal:
    if not _AMOUNT.fullmatch(text.strip()):
        if text.strip().startswith("-"):
            raise UserError(f"{what} must not be negative: {text!r}")
        raise UserError(f"{what}: not an amount like 1500.00: {text!r}")
    return Decimal(text.strip())


def parse_payment(text: str) -> tuple[date, Decimal]:
    on, sep, amount = text.partition("=")
    if not sep:
        raise UserError(f"--payment: expected DATE=AMOUNT, got {text!r}")
    value = parse_amount(amount, "--payment amount")
    if value == 0:
        raise UserError(f"--payment amount must be more than zero: {text!r}")
    return parse_date(on, "--payment date"), value


def missing_rate_warning(kind: str, today: date, law_dir: Path | None = None) -> str | None:
    """For the CLI and the flow log: a one-line warning when the rate table lacks the current half-year."""
    return _missing_rate_warning(kind, today, law_dir)


def _today() -> date:
    # The edge of the program: the only place that reads the clock (Dutch law, Dutch calendar day).
    return datetime.now(ZoneInfo("Europe/Amsterdam")).date()


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def claim_json(c: Claim) -> dict:
    return {
        "principal": _money(c.principal),
        "interest": _money(c.interest),
        "collection_costs": _money(c.collection_costs),
        "paid": _money(c.paid),
        "outstanding": _money(c.outstanding),
        "periods": [
            {
                "from": p.start.isoformat(),
                "to": p.end.isoformat(),
                "rate": f"{p.rate:.2f}",
                "base": _money(p.base),
                "interest": _money(p.interest),
            }
            for p in c.periods
        ],
    }


def claim_text(c: Claim) -> str:
    lines = [
        f"{'principal':<18}{_money(c.principal):>12}",
        f"{'interest':<18}{_money(c.interest):>12}",
        f"{'collection costs':<18}{_money(c.collection_costs):>12}",
        f"{'paid':<18}{_money(c.paid):>12}",
        f"{'outstanding':<18}{_money(c.outstanding):>12}",
    ]
    if c.periods:
        lines += ["", "interest periods (to = first day not counted)"]
        lines.append(f"{'from':<12}{'to':<12}{'days':>5}{'rate %':>8}{'base':>12}{'interest':>10}")
        for p in c.periods:
            mark = "  (rate unverified)" if p in c.unverified_periods else ""
            lines.append(
                f"{p.start.isoformat():<12}{p.end.isoformat():<12}{p.days:>5}{p.rate:>8.2f}"
                f"{_money(p.base):>12}{_money(p.interest):>10}{mark}"
            )
    if c.payments:
        lines += ["", "payments applied (BW 6:44: costs, interest, principal)"]
        for a in c.payments:
            extra = f"  unapplied {_money(a.unapplied)}" if a.unapplied else ""
            lines.append(
                f"{a.on.isoformat():<12}{_money(a.amount):>10}  costs {_money(a.to_costs)}  "
                f"interest {_money(a.to_interest)}  principal {_money(a.to_principal)}{extra}"
            )
    return "\n".join(lines)


def term_json(t: Term) -> dict:
    return {
        "posted": t.posted.isoformat(),
        "presumed_delivery": t.presumed_delivery.isoformat(),
        "deadline": t.deadline.isoformat(),
    }


def run_claim(
    principal: str,
    kind: str,
    interest_from: str,
    as_of: str,
    payments: list[str],
    *,
    vat: bool,
    as_json: bool,
    today: date,
    law_dir: Path | None = None,
) -> None:
    if kind not in _KINDS:
        raise UserError(f"--kind must be consumer or business, not {kind!r}")
    kind = _KINDS[kind]
    amount = parse_amount(principal, "--principal")
    start = parse_date(interest_from, "--interest-from")
    end = parse_date(as_of, "--as-of")
    if end < start:
        raise UserError(f"--as-of {end.isoformat()} is before --interest-from {start.isoformat()}")
    paid = [parse_payment(p) for p in payments]
    try:
        warning = _missing_rate_warning(kind, today, law_dir)
        if warning:
            typer.echo(warning, err=True)
        result = compute_claim(
            amount,
            consumer=kind == "consumer",
            interest_from=start,
            as_of=end,
            payments=paid,
            vat=vat,
            rates_dir=law_dir,
        )
    except (ValueError, MissingRateError) as e:  # DataFileError is a ValueError
        raise UserError(str(e)) from None
    typer.echo(json.dumps(claim_json(result), indent=2) if as_json else claim_text(result))


def run_letter_term(posted: str, *, email: bool, as_json: bool, law_dir: Path | None = None) -> None:
    try:
        term = fourteen_day_term(parse_date(posted, "--posted"), email=email, directory=law_dir)
    except DataFileError as e:
        raise UserError(str(e)) from None
    if as_json:
        typer.echo(json.dumps(term_json(term), indent=2))
    else:
        typer.echo(
            f"posted            {term.posted.isoformat()}\n"
            f"presumed delivery {term.presumed_delivery.isoformat()}\n"
            f"last day to pay   {term.deadline.isoformat()}"
        )


KIND_HELP = "consumer (BW 6:119) or business (BW 6:119a; 'commercial' works too)"


def register(
    app: typer.Typer,
    law_dir: Callable[[], Path | None] = lambda: None,
    after_confirming: Callable[[], str | None] = lambda: None,
) -> None:
    """Add `claim`, `letter-term` and `law confirm-rate` to the main app. `law_dir` gives the installation's
    override directory for the data files (e.g. DUNNING_HOME/law/), asked only when a command runs;
    `after_confirming` releases what waited for a confirmed rate (the held messages) and says what it did."""

    @app.command("claim")
    def claim(
        principal: Annotated[str, typer.Option("--principal", help="Principal, e.g. 1500.00")],
        kind: Annotated[str, typer.Option("--kind", help=KIND_HELP)],
        interest_from: Annotated[str, typer.Option("--interest-from", help="First day of interest (YYYY-MM-DD)")],
        as_of: Annotated[str, typer.Option("--as-of", help="Interest for each day before this date (YYYY-MM-DD)")],
        payment: Annotated[list[str] | None, typer.Option("--payment", help="DATE=AMOUNT, repeatable")] = None,
        vat: Annotated[bool, typer.Option("--vat", help="Add 21% VAT to the collection costs")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    ) -> None:
        """What may be claimed: principal, statutory interest, collection costs, payments, outstanding."""
        run_claim(
            principal,
            kind,
            interest_from,
            as_of,
            payment or [],
            vat=vat,
            as_json=as_json,
            today=_today(),
            law_dir=law_dir(),
        )

    @app.command("letter-term")
    def letter_term(
        posted: Annotated[str, typer.Option("--posted", help="Day the letter was posted or e-mailed")],
        email: Annotated[bool, typer.Option("--email", help="Sent by e-mail (delivered the same day)")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    ) -> None:
        """The 14-dagenbrief term: presumed delivery and the last day to pay (BW 6:96 lid 6)."""
        run_letter_term(posted, email=email, as_json=as_json, law_dir=law_dir())

    law_app = typer.Typer(no_args_is_help=True, help="The law's tables: a person's confirmation of a rate row.")
    app.add_typer(law_app, name="law")

    @law_app.command("confirm-rate")
    def confirm_rate(
        table: Annotated[str, typer.Argument(help="commercial (business) or non-commercial (consumer)")],
        effective_from: Annotated[str, typer.Argument(help="The row's date (YYYY-MM-DD)")],
        by: Annotated[str | None, typer.Option("--by", help="Who checked it (default: the login name)")] = None,
    ) -> None:
        """Confirm a statutory interest rate row marked unverified, after checking it against the official source
        (rijksoverheid.nl "Wettelijke rente"): messages stating interest at it no longer wait."""
        typer.echo(run_confirm_rate(table, effective_from, by=by, law_dir=law_dir(), now=_now()))
        released = after_confirming()
        if released:
            typer.echo(released)


def _now() -> datetime:
    # The edge: a person's confirmation is dated by the wall clock, in Amsterdam time.
    return datetime.now(ZoneInfo("Europe/Amsterdam")).replace(microsecond=0)


def run_confirm_rate(table: str, effective_from: str, *, by: str | None, law_dir: Path | None, now: datetime) -> str:
    """Record who confirmed which row at which percent, and when, in DUNNING_HOME/law/confirmed_rates.csv."""
    if law_dir is None:
        raise UserError("confirming a rate needs an installation (DUNNING_HOME)")
    start = parse_date(effective_from, "DATE")
    try:
        kind = rate_kind(table)
        row = next((r for r in load_rates(kind, law_dir) if r.effective_from == start), None)
        confirmed = load_confirmations(law_dir)
    except ValueError as e:  # DataFileError is a ValueError
        raise UserError(str(e)) from None
    if row is None:
        raise UserError(f"the {kind} rate table has no row from {start.isoformat()}")
    if row.verified:
        return f"{describe_row(kind, row)} is not marked unverified: nothing to confirm"
    if not unconfirmed(kind, (row,), confirmed):
        return f"{describe_row(kind, row)} was confirmed already"
    who = (by or getpass.getuser()).strip()
    if not who or any(c in who for c in ",\"\r\n"):
        raise UserError(f"--by: a name without commas, quotes or line breaks, not {who!r}")
    path = law_dir / CONFIRMATIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.is_file() or not path.read_text(encoding="utf-8").strip()
    with path.open("a", encoding="utf-8") as f:
        if new:
            f.write(f"# Rate rows marked unverified that a person checked (dunning law confirm-rate)\n"
                    f"{CONFIRMATIONS_HEADER}\n")
        f.write(f"{kind},{start.isoformat()},{row.percent},{who},{now.isoformat()}\n")
    return f"confirmed {describe_row(kind, row)} by {who}, {now.isoformat()}: recorded in {path}"
