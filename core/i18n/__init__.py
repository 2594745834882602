"""Languages and time zones: which locales the hub speaks, how a time is written for a reader,
and how a locale is chosen from a browser's ``Accept-Language``.

Times are stored in UTC (``core.clock``); they are converted only when shown, with the reader's
zone (an IANA name checked against ``zoneinfo``) and locale (Babel's CLDR formats).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.core import UnknownLocaleError
from babel.dates import format_date, format_datetime, get_timezone_name

from core.errors import Invalid

# The locales the hub has complete translations for, the default first.
SUPPORTED_LOCALES: tuple[str, ...] = ("en", "de")
DEFAULT_LOCALE = "en"
DEFAULT_TIME_ZONE = "UTC"
# What the account page offers, in each language's own name.
LOCALE_NAMES: dict[str, str] = {"en": "English", "de": "Deutsch"}


def check_locale(value: str, *, field: str = "locale") -> str:
    """A supported locale, or ``Invalid`` naming the field and the choices."""
    value = (value or "").strip()
    if value not in SUPPORTED_LOCALES:
        raise Invalid(
            f"{field} must be one of: {', '.join(SUPPORTED_LOCALES)} (not {value[:20]!r})",
            field=field,
        )
    return value


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name ``zoneinfo`` knows, sorted (the account page's choices)."""
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def check_time_zone(value: str, *, field: str = "time_zone") -> str:
    """An IANA time zone ``zoneinfo`` knows, or ``Invalid`` naming the field."""
    value = (value or "").strip()
    if not value or len(value) > 64 or value not in time_zones():
        raise Invalid(
            f"{field} must be an IANA time zone such as Europe/Berlin or America/New_York "
            f"(not {value[:40]!r})",
            field=field,
        )
    return value


@lru_cache(maxsize=512)
def zone(name: str | None) -> tzinfo:
    """The tzinfo of a zone name; UTC for none or an unknown name (stored values are checked,
    a cookie's may not be)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def safe_zone_name(name: str | None) -> str | None:
    """A zone name if ``zoneinfo`` knows it, else None (for values from a cookie or a form)."""
    if not name or len(name) > 64:
        return None
    return name if name in time_zones() else None


def negotiate(accept_language: str | None) -> str | None:
    """The best supported locale for an ``Accept-Language`` header, or None when none fits."""
    if not accept_language:
        return None
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            wanted.append((-q, i, tag.strip().replace("_", "-")))
    preferred = [tag for _, _, tag in sorted(wanted)]
    found = Locale.negotiate(preferred, list(SUPPORTED_LOCALES), sep="-")
    return str(found) if found is not None else None


def effective_locale(chosen: str | None, tenant_default: str | None, browser: str | None) -> str:
    """The person's own choice, else the tenant's default for its people, else the browser's
    language, else English."""
    for value in (chosen, tenant_default, browser):
        if value in SUPPORTED_LOCALES:
            return value
    return DEFAULT_LOCALE


def _locale(locale: str | None) -> Locale:
    try:
        return Locale.parse(locale or DEFAULT_LOCALE)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def format_when(value: datetime | None, locale: str | None = None, tz: str | None = None) -> str:
    """A stored (UTC) time as the reader reads it: their zone, their locale's medium date and
    short time, and the zone's abbreviation (``2 Dec 2026, 17:00 EST``, ``02.12.2026, 17:00 MEZ``)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    where = zone(tz)
    loc = _locale(locale)
    local = value.astimezone(where)
    # The locale's medium date with its short time (Babel's medium time carries seconds).
    pattern = str(loc.datetime_formats["medium"]).format(
        loc.time_formats["short"].pattern, loc.date_formats["medium"].pattern
    )
    text = format_datetime(local, pattern, tzinfo=where, locale=loc)
    abbr = local.tzname() or get_timezone_name(where, "short", locale=loc)
    return f"{text} {abbr}"


def format_day(
    value: datetime | date | None, locale: str | None = None, tz: str | None = None
) -> str:
    """A date (or the date of a stored time in the reader's zone) in the locale's medium form."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(zone(tz)).date()
    return format_date(value, "medium", locale=_locale(locale))
