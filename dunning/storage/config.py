"""Where an installation lives and how it is reached: every CLI verb acts on the one in DUNNING_HOME."""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from dunning.domain.errors import UserError
from dunning.domain.fields import closest, email_address_problem, line_problem
from dunning.domain.kinds import KIND_ALIASES, DebtorKind
from dunning.domain.steps import Message
from dunning.storage import files


@dataclass(frozen=True)
class Signatory:
    """Who signs the messages to debtors (settings.toml [signatory]): `default` for every message, and per message
    where another person signs (``ingebrekestelling = "..."``). Without any: the company name alone."""

    default: str | None = None
    steps: tuple[tuple[str, str], ...] = ()  # (message, who signs it)

    def for_message(self, message: str) -> str | None:
        return dict(self.steps).get(message, self.default)


@dataclass(frozen=True)
class Creditor:
    """Who is collecting: shown in every message."""

    name: str = "Voorbeeld B.V."
    email: str = "debiteuren@example.invalid"
    phone: str = "+31 20 123 4567"
    iban: str = "NL91ABNA0417164300"
    # On letters: the return address, the sender block and the footer.
    street: str | None = "Voorbeeldstraat 1"
    postcode: str | None = "1011 AB"
    city: str | None = "Amsterdam"
    country: str | None = "NL"
    kvk: str | None = None
    vat_number: str | None = None
    website: str | None = None
    # Besluit BIK art. 2 lid 3: VAT on collection costs only for a creditor who cannot deduct it and says so.
    vat_on_collection_costs: bool = False
    # Further accounts debtors pay into (an IBAN, or the account number an older MT940 export names): only
    # incoming money on `iban` and these counts as a payment.
    accounts: tuple[str, ...] = ()
    # Who signs, under the closing of every message (settings.toml [signatory], not a key of [creditor]).
    signatory: Signatory = field(default_factory=Signatory)

    @property
    def own_accounts(self) -> frozenset[str]:
        return frozenset(compact_account(a) for a in (self.iban, *self.accounts))


def compact_account(account: str) -> str:
    """An account as statements name it: no spaces, upper case ("NL91 abna ..." -> "NL91ABNA...")."""
    return "".join(account.split()).upper()


# The languages an installation's own people may read the desk in (settings.toml `language`).
LANGUAGES = ("nl", "en")


@dataclass(frozen=True)
class Installation:
    home: Path
    database_url: str
    prefect_port: int = 4200
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_security: str = "none"
    smtp_username: str | None = None
    smtp_password: str | None = None
    sender: str = "Debiteurenbeheer Voorbeeld B.V. <debiteuren@example.invalid>"
    instance: str = "default"  # names the deployments, so two installations may share one Prefect server
    # Imports: the kind of a debtor the file does not name (an e-invoice buyer without a company or VAT id),
    # and the term of an invoice without a due date (some e-invoices state only free-text payment terms).
    default_debtor_kind: str = "business"
    default_payment_term_days: int = 30
    # The open-items sync refuses a list that would settle more than this share of the open invoices (--force).
    open_items_max_settle_share: Decimal = Decimal("0.5")
    # What the people of this installation read: the resume forms, the sheets, the daily overview, the reports.
    # Messages to a debtor are in the debtor's own language.
    language: str = "nl"
    # Runs one sweep may start or wake (the scheduled sweep runs every minute): a morning's 5,000 wake-ups reach
    # the workers and the mail server at this pace instead of all at 09:00. None: all that are due.
    wakeups_per_minute: int | None = None
    # Invoice runs (and other served runs) `dunning run` runs at once; the rest wait their turn, Scheduled. Each is
    # a Python process (about 130 MB, a second or two of CPU to start): unbounded, a morning of 100 due runs started
    # 100 processes at once, and the Prefect server on SQLite answered many of them "database is locked" (crashed
    # runs, restarted by the sweep; benchmarks/chaos.py). A worker has its own `dunning worker --limit`.
    runs_at_once: int = 4
    creditor: Creditor = field(default_factory=Creditor)

    @property
    def prefect_api_url(self) -> str:
        return os.environ.get("PREFECT_API_URL") or f"http://127.0.0.1:{self.prefect_port}/api"

    @property
    def mail_dir(self) -> Path:
        return self.home / "mail"

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    @property
    def incasso_dir(self) -> Path:
        return self.home / "incasso"

    def invoice_copy(self, number: str) -> Path:
        """The invoice as the debtor received it: DUNNING_HOME/invoices/<number>.pdf, the number as a safe file name
        (`files.slug`). A UBL import puts its embedded PDF there; "send a copy" attaches it."""
        folder = self.home / "invoices"
        return files.inside(folder, f"{files.slug(number)}.pdf")

    @property
    def law_dir(self) -> Path:
        """Rate rows and Atw days of this installation, beside the packaged ones (dunning/law/data/README.md)."""
        return self.home / "law"

    @property
    def settings_file(self) -> Path:
        return self.home / "settings.toml"

    @property
    def runtime_file(self) -> Path:
        return self.home / "run.json"


def home() -> Path:
    return Path(os.environ.get("DUNNING_HOME", "var")).resolve()


def read_toml(path: Path) -> dict:
    """An operator's TOML file (settings, policies, excuses), every way it can be unreadable said in one line."""
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not a file") from None
    except OSError as e:
        raise UserError(f"{path}: cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at {e.start}); save it as UTF-8"
                        ) from None
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{path}: not valid TOML ({e})") from None


def _settings(h: Path) -> dict:
    settings = h / "settings.toml"
    if not settings.exists():
        return {}
    return read_toml(settings)


def _runtime(h: Path) -> dict:
    """What `dunning run` wrote (run.json): ports only, as whole numbers."""
    runtime = h / "run.json"
    if not runtime.exists():
        return {}
    try:
        values = json.loads(runtime.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UserError(f"{runtime}: unreadable ({e}); `dunning run` writes it: delete it and start again") from None
    if not isinstance(values, dict) or set(values) - {"prefect_port", "smtp_port"}:
        raise UserError(f"{runtime}: not what `dunning run` writes (prefect_port, smtp_port); delete it and start "
                        "again")
    return values


# settings.toml's keys that are text, and the words for what they hold.
_TEXT = ("database_url", "smtp_host", "smtp_username", "smtp_password", "sender", "instance", "language",
         "default_debtor_kind")
_PORTS = ("smtp_port", "prefect_port")
SMTP_SECURITY = ("none", "starttls", "tls")
# An instance names the deployments (collect-invoice/<instance>) and goes into URLs: a slug.
_INSTANCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,49}", re.ASCII)
_ENVIRONMENT = {"database_url": "DUNNING_DATABASE_URL", "instance": "DUNNING_INSTANCE",
                "smtp_port": "DUNNING_SMTP_PORT", "prefect_port": "DUNNING_PREFECT_PORT"}


def _check_values(settings: Path, runtime: Path, values: dict, from_env: set[str], from_runtime: set[str]) -> None:
    """Every value of the right type and range, named where it came from (the file, run.json or the variable)."""

    def where(key: str) -> str:
        if key in from_env:
            return _ENVIRONMENT[key]
        return f"{runtime}: {key}" if key in from_runtime else f"{settings}: {key}"

    for key in _TEXT:
        if key in values and not isinstance(values[key], str):
            raise UserError(f"{where(key)}: text in quotes, got {values[key]!r}")
    for key in _PORTS:
        if key in values:
            value = values[key]
            if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
                raise UserError(f"{where(key)}: a port number from 1 to 65535, got {values[key]!r}")
            values[key] = value
    security = values.get("smtp_security", "none")
    if security not in SMTP_SECURITY:
        raise UserError(f"{where('smtp_security')}: one of {', '.join(SMTP_SECURITY)}, got {security!r}")
    if "instance" in values and not _INSTANCE.fullmatch(values["instance"]):
        raise UserError(f"{where('instance')}: letters, digits, - and _ (it names the deployments), got "
                        f"{values['instance']!r}")
    if "sender" in values:
        from email.utils import parseaddr

        _, address = parseaddr(values["sender"])
        if problem := email_address_problem(address) if address else "has no address":
            raise UserError(f"{where('sender')}: like \"Debiteuren <debiteuren@example.com>\": the address {problem}"
                            f", got {values['sender']!r}")
    if "database_url" in values:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(values["database_url"])
        except (ArgumentError, ValueError):
            url = None
        if url is None or url.get_backend_name() not in ("sqlite", "postgresql"):
            # The URL may hold a password: never shown.
            raise UserError(f"{where('database_url')}: not a database URL (sqlite:///PATH or "
                            "postgresql+psycopg://USER@HOST/NAME)")


def _check_creditor(settings: Path, values: object) -> dict:
    if not isinstance(values, dict):
        raise UserError(f"{settings}: creditor: a table ([creditor]) of name, email, iban ..., got {values!r}")
    known = set(Creditor.__dataclass_fields__) - {"signatory"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"{settings}: unknown setting(s) in [creditor]: {', '.join(unknown)}"
                        f"{closest(unknown[0], sorted(known))}")
    for key, value in values.items():
        if key == "vat_on_collection_costs":
            if not isinstance(value, bool):
                raise UserError(f"{settings}: creditor.{key}: true or false, got {value!r}")
        elif key != "accounts" and not isinstance(value, str):
            raise UserError(f"{settings}: creditor.{key}: text in quotes, got {value!r}")
    return values


def uses_own_smtp_server(home_dir: Path | None = None) -> bool:
    """settings.toml names a real SMTP server: `dunning run` then sends there instead of its local mail sink."""
    return "smtp_host" in _settings((home_dir or home()).resolve())


def load(home_dir: Path | None = None) -> Installation:
    """Settings: built-in defaults < settings.toml < what `dunning run` wrote to run.json < environment."""
    h = (home_dir or home()).resolve()
    if h.exists() and not h.is_dir():
        raise UserError(f"DUNNING_HOME: {h} is a file, not a folder")
    settings = h / "settings.toml"
    values = _settings(h)
    runtime = h / "run.json"
    given = _runtime(h)
    values.update(given)
    creditor_values = _check_creditor(settings, values.pop("creditor", {}))
    _check_lines(settings, "creditor.", creditor_values)
    _check_lines(settings, "", {k: values[k] for k in ("sender", "smtp_host", "smtp_username") if k in values})
    signatory = _signatory(settings, values.pop("signatory", {}))
    creditor = Creditor(**_creditor_accounts(settings, creditor_values), signatory=signatory)
    env = {
        "database_url": os.environ.get("DUNNING_DATABASE_URL"),
        "instance": os.environ.get("DUNNING_INSTANCE"),
        "smtp_port": os.environ.get("DUNNING_SMTP_PORT"),
        "prefect_port": os.environ.get("DUNNING_PREFECT_PORT"),
    }
    env_given = {k: v for k, v in env.items() if v}
    values.update(env_given)
    known = set(Installation.__dataclass_fields__) - {"home", "creditor"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"{settings}: unknown setting(s): {', '.join(unknown)}{closest(unknown[0], sorted(known))}")
    _check_values(settings, runtime, values, set(env_given), set(given) - set(env_given))
    values.setdefault("database_url", f"sqlite:///{h / 'dunning.sqlite'}")
    kind = values.get("default_debtor_kind", "business")
    if KIND_ALIASES.get(kind, kind) not in {k.value for k in DebtorKind}:
        raise UserError(f"{settings}: default_debtor_kind: consumer or business, got {kind!r}")
    if "default_debtor_kind" in values:
        values["default_debtor_kind"] = KIND_ALIASES.get(kind, kind)
    share = values.get("open_items_max_settle_share", 0.5)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise UserError(f"{settings}: open_items_max_settle_share: a share above 0 and at most 1, got {share!r}")
    values["open_items_max_settle_share"] = Decimal(str(share))  # TOML gives a float; the sync compares money
    language = values.get("language", "nl")
    if language not in LANGUAGES:
        raise UserError(f"{settings}: language: {' or '.join(LANGUAGES)}, got {language!r}")
    term = values.get("default_payment_term_days", 30)
    if not isinstance(term, int) or not 0 <= term <= 365:
        raise UserError(f"{settings}: default_payment_term_days: a number of days from 0 to 365, got {term!r}")
    pace = values.get("wakeups_per_minute")
    if pace is not None and (isinstance(pace, bool) or not isinstance(pace, int) or pace < 1):
        raise UserError(f"{settings}: wakeups_per_minute: a whole number of runs a minute from 1, got {pace!r}")
    at_once = values.get("runs_at_once", Installation.runs_at_once)
    if isinstance(at_once, bool) or not isinstance(at_once, int) or not 1 <= at_once <= 1000:
        raise UserError(f"{settings}: runs_at_once: a whole number of runs from 1 to 1000, got {at_once!r}")
    return Installation(home=h, creditor=creditor, **values)


def _creditor_accounts(settings: Path, values: dict) -> dict:
    """The creditor's IBAN must be one (it goes on every message); further accounts a list of account numbers."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    values = dict(values)
    try:
        if "iban" in values:
            IBAN(str(values["iban"]))
    except SchwiftyException as e:
        raise UserError(f"{settings}: creditor.iban: not a valid IBAN ({e})") from None
    accounts = values.get("accounts", ())
    if not isinstance(accounts, list | tuple) or not all(isinstance(a, str) and a.strip() for a in accounts):
        raise UserError(f'{settings}: creditor.accounts: a list of account numbers, e.g. ["NL02ABNA0123456789"]')
    values["accounts"] = tuple(accounts)
    return values


def _signatory(settings: Path, values: object) -> Signatory:
    """[signatory]: `default` and a key per message, each one line of text ("Anna de Vries, debiteurenbeheer")."""
    if not isinstance(values, dict):
        raise UserError(f"{settings}: signatory: a table ([signatory]) of who signs, e.g. default = \"Anna de Vries\"")
    known = ("default", *(m.value for m in Message))
    for key, value in values.items():
        if key not in known:
            raise UserError(f"{settings}: signatory.{key}: unknown key (default, or a message: {', '.join(known[1:])})")
        if not isinstance(value, str) or not value.strip():
            raise UserError(f"{settings}: signatory.{key}: the name of who signs, as text, got {value!r}")
    _check_lines(settings, "signatory.", values)
    steps = tuple((key, " ".join(value.split())) for key, value in values.items() if key != "default")
    default = values.get("default")
    return Signatory(default=" ".join(default.split()) if default else None, steps=steps)


def _check_lines(settings: Path, prefix: str, values: dict) -> None:
    """Settings that go into every message's header or address block: one line each, the rule debtor data
    follows too (dunning.domain.fields), so a mistake is named at start-up, not by the first send."""
    for key, value in values.items():
        if isinstance(value, str) and (problem := line_problem(value)):
            raise UserError(f"{settings}: {prefix}{key}: {problem}")


def write_runtime(inst: Installation, **values: object) -> None:
    """`dunning run --port/--smtp-port` records where its services listen, for the other verbs."""
    inst.home.mkdir(parents=True, exist_ok=True)
    current = json.loads(inst.runtime_file.read_text()) if inst.runtime_file.exists() else {}
    current.update(values)
    current = {k: v for k, v in current.items() if v is not None}
    inst.runtime_file.write_text(json.dumps(current, indent=2))
