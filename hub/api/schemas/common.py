"""Field types every domain's schemas share: the ticket vocabularies and aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

from core.lifecycle import CATEGORIES, PRIORITIES, STATUSES

Category = Literal[CATEGORIES]  # type: ignore[valid-type]
Priority = Literal[PRIORITIES]  # type: ignore[valid-type]
Status = Literal[STATUSES]  # type: ignore[valid-type]


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone (e.g. 2026-01-01T00:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is before the first representable moment
        raise ValueError("is out of range once converted to UTC") from None


# Every datetime the API takes (query parameters and bodies): aware, in UTC, 422 when it is not.
UtcDateTime = Annotated[datetime, AfterValidator(_to_utc)]


class Strict(BaseModel):
    """A request body: unknown fields are refused (422), never silently dropped."""

    model_config = ConfigDict(extra="forbid")
