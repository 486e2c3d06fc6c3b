"""The tests' installations as a careful user sets one up: the packaged interest rate rows marked unverified (the
2026 rows) confirmed, as a person does with `dunning law confirm-rate`, so the ladder's formal letters state their
interest and go out. The hold of a message at an unconfirmed row has tests of its own
(tests/integration/test_messages.py, tests/unit/test_rate_confirmation.py)."""

from __future__ import annotations

from pathlib import Path

from dunning.law.rates import CONFIRMATIONS_FILE, CONFIRMATIONS_HEADER, load_rates


def confirm_packaged_rates(home: Path, by: str = "tests") -> None:
    """Also the benchmarks' set-up (benchmarks/two_workers.py, chaos.py), whose letters state interest too."""
    lines = [CONFIRMATIONS_HEADER]
    for table in ("commercial", "non-commercial"):
        lines += [f"{table},{rate.effective_from.isoformat()},{rate.percent},{by},2026-01-01T00:00:00+00:00"
                  for rate in load_rates(table) if not rate.verified]
    (home / "law").mkdir(exist_ok=True)
    (home / "law" / CONFIRMATIONS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
