"""`dunning claim` and `dunning letter-term`, through a tiny typer app like the lead's main app."""

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dunning.cli import law as cli_law
from dunning.domain.errors import UserError

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    cli_law.register(app)
    return app


@pytest.fixture(autouse=True)
def covered_today(monkeypatch):
    # A day whose half-year both tables cover, so no warning unless a test asks for one.
    monkeypatch.setattr(cli_law, "_today", lambda: date(2026, 3, 1))


def run(app, *args: str):
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


CLAIM = ["claim", "--principal", "1500.00", "--kind", "consumer", "--interest-from", "2024-01-01"]


def test_claim_json_has_the_keys_of_issue_3_with_amounts_as_two_decimal_strings(app):
    data = json.loads(run(app, *CLAIM, "--as-of", "2024-07-01", "--json").stdout)
    assert data == {
        "principal": "1500.00",
        "interest": "52.36",  # 1500 x 7% x 182/365 = 52.356...
        "collection_costs": "225.00",
        "paid": "0.00",
        "outstanding": "1777.36",
        "periods": [{"from": "2024-01-01", "to": "2024-07-01", "rate": "7.00", "base": "1500.00", "interest": "52.36"}],
    }


def test_claim_applies_payments_and_adds_vat_on_request(app):
    data = json.loads(
        run(app, *CLAIM, "--as-of", "2024-07-01", "--payment", "2024-02-01=300.00", "--vat", "--json").stdout
    )
    assert data["collection_costs"] == "272.25"
    assert data["paid"] == "300.00"
    assert [p["from"] for p in data["periods"]] == ["2024-01-01", "2024-02-02"]


def test_claim_prints_a_readable_statement_by_default(app):
    out = run(app, *CLAIM, "--as-of", "2024-07-01", "--payment", "2024-02-01=300").stdout
    assert "outstanding" in out and "interest periods" in out and "payments applied" in out


@pytest.mark.parametrize("kind", ["business", "commercial"])
def test_a_business_claim_uses_the_commercial_rate_and_commercial_is_an_alias(app, kind):
    args = ["claim", "--principal", "10000", "--kind", kind, "--interest-from", "2024-01-01"]
    data = json.loads(run(app, *args, "--as-of", "2024-07-01", "--json").stdout)
    assert data["periods"][0]["rate"] == "12.50" and data["interest"] == "623.29"


def test_letter_term_json_gives_posted_presumed_delivery_and_deadline(app):
    data = json.loads(run(app, "letter-term", "--posted", "2026-12-09", "--json").stdout)
    assert data == {"posted": "2026-12-09", "presumed_delivery": "2026-12-11", "deadline": "2026-12-28"}
    email = json.loads(run(app, "letter-term", "--posted", "2026-12-09", "--email", "--json").stdout)
    assert email["presumed_delivery"] == "2026-12-09"


def test_letter_term_prints_text_by_default(app):
    assert "2026-12-28" in run(app, "letter-term", "--posted", "2026-12-09").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--principal", "-1500.00"], "negative"),
        (["--principal", "1.500,00"], "not an amount"),
        (["--principal", "15.001"], "not an amount"),
        (["--kind", "businesses"], "consumer or business"),
        (["--interest-from", "01-01-2024"], "not a date"),
        (["--as-of", "2023-12-31"], "before"),
        (["--payment", "2024-02-01"], "DATE=AMOUNT"),
        (["--payment", "2024-02-30=10"], "not a date"),
        (["--payment", "2024-02-01=ten"], "not an amount"),
        (["--payment", "2024-02-01=0"], "more than zero"),
        (["--payment", "2025-02-01=10"], "after the as-of"),
    ],
)
def test_bad_claim_input_raises_a_one_line_user_error(app, args, message):
    base = {"--principal": "1500.00", "--kind": "consumer", "--interest-from": "2024-01-01", "--as-of": "2024-07-01"}
    argv = ["claim"]
    for option, value in base.items():
        if option not in args:
            argv += [option, value]
    argv += args
    with pytest.raises(UserError, match=message) as caught:
        CliRunner().invoke(app, argv, catch_exceptions=False)
    assert "\n" not in str(caught.value)


def test_a_claim_before_the_rate_table_starts_is_a_user_error(app):
    args = ["claim", "--principal", "100", "--kind", "commercial", "--interest-from", "2010-01-01"]
    with pytest.raises(UserError, match="no statutory interest rate"):
        CliRunner().invoke(app, [*args, "--as-of", "2013-01-01"], catch_exceptions=False)


def test_a_malformed_posting_date_is_a_user_error(app):
    with pytest.raises(UserError, match="not a date"):
        CliRunner().invoke(app, ["letter-term", "--posted", "yesterday"], catch_exceptions=False)


def test_claim_warns_on_stderr_when_the_rate_table_lacks_the_current_half_year(app, monkeypatch):
    monkeypatch.setattr(cli_law, "_today", lambda: date(2027, 8, 1))
    result = run(app, *CLAIM, "--as-of", "2024-07-01", "--json")
    assert "no row for the half-year from 2027-07-01" in result.stderr
    json.loads(result.stdout)  # stdout stays clean JSON


def test_missing_rate_warning_is_a_pure_function_for_the_flow_log():
    assert cli_law.missing_rate_warning("commercial", date(2026, 11, 22)) is None
    assert "non-commercial" in cli_law.missing_rate_warning("consumer", date(2026, 11, 22))


def test_the_law_commands_import_neither_prefect_nor_sqlalchemy():
    code = (
        "import sys, dunning.cli.law;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('prefect', 'sqlalchemy')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_register_takes_the_installations_override_directory_for_the_data(tmp_path):
    (tmp_path / "nl_atw_extra_days.csv").write_text("date,status,name,source\n2026-12-28,,test day,test\n")
    app = typer.Typer()
    cli_law.register(app, law_dir=lambda: tmp_path)
    data = json.loads(run(app, "letter-term", "--posted", "2026-12-09", "--json").stdout)
    assert data["deadline"] == "2026-12-29"  # 28 December is now a declared day as well
