"""Secrets stay out of what people and logs see: the SMTP password and the password in a database URL
(`postgresql+psycopg://user:pw@host/db`) are masked wherever settings, URLs or errors are printed or logged.

`redact` masks a text; `RedactSecrets` is a logging filter that does the same to every record (message and
traceback); `logging_config` writes Prefect's own logging configuration with that filter on every handler, so the
Prefect server, the served deployments and every flow run process `dunning run` starts mask them too
(PREFECT_LOGGING_SETTINGS_PATH, the place Prefect's logging.yml names for "filters that drop sensitive
information")."""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

MASK = "***"
# scheme://user:password@ -- the password runs up to the last "@" before the host (a password may hold an "@"
# or ":" when percent-encoding was forgotten); a URL without a user or password has nothing to hide.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s'\"]*:)(?P<password>[^\s'\"/]*)@")
# Environment variables whose value is a secret as a whole or holds one.
SECRET_ENVIRONMENT = ("DUNNING_DATABASE_URL", "PREFECT_API_DATABASE_CONNECTION_URL",
                      "PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_SERVER_API_AUTH_STRING",
                      "PREFECT_API_AUTH_STRING", "PREFECT_API_KEY")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with the password of every URL in it masked, and every one of `secrets` (the SMTP password, an
    auth string) replaced by ***. Short secrets are masked too: better a masked word than a leaked password."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@" if m["password"] else m[0], str(text))
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def known_secrets(home: Path | None = None) -> list[str]:
    """What must never be shown, whether or not it is in a URL: the SMTP password of the installation in
    `home` (DUNNING_HOME) and the secret environment variables' values (and their URLs' passwords). Read with
    no checks: a settings file too broken to load is still not to leak its password."""
    found = [os.environ.get(name) or "" for name in SECRET_ENVIRONMENT]
    found += [m["password"] for value in list(found) for m in _URL_PASSWORD.finditer(value) if m["password"]]
    settings = (home or Path(os.environ.get("DUNNING_HOME", "var"))) / "settings.toml"
    try:
        password = tomllib.loads(settings.read_text(encoding="utf-8")).get("smtp_password")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        password = None
    if isinstance(password, str):
        found.append(password)
    # Whole URLs are masked by their password alone; only the bare secrets go on the list.
    return [s for s in found if s and "://" not in s]


class RedactSecrets(logging.Filter):
    """Masks secrets in every record it sees, the traceback included; never drops a record."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._secrets = known_secrets()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's business, not ours
            return True
        record.msg, record.args = redact(message, self._secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
            record.exc_info = None  # formatted (and masked) once: the formatter uses exc_text
        return True


def logging_config(target: Path) -> Path:
    """Prefect's default logging configuration with `RedactSecrets` on every handler, written to `target`. Found
    beside Prefect's package, not imported: storage stays free of Prefect (tests/unit/test_architecture.py)."""
    import importlib.util

    import yaml

    spec = importlib.util.find_spec("prefect")
    assert spec is not None and spec.origin is not None, "Prefect is installed with dunning"
    default = Path(spec.origin).parent / "logging" / "logging.yml"
    config = yaml.safe_load(default.read_text(encoding="utf-8"))
    config.setdefault("filters", {})["redact_secrets"] = {"()": f"{__name__}.RedactSecrets"}
    for handler in config.get("handlers", {}).values():
        handler["filters"] = [*handler.get("filters", []), "redact_secrets"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return target
