"""Business-hours calendars: counting and adding working time across weekends, holidays and DST.

A calendar is stored as JSON on an SLA policy::

    {"timezone": "Europe/Berlin",
     "hours": {"mon": [["09:00", "12:30"], ["13:30", "17:00"]], ...},
     "holidays": ["2026-12-25", ...]}

``None`` means 24x7. Weekdays without an entry are closed. Opening hours are wall-clock times in
the calendar's zone; each interval is turned into real UTC instants for its own date, so a
working day keeps its wall-clock hours on either side of a daylight-saving change and an
interval that spans the change (a night shift) is as long as the clocks say it really is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import Invalid

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead to look for opening hours before giving up (a calendar open once a year still
# works; one that is never open is rejected when it is saved).
MAX_DAYS = 3 * 366
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")

Interval = tuple[datetime, datetime]


def _minute_of_day(text: Any, where: str) -> int:
    if not isinstance(text, str) or not _HHMM.match(text):
        raise Invalid(f"{where}: times are 'HH:MM' from 00:00 to 24:00", field="calendar")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours in one time zone; ``zone`` None is 24x7."""

    zone: ZoneInfo | None
    # Per weekday (Monday first): sorted, non-overlapping (start, end) minutes of the day.
    hours: tuple[tuple[tuple[int, int], ...], ...] = ((),) * 7
    holidays: frozenset[date] = frozenset()

    # ------------------------------------------------------------- building

    @classmethod
    def parse(cls, spec: dict[str, Any] | None) -> BusinessCalendar:
        """Validate a calendar's JSON; raises ``Invalid`` with what is wrong."""
        if spec is None:
            return ALWAYS_OPEN
        if not isinstance(spec, dict):
            raise Invalid("calendar must be an object or null", field="calendar")
        unknown = set(spec) - {"timezone", "hours", "holidays"}
        if unknown:
            raise Invalid(
                f"calendar has unknown keys: {', '.join(sorted(unknown))}", field="calendar"
            )
        name = spec.get("timezone")
        if not isinstance(name, str) or not name:
            raise Invalid(
                "calendar.timezone is required (an IANA name such as Europe/Berlin)",
                field="calendar",
            )
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Invalid(
                f"calendar.timezone {name!r} is not a known IANA time zone", field="calendar"
            ) from exc
        raw_hours = spec.get("hours")
        if not isinstance(raw_hours, dict):
            raise Invalid(
                "calendar.hours must map weekdays (mon..sun) to intervals", field="calendar"
            )
        bad_days = set(raw_hours) - set(WEEKDAYS)
        if bad_days:
            raise Invalid(
                f"calendar.hours has unknown days: {', '.join(sorted(bad_days))}", field="calendar"
            )
        week: list[tuple[tuple[int, int], ...]] = []
        for day in WEEKDAYS:
            week.append(cls._parse_day(day, raw_hours.get(day) or []))
        if not any(week):
            raise Invalid("calendar.hours has no opening hours at all", field="calendar")
        holidays = spec.get("holidays") or []
        if not isinstance(holidays, list):
            raise Invalid("calendar.holidays must be a list of dates", field="calendar")
        days: set[date] = set()
        for item in holidays:
            try:
                days.add(date.fromisoformat(item))
            except (TypeError, ValueError) as exc:
                raise Invalid(
                    f"calendar.holidays: {item!r} is not a YYYY-MM-DD date", field="calendar"
                ) from exc
        return cls(zone=zone, hours=tuple(week), holidays=frozenset(days))

    @staticmethod
    def _parse_day(day: str, intervals: Any) -> tuple[tuple[int, int], ...]:
        if not isinstance(intervals, list):
            raise Invalid(
                f"calendar.hours.{day} must be a list of [start, end] pairs", field="calendar"
            )
        out: list[tuple[int, int]] = []
        for pair in intervals:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise Invalid(
                    f"calendar.hours.{day}: each interval is [start, end]", field="calendar"
                )
            start = _minute_of_day(pair[0], f"calendar.hours.{day}")
            end = _minute_of_day(pair[1], f"calendar.hours.{day}")
            if end <= start:
                raise Invalid(
                    f"calendar.hours.{day}: {pair[0]}-{pair[1]} ends before it starts",
                    field="calendar",
                )
            out.append((start, end))
        out.sort()
        for (_, end), (start, _) in zip(out, out[1:], strict=False):
            if start < end:
                raise Invalid(f"calendar.hours.{day}: intervals overlap", field="calendar")
        return tuple(out)

    # ------------------------------------------------------------- queries

    @property
    def is_24x7(self) -> bool:
        """Whether this calendar is always open."""
        return self.zone is None

    def _local_date(self, at: datetime) -> date:
        assert self.zone is not None
        return at.astimezone(self.zone).date()

    def _wall(self, day: date, minute: int) -> datetime:
        """A wall-clock minute of a local day as a UTC instant (24:00 is next midnight).

        A time that does not exist (inside a spring-forward gap) means the end of the gap:
        an opening at 02:30 on that day starts when the clocks jump to 03:00. A time that
        occurs twice (autumn) means its first occurrence.
        """
        assert self.zone is not None
        if minute == 24 * 60:
            day, minute = day + timedelta(days=1), 0
        wall = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
        first = wall.replace(tzinfo=self.zone).astimezone(UTC)
        if first.astimezone(self.zone).replace(tzinfo=None) == wall:
            return first
        # In a gap: fold=1 reads it with the offset after the change, fold=0 with the one
        # before; the change lies between the two. Bisect to the second.
        lo, hi = sorted((first, wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC)))
        before = lo.astimezone(self.zone).utcoffset()
        while hi - lo > timedelta(seconds=1):
            mid = lo + (hi - lo) / 2
            if mid.astimezone(self.zone).utcoffset() == before:
                lo = mid
            else:
                hi = mid
        return hi.replace(microsecond=0)

    def day_intervals(self, day: date) -> list[Interval]:
        """Open intervals of one local date, as UTC instants."""
        if day in self.holidays:
            return []
        out = []
        for start, end in self.hours[day.weekday()]:
            s, e = self._wall(day, start), self._wall(day, end)
            if e > s:
                out.append((s, e))
        return out

    def intervals_from(self, start: datetime, days: int = MAX_DAYS) -> Iterator[Interval]:
        """Open intervals from ``start`` on (the first clipped to start), in order."""
        day = self._local_date(start)
        for _ in range(days):
            for s, e in self.day_intervals(day):
                if e <= start:
                    continue
                yield max(s, start), e
            day += timedelta(days=1)

    def add_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant when ``minutes`` of business time have passed since ``start``."""
        if self.zone is None:
            return start + timedelta(minutes=minutes)
        remaining = timedelta(minutes=minutes)
        for s, e in self.intervals_from(start):
            span = e - s
            if remaining <= span:
                return s + remaining
            remaining -= span
        raise Invalid("the calendar has no opening hours in the next three years", field="calendar")

    def minutes_between(self, start: datetime, end: datetime) -> float:
        """Business minutes in [start, end); 0 when end is not after start."""
        if end <= start:
            return 0.0
        if self.zone is None:
            return (end - start).total_seconds() / 60
        total = timedelta()
        days = (self._local_date(end) - self._local_date(start)).days + 2
        for s, e in self.intervals_from(start, days=days):
            if s >= end:
                break
            total += min(e, end) - s
        return total.total_seconds() / 60

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls in business hours."""
        if self.zone is None:
            return True
        return any(s <= at < e for s, e in self.day_intervals(self._local_date(at)))


ALWAYS_OPEN = BusinessCalendar(zone=None)
