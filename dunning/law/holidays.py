"""Generally recognised holidays for the Algemene termijnenwet (Atw art. 3), its own rule: not a general
holiday calendar. The days the Atw names itself are computed here: those of art. 3 lid 1 (with 5 May every
year, not only in lustrum years) and Good Friday, which art. 3 lid 2 makes equal to them. The days the
government declares equal (art. 3 lid 3, a "Besluit gelijkstelling") come from a data file, each row with
its source and whether it was checked against the official publication (see data/README.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dunning.law.datafiles import DATA_DIR, DataFileError, file_rows, override_path

_EXTRA_FILE = "nl_atw_extra_days.csv"
_DEFAULT_NAME = "gelijkgestelde dag"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YES_NO = {"yes": True, "no": False}


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
    """The days the Atw itself names for `year`: art. 3 lid 1, and Good Friday (art. 3 lid 2)."""
    easter = easter_sunday(year)
    return {
        date(year, 1, 1): "Nieuwjaarsdag",
        # Atw art. 3 lid 2: "Voor de toepassing van deze wet wordt de Goede Vrijdag met de in het vorige lid
        # genoemde dagen gelijkgesteld": every year, the Friday before Easter Sunday.
        easter - timedelta(days=2): "Goede Vrijdag",
        easter + timedelta(days=1): "Tweede Paasdag",
        kings_day(year): "Koningsdag",
        date(year, 5, 5): "5 mei",  # every year, not only in lustrum years
        easter + timedelta(days=39): "Hemelvaartsdag",
        easter + timedelta(days=50): "Tweede Pinksterdag",
        date(year, 12, 25): "Eerste Kerstdag",
        date(year, 12, 26): "Tweede Kerstdag",
    }


@dataclass(frozen=True)
class DeclaredDay:
    """A day declared equal to a holiday (Atw art. 3 lid 3) as the data has it."""

    day: date
    name: str
    verified: bool  # checked against the official publication of the Besluit gelijkstelling
    source: str  # the Besluit and where it was read; may be empty for a user's own unverified row
    user_supplied: bool  # from the installation's override file, not the packaged one
    where: str  # "path:line" of the row


def _field_error(where: str, field: str, need: str, row: dict[str, str]) -> DataFileError:
    got = repr(row[field]) if field in row else "no such column"
    return DataFileError(f"{where}: field '{field}' {need} (got {got})")


def _declared_day(where: str, row: dict[str, str], *, user_supplied: bool) -> DeclaredDay:
    text = row.get("date", "")
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise _field_error(where, "date", "must be a date written YYYY-MM-DD", row) from None
    name = row.get("name") or _DEFAULT_NAME
    source = row.get("source", "")
    if "verified" in row:  # the current format: date,name,verified,source
        if "status" in row:
            raise DataFileError(f"{where}: use either a 'verified' or a 'status' column, not both")
        verified = _YES_NO.get(row["verified"].lower())
        if verified is None:
            raise _field_error(where, "verified", "must be 'yes' or 'no'", row)
        if verified and not source:
            raise _field_error(where, "source", "must name the Besluit gelijkstelling when verified is 'yes'", row)
        return DeclaredDay(day, name, verified, source, user_supplied, where)
    # The earlier format (date,status,name,source), still found in installations' override files: read as
    # before, but never counted as verified, since nothing says what the row was checked against.
    if row.get("status", "") not in ("", "unverified"):
        raise _field_error(where, "status", "must be empty or 'unverified'", row)
    return DeclaredDay(day, name, False, source, user_supplied, where)


_cache: dict[tuple[str, ...], dict[date, DeclaredDay]] = {}


def declared_days(directory: Path | str | None = None) -> dict[date, DeclaredDay]:
    """Days declared equal to a holiday (Atw art. 3 lid 3): the packaged data file, then the installation's
    override file in `directory`, whose rows are added (and replace a packaged row for the same date)."""
    packaged = DATA_DIR / _EXTRA_FILE
    files = [(packaged, False)]
    override = override_path(_EXTRA_FILE, directory)
    if override is not None:
        files.append((override, True))
    # Re-read when a file appears or changes, so a user's edit counts without a restart.
    key = tuple(f"{p}@{p.stat().st_mtime_ns}" for p, _ in files)
    if key not in _cache:
        days: dict[date, DeclaredDay] = {}
        for path, user_supplied in files:
            for where, row in file_rows(path):
                declared = _declared_day(where, row, user_supplied=user_supplied)
                days[declared.day] = declared
        _cache[key] = days
    return _cache[key]


def extra_days(directory: Path | str | None = None) -> dict[date, str]:
    """The declared days (Atw art. 3 lid 3) with their names."""
    return {d: declared.name for d, declared in declared_days(directory).items()}


def unverified_declared_days(start: date, end: date, directory: Path | str | None = None) -> tuple[DeclaredDay, ...]:
    """Declared days from `start` to `end` (both included) that nobody checked against the official Besluit:
    a term computed over them should say so."""
    return tuple(
        declared
        for d, declared in sorted(declared_days(directory).items())
        if start <= d <= end and not declared.verified
    )


def atw_holidays(year: int, directory: Path | str | None = None) -> dict[date, str]:
    """All Atw holidays of `year`: the statutory ones and the declared equal days, with their names."""
    days = {d: n for d, n in extra_days(directory).items() if d.year == year}
    days.update(statutory_holidays(year))
    return dict(sorted(days.items()))


def is_atw_holiday(d: date, directory: Path | str | None = None) -> bool:
    """Whether `d` is an Atw holiday: named in art. 3 lid 1, Good Friday (lid 2) or declared equal (lid 3)."""
    return d in statutory_holidays(d.year) or d in declared_days(directory)


def is_atw_rest_day(d: date, directory: Path | str | None = None) -> bool:
    """A day on which a statutory term cannot end (Atw art. 1 lid 1): Saturday, Sunday or Atw holiday."""
    return d.weekday() >= 5 or is_atw_holiday(d, directory)
