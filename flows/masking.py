"""Secrets kept out of Prefect's state messages. A run that fails or crashes gets its exception's text as its
state's message, shown in the UI's run list and kept on the server; our own errors mask passwords
(dunning.storage.secrets), but a library's exception may carry a database URL or the SMTP password as it was
given. Prefect builds every such message with `prefect.states.format_exception` (the failed and crashed states of
flow and task runs alike), looked up by name at each call: masking it there, once per process, covers them all.
Installed when the flows package is imported, which every process that runs a flow or task of ours does."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

import prefect._internal.states
import prefect.states

from dunning.storage.secrets import known_secrets, redact


def _masking(format_exception: Callable[..., str]) -> Callable[..., str]:
    def masked(exc: BaseException, tb: TracebackType | None = None) -> str:
        return redact(format_exception(exc, tb), known_secrets())

    masked.__wrapped__ = format_exception  # type: ignore[attr-defined]
    return masked


def install() -> None:
    """Idempotent: the second import of a flow module changes nothing."""
    for module in (prefect.states, prefect._internal.states):
        current: Any = module.format_exception
        if not hasattr(current, "__wrapped__"):
            module.format_exception = _masking(current)  # type: ignore[attr-defined]
