"""Every datetime input (query parameters and bodies) is one validated type: aware, converted to
UTC, and 422, never 500, when converting overflows (``0001-01-01T00:00:00+14:00``)."""

from __future__ import annotations

import pytest

from tests.conftest import TenantSet

BOUNDARY = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00")
QUERIES = [
    ("/api/v1/support/tickets/", ("created_after", "created_before")),
    ("/api/v1/support/reports/", ("start", "end")),
    ("/api/v1/support/reports/export/", ("start", "end")),
    ("/api/v1/support/kb/deflections/", ("start", "end")),
]


@pytest.mark.parametrize(("path", "names"), QUERIES)
def test_boundary_datetimes_are_422(org: TenantSet, path: str, names: tuple[str, ...]) -> None:
    for name in names:
        for value in BOUNDARY:
            r = org.admin.get(path, params={name: value})
            assert r.status_code == 422, (path, name, value, r.status_code, r.text)
            assert name in r.text
        r = org.admin.get(path, params={name: "2026-01-01T00:00:00"})
        assert r.status_code == 422, (path, name, "naive", r.text)
        r = org.admin.get(path, params={name: "2026-01-01T09:00:00+09:00"})
        assert r.status_code == 200, (path, name, r.text)
