"""Spreadsheet exports as packages write them, written here: separators, decimal marks, encodings, a mapping
file for another package's headers, credit notes, open-items lists, and broken files with the place named."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from dunning.documents.mapping import COLUMNS, ColumnMapping, parse_mapping, read_mapping
from dunning.documents.records import DocumentError, DocumentKind
from dunning.documents.spreadsheet import RowError, read_invoice_rows, read_open_items, row_error
from dunning.domain.errors import UserError
from dunning.domain.kinds import Channel, DebtorKind

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"

JAN = {
    "invoice_number": "F-2026-001",
    "debtor_number": "D-100",
    "debtor_name": "Jan de Vries",
    "debtor_kind": "consumer",
    "email": "jan@example.nl",
    "phone": "+31 6 12345678",
    "street": "Dorpsstraat 1",
    "postcode": "1234 AB",
    "city": "Utrecht",
    "country": "nl",
    "language": "nl",
    "issue_date": "2026-01-05",
    "due_date": "2026-02-04",
    "amount": "1234.50",
    "currency": "EUR",
}
MARKT = {
    **JAN,
    "invoice_number": "F-2026-002",
    "debtor_number": "D-200",
    "debtor_name": "Grand Café De Markt B.V.",
    "debtor_kind": "business",
    "email": "",
    "language": "",
    "currency": "",
    "amount": "0.10",
}


def csv_text(*rows: dict[str, str], delimiter: str = ",", header: list[str] | None = None) -> str:
    columns = header or list(rows[0])

    def cell(value: str) -> str:
        return f'"{value}"' if delimiter in value or "\n" in value or '"' in value else value

    lines = [delimiter.join(columns)] + [delimiter.join(cell(row.get(c, "")) for c in columns) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def read(text: str, file: str = "invoices.csv", encoding: str = "utf-8", **options):
    return read_invoice_rows(text.encode(encoding), file, **options)


def error(text: str | bytes, file: str = "invoices.csv", **options) -> str:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(UserError) as e:
        read_invoice_rows(data, file, **options)
    message = str(e.value)
    assert "\n" not in message and "\r" not in message
    return message


# --- today's file reads as it did ----------------------------------------------------------------------------


def test_the_documented_csv_reads_into_records():
    first, second = read(csv_text(JAN, MARKT))
    assert (first.where, first.number, first.issue_date, first.due_date) == (
        "row 2", "F-2026-001", date(2026, 1, 5), date(2026, 2, 4))
    assert (first.amount, first.currency, first.kind, first.credits_invoice) == (
        Decimal("1234.50"), "EUR", DocumentKind.invoice, None)
    assert type(first.amount) is Decimal and str(second.amount) == "0.10"
    jan = first.debtor
    assert (jan.number, jan.name, jan.kind, jan.email, jan.phone) == (
        "D-100", "Jan de Vries", DebtorKind.consumer, "jan@example.nl", "+31 6 12345678")
    assert (jan.street, jan.postcode, jan.city, jan.country, jan.language) == (
        "Dorpsstraat 1", "1234 AB", "Utrecht", "NL", "nl")
    markt = second.debtor
    # Empty optional fields: not given (the importer keeps or defaults them); currency EUR as before.
    assert (markt.kind, markt.email, markt.language, second.currency) == (DebtorKind.business, None, None, "EUR")
    assert (markt.contact_name, markt.iban, markt.preferred_channel, markt.call_times) == (None, None, None, None)


def test_optional_columns_channel_call_times_contact_and_iban():
    row = {**JAN, "preferred_channel": "Letter", "call_times": "weekdays after 14:00",
           "contact_name": "Zoë Jansen", "iban": "nl91 abna 0417 1643 00"}
    (record,) = read(csv_text(row))
    debtor = record.debtor
    assert (debtor.preferred_channel, debtor.call_times) == (Channel.letter, "weekdays after 14:00")
    assert (debtor.contact_name, debtor.iban) == ("Zoë Jansen", "NL91ABNA0417164300")


@pytest.mark.parametrize(("given", "kept"), [("Mevrouw", "mevrouw"), ("dhr.", "heer"), ("Mr", "mr"), ("Mrs.", "ms"),
                                            ("", None)])
def test_the_contact_persons_salutation_is_read_as_the_letters_use_it(given, kept):
    (record,) = read(csv_text({**JAN, "contact_name": "Zoë de Wit", "contact_salutation": given}))
    assert record.debtor.contact_salutation == kept


def test_an_unknown_salutation_names_its_row_and_column():
    with pytest.raises(RowError, match="contact_salutation.*unknown salutation 'Dr' .heer, mevrouw, mr or ms"):
        read(csv_text({**JAN, "contact_salutation": "Dr"}))


def test_commercial_is_business_and_kinds_are_read_in_any_case():
    records = read(csv_text({**JAN, "debtor_kind": "commercial"}, {**MARKT, "debtor_kind": "Consumer"}))
    assert [r.debtor.kind for r in records] == [DebtorKind.business, DebtorKind.consumer]


def test_a_header_only_file_has_no_records_and_an_identical_repeated_row_is_read_once():
    assert read(",".join(COLUMNS) + "\r\n") == []
    (record,) = read(csv_text(JAN, JAN))
    assert record.where == "row 2"


def test_only_the_required_columns_must_be_in_the_header():
    header = ["invoice_number", "debtor_number", "debtor_name", "debtor_kind", "issue_date", "due_date", "amount"]
    (record,) = read(csv_text(JAN, header=header))
    assert (record.debtor.email, record.debtor.country, record.currency) == (None, None, "EUR")


# --- separators, decimal marks, encodings -------------------------------------------------------------------


DUTCH = {**MARKT, "debtor_name": "Café De Markt", "contact_name": "Zoë de Wit", "city": "Zwolle",
         "amount": "1.234,56"}


def test_semicolons_decimal_commas_and_windows_1252_are_detected():
    text = csv_text(DUTCH, {**JAN, "amount": "12,50"}, {**JAN, "invoice_number": "F-3", "amount": "7"},
                    delimiter=";")
    data = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    first, second, third = read_invoice_rows(data, "export.csv")
    assert (first.debtor.name, first.debtor.contact_name) == ("Café De Markt", "Zoë de Wit")
    assert [r.amount for r in (first, second, third)] == [Decimal("1234.56"), Decimal("12.50"), Decimal("7.00")]


def test_utf8_with_a_byte_order_mark_reads_the_first_column():
    data = "\ufeff".encode() + csv_text(DUTCH).encode()
    (record,) = read_invoice_rows(data, "bom.csv")
    assert (record.number, record.debtor.name) == ("F-2026-002", "Café De Markt")
    assert record.amount == Decimal("1234.56")  # "1.234,56" quoted in a comma file: a decimal comma


def test_tab_separated():
    (record,) = read(csv_text({**JAN, "debtor_name": "Jan, de Vries"}, delimiter="\t"))
    assert (record.debtor.name, record.amount) == ("Jan, de Vries", Decimal("1234.50"))


def test_excels_sep_line_names_the_delimiter_and_rows_still_count_lines():
    text = "sep=;\r\n" + csv_text({**JAN, "amount": "12,50"}, {**MARKT, "email": "jan@"}, delimiter=";")
    assert error(text) == "invoices.csv:4:email: not a valid e-mail address: 'jan@'"
    (record,) = read("sep=;\r\n" + csv_text({**JAN, "amount": "12,50"}, delimiter=";"))
    assert record.amount == Decimal("12.50")


def test_the_header_line_decides_the_delimiter_outside_quotes():
    header = [f'"{c}"' if c == "debtor_name" else c for c in COLUMNS]
    text = ";".join(header).replace('"debtor_name"', '"debtor_name, as written"')
    # Commas inside a quoted header do not count: still a semicolon file (and that column is then missing).
    assert error(text + "\r\n") == (
        "invoices.csv:1:debtor_name: missing column (required: invoice_number,debtor_number,debtor_name,"
        "debtor_kind,issue_date,due_date,amount)")


@pytest.mark.parametrize(("amounts", "delimiter", "expected"), [
    (["1.234,56", "1.234"], ";", ["1234.56", "1234.00"]),  # one value decides: 1.234 is a thousand
    (["1,234.56", "1,234"], ",", ["1234.56", "1234.00"]),
    (["1.234.567,89", "0,01"], ";", ["1234567.89", "0.01"]),
    (["1,234,567.89", "0.01"], ",", ["1234567.89", "0.01"]),
    (["1.234.567", "5"], ",", ["1234567.00", "5.00"]),  # only thousands separators: the other is the mark
    (["1234,5", "-3"], ",", ["1234.50", "3.00"]),
    (["1,250", "1.250"], ";", ["1.25", "1250.00"]),  # with ; a lone comma is a decimal comma
    (["1.234"], ";", ["1234.00"]),  # nothing decides: a ; file has a decimal comma
    (["1.250"], ",", ["1.25"]),  # nothing decides: a , file has a decimal point
    (["0.500"], ";", ["0.50"]),  # a thousands group never starts with 0: a decimal point
    (["10.500", "12.50", "13,00"], ",", None),  # the dot has most votes; 13,00 is the error (below)
])
def test_the_decimal_mark_is_decided_once_per_file(amounts, delimiter, expected):
    rows = [{**JAN, "invoice_number": f"F-{i}", "amount": a} for i, a in enumerate(amounts)]
    text = csv_text(*rows, delimiter=delimiter)
    if expected is None:
        assert error(text) == ("invoices.csv:4:amount: not an amount (use a dot for decimals): '13,00'; "
                               "the file's other amounts have a decimal point")
        return
    assert [r.amount for r in read(text)] == [Decimal(e) for e in expected]


def test_an_amount_against_the_files_decimal_comma_names_row_and_column():
    rows = [{**JAN, "invoice_number": f"F-{i}", "amount": a} for i, a in enumerate(["12,50", "1.000,00", "14.50"])]
    assert error(csv_text(*rows, delimiter=";")) == (
        "invoices.csv:4:amount: not an amount (use a comma for decimals): '14.50'; the file's other amounts have "
        "a decimal comma")


@pytest.mark.parametrize("amount", ["1.23,45", "12.34.56", "1,2345.00", "€ 12,50", "12,50-", "1 234,56", "--5",
                                    "\u0661\u0662,50"])
def test_inconsistent_thousands_separators_and_decorations_are_not_amounts(amount):
    text = csv_text({**JAN, "amount": "10,00"}, {**MARKT, "amount": amount}, delimiter=";")
    assert error(text) == f"invoices.csv:3:amount: not an amount (use a comma for decimals): {amount!r}"


def test_encoding_and_delimiter_can_be_given():
    text = csv_text(DUTCH, delimiter=";")
    latin = text.encode("cp1252")
    # Read as UTF-8 when told so: refused, not guessed.
    with pytest.raises(DocumentError, match=r"^x.csv: not utf-8 text \(invalid continuation byte at byte \d+\)$"):
        read_invoice_rows(latin, "x.csv", encoding="utf-8")
    (record,) = read_invoice_rows(latin, "x.csv", encoding="cp1252", delimiter=";")
    assert record.debtor.name == "Café De Markt"
    # A wrong delimiter finds one column only.
    assert error(text, delimiter=",").startswith("invoices.csv:1:invoice_number: missing column")
    assert error(text, delimiter=",").endswith("; the header reads as one column with delimiter ',')")
    assert error(text, delimiter="tab").startswith("invoices.csv:1:invoice_number: missing column")
    assert error(text, delimiter="|") == "invoices.csv: delimiter '|' is not one of ',', ';', '\\t' (or 'tab')"
    assert error(text, encoding="klingon") == "invoices.csv: unknown encoding 'klingon' (e.g. utf-8, cp1252)"


def test_no_other_encoding_is_guessed():
    assert error(b"invoice_number\r\n\x81\r\n") == (
        "invoices.csv: neither UTF-8 nor Windows-1252 text (byte 0x81 at 16); give the encoding")
    utf16 = csv_text(JAN, delimiter="\t").encode("utf-16")
    assert error(utf16).startswith("invoices.csv: UTF-16 text")
    (record,) = read_invoice_rows(utf16, "unicode.txt", encoding="utf-16")
    assert record.number == "F-2026-001"


# --- credit notes, kinds ---------------------------------------------------------------------------------------


def test_a_negative_amount_is_a_credit_note_on_its_invoice_or_on_the_debtor():
    against = {**JAN, "invoice_number": "C-1", "amount": "-250,00", "credits_invoice": "F-2026-001"}
    on_debtor = {**JAN, "invoice_number": "C-2", "amount": "-1.000,00", "credits_invoice": ""}
    rows = ({**JAN, "amount": "1.250,00"}, against, on_debtor)
    invoice, credit, loose = read(csv_text(*rows, delimiter=";", header=[*COLUMNS, "credits_invoice"]))
    assert (invoice.kind, invoice.amount) == (DocumentKind.invoice, Decimal("1250.00"))
    assert (credit.kind, credit.amount, credit.credits_invoice) == (
        DocumentKind.credit_note, Decimal("250.00"), "F-2026-001")
    assert (loose.kind, loose.amount, loose.credits_invoice) == (DocumentKind.credit_note, Decimal("1000.00"), None)


def test_a_credit_note_has_a_negative_amount_and_credits_another_invoice():
    positive = {**JAN, "invoice_number": "C-1", "credits_invoice": "F-9"}
    assert error(csv_text(JAN, positive, header=[*COLUMNS, "credits_invoice"])) == (
        "invoices.csv:3:amount: a credit note (credits_invoice F-9) has a negative amount, got '1234.50'")
    itself = {**JAN, "amount": "-5", "credits_invoice": "F-2026-001"}
    assert error(csv_text(itself, header=[*COLUMNS, "credits_invoice"])) == (
        "invoices.csv:2:credits_invoice: a credit note cannot credit itself: 'F-2026-001'")
    assert error(csv_text({**JAN, "amount": "-5", "credits_invoice": "F" * 51},
                          header=[*COLUMNS, "credits_invoice"])) == (
        "invoices.csv:2:credits_invoice: longer than 50 characters")


def test_a_default_kind_fills_an_empty_or_absent_debtor_kind():
    rows = csv_text({**JAN, "debtor_kind": ""}, {**MARKT, "debtor_kind": "consumer"})
    assert [r.debtor.kind for r in read(rows, default_kind=DebtorKind.business)] == [
        DebtorKind.business, DebtorKind.consumer]
    assert error(rows) == "invoices.csv:2:debtor_kind: missing value"
    without = csv_text(JAN, header=[c for c in COLUMNS if c != "debtor_kind"])
    assert [r.debtor.kind for r in read(without, default_kind=DebtorKind.consumer)] == [DebtorKind.consumer]
    assert error(without).startswith("invoices.csv:1:debtor_kind: missing column")


# --- a mapping file for another package's export --------------------------------------------------------------


DUTCH_HEADERS = """
date_format = "%d-%m-%Y"

[columns]
invoice_number = "Factuurnummer"
debtor_number = "Debiteurnummer"
debtor_name = "Naam"
issue_date = "Factuurdatum"
due_date = "Vervaldatum"
amount = "Bedrag"
contact_name = "T.a.v."
credits_invoice = "Creditnota op"
open_amount = "Openstaand"

[defaults]
debtor_kind = "business"
currency = "EUR"
"""
DUTCH_EXPORT = (
    "Factuurnummer;Debiteurnummer;Naam;T.a.v.;Factuurdatum;Vervaldatum;Bedrag;Creditnota op;Kostenplaats\r\n"
    "2026-0117;10042;Grand Café De Markt B.V.;Zoë Jansen;05-01-2026;04-02-2026;1.250,00;;Horeca\r\n"
    "2026-0120;10042;Grand Café De Markt B.V.;Zoë Jansen;07-01-2026;06-02-2026;-250,00;2026-0117;Horeca\r\n"
)


def mapping(text: str = DUTCH_HEADERS, file: str = "exact.toml") -> ColumnMapping:
    return parse_mapping(text, file)


def test_a_mapping_file_reads_another_packages_export_without_editing_it():
    data = DUTCH_EXPORT.encode("cp1252")
    invoice, credit = read_invoice_rows(data, "export.csv", mapping=mapping())
    assert (invoice.number, invoice.issue_date, invoice.due_date, invoice.amount, invoice.currency) == (
        "2026-0117", date(2026, 1, 5), date(2026, 2, 4), Decimal("1250.00"), "EUR")
    debtor = invoice.debtor
    assert (debtor.number, debtor.name, debtor.kind, debtor.contact_name) == (
        "10042", "Grand Café De Markt B.V.", DebtorKind.business, "Zoë Jansen")
    assert (credit.kind, credit.amount, credit.credits_invoice) == (
        DocumentKind.credit_note, Decimal("250.00"), "2026-0117")


def test_the_mapping_names_their_header_in_errors_and_its_settings_win_over_detection():
    bad_date = DUTCH_EXPORT.replace("05-01-2026", "2026-01-05")
    assert error(bad_date, mapping=mapping()) == "invoices.csv:2:Factuurdatum: not a date (DD-MM-YYYY): '2026-01-05'"
    stated = mapping(DUTCH_HEADERS.replace("[columns]", 'decimal_mark = "."\n\n[columns]'))
    assert error(DUTCH_EXPORT, mapping=stated) == (
        "invoices.csv:2:Bedrag: not an amount (use a dot for decimals): '1.250,00'; exact.toml says decimal_mark = '.'")
    assert error(DUTCH_EXPORT, mapping=mapping(DUTCH_HEADERS.replace("[columns]", 'delimiter = ","\n[columns]'))) \
        == "exact.toml: columns.invoice_number: no column 'Factuurnummer' in invoices.csv (its columns: " \
        "Factuurnummer;Debiteurnummer;Naam;T.a.v.;Factuurdatum;Vervaldatum;Bedrag;Creditnota op;Kostenplaats)"
    # Given as an argument (--delimiter), the delimiter wins over the mapping file's.
    assert len(read(DUTCH_EXPORT, mapping=mapping(DUTCH_HEADERS.replace("[columns]", 'delimiter = ","\n[columns]')),
                    delimiter=";")) == 2
    # A debtor_kind column in the file wins over the default; an empty cell takes the default.
    with_kind = DUTCH_EXPORT.replace("Kostenplaats", "debtor_kind").replace("Horeca", "consumer", 1)
    with_kind = with_kind.replace("Horeca", "")
    kinds = [r.debtor.kind for r in read(with_kind, mapping=mapping(), default_kind=DebtorKind.consumer)]
    assert kinds == [DebtorKind.consumer, DebtorKind.business]


def test_a_header_the_file_lacks_and_a_bad_default_name_the_mapping_file_and_key():
    lacking = DUTCH_EXPORT.replace("Bedrag", "Totaal")
    assert error(lacking, mapping=mapping()).startswith(
        "exact.toml: columns.amount: no column 'Bedrag' in invoices.csv (its columns: Factuurnummer, Debiteurnummer, ")
    bad_kind = mapping(DUTCH_HEADERS.replace('"business"', '"company"'))
    assert error(DUTCH_EXPORT, mapping=bad_kind) == (
        "exact.toml: defaults.debtor_kind: unknown kind 'company' (consumer or business)")
    bad_currency = mapping(DUTCH_HEADERS.replace('"EUR"', '"euro"'))
    assert error(DUTCH_EXPORT, mapping=bad_currency) == (
        "exact.toml: defaults.currency: not a currency code (e.g. EUR): 'euro'")
    # A required field neither in the file nor mapped.
    no_due = mapping(DUTCH_HEADERS.replace('due_date = "Vervaldatum"\n', ""))
    assert error(DUTCH_EXPORT, mapping=no_due) == (
        "invoices.csv:1:due_date: missing column (required: invoice_number,debtor_number,debtor_name,issue_date,"
        "due_date,amount; or name its header in exact.toml [columns])")


@pytest.mark.parametrize(("text", "message"), [
    ('colums = {}', "exact.toml: colums: unknown key (known: delimiter, decimal_mark, date_format, encoding, "
                    "columns, defaults)"),
    ('[columns]\nfactuurnummer = "Factuurnummer"', "exact.toml: columns.factuurnummer: unknown field (fields: "),
    ('[columns]\namount = 5', "exact.toml: columns.amount: must be a string, got 5"),
    ('[columns]\namount = ""', "exact.toml: columns.amount: empty header"),
    ('[columns]\namount = "Bedrag\\n"', "exact.toml: columns.amount: line breaks and other control characters"),
    ('[defaults]\namount = "10"', "exact.toml: defaults.amount: no default possible for this field (only: "),
    ('columns = "Factuurnummer"', "exact.toml: columns: must be a table ([columns])"),
    ('decimal_mark = ";"', "exact.toml: decimal_mark: ';' is not '.' or ','"),
    ('delimiter = "|"', "exact.toml: delimiter: '|' is not one of ',', ';', '\\t' (or 'tab')"),
    ('encoding = "klingon"', "exact.toml: encoding: unknown encoding 'klingon' (e.g. utf-8, cp1252)"),
    ('date_format = "%d-%m"', "exact.toml: date_format: not a date format with day, month and year: '%d-%m'"),
    ('date_format = "%m-%d-%y"', None),
    ('delimiter = "tab"', None),
    ('[columns\n', "exact.toml: not valid TOML (Expected ']' at the end of a table declaration (at line 1, "),
])
def test_a_broken_mapping_file_names_the_key(text, message):
    if message is None:
        parse_mapping(text, "exact.toml")
        return
    with pytest.raises(DocumentError) as e:
        parse_mapping(text, "exact.toml")
    assert str(e.value).startswith(message)


def test_read_mapping_reads_a_file_and_says_when_there_is_none(tmp_path):
    path = tmp_path / "mapping.toml"
    path.write_text(DUTCH_HEADERS, encoding="utf-8")
    assert read_mapping(path).columns["amount"] == "Bedrag"
    with pytest.raises(DocumentError, match=rf"^{tmp_path / 'nope.toml'}: no such file$"):
        read_mapping(tmp_path / "nope.toml")


def test_the_readme_example_export_reads_with_its_mapping():
    example = read_mapping(EXAMPLES / "exact-export-mapping.toml")
    file = EXAMPLES / "exact-export.csv"
    records = read_invoice_rows(file.read_bytes(), str(file), mapping=example)
    assert [(r.number, r.kind, r.amount, r.credits_invoice) for r in records] == [
        ("2026-0117", DocumentKind.invoice, Decimal("1250.00"), None),
        ("2026-0118", DocumentKind.invoice, Decimal("342.75"), None),
        ("2026-0131", DocumentKind.invoice, Decimal("18400.50"), None),
        ("C2026-0009", DocumentKind.credit_note, Decimal("250.00"), "2026-0117"),
    ]
    markt = records[0].debtor
    assert (markt.name, markt.contact_name, markt.kind, markt.country) == (
        "Grand Café De Markt B.V.", "Zoë Jansen", DebtorKind.business, "NL")
    assert records[2].debtor.contact_name is None
    assert records[0].issue_date == date(2026, 1, 5)


# --- broken rows: file:row:column: reason ---------------------------------------------------------------------

BAD_ROWS = {
    "missing amount": ("amount", "", "missing value"),
    "missing debtor name": ("debtor_name", "", "missing value"),
    "missing due date": ("due_date", "", "missing value"),
    "impossible date": ("due_date", "2026-02-30", "not a date (YYYY-MM-DD): '2026-02-30'"),
    "day-first date": ("issue_date", "05-01-2026", "not a date (YYYY-MM-DD): '05-01-2026'"),
    "compact date": ("issue_date", "20260105", "not a date (YYYY-MM-DD): '20260105'"),
    "due before issue": ("due_date", "2026-01-04", "due date lies before the issue date"),
    "zero amount": ("amount", "0.00", "amount must not be zero (a credit note has a negative amount): '0.00'"),
    "decimal comma in a dot file": ("amount", "12,50", "not an amount (use a dot for decimals): '12,50'"),
    "words for an amount": ("amount", "twelve", "not an amount (use a dot for decimals): 'twelve'"),
    "not a number": ("amount", "NaN", "not an amount (use a dot for decimals): 'NaN'"),
    "infinite amount": ("amount", "Infinity", "not an amount (use a dot for decimals): 'Infinity'"),
    "exponent": ("amount", "1e30", "not an amount (use a dot for decimals): '1e30'"),
    "more than two decimals": ("amount", "10.005", "more than two decimals: '10.005'"),
    "amount beyond the column": ("amount", "1000000000000.00", "amount too large (at most 999999999999.99)"),
    "credit beyond the column": ("amount", "-1000000000000.00", "amount too large"),
    "unknown kind": ("debtor_kind", "company", "unknown kind 'company' (consumer or business)"),
    "e-mail without domain": ("email", "jan@", "not a valid e-mail address: 'jan@'"),
    "e-mail with a space": ("email", "jan de vries@example.nl", "not a valid e-mail address"),
    "two addresses": ("email", "jan@example.nl,piet@example.nl", "not a valid e-mail address"),
    "line feed in a field": ("debtor_name", "Jan\nde Vries", "line breaks and other control characters"),
    "carriage return and line feed": ("street", "Dorpsstraat 1\r\nBcc: x@example.nl",
                                      "line breaks and other control characters"),
    "unicode line separator": ("debtor_name", "Jan\u2028de Vries", "line breaks and other control characters"),
    "tab in a field": ("debtor_name", "Jan\tde Vries", "line breaks and other control characters"),
    "control character": ("street", "Dorpsstraat\x01 1", "line breaks and other control characters"),
    "invoice number longer than the column": ("invoice_number", "F" * 51, "longer than 50 characters"),
    "name longer than the column": ("debtor_name", "N" * 201, "longer than 200 characters"),
    "postcode longer than the column": ("postcode", "1" * 21, "longer than 20 characters"),
    "bad currency": ("currency", "euro", "not a currency code (e.g. EUR): 'euro'"),
    "bad language": ("language", "de", "unsupported language 'de' (nl or en)"),
    "bad country": ("country", "NLD", "not a two-letter country code: 'NLD'"),
    "unknown channel": ("preferred_channel", "pigeon", "unknown channel 'pigeon' (email, letter or phone)"),
    "call times too long": ("call_times", "x" * 101, "longer than 100 characters"),
    "call times with a line break": ("call_times", "mornings\nonly", "line breaks and other control characters"),
    "contact name too long": ("contact_name", "Z" * 101, "longer than 100 characters"),
    "contact name with a line break": ("contact_name", "Zoë\r\nBcc: x", "line breaks and other control characters"),
    "bad iban": ("iban", "NL00ABNA0417164300", "not a valid IBAN: 'NL00ABNA0417164300' ("),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_bad_row_names_file_row_and_column(case):
    column, value, reason = BAD_ROWS[case]
    header = [*COLUMNS, "preferred_channel", "call_times", "contact_name", "iban", "credits_invoice"]
    text = csv_text(MARKT, {**JAN, column: value}, header=header)
    with pytest.raises(RowError) as e:
        read(text)
    assert str(e.value).startswith(f"invoices.csv:3:{column}: {reason}")
    assert (e.value.file, e.value.row, e.value.column, e.value.where) == (
        "invoices.csv", 3, column, f"row 3, column {column}")
    assert e.value.reason.startswith(reason)


def test_rows_are_the_lines_where_records_start():
    broken = csv_text(JAN, {**MARKT, "debtor_name": "Jan\nde Vries"}).split("\r\n")
    text = "\r\n".join([broken[0], "", broken[1], broken[2], broken[3], ""])  # blank line 2, record on lines 4-5
    assert error(text).startswith("invoices.csv:4:debtor_name: line breaks and other control characters")
    later = "\r\n".join([broken[0], "", broken[1], "", csv_text({**MARKT, "email": "x"}).split("\r\n")[1], ""])
    assert error(later) == "invoices.csv:5:email: not a valid e-mail address: 'x'"


def test_the_same_invoice_twice_with_other_data_names_both_rows():
    assert error(csv_text(JAN, MARKT, {**JAN, "amount": "1300.00"})) == (
        "invoices.csv:4:invoice_number: invoice also on row 2 with other data")


def test_a_missing_column_a_doubled_column_and_too_many_fields():
    assert error("invoice_number,debtor_number\r\nF-1,D-1\r\n").startswith(
        "invoices.csv:1:debtor_name: missing column (required: invoice_number,debtor_number,debtor_name,")
    assert error(b"").startswith("invoices.csv:1:invoice_number: missing column")
    doubled = ",".join([*COLUMNS, "amount"]) + "\r\n"
    assert error(doubled) == "invoices.csv:1:amount: the header has this column more than once"
    row = csv_text(JAN).split("\r\n")[1]
    assert error(",".join(COLUMNS) + f"\r\n{row},extra\r\n") == (
        "invoices.csv:2: more fields than the header has columns")
    # A trailing delimiter (empty fields beyond the header) is no error.
    (record,) = read(",".join(COLUMNS) + f"\r\n{row},,\r\n")
    assert record.amount == Decimal("1234.50")


def test_a_bare_carriage_return_outside_quotes_is_refused_at_its_row():
    text = ",".join(COLUMNS) + "\n" + ",".join({**JAN, "city": "Utrecht\rX"}.values()) + "\n"
    assert error(text).startswith("invoices.csv:2:")


def test_a_nul_byte_is_refused_at_its_row():
    text = csv_text(JAN, {**MARKT, "street": "Markt\x0012"})
    assert error(text).startswith("invoices.csv:3:street: line breaks and other control characters")


def test_row_error_for_records_read_here():
    assert str(row_error("f.csv", "row 7", "amount", "exists with amount 1.00")) == (
        "f.csv:7:amount: exists with amount 1.00")
    assert str(row_error("f.csv", "row 7", None, "belongs to D-1")) == "f.csv:7: belongs to D-1"
    assert str(row_error("f.xml", "Invoice X", "cbc:DueDate", "bad")) == "f.xml: Invoice X: cbc:DueDate: bad"
    assert isinstance(row_error("f.csv", "row 7", None, "x"), DocumentError)


# --- open items --------------------------------------------------------------------------------------------------


def open_items(text: str, file: str = "open-items.csv", encoding: str = "utf-8", **options) -> dict[str, Decimal]:
    return read_open_items(text.encode(encoding), file, **options)


def open_items_error(text: str, file: str = "open-items.csv", **options) -> str:
    with pytest.raises(UserError) as e:
        read_open_items(text.encode(), file, **options)
    return str(e.value)


def test_an_open_items_list_reads_numbers_and_open_amounts():
    text = "invoice_number,open_amount\r\nF-1,1234.50\r\nF-2,0\r\nF-3,\"1,000.00\"\r\nF-1,1234.5\r\n"
    assert open_items(text) == {"F-1": Decimal("1234.50"), "F-2": Decimal("0.00"), "F-3": Decimal("1000.00")}
    dutch = "invoice_number;open_amount;klant\r\nF-1;1.234,50;Café\r\nF-2;12,5;Zoë\r\n"
    assert open_items(dutch, encoding="cp1252") == {"F-1": Decimal("1234.50"), "F-2": Decimal("12.50")}
    assert open_items(dutch.replace(";", "\t")) == {"F-1": Decimal("1234.50"), "F-2": Decimal("12.50")}


def test_an_open_items_list_through_the_mapping_file():
    text = "Factuurnummer;Openstaand;Debiteur\r\n2026-0117;1.000,00;10042\r\n2026-0118;342,75;10042\r\n"
    assert open_items(text, mapping=mapping()) == {"2026-0117": Decimal("1000.00"), "2026-0118": Decimal("342.75")}
    assert open_items_error(text.replace("Openstaand", "Saldo"), mapping=mapping()).startswith(
        "exact.toml: columns.open_amount: no column 'Openstaand' in open-items.csv (its columns: ")


@pytest.mark.parametrize(("text", "message"), [
    ("invoice_number,open_amount\r\nF-1,10.00\r\nF-2,5.00\r\nF-1,12.00\r\n",
     "open-items.csv:4:invoice_number: invoice also on row 2 with open amount 10.00, here 12.00"),
    ("invoice_number,open_amount\r\nF-1,-10.00\r\n", "open-items.csv:2:open_amount: open amount must not be "
                                                     "negative: '-10.00'"),
    ("invoice_number,open_amount\r\n", "open-items.csv:2: no open items: an empty list would settle every open "
                                       "invoice"),
    ("invoice_number,open_amount\r\n\r\n,\r\n", "open-items.csv:4: no open items"),
    ("", "open-items.csv:1:invoice_number: missing column (required: invoice_number,open_amount)"),
    ("invoice_number,amount\r\nF-1,1\r\n", "open-items.csv:1:open_amount: missing column"),
    ("invoice_number,open_amount\r\nF-1,\r\n", "open-items.csv:2:open_amount: missing value"),
    ("invoice_number,open_amount\r\n,5\r\n", "open-items.csv:2:invoice_number: missing value"),
    (f"invoice_number,open_amount\r\n{'F' * 51},5\r\n", "open-items.csv:2:invoice_number: longer than 50 characters"),
    ("invoice_number,open_amount\r\nF-1,5.005\r\n", "open-items.csv:2:open_amount: more than two decimals: '5.005'"),
    ("invoice_number;open_amount\r\nF-1;5,00\r\nF-2;6.50\r\n",
     "open-items.csv:3:open_amount: not an amount (use a comma for decimals): '6.50'"),
    ('invoice_number,open_amount\r\n"F-1\n2",5\r\n', "open-items.csv:2:invoice_number: line breaks"),
])
def test_a_broken_open_items_list_names_the_row(text, message):
    assert open_items_error(text).startswith(message)


def test_an_empty_open_items_list_when_allowed():
    assert open_items("invoice_number,open_amount\r\n", allow_empty=True) == {}
