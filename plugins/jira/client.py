"""Outbound calls through the ``jira`` package, one attempt each (the outbox retries).

``Retryable`` (429, 5xx, network) makes the hook raise so the outbox backs off; ``Rejected``
(any other 4xx) is recorded on the ticket and not retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from plugins.jira.settings import JiraSettings

TIMEOUT = 15
T = TypeVar("T")


class Rejected(Exception):
    """Jira refused the request for good."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Jira answered {status}: {message}")
        self.status = status
        self.message = message


class Retryable(Exception):
    """A failure worth retrying later."""


def _message(exc: JIRAError) -> str:
    return str(exc.text or "")[:500] or "no details"


def call(fn: Callable[[], T]) -> T:
    """Run one Jira call, turning its failures into ``Rejected`` or ``Retryable``."""
    try:
        return fn()
    except JIRAError as exc:
        status = exc.status_code or 0
        if status == 429 or status >= 500 or status == 0:
            raise Retryable(f"Jira answered {status or 'nothing'}: {_message(exc)}") from exc
        raise Rejected(status, _message(exc)) from exc
    except requests.RequestException as exc:
        raise Retryable(f"Jira unreachable: {type(exc).__name__}") from exc


def connect(settings: JiraSettings) -> JIRA:
    """A client for the tenant's site (this asks the server for its version, once)."""
    if not settings.server or not settings.project_key:
        raise Rejected(0, "server and project_key must be configured")
    auth: dict[str, Any] = {}
    if settings.user and settings.api_token:
        auth["basic_auth"] = (settings.user, settings.api_token)
    elif settings.pat or settings.api_token:
        auth["token_auth"] = settings.pat or settings.api_token
    return call(lambda: JIRA(server=settings.server, max_retries=0, timeout=TIMEOUT, **auth))


def label_for(tenant_id: Any, ticket_id: int) -> str:
    """The label that ties a Jira issue to a ticket, even when our own record of it is lost."""
    return f"hub-{str(tenant_id)[:8]}-ticket-{ticket_id}"


def find_by_label(jira: JIRA, project_key: str, label: str) -> str | None:
    """Key of the issue carrying our label, if one exists (a crash after create)."""
    found = call(lambda: jira.search_issues(f'project = "{project_key}" AND labels = "{label}"',
                                            maxResults=1, fields="key", json_result=True))
    issues = found.get("issues") if isinstance(found, dict) else None
    return str(issues[0]["key"]) if issues else None
