"""Updates back to Slack (``hub_notify``): the requester's thread and the triage card; a person's
DM for the notification matrix (``hub_notify_person``).

Rules that keep internal chatter away from requesters:
- the requester's thread only ever gets public comments (never ``is_internal``), status changes
  and the resolution with its CSAT prompt;
- a public comment that came from Slack is posted there only when it was an explicit relay
  (``:relay:`` in its dedupe key); anything else from Slack is already where it was written.
Every post is guarded by a ``slack_sent`` marker per (outbox event id, purpose), so a retried
event posts nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.api import HubContext, PersonNotice, PluginConfig, TicketEvent
from plugins.slack import refs
from plugins.slack.blocks import TicketCard, csat, triage
from plugins.slack.people import slack_id_for
from plugins.slack.refs import RELAY, THREAD, TRIAGE, ThreadRef
from plugins.slack.service import make_client

log = logging.getLogger(__name__)
PLUGIN = "slack"
MAX_TEXT = 3500  # Slack renders up to 4,000 characters of a message before folding it


def escape(text: str) -> str:
    """Slack's three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Notifier:
    """Delivers one outbox event to the tenant's Slack workspace."""

    def __init__(
        self, hub: HubContext, cfg: PluginConfig, client: WebClient, event: TicketEvent
    ) -> None:
        assert event.ticket is not None
        self.hub, self.cfg, self.client, self.event = hub, cfg, client, event
        self.ticket = event.ticket
        self.team = str(cfg.get("team_id") or "")

    # ------------------------------------------------------------ helpers

    def once(self, purpose: str, post: Callable[[], Any]) -> None:
        """Post unless this event already did, then remember it."""
        marker = f"{self.event.id}:{purpose}"
        if refs.sent(self.hub, self.ticket.tenant_id, marker):
            return
        post()
        refs.mark_sent(self.hub, self.ticket.tenant_id, self.ticket.id, marker)

    def body(self, text: str) -> str:
        """A comment as Slack text: escaped (``<``, ``>``, ``&`` are markup there) and bounded,
        with the rest left to the web page."""
        if len(text) > MAX_TEXT:
            return escape(text[:MAX_TEXT]) + f"... <{self.ticket.url}|(read on)>"
        return escape(text)

    def threads(self, kind: str) -> list[ThreadRef]:
        """The ticket's Slack threads of one kind (requester's or triage)."""
        return [r for v in self.ticket.refs.get(kind, []) if (r := ThreadRef.parse(v))]

    def post(self, ref: ThreadRef, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """Post into a thread."""
        kwargs: dict[str, Any] = {"blocks": blocks} if blocks else {}
        self.client.chat_postMessage(
            channel=ref.channel, thread_ts=ref.ts, text=text, unfurl_links=False, **kwargs
        )

    def card(self) -> TicketCard:
        """The ticket as the triage card shows it, from the event's snapshot."""
        t = self.ticket
        requester = (
            t.requester.email
            if not t.requester.name
            else f"{t.requester.name} <{t.requester.email}>"
        )
        assignee = None
        if t.assignee is not None:
            assignee = (
                t.assignee.email
                if not t.assignee.name
                else f"{t.assignee.name} <{t.assignee.email}>"
            )
        return TicketCard(
            id=t.id,
            subject=t.subject,
            status=t.status,
            priority=t.priority,
            category=t.category,
            requester=requester,
            assignee=assignee,
            url=t.url,
            channel=t.channel,
            sla_breached=t.sla_breached,
        )

    # ------------------------------------------------------------ events

    def created(self) -> None:
        """A new ticket (any channel) goes to the triage channel with its action buttons."""
        channel = self.cfg.get("triage_channel")
        if not channel or self.threads(TRIAGE):
            return

        def post() -> None:
            text, blocks = triage(self.card())
            try:
                resp = self.client.chat_postMessage(
                    channel=channel, text=text, blocks=blocks, unfurl_links=False
                )
            except SlackApiError as exc:
                if exc.response.get("error") != "not_in_channel":
                    raise
                # A public triage channel the bot was not invited to: join it, then post.
                self.client.conversations_join(channel=channel)
                resp = self.client.chat_postMessage(
                    channel=channel, text=text, blocks=blocks, unfurl_links=False
                )
            refs.link(
                self.hub,
                self.ticket.tenant_id,
                self.ticket.id,
                TRIAGE,
                ThreadRef(self.team, resp["channel"], resp["ts"]).value,
            )

        self.once("triage", post)

    def comment(self) -> None:
        """A comment: public ones to the requester's thread, all but Slack's own notes to triage."""
        c = self.event.comment
        if c is None:
            return
        origin = (
            refs.comment_origin(self.hub, self.ticket.tenant_id, c.id)
            if c.channel == "slack"
            else None
        )
        relayed = origin is not None and RELAY in origin
        by_requester = c.author.id == self.ticket.requester.id
        if not c.is_internal and not by_requester and (origin is None or relayed):
            for ref in self.threads(THREAD):
                self.once(
                    f"thread:{ref.value}",
                    partial(
                        self.post,
                        ref,
                        f"*{c.author.name or c.author.email}* replied on ticket "
                        f"#{self.ticket.id}:\n{self.body(c.body)}",
                    ),
                )
        if not (origin is not None and c.is_internal):
            if c.is_internal:
                label = f":lock: Internal note by *{c.author.name or c.author.email}*"
            elif by_requester:
                label = f":speech_balloon: Requester *{c.author.name or c.author.email}* wrote"
            else:
                label = (
                    f":outbox_tray: *{c.author.name or c.author.email}* replied to the requester"
                )
            for ref in self.threads(TRIAGE):
                self.once(
                    f"triage:{ref.value}",
                    partial(self.post, ref, f"{label} ({c.channel}):\n{self.body(c.body)}"),
                )

    def updated(self) -> None:
        """Status (and CSAT) to the requester, the triage card edited (a new assignee hears of it by
        ``hub_notify_person``)."""
        changes = self.event.payload.get("changes") or {}
        if "status" in changes:
            status = changes["status"][1]
            for ref in self.threads(THREAD):
                if status == "Resolved":
                    text, blocks = csat(self.ticket.id)
                    self.once(f"status:{ref.value}", partial(self.post, ref, text, blocks))
                else:
                    self.once(
                        f"status:{ref.value}",
                        partial(self.post, ref, f"Ticket #{self.ticket.id} is now *{status}*."),
                    )
        self.refresh_triage()

    def sla(self) -> None:
        """An SLA warning or breach, told to the agents in the triage thread."""
        payload = self.event.payload
        what = "breached" if self.event.type == "sla.breached" else "about to be breached"
        text = (
            f":rotating_light: SLA {payload.get('sla_target', '')} of #{self.ticket.id} "
            f"{what} (due {payload.get('due_at', '?')})."
        )
        for ref in self.threads(TRIAGE):
            self.once(f"sla:{ref.value}", partial(self.post, ref, text))
        if self.event.type == "sla.breached":
            self.refresh_triage()

    def refresh_triage(self) -> None:
        """Edit the triage card to the ticket's current state (idempotent by nature)."""
        text, blocks = triage(self.card())
        for ref in self.threads(TRIAGE):
            self.client.chat_update(channel=ref.channel, ts=ref.ts, text=text, blocks=blocks)


def notify(event: TicketEvent, hub: HubContext) -> None:
    """Deliver one ticket event to Slack for a tenant that has the plugin on."""
    if event.ticket is None:
        return
    cfg = hub.config(event.tenant_id, PLUGIN)
    if not cfg.enabled or not cfg.get("bot_token"):
        return
    notifier = Notifier(hub, cfg, make_client(cfg, hub.egress), event)
    if event.type == "ticket.created":
        notifier.created()
    elif event.type == "comment.added":
        notifier.comment()
    elif event.type == "ticket.updated":
        notifier.updated()
    elif event.type in ("sla.warning", "sla.breached"):
        notifier.sla()


def notify_person(notice: PersonNotice, hub: HubContext) -> bool | None:
    """A DM to the Slack user linked to the person (by email); None when there is none."""
    cfg = hub.config(notice.tenant_id, PLUGIN)
    if not cfg.enabled or not cfg.get("bot_token"):
        return None
    client = make_client(cfg, hub.egress)
    team = str(cfg.get("team_id") or "")
    uid = slack_id_for(hub, notice.tenant_id, client, team, notice.person.email)
    if uid is None:
        return None
    marker = f"{notice.event_id}:notice:{notice.person.id}"
    if refs.sent(hub, notice.tenant_id, marker):
        return True
    ticket = notice.ticket
    if ticket is None:
        return None
    link = f"<{notice.url}|{escape(notice.subject)}>"
    channel = client.conversations_open(users=uid)["channel"]["id"]
    client.chat_postMessage(
        channel=channel, text=f"{link}\n{escape(notice.text)[:MAX_TEXT]}", unfurl_links=False
    )
    refs.mark_sent(hub, notice.tenant_id, ticket.id, marker)
    return True
