"""Runs that need a person, at a glance: the tags a paused run carries (tasks/run_tags.py sets them) and the links
to the Prefect UI's run list filtered on them, as the daily overview gives them (dunning/desk/overview.py).

The URL forms are those of the UI bundled with prefect 3.8.8, read from its code and tried in Chromium: at
/v2/runs (the UI a browser opens at first) `tags=a,b` lists the runs carrying any of them, of any age, and
`state=Suspended` leaves out the runs no longer paused; at /runs (the classic UI) `tag=a` may be repeated but a
run must then carry all of them, and without `type=span&seconds=-N` it lists only the runs started in the past
week."""

from __future__ import annotations

from pathlib import Path

from dunning.desk.overview import (
    AWAITING,
    WAITING,
    as_markdown,
    needs_a_person_url,
    run_tags,
    runs_tagged_url,
    ui_url,
)
from dunning.storage.config import Installation


def test_a_paused_run_carries_one_pause_tag_and_keeps_the_others_in_place():
    sweep_tags = ["debtor:D-1"]
    called = run_tags(sweep_tags, AWAITING["call"], "Anneke Jansen")
    assert called == ["debtor:D-1", "debtor-name:Anneke Jansen", "awaiting:call"]
    assert run_tags(called, AWAITING["call"], "Anneke Jansen") == called, "a replay changes nothing"
    waiting = run_tags(called, WAITING)
    assert waiting == ["debtor:D-1", "debtor-name:Anneke Jansen", "waiting"]
    assert run_tags(waiting) == ["debtor:D-1", "debtor-name:Anneke Jansen"], "going on: no pause tag"
    matching = run_tags(["payment", "dunning"], AWAITING["payment-match"])
    assert matching == ["payment", "dunning", "awaiting:payment-match"]


def test_the_debtors_name_follows_the_facts_on_one_line():
    tags = run_tags(["debtor:D-1", "debtor-name:Jansen"], None, "  Anneke\n Jansen-de  Vries ")
    assert tags == ["debtor:D-1", "debtor-name:Anneke Jansen-de Vries"]
    assert run_tags(["debtor:D-1", "debtor-name:Jansen"]) == ["debtor:D-1", "debtor-name:Jansen"], "name not asked"
    assert len(run_tags([], None, "x" * 300)[0]) == len("debtor-name:") + 100


def test_the_links_filter_the_runs_list_on_the_tags(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    inst = Installation(home=Path("/x"), database_url="sqlite://", prefect_port=4200)
    ui = ui_url(inst)
    assert ui == "http://127.0.0.1:4200"
    assert needs_a_person_url(ui) == (
        "http://127.0.0.1:4200/v2/runs?tags=awaiting:call,awaiting:approval,awaiting:dispute,awaiting:payment-match"
        "&state=Suspended"
    )
    assert runs_tagged_url(ui, "awaiting:call") == (
        "http://127.0.0.1:4200/runs?tag=awaiting:call&state=Suspended&type=span&seconds=-315360000"
    )
    monkeypatch.setenv("PREFECT_API_URL", "https://prefect.example.com/api/")
    assert ui_url(inst) == "https://prefect.example.com"


def _overview(language: str) -> dict:
    ui = "http://127.0.0.1:4200"
    return {
        "date": "2026-03-09",
        "language": language,
        "needs_a_person": {"all": needs_a_person_url(ui), **{w: runs_tagged_url(ui, t) for w, t in AWAITING.items()}},
        "tasks": [{"invoice": "F-1", "debtor": "Jan", "kind": "call", "step": "call-1", "days_open": 3,
                   "responsible": None, "due_on": None, "overdue": False, "also_for": []}],
        "plan_requests": [],
        "letters": [],
        "holds": [],
        "warnings": [],
    }


def test_the_daily_overview_links_to_the_runs_that_need_a_person_in_the_installations_language():
    nl = as_markdown(_overview("nl"))
    assert nl.startswith("# Dagoverzicht 2026-03-09\n")
    assert f"[Alle runs die op iemand wachten]({needs_a_person_url('http://127.0.0.1:4200')})" in nl
    assert "[gesprekken](http://127.0.0.1:4200/runs?tag=awaiting:call&state=Suspended" in nl
    assert "- gesprek **F-1** (Jan): call-1, 3 dag(en) open" in nl
    en = as_markdown(_overview("en"))
    assert en.startswith("# Daily overview 2026-03-09\n")
    assert f"[All runs waiting for a person]({needs_a_person_url('http://127.0.0.1:4200')})" in en
    assert "[payments to match](http://127.0.0.1:4200/runs?tag=awaiting:payment-match&state=Suspended" in en
    assert "- call **F-1** (Jan): call-1, open 3 day(s)" in en
    assert as_markdown(_overview("nl"), "en") == en, "a language asked for wins"
