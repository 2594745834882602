"""The one shape of every error the API answers (``hub.api.errors``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorPublic(BaseModel):
    """An error: a sentence for people, a code for programs, and the field at fault when one
    is (422s also list every problem in ``errors``)."""

    detail: Any = Field(description="what went wrong, in words")
    code: str = Field(description="not_found, forbidden, conflict, invalid, unauthenticated, ...")
    field: str | None = Field(default=None, description="the request field at fault")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="422 only: each validation problem (loc, msg, type)"
    )
