from datetime import UTC, datetime, timedelta

from dunning.domain.liveness import SILENT_FOR, latest_beats, silent_runs

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
STARTED = NOW - timedelta(hours=1)


def test_a_run_that_stopped_beating_for_the_silent_time_is_dead():
    assert silent_runs({"a": STARTED}, {"a": NOW - SILENT_FOR}, NOW) == ["a"]


def test_a_run_that_beat_within_the_silent_time_lives():
    assert silent_runs({"a": STARTED}, {"a": NOW - SILENT_FOR + timedelta(seconds=1)}, NOW) == []


def test_a_run_that_never_beat_is_not_judged():
    # The embedded engine's runs do not beat.
    assert silent_runs({"a": STARTED}, {}, NOW) == []


def test_a_work_pool_run_killed_before_its_first_beat_is_dead_once_silent_since_it_started():
    # Its machine died in the run's first seconds: nothing else would ever end it.
    assert silent_runs({"a": STARTED}, {}, NOW, beating={"a"}) == ["a"]
    assert silent_runs({"a": NOW - timedelta(seconds=20)}, {}, NOW, beating={"a"}) == []  # only just started
    resumed = NOW - timedelta(seconds=10)  # its beats of an earlier wake-up say nothing about this one
    assert silent_runs({"a": resumed}, {"a": NOW - timedelta(days=7)}, NOW, beating={"a"}) == []


def test_beats_from_before_the_run_last_started_running_do_not_count():
    # A run resumed after weeks of waiting: the beats of its earlier wake-up say nothing about this one.
    assert silent_runs({"a": NOW - timedelta(seconds=10)}, {"a": NOW - timedelta(days=7)}, NOW) == []


def test_several_runs_are_judged_each_on_its_own():
    running = {"dead": STARTED, "alive": STARTED, "quiet": STARTED}
    beats = {"dead": NOW - timedelta(minutes=30), "alive": NOW - timedelta(seconds=20)}
    assert silent_runs(running, beats, NOW) == ["dead"]


def test_a_live_run_with_an_old_beat_read_after_its_recent_one_is_not_judged_silent():
    # A run running for longer than the silent time beats all along: whichever beat the server's page gives last,
    # the newest one decides, or the sweep would restart a run whose process still works.
    recent, old = NOW - timedelta(seconds=20), NOW - timedelta(minutes=40)
    beats = latest_beats([("a", recent), ("a", old), ("b", old), ("b", recent)])
    assert beats == {"a": recent, "b": recent}
    assert silent_runs({"a": STARTED, "b": STARTED}, beats, NOW) == []
