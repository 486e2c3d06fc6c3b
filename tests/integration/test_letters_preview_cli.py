"""`dunning preview`: an invoice from the installation's database rendered to files, without sending, on SQLite
and PostgreSQL; and the message context built from the database."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from pypdf import PdfReader
from typer.testing import CliRunner

from dunning.bank.references import printed
from dunning.casework.answers import complete_call
from dunning.casework.human_tasks import CallOutcome, open_task
from dunning.cli.letters import register, run_preview
from dunning.domain.errors import UserError
from dunning.domain.kinds import Channel, DebtorKind, TaskKind
from dunning.domain.policy import DEFAULT
from dunning.domain.steps import Message, Step
from dunning.law import fourteen_day_term
from dunning.messaging.compose import claim_statement, compose
from dunning.storage import clock, db
from dunning.storage.config import Installation
from dunning.storage.models import Debtor, Invoice

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def invoices_on_file(installation: Installation) -> Installation:
    with db.transaction(installation) as s:
        clock.set_simulated(s, NOW)
        jan = Debtor(number="D-1", name='Jan <b>de</b> Vries', kind=DebtorKind.consumer, email="jan@example.invalid",
                     street="Dorpsstraat 1", postcode="1234 AB", city="Utrecht", country="NL", language="nl",
                     preferred_channel=Channel.letter)
        bv = Debtor(number="D-2", name="Bouwbedrijf Noord B.V.", kind=DebtorKind.business, street="Kade 9",
                    postcode="9711 AA", city="Groningen", country="NL", language="en",
                    preferred_channel=Channel.email, email="info@example.invalid")
        s.add_all([
            Invoice(number="F-1", debtor=jan, issue_date=date(2026, 9, 1), due_date=date(2026, 10, 1),
                    amount=Decimal("1234.56"), currency="EUR"),
            Invoice(number="F-2", debtor=jan, issue_date=date(2026, 10, 1), due_date=date(2026, 10, 31),
                    amount=Decimal("99.00"), currency="EUR"),
            Invoice(number="F-3", debtor=bv, issue_date=date(2026, 9, 1), due_date=date(2026, 10, 1),
                    amount=Decimal("8400.00"), currency="EUR"),
        ])
    return installation


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(path.read_bytes())).pages)


def test_preview_of_a_consumer_ingebrekestelling_letter_states_the_letter_term(invoices_on_file, tmp_path):
    written = run_preview(invoices_on_file.home, "F-1", step="ingebrekestelling", out=tmp_path)

    assert [p.name for p in written] == ["F-1-ingebrekestelling.nl.pdf"]  # the debtor prefers letters, in Dutch
    text = pdf_text(written[0])
    deadline = fourteen_day_term(date(2026, 11, 23)).deadline
    assert deadline == date(2026, 12, 9)
    assert "te rekenen vanaf de dag nadat u deze brief heeft ontvangen. Dat is uiterlijk 9 december 2026" in text
    assert "Die zijn EUR 185,18." in text
    assert "Jan <b>de</b> Vries" in text, "the name as written, not as markup"
    assert "Geachte heer, mevrouw," in text


def test_preview_by_email_in_english_writes_the_parts(invoices_on_file, tmp_path):
    written = run_preview(invoices_on_file.home, "F-3", step="ingebrekestelling", out=tmp_path, channel="email",
                          lang="en", note="Called on Monday <3")
    assert sorted(p.name for p in written) == [
        "F-3-ingebrekestelling.en.html", "F-3-ingebrekestelling.en.subject.txt", "F-3-ingebrekestelling.en.txt"]
    text = (tmp_path / "F-3-ingebrekestelling.en.txt").read_text(encoding="utf-8")
    assert "Collection costs: EUR 795.00" in text  # BIK scale on 8,400 (legal-nl.md check)
    assert "Called on Monday &lt;3" in (tmp_path / "F-3-ingebrekestelling.en.html").read_text(encoding="utf-8")


def test_the_letter_context_lists_open_invoices_and_states_the_claim_by_the_law_module(invoices_on_file):
    with db.transaction(invoices_on_file) as s:
        invoice = s.query(Invoice).filter_by(number="F-1").one()
        context = compose(s, invoices_on_file, invoice, Step.send(Message.ingebrekestelling), Channel.letter, NOW,
                          DEFAULT, preview=True).values
        expected = claim_statement(s, invoices_on_file, invoice, date(2026, 11, 23), date(2026, 12, 9))
    assert [i["number"] for i in context["open_invoices"]] == ["F-1", "F-2"]
    # Each with the payment reference on file, printed in groups of four.
    assert [i["payment_reference"] for i in context["open_invoices"]] == ["RF98 F1", "RF71 F2"]
    assert context["invoice"]["payment_reference"] == printed(str(invoice.payment_reference)) == "RF98 F1"
    assert context["claim"] == expected
    assert context["debtor"]["street"] == "Dorpsstraat 1" and context["reference"] == "F-1"


def test_preview_of_a_betaalafspraak_uses_the_promise_from_the_last_call(invoices_on_file, tmp_path):
    with db.transaction(invoices_on_file) as s:
        invoice = s.query(Invoice).filter_by(number="F-1").one()
        task = open_task(s, invoice, TaskKind.call, Step.parse("call-1"), NOW)
        complete_call(s, task, CallOutcome(reached=True, spoke_with="Jan", promised_on=date(2026, 12, 4),
                                           note="Betaalt na salaris."), NOW)
    written = run_preview(invoices_on_file.home, "F-1", step="betaalafspraak", out=tmp_path)
    text = pdf_text(written[0])
    assert "Bedankt voor het telefoongesprek met Jan." in text
    assert "U betaalt EUR 1.234,56 uiterlijk 4 december 2026." in text
    assert "Betaalt na salaris." not in text  # the collector's own note stays internal


def test_preview_of_a_betalingsregeling_takes_the_instalments(invoices_on_file, tmp_path):
    written = run_preview(invoices_on_file.home, "F-1", step="betalingsregeling", out=tmp_path, channel="email",
                          instalments=["2026-12-01=600.00", "2027-01-01=634.56"])
    text = next(p for p in written if p.name.endswith(".nl.txt")).read_text(encoding="utf-8")
    assert "Termijn 2: EUR 634,56, uiterlijk 1 januari 2027" in text and "Totaal: EUR 1.234,56" in text


@pytest.mark.parametrize(("args", "message"), [
    ({"number": "F-404", "step": "herinnering"}, "unknown invoice 'F-404'"),
    ({"number": "F-1", "step": "sommatie"}, "--step: unknown step 'sommatie'"),
    ({"number": "F-1", "step": "herinnering", "channel": "fax"}, "--channel: expected one of email, letter"),
    ({"number": "F-1", "step": "herinnering", "lang": "de"}, "--lang: expected one of en, nl"),
    ({"number": "F-1", "step": "betaalafspraak"}, "has no call with a promise to pay"),
    ({"number": "F-1", "step": "betalingsregeling"}, "needs its instalments"),
    ({"number": "F-1", "step": "betalingsregeling", "instalments": ["2026-12-01"]}, "expected DATE=AMOUNT"),
])
def test_preview_mistakes_are_user_errors(invoices_on_file, tmp_path, args, message):
    args = dict(args)  # the parameters are shared by the SQLite and PostgreSQL runs
    number = args.pop("number")
    with pytest.raises(UserError, match=message):
        run_preview(invoices_on_file.home, number, out=tmp_path, **args)


def test_an_operator_template_with_an_unknown_variable_is_a_user_error_naming_the_file(invoices_on_file, tmp_path):
    folder = invoices_on_file.home / "templates" / "letter"
    folder.mkdir(parents=True)
    (folder / "herinnering.nl.html").write_text(
        '{% extends "letter/_layout.html" %}{% block body %}<p>{{ debiteur.naam }}</p>{% endblock %}')
    with pytest.raises(UserError, match=r"template for herinnering \(letter, nl\).*'debiteur' is undefined"):
        run_preview(invoices_on_file.home, "F-1", step="herinnering", out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_registered_command_writes_the_files(invoices_on_file, tmp_path):
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """The dunning app, as far as this test needs it."""

    register(app, home=lambda: invoices_on_file.home)
    result = CliRunner().invoke(app, ["preview", "F-2", "--step", "herinnering", "--channel", "email",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [str(tmp_path / f"F-2-herinnering.nl.{s}") for s in
                                          ("subject.txt", "txt", "html")]


def test_dunning_preview_answers_a_mistake_with_one_line_and_exit_code_2_without_prefect(invoices_on_file,
                                                                                         tmp_path):
    code = (
        "import sys\n"
        "from dunning.cli import main\n"
        "try:\n"
        "    main.main()\n"
        "finally:\n"
        "    assert not [m for m in sys.modules if m.split('.')[0] == 'prefect'], 'prefect was imported'\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "preview", "F-404", "--step", "herinnering", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2],
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr == "dunning: error: unknown invoice 'F-404'\n"

    run = subprocess.run(
        [sys.executable, "-c", code, "preview", "F-1", "--step", "aanmaning", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2],
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"{tmp_path / 'F-1-aanmaning.nl.pdf'}\n"


def test_the_help_names_every_step():
    from dunning.cli.letters import STEPS_HELP
    from dunning.messaging.templating import STEPS

    assert STEPS_HELP == ", ".join(STEPS[:-1]) + " or " + STEPS[-1]
