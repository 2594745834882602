"""Public holidays of a country (and optionally a region) for a year, from the well-kept
``holidays`` package, to add to a business calendar instead of typing them in."""

from __future__ import annotations

import holidays

from core.errors import Invalid


def public_holidays(
    country: str, year: int, subdivision: str | None = None
) -> list[tuple[str, str]]:
    """(ISO date, name) of each public holiday, in date order; Invalid for an unknown country,
    region or a year out of range."""
    code = country.strip().upper()
    if not 1970 <= year <= 2100:
        raise Invalid("year must be between 1970 and 2100", field="holiday_year")
    try:
        days = holidays.country_holidays(code, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        raise Invalid(
            f"unknown country code {code}: use an ISO 3166 code such as DE, FR, GB or US",
            field="holiday_country",
        ) from None
    except ValueError as exc:
        raise Invalid(str(exc), field="holiday_region") from None
    return [(day.isoformat(), name) for day, name in sorted(days.items())]
