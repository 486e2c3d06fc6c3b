"""The throttles a finance team sets for many machines (dunning.messaging.throttle): e-mails a minute as a Prefect
rate limit per installation, and how many runs one sweep hands to the workers (settings.toml wakeups_per_minute)."""

from __future__ import annotations

import pytest

from dunning.domain.errors import UserError
from dunning.messaging import throttle
from dunning.storage import config


def test_sixty_emails_a_minute_is_sixty_at_once_then_one_a_second():
    rate = throttle.email_rate("default", 60)
    assert rate == throttle.RateLimit("dunning-email-default", slots=60, slot_decay_per_second=1.0)


def test_each_installation_has_its_own_email_limit_on_a_shared_prefect_server():
    assert throttle.email_limit_name("acme") != throttle.email_limit_name("default")
    assert throttle.email_rate("acme", 600).slot_decay_per_second == 10.0  # type: ignore[union-attr]


def test_zero_emails_a_minute_means_no_limit():
    assert throttle.email_rate("default", 0) is None


@pytest.mark.parametrize(("written", "per_minute"), [(None, 60), ("", 60), ("0", 0), (" 120 ", 120)])
def test_emails_per_minute_from_the_environment(written, per_minute):
    assert throttle.emails_per_minute(written) == per_minute


@pytest.mark.parametrize("written", ["many", "-5", "1.5"])
def test_a_mistyped_emails_per_minute_is_named_in_one_line(written):
    with pytest.raises(UserError, match=r"^DUNNING_EMAILS_PER_MINUTE: a whole number .*got"):
        throttle.emails_per_minute(written)


def test_without_a_pace_a_sweep_hands_out_all_that_is_due():
    start, wake = ["A", "B"], ["C"]
    assert throttle.hand_out(start, wake, None) == (["A", "B"], ["C"])


def test_a_sweep_at_a_pace_wakes_runs_under_way_first_and_starts_new_ones_with_what_is_left():
    start, wake = [f"new-{n}" for n in range(5)], [f"woken-{n}" for n in range(3)]
    assert throttle.hand_out(start, wake, 4) == (["new-0"], ["woken-0", "woken-1", "woken-2"])
    assert throttle.hand_out(start, wake, 2) == ([], ["woken-0", "woken-1"])


def test_a_morning_of_5000_wake_ups_at_100_a_minute_takes_50_sweeps():
    wake = list(range(5000))
    sweeps = 0
    while wake:
        _, handed = throttle.hand_out([], wake, 100)
        wake = wake[len(handed):]
        sweeps += 1
    assert sweeps == 50


def test_wakeups_per_minute_is_read_from_settings_toml(tmp_path):
    (tmp_path / "settings.toml").write_text("wakeups_per_minute = 100\n", encoding="utf-8")
    assert config.load(tmp_path).wakeups_per_minute == 100
    (tmp_path / "settings.toml").write_text("", encoding="utf-8")
    assert config.load(tmp_path).wakeups_per_minute is None


@pytest.mark.parametrize("written", ["0", "-1", '"fast"', "true", "2.5"])
def test_a_wakeups_per_minute_that_is_not_a_count_names_the_file_and_the_setting(tmp_path, written):
    (tmp_path / "settings.toml").write_text(f"wakeups_per_minute = {written}\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"settings\.toml: wakeups_per_minute: a whole number of runs a minute"):
        config.load(tmp_path)


def test_runs_at_once_bounds_the_embedded_engine_and_defaults_to_four(tmp_path):
    (tmp_path / "settings.toml").write_text("", encoding="utf-8")
    assert config.load(tmp_path).runs_at_once == 4
    (tmp_path / "settings.toml").write_text("runs_at_once = 8\n", encoding="utf-8")
    assert config.load(tmp_path).runs_at_once == 8


@pytest.mark.parametrize("written", ["0", "-1", '"many"', "true", "2.5", "100000"])
def test_a_runs_at_once_that_is_not_a_count_names_the_file_and_the_setting(tmp_path, written):
    (tmp_path / "settings.toml").write_text(f"runs_at_once = {written}\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"settings\.toml: runs_at_once: a whole number of runs from 1 to 1000"):
        config.load(tmp_path)
