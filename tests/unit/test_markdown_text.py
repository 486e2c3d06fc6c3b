"""Text from debtors and staff reaches the Prefect UI's Markdown as text, never as markup (issue 14)."""

from __future__ import annotations

import pytest

from dunning.domain.markdown import cell, text


def test_html_in_a_name_is_shown_as_characters():
    assert text("<img src=x onerror=alert(2)>") == "&lt;img src=x onerror=alert(2)&gt;"
    assert "<" not in text("<script>alert(1)</script>") and ">" not in text("<b>x</b>")


def test_a_pipe_or_line_break_does_not_break_a_table():
    assert text("reason | with\na break") == "reason \\| with a break"
    assert "\n" not in text("a\r\nb\u2028c")


@pytest.mark.parametrize("raw", ["**bold**", "_it_", "[link](http://x)", "# heading", "`code`", "![i](x)"])
def test_markdown_characters_are_shown_as_themselves(raw):
    escaped = text(raw)
    for special in "*_[]`":
        assert escaped.count(special) == escaped.count("\\" + special), (raw, escaped)


def test_a_text_that_would_start_a_heading_or_a_list_does_not():
    assert text("# Urgent") == "\\# Urgent" and text("- item") == "\\- item" and text("+ 31") == "\\+ 31"


def test_control_characters_are_dropped():
    assert text("Jan\x1b[31m Smit\x07") == "Jan\\[31m Smit"


def test_ordinary_names_amounts_and_dates_stay_as_they_are():
    for plain in ["Anneke Jansen", "EUR 1210.00", "2026-01-05", "Grand Café De Markt B.V.", "+31 6 1234 5678",
                  "anna@example.com"]:
        assert text(plain) == plain


def test_an_empty_cell_says_so():
    assert cell(None) == "-" and cell("  ") == "-" and cell("x") == "x"


def test_the_daily_overview_shows_names_and_reasons_as_text():
    from dunning.desk.overview import as_markdown

    overview = {
        "date": "2026-03-09", "language": "en", "warnings": [], "letters": [], "plan_requests": [],
        "tasks": [{"kind": "call", "invoice": "F-1", "debtor": "<b onmouseover=x>Jan</b>", "step": "call-1",
                   "days_open": 2, "responsible": "", "due_on": None}],
        "holds": [{"debtor": "D-1", "name": "**Bold** B.V.", "since": "2026-03-01", "reason": "two | three\nfour"}],
    }
    shown = as_markdown(overview)
    assert "<b" not in shown and "&lt;b onmouseover=x&gt;Jan&lt;/b&gt;" in shown
    assert "\\*\\*Bold\\*\\* B.V., since 2026-03-01: two \\| three four" in shown
