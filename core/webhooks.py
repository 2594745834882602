"""Freshness and content keys of signed inbound webhooks (Jira, PagerDuty, ...).

A signature proves who wrote a body, not when it was sent: an old signed body replayed later (with
a new delivery id) is just as valid. So a webhook is refused when the moment its body states lies
outside a window around now (both ways, for clock skew), and deduplicated on a hash of the signed
body besides the sender's delivery id.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from core.clock import now

WEBHOOK_WINDOW = timedelta(minutes=5)


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
