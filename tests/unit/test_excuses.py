"""The team's list of common excuses: built in, or edited in DUNNING_HOME/excuses.toml and checked on load."""

import pytest

from dunning.desk.excuses import BUILT_IN, Excuse, as_markdown, load
from dunning.domain.errors import UserError


def test_without_a_file_the_built_in_list_applies(tmp_path):
    assert load(tmp_path) == BUILT_IN
    assert any(e.heard.startswith("Invoice not received") for e in BUILT_IN)


def test_the_teams_own_list_replaces_the_built_in_one(tmp_path):
    (tmp_path / "excuses.toml").write_text(
        '[[excuse]]\nheard = "De baas is op vakantie"\nanswer = "Vraag wie tekent bij afwezigheid."\n',
        encoding="utf-8",
    )
    assert load(tmp_path) == (Excuse("De baas is op vakantie", "Vraag wie tekent bij afwezigheid."),)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[[excuse]]\nheard = 'x'\n", "excuse 1: give exactly `heard` and `answer`"),
        ("[[excuse]]\nheard = ''\nanswer = 'y'\n", "excuse 1: `heard` and `answer` must be non-empty text"),
        ("excuse = 3\n", "expected a list of [[excuse]] tables"),
        ("[[excuse]\n", "excuses.toml"),
    ],
)
def test_a_mistake_in_the_file_is_named(tmp_path, content, message):
    (tmp_path / "excuses.toml").write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load(tmp_path)


def test_the_list_is_a_markdown_table_for_the_call_sheet():
    lines = as_markdown(BUILT_IN)
    assert lines[1] == "|---|---|" and len(lines) == len(BUILT_IN) + 2
