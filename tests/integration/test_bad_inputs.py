"""Every bad input is refused the same way (issue 14): exit code 2, one line on stderr that names the place (the
file, row and column; the option; the setting), no traceback, and the database exactly as it was, every table
compared row by row before and after.

The inputs are what a careful but adversarial user tries: CSV imports with wrong columns, amounts, dates and
currencies; CLI options; settings.toml, policies.toml, excuses.toml and run.json; environment variables. The table
of them with their messages is docs/bad-inputs.md, written by this module: the test fails when the file differs
from what the inputs give today; `DUNNING_UPDATE_DOCS=1` rewrites it.

One installation for the whole module (on SQLite: what is checked is the refusal before any write, the same code
on either database), every verb in this process (tests/support/cli.py)."""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import typer

from dunning.casework import human_tasks
from dunning.cli import main as cli_main
from dunning.domain.kinds import Channel, DebtorKind, TaskKind
from dunning.domain.steps import Step
from dunning.domain.time import AMSTERDAM
from dunning.storage import clock, config, db
from dunning.storage.models import Debtor, Invoice
from tests.support import cli
from tests.support.dump import differences, dump

DOCS = Path(__file__).resolve().parents[2] / "docs" / "bad-inputs.md"
UNREACHABLE_ENGINE = "http://127.0.0.1:9/api"  # discard: a verb that got as far as the engine is refused there


@dataclass(frozen=True)
class Bad:
    """One bad input: the command line, the files it finds (relative to the installation's folder `home/` or
    the current folder `in/`; None makes a folder) and the environment; `place` is what the one line must name."""

    input: str  # as the table shows it
    args: tuple[str, ...]
    place: tuple[str, ...]
    files: dict[str, str | bytes | None] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    pending: str = ""  # not refused yet: where the fix belongs

def verb(*args: str, place: str | tuple[str, ...]) -> Bad:
    return Bad("dunning " + shlex.join(args), args, (place,) if isinstance(place, str) else place)


HEADER = ("invoice_number", "debtor_number", "debtor_name", "debtor_kind", "email", "issue_date", "due_date",
          "amount", "currency")
ROW = ("F-100", "D-100", "Bakker B.V.", "business", "info@bakker.nl", "2026-01-10", "2026-02-09", "250.00", "EUR")


def invoice_row(**changed: str) -> str:
    return ",".join(changed.get(name, value) for name, value in zip(HEADER, ROW, strict=True))


def csv(label: str, text: str | bytes, place: str | tuple[str, ...], *options: str) -> Bad:
    return Bad(f"import invoices: {label}", ("import", "invoices", "x.csv", *options),
               ("x.csv", *((place,) if isinstance(place, str) else place)), {"in/x.csv": text})


def csv_field(name: str, value: str) -> Bad:
    return csv(f"{name} {value!r}", ",".join(HEADER) + "\n" + invoice_row(**{name: value}) + "\n", f"x.csv:2:{name}")


def open_items(label: str, text: str, place: str) -> Bad:
    return Bad(f"import open-items: {label}", ("import", "open-items", "items.csv", "--as-of", "2026-03-01"),
               ("items.csv", place), {"in/items.csv": text})


def settings(text: str | bytes | None, place: str | tuple[str, ...]) -> Bad:
    shown = "a folder" if text is None else text.decode("latin-1") if isinstance(text, bytes) else text
    places = (place,) if isinstance(place, str) else place
    return Bad(f"settings.toml: {shown}", ("tasks",), ("settings.toml", *places), {"home/settings.toml": text})


def policies(text: str | bytes | None, place: str) -> Bad:
    shown = "a folder" if text is None else text.decode("latin-1") if isinstance(text, bytes) else text
    return Bad(f"policies.toml: {shown}", ("sweep",), ("policies.toml", place), {"home/policies.toml": text})


def excuses(text: str | bytes | None, place: str) -> Bad:
    shown = "a folder" if text is None else text.decode("latin-1") if isinstance(text, bytes) else text
    return Bad(f"excuses.toml: {shown}", ("sweep",), ("excuses.toml", place), {"home/excuses.toml": text})


def environment(name: str, value: str, place: str, files: dict[str, str | bytes | None] | None = None) -> Bad:
    return Bad(f"{name}={value}", ("tasks",), (name, place), files or {}, env={name: value})


def runtime(text: str, place: str) -> Bad:
    return Bad(f"run.json: {text}", ("tasks",), ("run.json", place), {"home/run.json": text})


def headed(*rows: str, header: str = ",".join(HEADER)) -> str:
    return "\n".join((header, *rows)) + "\n"


A_NAME = "Anna de Vries"
BAD_INPUTS: list[Bad] = [
    # --- amounts a person types ---
    *(verb("pay", "F-1", amount, place="amount") for amount in (
        "1E+2", "1e2", "1_000.00", "+50.00", "\u0665\u0660", "-5", "0", "abc", "10.001", "NaN", "Infinity", "",
        "1.234.567,891", "1,2,3", "12,50,00", " 5 0", "0x10", "1000000000000.00")),
    verb("pay", "F-1", "150.00", place=("AMOUNT", "open", "--overpayment")),
    verb("pay", "F-1", "50", "--date", "2026-12-01", place="--date"),
    verb("pay", "F-1", "50", "--date", "2025-12-31", place="--date"),
    verb("pay", "F-1", "50", "--date", "20260101", place="--date"),
    verb("pay", "F-1", "50", "--date", "2026-W01-1", place="--date"),
    verb("pay", "F-1", "50", "--date", "2026-02-30", place="--date"),
    verb("pay", "F-1", "50", "--date", "0001-01-01", place="--date"),
    verb("pay", "F-1", "50", "--date", "9999-12-31", place="--date"),
    verb("pay", "NOPE", "50", place="NOPE"),
    # --- the clock ---
    verb("clock", "set", "0001-01-01T00:00", place="clock set"),
    verb("clock", "set", "9999-12-31T23:59", place="clock set"),
    verb("clock", "set", "1969-12-31T23:59", place="clock set"),
    verb("clock", "set", "tomorrow", place="clock set"),
    verb("clock", "set", "2026-03-09T25:00", place="clock set"),
    verb("clock", "set", "20260309T1000", place="clock set"),
    *(verb("clock", "advance", days, place="clock advance") for days in (
        "nan", "inf", "-inf", "1e10", "-365", "-0.5", "abc", "100000")),
    # --- dates of the law verbs ---
    verb("letter-term", "--posted", "9999-12-31", place="--posted"),
    verb("letter-term", "--posted", "0001-01-01", place="--posted"),
    verb("letter-term", "--posted", "20260101", place="--posted"),
    verb("letter-term", "--posted", "2026-W01-1", place="--posted"),
    verb("claim", "--principal", "1E+2", "--kind", "consumer", "--interest-from", "2026-01-01", "--as-of",
         "2026-03-01", place="--principal"),
    verb("claim", "--principal", "100", "--kind", "alien", "--interest-from", "2026-01-01", "--as-of", "2026-03-01",
         place="--kind"),
    verb("claim", "--principal", "100", "--kind", "consumer", "--interest-from", "0001-01-01", "--as-of",
         "9999-12-31", place="--interest-from"),
    verb("claim", "--principal", "100", "--kind", "consumer", "--interest-from", "2026-01-01", "--as-of",
         "2026-03-01", "--payment", "2026-02-01=abc", place="--payment"),
    # --- desk actions ---
    verb("hold", "D-1", "--reason", "", place="--reason"),
    verb("hold", "D-1", "--reason", "   ", place="--reason"),
    verb("hold", "D-1", "--reason", "late\x1b[31m", place="--reason"),
    verb("hold", "NOPE", place="NOPE"),
    verb("hold", "D-1", "--by", "Anna\nde Vries", place="--by"),
    verb("note", "F-1", "", place="note"),
    verb("note", "F-1", "ring\x07", place="TEXT"),
    verb("note", "F-1", "Thanks", "--by", "A\r\nB", place="--by"),
    verb("dispute", "F-1", "--reason", "", place="reason"),
    verb("dispute", "F-1", "--reason", "wrong goods", "--due", "2026-13-01", place="--due"),
    verb("dispute", "F-1", "--reason", "wrong goods", "--due", "20260401", place="--due"),
    verb("dispute", "F-1", "--reason", "wrong goods", "--due", "2026-01-01", place="--due"),
    verb("dispute", "F-1", "--reason", "wrong goods", "--by", "x" * 101, place="--by"),
    verb("resolve", "F-1", "--upheld", "--credit", "1E+2", place="--credit"),
    verb("plan", "F-1", "--instalment", "2026-04-01=abc", place="instalment 1"),
    verb("plan", "F-1", "--instalment", "2026-04-01=1E+2", place="instalment 1"),
    verb("plan", "F-1", "--instalment", "2026-04-01=100", "--instalment", "April=0", place="instalment 2"),
    verb("plan", "F-1", "--instalment", "20260401=100", place="instalment 1"),
    verb("plan", "F-1", "--instalment", "2026-04-01=100", "--costs", "abc", place="--costs"),
    verb("plan", "F-1", "--instalment", "2026-04-01=100", "--costs", "-5", place="--costs"),
    verb("call", "F-1", "--reached", "--promise", "20260401", place="--promise"),
    verb("call", "F-1", "--reached", "--promise", "2026-04-01", "--amount", "1E+2", place="--amount"),
    verb("call", "F-1", "--reached", "--excuse", "a\x1bb", place="--excuse"),
    verb("approve", "F-1", "--by", "", place="--by"),
    verb("payments", "match", "999", "--invoice", "F-1", place="999"),
    verb("payments", "match", "1", "--invoice", "F-1", "--amount", "1E+2", place="amount"),
    verb("credits", "apply", "999", "--invoice", "F-1", place="999"),
    verb("letters", "posted", "--date", "2026-12-01", place="--date"),
    verb("letters", "posted", "--date", "20260101", place="--date"),
    verb("dossier", "NOPE", place="NOPE"),
    verb("statement", "NOPE", place="NOPE"),
    verb("statement", "D-1", "--channel", "fax", place="--channel"),
    verb("report", "bogus", place="bogus"),
    verb("report", "aging", "--as-of", "2026-02-30", place="--as-of"),
    verb("report", "aging", "--as-of", "9999-12-31", place="--as-of"),
    verb("law", "confirm-rate", "bogus", "2026-01-01", place="bogus"),
    # --- preview --out ---
    verb("preview", "F-1", "--step", "bogus", "--out", "out", place="--step"),
    verb("preview", "F-1", "--step", "herinnering", "--channel", "fax", "--out", "out", place="--channel"),
    verb("preview", "F-1", "--step", "herinnering", "--lang", "de", "--out", "out", place="--lang"),
    Bad("dunning preview F-1 --step herinnering --out a-file (a file)",
        ("preview", "F-1", "--step", "herinnering", "--out", "a-file"), ("--out", "a-file"), {"in/a-file": "x"}),
    Bad("dunning preview F-1 --step herinnering --out a-file/out (under a file)",
        ("preview", "F-1", "--step", "herinnering", "--out", "a-file/out"), ("--out", "a-file/out"),
        {"in/a-file": "x"}),
    verb("preview", "F-1", "--step", "herinnering", "--out", "/proc/dunning-preview", place="--out"),
    # --- import: the files and the options ---
    Bad("dunning import invoices a-folder (a folder)", ("import", "invoices", "a-folder"), ("a-folder",),
        {"in/a-folder": None}),
    verb("import", "invoices", "missing.csv", place="missing.csv"),
    Bad("dunning import open-items a-folder --as-of 2026-03-01 (a folder)",
        ("import", "open-items", "a-folder", "--as-of", "2026-03-01"), ("a-folder",), {"in/a-folder": None}),
    Bad("dunning import open-items items.csv --as-of 20260301",
        ("import", "open-items", "items.csv", "--as-of", "20260301"), ("--as-of",),
        {"in/items.csv": "invoice_number,open_amount\nF-1,10.00\n"}),
    Bad("dunning import invoices x.csv --kind alien", ("import", "invoices", "x.csv", "--kind", "alien"), ("--kind",),
        {"in/x.csv": headed(invoice_row())}),
    Bad("dunning import invoices x.csv --delimiter '|'", ("import", "invoices", "x.csv", "--delimiter", "|"),
        ("delimiter",), {"in/x.csv": headed(invoice_row())}),
    Bad("dunning import invoices x.csv --encoding bogus", ("import", "invoices", "x.csv", "--encoding", "bogus"),
        ("encoding",), {"in/x.csv": headed(invoice_row())}),
    Bad("dunning import invoices x.csv --columns missing.toml",
        ("import", "invoices", "x.csv", "--columns", "missing.toml"), ("missing.toml",),
        {"in/x.csv": headed(invoice_row())}),
    Bad("import invoices --columns map.toml: non-UTF-8", ("import", "invoices", "x.csv", "--columns", "map.toml"),
        ("map.toml", "UTF-8"),
        {"in/x.csv": headed(invoice_row()), "in/map.toml": b"[columns]\namount = \"B\xe9\xff\"\n"}),
    Bad("import invoices --columns map.toml: [columns] bedrag = \"Bedrag\"",
        ("import", "invoices", "x.csv", "--columns", "map.toml"), ("map.toml", "columns.bedrag"),
        {"in/x.csv": headed(invoice_row()), "in/map.toml": "[columns]\nbedrag = \"Bedrag\"\n"}),
    Bad("import invoices --columns map.toml: date_format = \"%d\"",
        ("import", "invoices", "x.csv", "--columns", "map.toml"), ("map.toml", "date_format"),
        {"in/x.csv": headed(invoice_row()), "in/map.toml": "date_format = \"%d\"\n"}),
    Bad("import invoices --columns map.toml: decimal_mark = \"x\"",
        ("import", "invoices", "x.csv", "--columns", "map.toml"), ("map.toml", "decimal_mark"),
        {"in/x.csv": headed(invoice_row()), "in/map.toml": "decimal_mark = \"x\"\n"}),
    # --- import: columns ---
    csv("no amount column", headed(",".join(ROW[:-2]) + ",EUR",
                                   header=",".join(h for h in HEADER if h != "amount")), "amount"),
    csv("the amount column twice", headed(invoice_row() + ",250.00", header=",".join(HEADER) + ",amount"),
        "amount"),
    csv("a column preferred_chanel", headed(invoice_row() + ",letter", header=",".join(HEADER) + ",preferred_chanel"),
        ("preferred_chanel", "preferred_channel")),
    csv("a column Amount", headed(invoice_row(), header=",".join(HEADER).replace("amount", "Amount")),
        "x.csv:1:amount"),
    csv("a value under an empty header field", headed(invoice_row() + ",x", header=",".join(HEADER) + ","),
        "x.csv:2"),
    csv("more fields than columns", headed(invoice_row() + ",extra"), "x.csv:2"),
    csv("an empty file", "", "x.csv:1"),
    csv("UTF-16", "\ufeff".encode("utf-16-le") + headed(invoice_row()).encode("utf-16-le"), "UTF-16"),
    csv("bytes neither UTF-8 nor Windows-1252", headed(invoice_row()).encode() + b"F-101,D-101,B\x81,business,,"
        b"2026-01-10,2026-02-09,5.00,EUR\n", "Windows-1252"),
    # --- import: amounts ---
    *(csv_field("amount", amount) for amount in (
        "+50.00", "1E+2", "1_000.00", "\u0665\u0660", "abc", "0", "1.2345", "9999999999999", "", "12.50 EUR",
        "\u20ac12.50", "NaN")),
    # --- import: dates ---
    *(csv_field("issue_date", day) for day in (
        "20260101", "2026-W01-1", "2026-02-30", "10-01-2026", "")),
    csv("issue_date 2999-01-01", headed(invoice_row(issue_date="2999-01-01", due_date="2999-01-31")),
        "x.csv:2:issue_date"),
    csv("issue_date 0001-01-01", headed(invoice_row(issue_date="0001-01-01")), "x.csv:2:issue_date"),
    csv_field("due_date", "2025-12-31"),
    csv_field("due_date", "9999-12-31"),
    # --- import: currencies and other fields ---
    *(csv_field("currency", code) for code in ("XYZ", "EU", "\u20ac", "eur0", "BTC")),
    csv_field("debtor_kind", "alien"),
    csv_field("email", "not-an-email"),
    csv_field("email", "a@b@c.nl"),
    csv_field("email", "<jan|@example.nl"),  # once a traceback: the stdlib parser's own error
    csv_field("invoice_number", ""),
    csv_field("invoice_number", "x" * 51),
    csv_field("debtor_name", "x" * 201),
    csv_field("debtor_name", "Bakker\x1b[2J"),
    csv("a debtor name with a line break", headed(invoice_row(debtor_name='"Bakker\nB.V."')), "x.csv:2:debtor_name"),
    csv("one debtor with two names", headed(invoice_row(), invoice_row(invoice_number="F-101", debtor_name="Bakker")),
        ("x.csv:3:debtor_name", "row 2")),
    csv("one invoice twice with other amounts", headed(invoice_row(), invoice_row(amount="251.00")),
        "x.csv:3:invoice_number"),
    csv("a credit note crediting itself", headed(invoice_row(amount="-5.00") + ",F-100",
                                                 header=",".join(HEADER) + ",credits_invoice"), "credits_invoice"),
    csv("a credit note with a positive amount", headed(invoice_row() + ",F-1",
                                                      header=",".join(HEADER) + ",credits_invoice"), "amount"),
    csv("language de", headed(invoice_row() + ",de", header=",".join(HEADER) + ",language"), "x.csv:2:language"),
    csv("country Netherlands", headed(invoice_row() + ",Netherlands", header=",".join(HEADER) + ",country"),
        "x.csv:2:country"),
    csv("preferred_channel fax", headed(invoice_row() + ",fax", header=",".join(HEADER) + ",preferred_channel"),
        "x.csv:2:preferred_channel"),
    csv("iban NL00BANK", headed(invoice_row() + ",NL00BANK", header=",".join(HEADER) + ",iban"), "x.csv:2:iban"),
    csv("an invoice moved to another debtor", headed(invoice_row(invoice_number="F-1")), "F-1"),
    # --- open items ---
    open_items("a negative open amount", "invoice_number,open_amount\nF-1,-5.00\n", "items.csv:2:open_amount"),
    open_items("an empty list", "invoice_number,open_amount\n", "items.csv"),
    open_items("one invoice twice", "invoice_number,open_amount\nF-1,5.00\nF-1,6.00\n", "items.csv:3"),
    open_items("open_amount 1E+2", "invoice_number,open_amount\nF-1,1E+2\n", "items.csv:2:open_amount"),
    open_items("a column open_amonut", "invoice_number,open_amonut\nF-1,5.00\n", "open_amount"),
    # --- settings.toml ---
    settings('smtp_port = "abc"', "smtp_port"),
    settings("smtp_port = -1", "smtp_port"),
    settings("smtp_port = 70000", "smtp_port"),
    settings("smtp_port = 25.5", "smtp_port"),
    settings('smtp_security = "bogus"', "smtp_security"),
    Bad("settings.toml: database_url = \"junk\"", ("tasks",), ("settings.toml", "database_url"),
        {"home/settings.toml": 'database_url = "junk"'}, {"DUNNING_DATABASE_URL": ""}),
    Bad("settings.toml: database_url = 5", ("tasks",), ("settings.toml", "database_url"),
        {"home/settings.toml": "database_url = 5"}, {"DUNNING_DATABASE_URL": ""}),
    settings('creditor = "Voorbeeld"', "creditor"),
    settings('[creditor]\niban = "NL00"', "creditor.iban"),
    settings('[creditor]\nname = 5', "creditor.name"),
    settings('[creditor]\nnmae = "Voorbeeld"', ("creditor", "nmae", "name")),
    settings('[creditor]\naccounts = "NL02ABNA0123456789"', "creditor.accounts"),
    settings('sender = "Debiteuren <d@example.nl>\\r\\nBcc: all@example.nl"', "sender"),
    settings('sender = "no address"', "sender"),
    settings('smtp_hots = "mail.example.nl"', ("smtp_hots", "smtp_host")),
    settings('language = "de"', "language"),
    settings("default_payment_term_days = 9999", "default_payment_term_days"),
    settings("open_items_max_settle_share = 2", "open_items_max_settle_share"),
    settings('prefect_port = "x"', "prefect_port"),
    settings('signatory = "x"', "signatory"),
    settings('default_debtor_kind = "alien"', "default_debtor_kind"),
    settings('instance = "a b/c"', "instance"),
    settings("smtp_port = 587\nsmtp_port = 25", "not valid TOML"),
    settings(b'sender = "Debiteuren \xe9"\n', "UTF-8"),
    settings(None, "folder"),
    # --- policies.toml ---
    policies('policy = "x"', "policy"),
    policies('debtors = "x"', "debtors"),
    policies(b'[default]\ntone = "formeel \xe9"\n', "UTF-8"),
    policies(None, "folder"),
    policies("[default]\ngrace_days = 999999999", "default.grace_days"),
    policies("[default]\ngrace_days = -1", "default.grace_days"),
    policies("[default]\ncall_retry_hours = 100000", "default.call_retry_hours"),
    policies("[default]\nworking_hour = \"25:00\"", "default.working_hour"),
    policies("[default]\nworking_hour = 9", "default.working_hour"),
    policies("[default]\ntone = \"rude\"", "default.tone"),
    policies("[default]\nby_post = [\"fax\"]", "default.by_post"),
    policies("[default]\ngrace_day = 5", ("default.grace_day")),
    policies("[defaults]\ngrace_days = 5", "defaults"),
    policies("[debtors]\n\"D-1\" = \"patient\"", "debtors.D-1"),
    policies("[default\n", "policies.toml"),
    # --- excuses.toml ---
    excuses(b'[[excuse]]\nheard = "Al betaald \xe9"\nanswer = "Vraag de datum"\n', "UTF-8"),
    excuses(None, "folder"),
    excuses('[[excuse]]\nheard = ""\nanswer = "Vraag de datum"\n', "excuse 1"),
    excuses('excuse = "x"\n', "excuse"),
    excuses('[[excuse]]\nheard = "Al betaald"\nanswer = "Vraag"\nextra = 1\n', "excuse 1"),
    excuses("[[excuse]\n", "excuses.toml"),
    # --- run.json, the environment ---
    runtime("{", "run.json"),
    runtime("[]", "run.json"),
    runtime('{"smtp_port": "x"}', "smtp_port"),
    environment("DUNNING_SMTP_PORT", "abc", "abc"),
    environment("DUNNING_SMTP_PORT", "0", "0"),
    environment("DUNNING_PREFECT_PORT", "-5", "-5"),
    environment("DUNNING_DATABASE_URL", "junk", "not a database URL"),
    Bad("DUNNING_DATABASE_URL=sqlite:///a-file/x.sqlite (under a file)", ("tasks",), ("a-file", "cannot be opened"),
        {"in/a-file": "x"}, {"DUNNING_DATABASE_URL": "sqlite:///a-file/x.sqlite"}),
    environment("DUNNING_INSTANCE", "a b/c", "a b/c"),
    environment("DUNNING_HOME", "a-file", "a-file", {"in/a-file": "x"}),
]


# --- the installation -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    root: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def cwd(self) -> Path:
        return self.root / "in"


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Place]:
    """One installation with a debtor, two invoices and an open call, on simulated time (2026-03-09 10:00)."""
    where = Place(tmp_path_factory.mktemp("bad-inputs"))
    where.home.mkdir()
    where.cwd.mkdir()
    env = {"DUNNING_HOME": str(where.home), "DUNNING_DATABASE_URL": f"sqlite:///{where.home / 'dunning.sqlite'}",
           "PREFECT_API_URL": UNREACHABLE_ENGINE}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.chdir(where.cwd)
        # The command tree built once, not per verb: typer builds it anew on every call, a tenth of a second each,
        # the better part of what a refused input costs here. The same tree, the same parsing.
        command = typer.main.get_command(cli_main.app)
        mp.setattr(cli_main, "app", lambda **kwargs: command.main(**kwargs))
        inst = config.load()
        db.migrate(inst)
        with db.transaction(inst) as s:
            clock.set_simulated(s, clock.FixedClock(_at(2026, 3, 9, 10)).now())
            debtor = Debtor(number="D-1", name="Jan de Vries", kind=DebtorKind.consumer, email="jan@example.nl",
                            language="nl", preferred_channel=Channel.email)
            for number in ("F-1", "F-2"):
                invoice = Invoice(number=number, debtor=debtor, issue_date=date(2026, 1, 5),
                                  due_date=date(2026, 2, 4), amount=Decimal("100.00"), currency="EUR")
                s.add(invoice)
            s.flush()
            invoice.flow_run_id = "00000000-0000-0000-0000-000000000001"
            human_tasks.open_task(s, invoice, TaskKind.call, Step.parse("call-1"), _at(2026, 3, 9, 9))
        yield where


def _at(*parts: int):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime(*parts, tzinfo=AMSTERDAM)


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    changed: tuple[str, ...]  # what the verb changed in the database: nothing, we hope

    @property
    def message(self) -> str:
        return self.stderr.strip()


_OUTCOMES: dict[str, Outcome] = {}


def _outcome(where: Place, bad: Bad) -> Outcome:
    """What `bad` got, tried once per test session: the table is made of the same outcomes the tests check."""
    if bad.input not in _OUTCOMES:
        _OUTCOMES[bad.input] = _try(where, bad)
    return _OUTCOMES[bad.input]


def _try(where: Place, bad: Bad) -> Outcome:
    url = os.environ["DUNNING_DATABASE_URL"]
    before = dump(url)
    made = []
    for name, content in bad.files.items():
        path = where.root / name
        made.append(path)
        if content is None:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    try:
        done = cli.run(*bad.args, env=bad.env)
    finally:
        for path in made:
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        for leftover in ("out", "a-folder"):
            shutil.rmtree(where.cwd / leftover, ignore_errors=True)
    shown = [(str(where.home), "$DUNNING_HOME"), (str(where.cwd) + "/", ""), (str(where.cwd), ".")]
    stdout, stderr = done.stdout, done.stderr
    for long, short in shown:
        stdout, stderr = stdout.replace(long, short), stderr.replace(long, short)
    return Outcome(done.returncode, stdout, stderr, tuple(differences(before, dump(url))))


@pytest.mark.parametrize("bad", [
    pytest.param(b, marks=pytest.mark.xfail(run=False, reason=b.pending)) if b.pending else b for b in BAD_INPUTS
], ids=[b.input for b in BAD_INPUTS])
def test_a_bad_input_is_refused_in_one_line_naming_its_place_and_changes_nothing(place: Place, bad: Bad) -> None:
    got = _outcome(place, bad)
    assert "Traceback" not in got.stderr, got.stderr
    assert (got.code, got.stdout) == (2, ""), got
    assert got.stderr.count("\n") == 1 and got.stderr.startswith("dunning: error: "), got.stderr
    missing = [p for p in bad.place if p not in got.message]
    assert not missing, f"{got.message!r} does not name {missing}"
    assert not got.changed, got.changed


def test_there_are_at_least_a_hundred_and_each_is_tried_once() -> None:
    assert len([b for b in BAD_INPUTS if not b.pending]) >= 100
    assert len({b.input for b in BAD_INPUTS}) == len(BAD_INPUTS), "two inputs with one name in the table"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n").replace("\r", "\\r").replace(
        "\x1b", "\\x1b").replace("\x07", "\\x07").replace("\t", "\\t")


def table(where: Place) -> str:
    lines = [
        "# Bad inputs and what they get",
        "",
        "Written by `tests/integration/test_bad_inputs.py` (`DUNNING_UPDATE_DOCS=1` rewrites it; the test fails while",
        "this file differs from what the inputs give). Each input is tried on an installation with a debtor `D-1`,",
        "invoices `F-1` and `F-2` (100.00 each, issued 2026-01-05) and an open call, on simulated time 2026-03-09",
        "10:00; every one exits with code 2, says one line on stderr and changes nothing: every table of the",
        "database is compared row by row before and after. `$DUNNING_HOME` is the installation's folder.",
        "",
        f"{len(BAD_INPUTS)} inputs, {sum(1 for b in BAD_INPUTS if b.pending)} of them not refused yet.",
        "",
        "| input | message | database unchanged |",
        "|---|---|---|",
    ]
    for bad in BAD_INPUTS:
        if bad.pending:  # accepted today: not tried, so that it cannot change what the others find
            lines.append(f"| `{_cell(bad.input)}` | not refused yet ({_cell(bad.pending)}) | - |")
            continue
        got = _outcome(where, bad)
        message = got.message.removeprefix("dunning: error: ")
        lines.append(f"| `{_cell(bad.input)}` | {_cell(message)} | {'no' if got.changed else 'yes'} |")
    return "\n".join(lines) + "\n"


def test_the_table_in_docs_is_the_one_these_inputs_give(place: Place) -> None:
    written = table(place)
    if os.environ.get("DUNNING_UPDATE_DOCS") == "1":
        DOCS.write_text(written, encoding="utf-8")
    assert DOCS.exists() and DOCS.read_text(encoding="utf-8") == written, (
        "docs/bad-inputs.md is not current: rerun with DUNNING_UPDATE_DOCS=1")
