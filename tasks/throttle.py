"""The e-mail throttle on the Prefect server: one global concurrency limit per installation, used as a rate limit,
so every worker's runs together send at most so many e-mails a minute (dunning.messaging.throttle holds the
values). Set by `dunning deploy` and `dunning run`; waited for by the send task before it hands a message to
the mail server."""

from __future__ import annotations

import os

from prefect.client.orchestration import get_client
from prefect.concurrency.asyncio import rate_limit
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL

from dunning.messaging import throttle
from dunning.storage.config import Installation


def emails_per_minute_from_env() -> int:
    return throttle.emails_per_minute(os.environ.get(throttle.EMAILS_PER_MINUTE_ENV))


async def set_email_limit(inst: Installation, per_minute: int) -> None:
    """Create or change the installation's limit; 0 removes it (no limit)."""
    rate = throttle.email_rate(inst.instance, per_minute)
    name = throttle.email_limit_name(inst.instance)
    async with get_client() as client:
        if rate is None:
            try:
                await client.delete_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                pass
            return
        await client.upsert_global_concurrency_limit_by_name(rate.name, rate.slots, rate.slot_decay_per_second)


async def wait_for_email_slot(inst: Installation) -> None:
    """Before an e-mail goes to the mail server: wait until the installation's rate allows one more. Nothing to wait
    for where no limit is set: the send task tested on its own (no Prefect server), the collection process run
    in a test's own process, an installation that set DUNNING_EMAILS_PER_MINUTE=0."""
    if not PREFECT_API_URL.value():
        return
    name = throttle.email_limit_name(inst.instance)
    async with get_client() as client:
        try:
            limit = await client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            return
    if limit.active and limit.slot_decay_per_second:
        await rate_limit(name, occupy=1, strict=True)
