"""butido's time filter forms (butido-reference.md §0.3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from butido_py.timespec import TimeSpecError, parse_duration, parse_timespec

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", timedelta(hours=2)),
        ("3days", 3 * DAY),
        ("1day", DAY),
        ("1d", DAY),
        ("1w", 7 * DAY),
        ("2weeks", 14 * DAY),
        ("1M", 30.44 * DAY),
        ("1month", 30.44 * DAY),
        ("1y", 365.25 * DAY),
        ("1m", timedelta(minutes=1)),
        ("90s", timedelta(seconds=90)),
        ("5sec", timedelta(seconds=5)),
        ("1hr", timedelta(hours=1)),
        ("250ms", timedelta(milliseconds=250)),
        ("1h 30min", timedelta(minutes=90)),
        ("2d12h", 2.5 * DAY),
    ],
)
def test_durations_mean_now_minus_the_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_timespec(text, now=NOW) == NOW - expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-01", datetime(2020, 1, 1, tzinfo=UTC)),
        ("2020-01-01 00:12:45", datetime(2020, 1, 1, 0, 12, 45, tzinfo=UTC)),
        ("2020-01-01T00:12:45", datetime(2020, 1, 1, 0, 12, 45, tzinfo=UTC)),
        ("2020-01-01T02:00:00+02:00", datetime(2020, 1, 1, tzinfo=UTC)),
    ],
)
def test_dates_are_utc(text: str, expected: datetime) -> None:
    result = parse_timespec(text, now=NOW)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2030-01-01", "is in the future"),
        ("2024-05-01 12:00:01", "is in the future"),
        ("2020-13-01", "is not a valid date"),
        ("3 lightyears", "is not a duration"),
        ("2h and more", "is not a duration"),
        ("h", "is not a duration"),
        ("", "empty time"),
        ("-2h", "is not a duration"),
    ],
)
def test_bad_forms_are_errors(text: str, message: str) -> None:
    with pytest.raises(TimeSpecError, match=message):
        parse_timespec(text, now=NOW)
