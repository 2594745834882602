"""Business-hours arithmetic: out of hours, split shifts, weekends, holidays, DST in two zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import Invalid
from core.sla.calendar import ALWAYS_OPEN, BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_SPLIT = {
    d: [["09:00", "12:30"], ["13:30", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
}
WEEKDAYS_9_17 = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


def berlin_split(holidays: list[str] | None = None) -> BusinessCalendar:
    return BusinessCalendar.parse(
        {"timezone": "Europe/Berlin", "hours": WEEKDAYS_SPLIT, "holidays": holidays or []}
    )


def test_24x7_adds_plain_minutes() -> None:
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert ALWAYS_OPEN.add_minutes(start, 90) == start + timedelta(minutes=90)
    assert ALWAYS_OPEN.minutes_between(start, start + timedelta(hours=5)) == 300
    assert BusinessCalendar.parse(None).is_24x7


def test_created_out_of_hours_starts_at_next_opening() -> None:
    cal = berlin_split()
    start = local(BERLIN, 2026, 11, 24, 20, 0)  # Tuesday evening
    assert cal.add_minutes(start, 60) == local(BERLIN, 2026, 11, 25, 10, 0)
    assert not cal.is_open(start)
    assert cal.minutes_between(start, local(BERLIN, 2026, 11, 25, 10, 0)) == 60


def test_split_shift_skips_lunch() -> None:
    cal = berlin_split()
    start = local(BERLIN, 2026, 11, 25, 12, 0)
    assert cal.add_minutes(start, 60) == local(BERLIN, 2026, 11, 25, 14, 0)
    assert cal.minutes_between(start, local(BERLIN, 2026, 11, 25, 14, 0)) == 60
    assert not cal.is_open(local(BERLIN, 2026, 11, 25, 13, 0))


def test_across_a_weekend() -> None:
    cal = berlin_split()
    friday = local(BERLIN, 2026, 12, 18, 16, 30)
    monday = local(BERLIN, 2026, 12, 21, 9, 30)
    assert cal.add_minutes(friday, 60) == monday
    assert cal.minutes_between(friday, monday) == 60
    # Created on Saturday: the clock starts on Monday morning.
    assert cal.add_minutes(local(BERLIN, 2026, 12, 19, 11, 0), 30) == local(
        BERLIN, 2026, 12, 21, 9, 30
    )


def test_holiday_is_closed() -> None:
    cal = berlin_split(["2026-12-25"])
    thursday = local(BERLIN, 2026, 12, 24, 16, 0)
    # 1 h on Thursday, Friday 25th is a holiday, then the weekend, 1 h on Monday 28th.
    assert cal.add_minutes(thursday, 120) == local(BERLIN, 2026, 12, 28, 10, 0)
    assert berlin_split().add_minutes(thursday, 120) == local(BERLIN, 2026, 12, 25, 10, 0)


def test_berlin_autumn_dst_keeps_wall_clock_hours() -> None:
    cal = berlin_split()
    friday = local(BERLIN, 2026, 10, 23, 16, 0)  # CEST, UTC+2
    due = cal.add_minutes(friday, 120)
    assert due == local(BERLIN, 2026, 10, 26, 10, 0)  # CET, UTC+1
    assert due == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
    assert cal.minutes_between(friday, due) == 120


def test_berlin_spring_dst() -> None:
    cal = berlin_split()
    friday = local(BERLIN, 2026, 3, 27, 16, 0)  # CET
    due = cal.add_minutes(friday, 120)
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 10:00 CEST


def test_new_york_autumn_dst() -> None:
    cal = BusinessCalendar.parse({"timezone": "America/New_York", "hours": WEEKDAYS_9_17})
    friday = local(NEW_YORK, 2026, 10, 30, 16, 0)  # EDT, UTC-4
    due = cal.add_minutes(friday, 120)
    assert due == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # 10:00 EST, UTC-5
    assert cal.minutes_between(friday, due) == 120


def test_new_york_spring_day_is_23_hours_and_autumn_day_25() -> None:
    cal = BusinessCalendar.parse(
        {"timezone": "America/New_York", "hours": {"sun": [["00:00", "24:00"]]}}
    )
    spring = local(NEW_YORK, 2026, 3, 8, 0, 0)
    assert cal.minutes_between(spring, spring + timedelta(days=1)) == 23 * 60
    assert cal.add_minutes(spring, 23 * 60) == local(NEW_YORK, 2026, 3, 9, 0, 0)
    assert cal.add_minutes(spring, 23 * 60 + 1) == local(NEW_YORK, 2026, 3, 15, 0, 1)
    autumn = local(NEW_YORK, 2026, 11, 1, 0, 0)
    assert cal.minutes_between(autumn, local(NEW_YORK, 2026, 11, 2, 0, 0)) == 25 * 60
    assert cal.add_minutes(autumn, 25 * 60) == local(NEW_YORK, 2026, 11, 2, 0, 0)


def test_opening_inside_the_spring_gap_starts_when_clocks_resume() -> None:
    cal = BusinessCalendar.parse(
        {"timezone": "Europe/Berlin", "hours": {"sun": [["02:30", "04:00"]]}}
    )
    start = local(BERLIN, 2026, 3, 29, 0, 0)
    # 02:30 does not exist on that day; 03:00 CEST (01:00 UTC) to 04:00 CEST is one real hour.
    assert cal.minutes_between(start, start + timedelta(days=1)) == 60
    assert cal.add_minutes(start, 30) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "spec, words",
    [
        ({"timezone": "Mars/Olympus", "hours": WEEKDAYS_9_17}, "time zone"),
        ({"timezone": "UTC", "hours": {"mon": [["10:00", "09:00"]]}}, "ends before"),
        (
            {"timezone": "UTC", "hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}},
            "overlap",
        ),
        ({"timezone": "UTC", "hours": {}}, "no opening hours"),
        ({"timezone": "UTC", "hours": {"monday": [["09:00", "17:00"]]}}, "unknown days"),
        ({"timezone": "UTC", "hours": WEEKDAYS_9_17, "holidays": ["25/12/2026"]}, "YYYY-MM-DD"),
        ({"timezone": "UTC", "hours": {"mon": [["9am", "17:00"]]}}, "HH:MM"),
        ({"hours": WEEKDAYS_9_17}, "timezone"),
    ],
)
def test_bad_calendars_are_rejected_with_a_reason(spec: dict, words: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(Invalid) as err:
        BusinessCalendar.parse(spec)
    assert words in err.value.message
