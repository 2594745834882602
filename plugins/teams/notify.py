"""Updates back to Teams (``hub_notify``) through the Bot Connector.

- ``ticket.created``: the acknowledgement in the conversation the ticket came from (bot
  conversations only: an outgoing webhook already answered synchronously) and the triage card in
  ``triage_conversation``.
- ``comment.added``: public comments written outside Teams, never internal notes, never the
  requester's own words back to them.
- ``ticket.updated``: a status card to the conversation; the triage card updated in place.

Each post is guarded by a ``teams_sent`` marker per (outbox event id, purpose): a retried event
posts nothing twice. Network errors and 5xx raise (the outbox retries); a 4xx is written on the
ticket as an internal note and not retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from core.api import HubContext, PersonNotice, PluginConfig, TicketEvent
from plugins.teams import refs
from plugins.teams.cards import bounded, message, status, triage, with_card
from plugins.teams.connector import Connector, ConnectorRejected, ConnectorUnavailable
from plugins.teams.refs import ACTIVITY, CONVERSATION, TRIAGE, ConvRef
from plugins.teams.tickets import card_of, note

log = logging.getLogger(__name__)
PLUGIN = "teams"


class Notifier:
    """Delivers one outbox event to the tenant's Teams conversations."""

    def __init__(
        self,
        hub: HubContext,
        cfg: PluginConfig,
        event: TicketEvent,
        connector: Connector | None = None,
    ) -> None:
        assert event.ticket is not None
        self.hub, self.cfg, self.event, self.ticket = hub, cfg, event, event.ticket
        self.connector = connector or Connector(cfg, hub.egress)

    # ------------------------------------------------------------ helpers

    def once(self, purpose: str, post: Callable[[], None]) -> None:
        """Post unless this event already did; a refusal (4xx) is noted, not retried."""
        marker = f"{self.event.id}:{purpose}"
        if refs.sent(self.hub, self.ticket.tenant_id, marker):
            return
        try:
            post()
        except ConnectorRejected as exc:
            log.warning("teams refused %s of event %s: %s", purpose, self.event.id, exc.status)
            note(
                self.hub,
                self.ticket.tenant_id,
                self.ticket.id,
                f"Teams did not accept an update ({self.event.type}, {purpose.split(':')[0]}): "
                f"{exc}",
            )
        refs.mark_sent(self.hub, self.ticket.tenant_id, self.ticket.id, marker)

    def service_url(self, ref: ConvRef) -> str:
        """Where the conversation is served: the ref's, the installed conversation's, or the
        latest seen; raises (to retry) when none is known yet."""
        stored = self.cfg.state.get(f"conversation:{ref.conversation}")
        url = ref.service_url
        if not url and isinstance(stored, dict):
            url = str(stored.get("service_url") or "")
        url = url or str(self.cfg.state.get("service_url") or "")
        if not url:
            raise ConnectorUnavailable(f"no service URL known for conversation {ref.conversation}")
        return str(url)

    def conversations(self) -> list[ConvRef]:
        """The conversations the ticket came from (with their meta)."""
        return refs.refs_of(self.hub, self.ticket.tenant_id, self.ticket.id, CONVERSATION)

    def send(self, ref: ConvRef, activity: dict) -> None:
        """Post into a conversation and remember the posted activity (replies to it thread)."""
        url = self.service_url(ref)
        posted = self.connector.send(url, ref.conversation, activity)
        if posted:
            refs.link(
                self.hub,
                self.ticket.tenant_id,
                self.ticket.id,
                ACTIVITY,
                ConvRef(ref.conversation, posted, url, ref.via),
            )

    # ------------------------------------------------------------ events

    def created(self) -> None:
        """The acknowledgement to the requester, the triage card to the agents."""
        t = self.ticket
        if t.channel == "teams":
            for ref in self.conversations():
                if ref.via != "bot":
                    continue
                text = (
                    f"Thanks, I opened ticket #{t.id}: {t.subject}\n\n"
                    f"We will reply here. Follow it on {t.url}"
                )
                self.once(f"ack:{ref.value}", partial(self.send, ref, message(text)))
        triage_conv = str(self.cfg.get("triage_conversation") or "")
        if triage_conv and not refs.refs_of(self.hub, t.tenant_id, t.id, TRIAGE):
            self.once("triage", partial(self.post_triage, triage_conv))

    def post_triage(self, conversation: str) -> None:
        """The agents' card in the triage conversation, remembered to be updated later."""
        url = self.service_url(ConvRef(conversation, ""))
        shown = card_of(self.ticket)
        posted = self.connector.send(
            url, conversation, with_card(f"New ticket #{shown.id}: {shown.subject}", triage(shown))
        )
        if posted:
            refs.link(
                self.hub,
                self.ticket.tenant_id,
                self.ticket.id,
                TRIAGE,
                ConvRef(conversation, posted, url),
            )

    def comment(self) -> None:
        """A public comment from outside Teams (an agent's web reply) into the conversation."""
        c = self.event.comment
        if c is None or c.is_internal or c.channel == "teams":
            return  # internal notes never; Teams messages are already in their conversation
        if c.author.id == self.ticket.requester.id:
            return
        text = (
            f"{c.author.name or c.author.email} replied on ticket #{self.ticket.id}:\n\n"
            f"{bounded(c.body, self.ticket.url)}"
        )
        for ref in self.conversations():
            self.once(f"comment:{ref.value}", partial(self.send, ref, message(text)))

    def updated(self) -> None:
        """Status changes to the requester (as a card), the triage card kept current."""
        changes = self.event.payload.get("changes") or {}
        shown = card_of(self.ticket)
        if "status" in changes:
            new = str(changes["status"][1])
            for ref in self.conversations():
                self.once(
                    f"status:{ref.value}",
                    partial(
                        self.send,
                        ref,
                        with_card(f"Ticket #{shown.id} is now {new}", status(shown, new)),
                    ),
                )
        for ref in refs.refs_of(self.hub, self.ticket.tenant_id, self.ticket.id, TRIAGE):
            self.once(
                f"triage-update:{ref.value}",
                partial(
                    self.connector.update,
                    self.service_url(ref),
                    ref.conversation,
                    ref.activity,
                    with_card(f"#{shown.id} {shown.subject}", triage(shown)),
                ),
            )


def notify(event: TicketEvent, hub: HubContext) -> None:
    """Deliver one ticket event to Teams for a tenant whose bot can post."""
    if event.ticket is None:
        return
    cfg = hub.config(event.tenant_id, PLUGIN)
    if not cfg.enabled or not cfg.get("app_id") or not cfg.get("app_password"):
        return
    notifier = Notifier(hub, cfg, event)
    if event.type == "ticket.created":
        notifier.created()
    elif event.type == "comment.added":
        notifier.comment()
    elif event.type == "ticket.updated":
        notifier.updated()


def notify_person(notice: PersonNotice, hub: HubContext) -> bool | None:
    """A message in the person's 1:1 chat with the bot (learnt when they last wrote to it);
    None when they never did."""
    cfg = hub.config(notice.tenant_id, PLUGIN)
    if not cfg.enabled or not cfg.get("app_id") or not cfg.get("app_password"):
        return None
    chat = cfg.state.get(f"personal:{notice.person.email.lower()}")
    if not isinstance(chat, dict) or not chat.get("conversation") or notice.ticket is None:
        return None
    marker = f"{notice.event_id}:notice:{notice.person.id}"
    if refs.sent(hub, notice.tenant_id, marker):
        return True
    url = str(chat.get("service_url") or cfg.state.get("service_url") or "")
    if not url:
        return None
    Connector(cfg, hub.egress).send(
        url, str(chat["conversation"]), message(bounded(notice.text, notice.url))
    )
    refs.mark_sent(hub, notice.tenant_id, notice.ticket.id, marker)
    return True
