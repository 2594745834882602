"""Verification mail for claimed support addresses, sent through the operator's relay.

The secret goes only to the address itself: the claiming tenant never sees it (not in the API,
the console, a log or its own relay). When the mail comes back through intake (the address's
mail reaches the hub, by MX or forwarding), the email plugin finds the secret and the claim is
verified (``core.services.channel_keys.verify_from_mail``).
"""

from __future__ import annotations

import logging
import smtplib
import uuid

from core.services.channel_keys import PROOF_MAIL, TOKEN_PREFIX, Claim
from hub import system_mail
from hub.context import Hub

log = logging.getLogger("hub.key_verification")


def compose(hub: Hub, tenant_name: str, claim: Claim) -> tuple[str, str]:
    """Subject and body of the verification mail of one claim."""
    assert claim.token is not None
    marker = f"{TOKEN_PREFIX}{claim.token}"
    subject = f"Confirm {claim.key} as a support address ({marker})"
    body = (
        f"The help desk at {hub.base_url} was asked to take mail for {claim.key}\n"
        f"on behalf of {tenant_name}.\n\n"
        "Nothing needs to be done: once this message reaches the help desk through\n"
        "the address's forwarding or mail exchanger, the address is confirmed.\n\n"
        "If you did not expect this, ignore it: the address stays unconfirmed and no\n"
        "mail sent to it is taken.\n\n"
        f"Confirmation code: {marker}\n"
    )
    return subject, body


def send_all(hub: Hub, tenant_id: uuid.UUID, tenant_name: str, claims: list[Claim]) -> list[str]:
    """Send a verification mail for each pending mail claim; one line per claim saying what
    became of it, for the admin (never the secret, never a relay's own words)."""
    notes = []
    for claim in claims:
        keys = hub.infos[claim.plugin].channel_keys if claim.plugin in hub.infos else None
        if claim.verified or claim.token is None or keys is None or keys.proof != PROOF_MAIL:
            continue
        subject, body = compose(hub, tenant_name, claim)
        try:
            system_mail.send(hub.settings, to=claim.key, subject=subject, body=body)
        except system_mail.NotConfigured:
            notes.append(
                f"{claim.key} awaits verification: this hub has no system relay, so "
                "the operator must confirm it (hub channels verify)."
            )
            continue
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("verification mail to %s failed: %s", claim.key, type(exc).__name__)
            notes.append(
                f"{claim.key} awaits verification: the verification mail could not be "
                "sent; try again later (Resend)."
            )
            continue
        notes.append(
            f"A verification mail was sent to {claim.key}; the address takes mail once "
            "it comes back to the help desk."
        )
    return notes
