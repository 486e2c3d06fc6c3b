"""The throttles a finance team sets when many machines send at once, as plain values: how many e-mails a minute
the mail server takes from this installation, and how many runs one sweep hands to the workers.

No Prefect here: tasks/throttle.py holds the limit on the Prefect server (a global concurrency limit used as a
rate limit, shared by every worker) and waits for its slots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from dunning.domain.errors import UserError

EMAILS_PER_MINUTE_ENV = "DUNNING_EMAILS_PER_MINUTE"
# A mail server of a small company, or a relay's default quota, takes about this many a minute without deferring
# or marking the sender as a spammer; the installation raises it when its provider allows more.
DEFAULT_EMAILS_PER_MINUTE = 60

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class RateLimit:
    """A Prefect global concurrency limit used as a rate limit: `slots` at once, one freed every 1/decay seconds."""

    name: str
    slots: int
    slot_decay_per_second: float


def email_limit_name(instance: str) -> str:
    """Per installation: two installations may share a Prefect server (and send through different mail servers)."""
    return f"dunning-email-{instance}"


def email_rate(instance: str, per_minute: int) -> RateLimit | None:
    """`per_minute` e-mails a minute, a minute's worth at once at most; 0 is no limit."""
    if per_minute == 0:
        return None
    return RateLimit(email_limit_name(instance), slots=per_minute, slot_decay_per_second=per_minute / 60)


def emails_per_minute(value: str | None) -> int:
    """DUNNING_EMAILS_PER_MINUTE as a person wrote it: a whole number, 0 for no limit."""
    if value is None or not value.strip():
        return DEFAULT_EMAILS_PER_MINUTE
    try:
        per_minute = int(value)
    except ValueError:
        per_minute = -1
    if per_minute < 0:
        raise UserError(f"{EMAILS_PER_MINUTE_ENV}: a whole number of e-mails a minute (0: no limit), got {value!r}")
    return per_minute


def hand_out(start: list[T], wake: list[U], per_minute: int | None) -> tuple[list[T], list[U]]:
    """What one sweep hands to the workers when at most `per_minute` runs a minute may start or wake (settings.toml
    `wakeups_per_minute`; the scheduled sweep runs every minute). Runs already under way first: a payment or a
    person's answer they wait for should not queue behind a morning's new cases. What is left stays due (no run
    yet, or its wake-up time passed) and the next sweep takes it."""
    if per_minute is None:
        return start, wake
    woken = wake[:per_minute]
    return start[: per_minute - len(woken)], woken
