"""Freshness and content keys of signed inbound webhooks (Jira, PagerDuty, ...).

A signature proves who wrote a body, not when it was sent: an old signed body replayed later (with
a new delivery id) is just as valid. So a webhook is refused when the moment its body states lies
outside a window around now (both ways, for clock skew), and deduplicated on a hash of the signed
body besides the sender's delivery id. ``receive_signed`` is the one receiver of such webhooks:
body cap, tenant hint, which tenant's secret signs the body, the window; framework-free, so a
plugin's route only maps a ``WebhookRefused`` to its HTTP answer.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from pydantic import BaseModel

from core.clock import now

WEBHOOK_WINDOW = timedelta(minutes=5)
T = TypeVar("T")


def freshness_problem(
    sent_at: datetime | None, *, window: timedelta = WEBHOOK_WINDOW
) -> str | None:
    """Why a webhook that says it was sent at ``sent_at`` is refused, or None when it is fresh."""
    if sent_at is None:
        return "the webhook carries no valid timestamp"
    age = now() - sent_at
    if age > window:
        return f"the webhook is too old ({int(age.total_seconds())} s; at most {int(window.total_seconds())} s)"
    if -age > window:
        return "the webhook's timestamp lies in the future"
    return None


def body_key(body: bytes) -> str:
    """The dedupe key of a signed body: the same content is applied once, whatever its delivery id."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


class WebhookOutcome(BaseModel):
    """What a vendor webhook is answered: what the hub did with the delivery."""

    status: str


class WebhookRefused(Exception):
    """A signed webhook refused before any effect: ``status`` is the HTTP answer, ``detail`` its
    text; ``tenant_id`` is set once a tenant's secret was found to sign it, ``stale`` when the
    body is signed but outside the window (a replay, or a far-off clock)."""

    def __init__(
        self, status: int, detail: str, *, tenant_id: uuid.UUID | None = None, stale: bool = False
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.tenant_id = tenant_id
        self.stale = stale


def check_declared_length(declared: str | None, max_body: int) -> None:
    """Refuse (413) a request whose ``Content-Length`` passes ``max_body``, before its body is
    read."""
    if declared and declared.isdigit() and int(declared) > max_body:
        raise WebhookRefused(413, "body too large")


@dataclass(frozen=True)
class SignedWebhook(Generic[T]):
    """A webhook a tenant's secret signs: the tenant, the parsed body, the body's content key."""

    tenant_id: uuid.UUID
    payload: T
    content_key: str


def receive_signed(
    body: bytes,
    *,
    candidates: Sequence[tuple[uuid.UUID, str]],
    verify: Callable[[str, bytes], bool],
    parse: Callable[[bytes], T],
    max_body: int,
    hint: str | None = None,
    resolve_hint: Callable[[str], uuid.UUID | None] | None = None,
    sent_at: Callable[[T], datetime | None] | None = None,
    unique: bool = False,
    unnamed_unknown: int = 404,
) -> SignedWebhook[T]:
    """Which tenant's secret signs ``body``, and the body parsed; else ``WebhookRefused``.

    ``candidates`` are the (tenant, secret) of every tenant with the plugin on. A ``hint``
    (``?tenant=``) names the tenant: only its secret is tried, and a tenant without the plugin
    gets 404. Without one, every secret is tried: the first that verifies owns the body, or with
    ``unique`` the one that does (two tenants' secrets signing it is refused, 401). When no tenant
    has the plugin on, an unnamed request gets ``unnamed_unknown`` (404, or 401 for a channel
    that never says whether anyone is here). ``verify(secret, body)`` checks the signature; an
    empty secret never verifies. A body ``parse`` refuses (``ValueError``) gets 400, and with
    ``sent_at`` so does a body that states a moment outside ``WEBHOOK_WINDOW``.
    """
    if len(body) > max_body:
        raise WebhookRefused(413, "body too large")
    if hint is not None:
        named = resolve_hint(hint) if resolve_hint is not None else None
        candidates = [c for c in candidates if c[0] == named]
        if not candidates:
            raise WebhookRefused(404, "not found")
    elif not candidates:
        raise WebhookRefused(unnamed_unknown, "not found")
    signers = (tid for tid, secret in candidates if secret and verify(secret, body))
    owners = list(signers) if unique else [o for o in [next(signers, None)] if o is not None]
    if len(owners) != 1:
        raise WebhookRefused(401, "signature does not match")
    owner = owners[0]
    try:
        payload = parse(body)
    except ValueError as exc:
        raise WebhookRefused(400, str(exc), tenant_id=owner) from None
    if sent_at is not None:
        stale = freshness_problem(sent_at(payload))
        if stale is not None:
            raise WebhookRefused(400, stale, tenant_id=owner, stale=True)
    return SignedWebhook(owner, payload, body_key(body))
