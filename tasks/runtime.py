"""What every task needs: the installation this process belongs to (from DUNNING_HOME and the environment)."""

from __future__ import annotations

from functools import cache

from dunning.storage import config
from dunning.storage.config import Installation


@cache
def installation() -> Installation:
    return config.load()
