"""Schemathesis over /openapi.json: whatever it sends, the API never answers 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

EXAMPLES = 8


def test_no_server_errors(app, org) -> None:  # type: ignore[no-untyped-def]
    """Every operation, a few generated requests each, as an admin past authentication."""
    org.end_user.post("/api/v1/support/tickets/", json={
        "subject": "seed", "description": "seed", "category": "Other"})
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

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case) -> None:  # type: ignore[no-untyped-def]
        try:
            response = case.call(headers=headers)
            case.validate_response(response, checks=(not_a_server_error,))
        except Exception as exc:  # noqa: BLE001 - collect all, report together
            failures.append(f"{label}: {exc}"[:400])

    check()
