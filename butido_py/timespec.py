"""butido's time filter forms (`--older-than`, `--newer-than`): a duration back from now, a date
and time, or a date. Pure: `now` is passed in. All results are aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DAY = 86_400.0
#: humantime's units, in seconds (a month is 30.44 days, a year 365.25 days, as humantime).
_UNITS: dict[str, float] = {
    **dict.fromkeys(("nsec", "ns"), 1e-9),
    **dict.fromkeys(("usec", "us"), 1e-6),
    **dict.fromkeys(("msec", "ms"), 1e-3),
    **dict.fromkeys(("seconds", "second", "sec", "s"), 1.0),
    **dict.fromkeys(("minutes", "minute", "min", "m"), 60.0),
    **dict.fromkeys(("hours", "hour", "hr", "h"), 3600.0),
    **dict.fromkeys(("days", "day", "d"), _DAY),
    **dict.fromkeys(("weeks", "week", "w"), 7 * _DAY),
    **dict.fromkeys(("months", "month", "M"), 30.44 * _DAY),
    **dict.fromkeys(("years", "year", "y"), 365.25 * _DAY),
}
_PART = re.compile(r"\s*(\d+)\s*([A-Za-z]+)")
_FORMS = "a duration such as 2h, 3days, 1w, 1M, or a date 2020-01-01, or 2020-01-01 00:12:45"


class TimeSpecError(ValueError):
    """`text` is none of the accepted forms, or an absolute time in the future."""


def parse_duration(text: str) -> timedelta:
    """A humantime duration: one or more `<number><unit>` parts, e.g. `1h 30min` or `2d12h`."""
    position, seconds = 0, 0.0
    stripped = text.strip()
    while position < len(stripped):
        match = _PART.match(stripped, position)
        if match is None or match.group(2) not in _UNITS:
            raise TimeSpecError(f"{text!r} is not a duration ({_FORMS})")
        seconds += int(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not stripped:
        raise TimeSpecError(f"empty time ({_FORMS})")
    return timedelta(seconds=seconds)


def parse_timespec(text: str, *, now: datetime) -> datetime:
    """The point in time `text` means: `now` minus a duration, or an absolute UTC date/time."""
    absolute = _parse_absolute(text.strip())
    if absolute is None:
        return (now - parse_duration(text)).astimezone(UTC)
    if absolute > now:
        raise TimeSpecError(f"{text!r} is in the future")
    return absolute


def _parse_absolute(text: str) -> datetime | None:
    if not re.match(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise TimeSpecError(f"{text!r} is not a valid date ({_FORMS})") from exc
    # Times without an offset are UTC (butido mixed local and UTC times, §15.2 item 13).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
