"""Chatbot fixtures: a tenant with the plugin on and a small published help centre."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.kb import articles as kb
from core.permissions import system_actor
from core.services import plugins as plugin_service
from hub.context import Hub

ARTICLES = [
    (
        "Reset your password",
        "Open the sign-in page and choose **Forgot password?**. We email you a reset link that "
        "expires after 60 minutes.",
    ),
    ("Download invoices", "Admins find every invoice as a PDF under Admin, Billing, Invoices."),
    ("Connect Slack", "An admin clicks Add to Slack and picks the channel for new tickets."),
]


@pytest.fixture
def chat_org(org, hub: Hub) -> Any:  # type: ignore[no-untyped-def]
    """``org`` with the chatbot enabled and three published public articles."""
    tenant_id = org.tenant[0]
    hub.set_enabled(tenant_id, "chatbot", True, reason="test")
    with hub.session() as s:
        org.articles = {
            title: kb.create_article(
                s,
                system_actor(tenant_id),
                kb.ArticleFields(title=title, body=body, status="published"),
            ).id
            for title, body in ARTICLES
        }
    return org


@pytest.fixture
def configure_chatbot(hub: Hub) -> Callable[..., None]:
    """Change a tenant's chatbot settings."""

    def configure(tenant_id: Any, **settings: Any) -> None:
        with hub.session() as s:
            plugin_service.configure(
                s,
                system_actor(tenant_id),
                "chatbot",
                settings=settings,
                secrets={},
                keyring=hub.keyring,
            )
        hub.tenant_hooks.invalidate(tenant_id)

    return configure
