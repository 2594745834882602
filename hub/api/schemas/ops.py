"""What the operations endpoints answer: liveness and readiness."""

from __future__ import annotations

from pydantic import BaseModel


class HealthPublic(BaseModel):
    """The process answers."""

    status: str


class ReadinessPublic(BaseModel):
    """``ready`` or ``unready``, and each check's result (``ok``, ``skipped: ...``,
    ``failed: <reason>``)."""

    status: str
    checks: dict[str, str]
