"""Outbound calls through the ``jira`` package, one attempt each (the outbox retries).

``Retryable`` (429, 5xx, network) makes the hook raise so the outbox backs off; ``Rejected``
(any other 4xx) is recorded on the ticket and not retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from core.api import EgressPolicy, EgressRefused
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
    # Never the response body: it would reach a ticket note (or the outbox error an admin
    # reads), and a tenant who points ``server`` somewhere could read that service through it.
    return f"HTTP {exc.status_code}" if exc.status_code else "no answer"


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
    except EgressRefused as exc:
        raise Rejected(0, f"server: {exc.message}") from exc


def connect(settings: JiraSettings, egress: EgressPolicy) -> JIRA:
    """A client for the tenant's site (this asks the server for its version, once).

    Every connection of the client's session goes through the hub's egress policy: the
    server's resolved address is checked and the connection made to that very address."""
    if not settings.server or not settings.project_key:
        raise Rejected(0, "server and project_key must be configured")
    try:
        egress.check_url(settings.server)  # refused before the client is even built
    except EgressRefused as exc:
        raise Rejected(0, f"server: {exc.message}") from exc
    except OSError as exc:
        raise Retryable(f"Jira unreachable: {type(exc).__name__}") from exc
    auth: dict[str, Any] = {}
    if settings.user and settings.api_token:
        auth["basic_auth"] = (settings.user, settings.api_token)
    elif settings.pat or settings.api_token:
        auth["token_auth"] = settings.pat or settings.api_token

    def build() -> JIRA:
        jira = JIRA(
            server=settings.server, max_retries=0, timeout=TIMEOUT, get_server_info=False, **auth
        )
        egress.mount(jira._session)
        # What JIRA(get_server_info=True) does, now over the pinned session.
        info = jira.server_info()
        jira._version = tuple(info["versionNumbers"])
        jira.deploymentType = info.get("deploymentType")
        return jira

    return call(build)


def label_for(tenant_id: Any, ticket_id: int) -> str:
    """The label that ties a Jira issue to a ticket, even when our own record of it is lost."""
    return f"hub-{str(tenant_id)[:8]}-ticket-{ticket_id}"


def find_by_label(jira: JIRA, project_key: str, label: str) -> str | None:
    """Key of the issue carrying our label, if one exists (a crash after create)."""
    found = call(
        lambda: jira.search_issues(
            f'project = "{project_key}" AND labels = "{label}"',
            maxResults=1,
            fields="key",
            json_result=True,
        )
    )
    issues = found.get("issues") if isinstance(found, dict) else None
    return str(issues[0]["key"]) if issues else None
