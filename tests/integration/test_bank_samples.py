"""The public sample statements (../shared/samples, described in its SOURCES.md) through `dunning import bank` on
SQLite and PostgreSQL: each is imported with the sample's own accounts listed in settings.toml, says what it read,
paid and left for a person, and pays the invoices whose numbers it carries; importing it again changes nothing.
A statement for an account the creditor does not list is refused, naming the account."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.support import cli
from tests.support.engine import COLUMNS, row
from tests.support.statements import OUR_IBAN, write


@dataclass(frozen=True)
class Invoice:
    number: str
    amount: str
    issued: str  # issue and due date: before the statement that pays it
    due: str


@dataclass(frozen=True)
class Sample:
    path: str  # under SAMPLES
    accounts: tuple[str, ...]  # the accounts the file has statements for: the creditor's, for this test
    summary: str  # "N lines read, P payments, M matched, U unmatched, K already known" on the first import
    invoices: tuple[Invoice, ...] = ()  # imported first: what the file's remittance names
    after: dict[str, tuple[str, str]] = field(default_factory=dict)  # invoice -> (paid, open) after the import


SAMPLE_FILES = [
    Sample("camt053/genkgo_camt053.v8.xml", ("NL26VAYB8060476890",),
           # its SCOR reference 4654654654654654 is not one of ours
           "1 lines read, 1 payments, 0 matched, 1 unmatched, 0 already known"),
    Sample("camt053/newinnovations_sns_example-camt053-a.xml", ("NL14SNSB0012345678", "NL78SNSB0022446688"),
           # the transfer between the two own accounts and three interest credits: for a person to set aside
           "11 lines read, 4 payments, 0 matched, 4 unmatched, 0 already known"),
    Sample("camt053/oca_test-camt053-txdtls.xml", ("CH1111000000123456789",),
           # one batch entry in CHF, two lines with ISR references that are not ours
           "2 lines read, 2 payments, 0 matched, 2 unmatched, 0 already known"),
    Sample("camt053/oca_test-camt053.xml", ("NL77ABNA0574908765",),
           # a debit, a reversed batch of two direct debits this engine never collected, one credit without RmtInf
           "4 lines read, 1 payments, 0 matched, 1 unmatched, 0 already known"),
    Sample("camt053/rabobank_mpdroog-invoiced_CAMT053.xml", ("NL17RABO0310029597", "NL59RABO3181240869"),
           # three customer credits naming their invoice; the transfer into the second own account is left over
           "9 lines read, 4 payments, 3 matched, 1 unmatched, 0 already known",
           invoices=(Invoice("2016Q3-0004", "4425.25", "2016-07-01", "2016-07-31"),
                     Invoice("2016Q3-0005", "2982.99", "2016-08-01", "2016-08-31"),
                     Invoice("2016Q3-0006", "4516.68", "2016-09-01", "2016-10-01")),
           after={"2016Q3-0004": ("4425.25", "0.00"), "2016Q3-0005": ("2982.99", "0.00"),
                  "2016Q3-0006": ("4516.68", "0.00")}),
    Sample("mt940/oca_ing_test-ing.940", ("NL77INGB0574908765",),
           # "Factuurnr 123456" is on a returned payment (RTI, MS03): money of ours coming back, not a payment
           "8 lines read, 3 payments, 0 matched, 3 unmatched, 0 already known",
           invoices=(Invoice("123456", "1.57", "2014-01-01", "2014-01-31"),),
           after={"123456": ("0.00", "1.57")}),
    Sample("mt940/zilverline_abn_structured_sepa_acceptgiro.txt", ("555555555",),
           # the Currence acceptgiro reference 4420043232693268 is not one of ours
           "1 lines read, 1 payments, 0 matched, 1 unmatched, 0 already known"),
    Sample("mt940/zilverline_abn_structured_sepa_ideal.txt", ("555555555",),
           "1 lines read, 1 payments, 1 matched, 0 unmatched, 0 already known",
           invoices=(Invoice("10530", "10.50", "2014-12-01", "2014-12-31"),),
           after={"10530": ("10.50", "0.00")}),
    Sample("mt940/zilverline_rabobank_mt940_structured.txt", ("NL50RABO0123456789",),
           # 169,90 pays 201303-111 in full and 201303-112 in part; Wehkamp's 2050,95 names nothing
           "9 lines read, 5 payments, 4 matched, 1 unmatched, 0 already known",
           invoices=(Invoice("201302-080", "1923.90", "2013-02-01", "2013-03-01"),
                     Invoice("201303-088", "13431.00", "2013-03-01", "2013-03-31"),
                     Invoice("201303-111", "100.00", "2013-03-11", "2013-04-10"),
                     Invoice("201303-112", "100.00", "2013-03-11", "2013-04-10"),
                     Invoice("201303-128", "1640.76", "2013-03-20", "2013-04-19")),
           after={"201302-080": ("1923.90", "0.00"), "201303-088": ("13431.00", "0.00"),
                  "201303-111": ("100.00", "0.00"), "201303-112": ("69.90", "30.10"),
                  "201303-128": ("1640.76", "0.00")}),
]


@pytest.fixture(scope="module")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"no sample files at {SAMPLES}")
    return SAMPLES


def test_every_sample_statement_has_an_expectation(samples):
    listed = {s.path for s in SAMPLE_FILES}
    present = {p.relative_to(samples).as_posix() for p in [*samples.glob("camt053/*"), *samples.glob("mt940/*")]}
    assert present == listed


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def own_accounts(home: Path, accounts: tuple[str, ...]) -> None:
    """settings.toml: the creditor's IBAN stays the default; these are the further accounts debtors pay into."""
    listed = ", ".join(json.dumps(a) for a in accounts)
    (home / "settings.toml").write_text(f"[creditor]\naccounts = [{listed}]\n", encoding="utf-8")


def import_invoices(folder: Path, invoices: tuple[Invoice, ...]) -> None:
    rows = [{**row(i.number, "D1", "business", "d1@example.com", amount=i.amount, due=i.due), "issue_date": i.issued}
            for i in invoices]
    lines = [",".join(COLUMNS)] + [",".join(r[c] for c in COLUMNS) for r in rows]
    ok(cli.run("import", "invoices", str(write(folder, "invoices.csv", "\n".join(lines) + "\n"))))


def state() -> dict[str, list[dict]]:
    """Everything a statement import may change, as the listings show it."""
    return {verb: json.loads(ok(cli.run(verb, "--json")).stdout) for verb in ("invoices", "payments", "credits")}


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda s: Path(s.path).name)
def test_a_sample_statement_is_imported_once_and_pays_the_invoices_it_names(installation, samples, tmp_path, sample):
    own_accounts(installation.home, sample.accounts)
    if sample.invoices:
        import_invoices(tmp_path, sample.invoices)
    path = samples / sample.path

    first = ok(cli.run("import", "bank", str(path)))
    assert first.stdout.startswith(f"{path}: "), first.stdout
    assert "Traceback" not in first.stderr
    before = state()

    again = ok(cli.run("import", "bank", str(path)))
    lines = int(first.stdout.split(": ", 1)[1].split(" lines read")[0])
    assert again.stdout.strip() == (f"{path}: {lines} lines read, 0 payments, 0 matched, 0 unmatched, "
                                    f"{lines} already known")
    assert state() == before, "importing the same file again changes nothing"

    figures = {r["invoice"]: (r["paid"], r["open"]) for r in before["invoices"]}
    assert first.stdout.strip() == f"{path}: {sample.summary}"
    assert figures == sample.after
    statuses = {r["invoice"]: r["status"] for r in before["invoices"]}
    assert statuses == {n: "paid" if open_ == "0.00" else "open" for n, (_, open_) in sample.after.items()}
    assert before["credits"] == [], "no sample pays more than its invoices"


@pytest.mark.parametrize("name, account", [
    ("camt053/genkgo_camt053.v8.xml", "NL26VAYB8060476890"),
    ("mt940/zilverline_abn_structured_sepa_ideal.txt", "555555555"),
])
def test_a_sample_for_an_account_the_creditor_does_not_list_is_refused_naming_it(installation, samples, tmp_path,
                                                                                name, account):
    import_invoices(tmp_path, (Invoice("10530", "10.50", "2014-12-01", "2014-12-31"),))
    refused = cli.run("import", "bank", str(samples / name))
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"dunning: error: {samples / name}: the statement is for {account}, "
                                     f"not for the creditor's account(s) {OUR_IBAN}"), refused.stderr
    assert refused.stdout == ""
    assert json.loads(ok(cli.run("payments", "--json")).stdout) == []
    [invoice] = json.loads(ok(cli.run("invoices", "--json")).stdout)
    assert (invoice["paid"], invoice["open"]) == ("0.00", "10.50")


def test_lines_on_an_account_the_creditor_does_not_list_are_kept_but_are_no_payments(installation, samples,
                                                                                    tmp_path):
    """The Rabobank export holds two accounts; with only the business account listed, the transfer into the
    other is stored and set aside, and the customers' credits still pay their invoices."""
    own_accounts(installation.home, ("NL17RABO0310029597",))
    [rabobank] = [s for s in SAMPLE_FILES if s.path == "camt053/rabobank_mpdroog-invoiced_CAMT053.xml"]
    import_invoices(tmp_path, rabobank.invoices)
    path = samples / rabobank.path
    out = ok(cli.run("import", "bank", str(path))).stdout
    assert out.strip() == f"{path}: 9 lines read, 3 payments, 3 matched, 0 unmatched, 0 already known"
    other = [p for p in json.loads(ok(cli.run("payments", "--json")).stdout) if p["iban"] == "NL17RABO0310029597"]
    assert [(p["amount"], p["credit"], p["status"], p["note"]) for p in other] == [
        ("5823.83", True, "ignored", "another account than the creditor's")]
    assert {r["invoice"]: r["status"] for r in json.loads(ok(cli.run("invoices", "--json")).stdout)} == dict.fromkeys(
        rabobank.after, "paid")
