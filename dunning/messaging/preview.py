"""Previews: a message written to files instead of being sent, for review and for operators editing templates.

For e-mail the subject, plain text and HTML parts (``{reference}-{step}.{lang}.subject.txt``, ``.txt``,
``.html``), for a letter the PDF (``{reference}-{step}.{lang}.pdf``). Everything renders first, so a broken
template writes nothing. An invoice's message is composed by `compose.compose` (with ``preview=True``), the
very path sending takes; `preview` renders a context given as it is (the templates' own tests)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dunning.domain.errors import UserError
from dunning.domain.kinds import Channel
from dunning.messaging.compose import Composition, render
from dunning.messaging.templating import CHANNELS, RenderedEmail, as_dict, check_step
from dunning.storage.files import inside, slug


def write(composition: Composition, out_dir: Path) -> list[Path]:
    """Write a composed message to `out_dir`; returns the files, in order."""
    reference = str(composition.values["reference"])
    return _write(_files(reference, composition.step.sends.value, composition.language, composition.rendered),
                  out_dir)


def preview(
    step: str,
    lang: str,
    channel: str,
    context: Mapping[str, Any],
    override_dir: Path | None,
    out_dir: Path,
) -> list[Path]:
    """Render one message from `context` (the contract in `templating`) and write it to `out_dir`."""
    check_step(step)
    if channel not in CHANNELS:
        raise UserError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    reference = context.get("reference") or as_dict(context["invoice"])["number"]
    return _write(_files(str(reference), step, lang, render(step, lang, Channel(channel), context, override_dir)),
                  out_dir)


def _files(reference: str, step: str, lang: str, rendered: RenderedEmail | bytes) -> dict[str, bytes]:
    stem = f"{slug(reference)}-{step}.{lang}"
    if isinstance(rendered, bytes):
        return {f"{stem}.pdf": rendered}
    parts = {
        f"{stem}.subject.txt": rendered.subject + "\n",
        f"{stem}.txt": rendered.text,
        f"{stem}.html": rendered.html,
    }
    return {name: text.encode("utf-8") for name, text in parts.items()}


def _write(files: Mapping[str, bytes], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        path = inside(out_dir, name)
        path.write_bytes(content)
        written.append(path)
    return written
