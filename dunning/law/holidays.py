"""Generally recognised holidays for the Algemene termijnenwet (Atw art. 3), its own rule: not a general
holiday calendar. 5 May counts every year, Good Friday does not (project rule, legal-nl.md; see
data/README.md), and days the government declares equal (art. 3 lid 3) come from a data file."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from dunning.law.datafiles import DATA_DIR, DataFileError, rows

_EXTRA_FILE = "nl_atw_extra_days.csv"


def easter_sunday(year: int) -> date:
    """Gregorian Easter (the anonymous algorithm of Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def kings_day(year: int) -> date:
    """'De dag waarop de verjaardag van de Koning wordt gevierd' (Atw art. 3 lid 1)."""
    # From 2014 King's Day, 27 April; 1980-2013 Queen's Day, 30 April. On a Sunday it moves a day earlier.
    d = date(year, 4, 27) if year >= 2014 else date(year, 4, 30)
    return d - timedelta(days=1) if d.weekday() == 6 else d


def statutory_holidays(year: int) -> dict[date, str]:
    """The days Atw art. 3 lid 1 names, for `year`."""
    easter = easter_sunday(year)
    return {
        date(year, 1, 1): "Nieuwjaarsdag",
        easter + timedelta(days=1): "Tweede Paasdag",
        kings_day(year): "Koningsdag",
        date(year, 5, 5): "5 mei",  # every year, not only in lustrum years
        easter + timedelta(days=39): "Hemelvaartsdag",
        easter + timedelta(days=50): "Tweede Pinksterdag",
        date(year, 12, 25): "Eerste Kerstdag",
        date(year, 12, 26): "Tweede Kerstdag",
    }


_cache: dict[tuple[str, ...], dict[date, str]] = {}


def extra_days(directory: Path | str | None = None) -> dict[date, str]:
    """Days declared equal to a holiday (Atw art. 3 lid 3), from the data file and the override directory."""
    # Re-read when a file appears or changes, so a user's edit counts without a restart.
    paths = [DATA_DIR / _EXTRA_FILE] + ([Path(directory) / _EXTRA_FILE] if directory is not None else [])
    key = tuple(f"{p}@{p.stat().st_mtime_ns}" for p in paths if p.is_file())
    if key not in _cache:
        days: dict[date, str] = {}
        for where, row in rows(_EXTRA_FILE, directory):
            try:
                day = date.fromisoformat(row["date"])
            except (KeyError, ValueError):
                raise DataFileError(f"{where}: need a date (YYYY-MM-DD)") from None
            if row.get("status", "") not in ("", "unverified"):
                raise DataFileError(f"{where}: status must be empty or 'unverified'")
            days[day] = row.get("name") or "gelijkgestelde dag"
        _cache[key] = days
    return _cache[key]


def atw_holidays(year: int, directory: Path | str | None = None) -> dict[date, str]:
    """All Atw holidays of `year`: the statutory ones and the declared equal days, with their names."""
    days = {d: n for d, n in extra_days(directory).items() if d.year == year}
    days.update(statutory_holidays(year))
    return dict(sorted(days.items()))


def is_atw_holiday(d: date, directory: Path | str | None = None) -> bool:
    return d in statutory_holidays(d.year) or d in extra_days(directory)


def is_atw_rest_day(d: date, directory: Path | str | None = None) -> bool:
    """A day on which a statutory term cannot end (Atw art. 1 lid 1): Saturday, Sunday or Atw holiday."""
    return d.weekday() >= 5 or is_atw_holiday(d, directory)
