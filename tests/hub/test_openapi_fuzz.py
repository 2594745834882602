"""Schemathesis over /openapi.json: whatever it sends, the API never answers 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import formats

EXAMPLES = 8
DATETIME_EXAMPLES = 40
# Datetimes at the ends of the representable range, in the extreme offsets: converting them to
# UTC overflows (the class of bug that answered 500), mixed with ordinary aware moments.
BOUNDARY_DATETIMES = (
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59.999999-14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-03-01T12:00:00",
    "2026-03-01T12:00:00+05:30",
)
DATETIMES = st.one_of(
    st.sampled_from(BOUNDARY_DATETIMES),
    st.sampled_from(BOUNDARY_DATETIMES[:2]),
    st.datetimes(
        timezones=st.builds(
            lambda m: timezone(timedelta(minutes=m)), st.integers(-14 * 60, 14 * 60)
        )
    ).map(datetime.isoformat),
    st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
)


@pytest.fixture
def boundary_datetimes() -> Iterator[None]:
    """Every ``format: date-time`` value schemathesis generates comes from ``DATETIMES``."""
    saved = dict(formats.STRING_FORMATS)
    schemathesis.openapi.format("date-time", DATETIMES)
    yield
    formats.STRING_FORMATS.clear()
    formats.STRING_FORMATS.update(saved)
    formats._invalidate_caches()


def test_no_server_errors(app, org, boundary_datetimes) -> None:  # type: ignore[no-untyped-def]
    """Every operation, a few generated requests each, as an admin past authentication; date-time
    parameters include the boundary moments."""
    org.end_user.post(
        "/api/v1/support/tickets/",
        json={"subject": "seed", "description": "seed", "category": "Other"},
    )
    headers = {"Authorization": f"Bearer {org.admin.token}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if "stream" in operation.path or "websocket" in operation.path or "/ws" in operation.path:
            continue
        operations += 1

        _fuzz(operation, headers, failures)
    assert operations > 20
    assert failures == []


def _fuzz(operation, headers: dict[str, str], failures: list[str]) -> None:  # type: ignore[no-untyped-def]
    """A few generated requests against one operation; 5xx answers are collected."""
    label = f"{operation.method.upper()} {operation.path}"

    # Operations that take a datetime get more examples, so the boundary moments are sent.
    examples = (
        DATETIME_EXAMPLES if "date-time" in json.dumps(operation.definition.raw) else EXAMPLES
    )

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case) -> None:  # type: ignore[no-untyped-def]
        try:
            response = case.call(headers=headers)
            case.validate_response(response, checks=(not_a_server_error,))
        except Exception as exc:
            failures.append(f"{label}: {exc}"[:400])

    check()
