"""A run that fails on a library's error that names a password: the state message Prefect keeps and the UI shows
has it masked (flows/masking.py)."""

import asyncio

import pytest
from prefect.states import exception_to_crashed_state, exception_to_failed_state

import flows  # noqa: F401  # installs the masking, as every process that runs our flows does


@pytest.fixture
def smtp_password(tmp_path, monkeypatch):
    (tmp_path / "settings.toml").write_text('smtp_password = "hunter2-geheim"\n', encoding="utf-8")
    monkeypatch.setenv("DUNNING_HOME", str(tmp_path))
    return "hunter2-geheim"


def test_a_failed_runs_message_masks_a_database_password_and_the_smtp_password(smtp_password):
    error = RuntimeError("could not connect to postgresql://dunning:s3cret@db:5432/app; login hunter2-geheim refused")
    state = asyncio.run(exception_to_failed_state(error))
    assert "s3cret" not in state.message and smtp_password not in state.message
    assert state.message.startswith("RuntimeError: could not connect to postgresql://dunning:***@db:5432/app")


def test_a_crashed_runs_message_is_masked_too(smtp_password):
    state = asyncio.run(exception_to_crashed_state(OSError(f"auth {smtp_password} failed")))
    assert smtp_password not in state.message and "***" in state.message


def test_importing_the_flows_again_does_not_mask_twice():
    from flows import masking

    masking.install()
    masking.install()
    import prefect.states

    assert not hasattr(prefect.states.format_exception.__wrapped__, "__wrapped__")
