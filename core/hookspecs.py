"""Every hook a plugin can implement, by family. Project name and marker: ``hub``.

Call modes: fan-out (every enabled plugin runs, results come back as a list) unless marked
``firstresult`` (the first non-None answer wins: "who owns this" decisions) or ``historic``
(late-registered plugins still receive the call). Calls that concern a tenant go through that
tenant's relay, which hides the plugins it has not enabled.

Each docstring is the hook's reference: ``hub docs hooks`` writes it into docs/plugins.md (the
``:param:`` and ``:return:`` fields, and the ``Example::`` block as a plugin would write it).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pluggy
from sqlalchemy.orm import Session

from core.intake import InboundMessage
from core.scan import ScanVerdict
from core.types import (
    AdminActionResult,
    AdminTable,
    BackgroundService,
    ConnectionCheck,
    Escalation,
    EscalationResult,
    EscalationTarget,
    HubContext,
    OutboundMail,
    PeriodicTask,
    PersonNotice,
    PersonRecord,
    PluginInfo,
    Suggestion,
    TicketEvent,
)

PROJECT = "hub"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ------------------------------------------------------------------ app extension


@hookspec
def hub_plugin_info() -> PluginInfo:
    """Describe the plugin: name, title, capabilities, per-tenant settings model, secret fields.

    Fan-out over every installed plugin (tenant enablement does not apply).

    ``channel_keys=ChannelKeys(of=..., proof=..., label=...)`` declares the inbound keys the plugin
    routes by: ``of(settings)`` returns the normalized keys a tenant's plain settings name. The hub
    claims them in the transaction that saves the settings (``support_channel_keys``; a key another
    tenant owns is a 409). ``proof=PROOF_SIGNED`` (the default) makes a claim hold on save, for
    channels whose requests are signed with the tenant's own secret; ``proof=PROOF_MAIL`` holds it
    pending until the verification mail the hub sends to the address comes back
    (``verify_channel_key_from_mail``). Resolve owners with
    ``channel_key_owner(session, plugin, key, enabled=True)``, never by scanning settings.
    :return: one PluginInfo; its ``name`` is replaced by the entry-point name.

    Example::

        @hookimpl
        def hub_plugin_info() -> PluginInfo:
            return PluginInfo(
                name="myplugin",
                title="My plugin",
                capabilities=(Capability.NOTIFY,),
                settings_model=MySettings,
                secret_fields=("api_token",),
            )
    """


@hookspec(historic=True)
def hub_configure(hub: HubContext) -> None:
    """Called once per process when the hub is ready (historic: late plugins get it too).

    The place for per-hub state (services, caches): made here, kept by the hub (a process may
    run several hubs, as the tests do), not made at import or on first use.
    :param hub: the running hub's context, to keep for later calls.

    Example::

        _services: weakref.WeakKeyDictionary[HubContext, MyService] = weakref.WeakKeyDictionary()


        @hookimpl
        def hub_configure(hub: HubContext) -> None:
            _services[hub] = MyService(hub)
    """


@hookspec
def hub_routes(hub: HubContext) -> Any:
    """HTTP endpoints of the plugin, mounted under ``/plugins/<name>``.

    Fan-out over installed plugins at app start. A plugin's routes must answer 404 for a tenant
    that has not enabled it.
    :param hub: the hub context.
    :return: a FastAPI ``APIRouter`` (or None); the hub mounts it under ``/plugins/<name>``.

    Example::

        @hookimpl
        def hub_routes(hub: HubContext) -> APIRouter:
            from myplugin.routes import build_router

            return build_router(hub)
    """


@hookspec
def hub_periodic_tasks(hub: HubContext) -> list[PeriodicTask]:
    """Work to run on a schedule from Celery beat (IMAP polling, SLA sweeps, ...).

    Fan-out when the Celery app is built; beat runs each ``run(hub)`` every ``seconds``.
    :param hub: the hub context.
    :return: ``PeriodicTask(name, seconds, run, kind)`` items; each ``run(hub)`` is idempotent
        and finds its tenants itself.

    Example::

        @hookimpl
        def hub_periodic_tasks(hub: HubContext) -> list[PeriodicTask]:
            return [PeriodicTask(name="myplugin.poll", seconds=60, run=poll, kind="intake")]
    """


@hookspec
def hub_background_services(hub: HubContext) -> list[BackgroundService]:
    """Long-running servers the plugin brings (the SMTP listener), started by ``hub run``.

    Fan-out in ``hub run`` and ``hub smtp``.
    :param hub: the hub context.
    :return: ``BackgroundService(name, start, stop, describe)`` items.

    Example::

        @hookimpl
        def hub_background_services(hub: HubContext) -> list[BackgroundService]:
            server = MyServer(hub.listen_address("myplugin"))
            return [BackgroundService(name="myplugin", start=server.start, stop=server.stop)]
    """


# ------------------------------------------------------------------ intake


@hookspec(firstresult=True)
def hub_resolve_tenant(channel: str, key: str, hub: HubContext) -> uuid.UUID | None:
    """Which tenant owns an inbound address: an email address, a Slack ``team_id``, ...

    firstresult: the plugin that owns the channel answers; others return None. Only tenants
    that have the plugin enabled may be returned, and only by their verified claim in the
    channel-key registry.
    :param channel: the channel name ("email", "slack", ...).
    :param key: the channel's address of the tenant.
    :param hub: the hub context.
    :return: the owning tenant's id, or None.

    Example::

        @hookimpl
        def hub_resolve_tenant(channel: str, key: str, hub: HubContext) -> uuid.UUID | None:
            if channel != "myplugin":
                return None
            with hub.session() as s:
                return channel_key_owner(s, "myplugin", key, enabled=True)
    """


@hookspec(firstresult=True)
def hub_thread_message(
    session: Session, tenant_id: uuid.UUID, message: InboundMessage
) -> int | None:
    """Which ticket an inbound message continues, by a channel's own rule (e.g. a Slack thread).

    firstresult, on the tenant's relay, inside the ingest transaction. The second of core's
    threading rules (``core.intake.threading.RULES``): stored references are tried first; the
    signed reply token, the channel's ticket hint and the ``[#id]`` subject token after this hook.
    Whatever matched, only the requester, staff or a known participant may add to a ticket.
    :param session: the ingest transaction's session (read only).
    :param tenant_id: the receiving tenant; never return another tenant's ticket.
    :param message: the normalised inbound message.
    :return: a ticket id, or None.

    Example::

        @hookimpl
        def hub_thread_message(
            session: Session, tenant_id: uuid.UUID, message: InboundMessage
        ) -> int | None:
            if message.channel != "myplugin":
                return None
            return message.meta.get("thread_ticket")
    """


# ------------------------------------------------------------------ notification


@hookspec
def hub_notify(event: TicketEvent, hub: HubContext) -> None:
    """A ticket event reaches people through this channel (mail, Slack thread, chat).

    Fan-out on the tenant's relay, from the outbox after commit, at least once: use ``event.id``
    to stay idempotent. Never send internal notes (``event.comment.is_internal``) to end users.
    Raise to have the event retried for this plugin only.
    :param event: the event with ticket and comment snapshots.
    :param hub: the hub context.

    Example::

        @hookimpl
        def hub_notify(event: TicketEvent, hub: HubContext) -> None:
            if event.type == "comment.added" and not event.comment.is_internal:
                post_message(hub.config(event.tenant_id, "myplugin"), event.comment.body)
    """


@hookspec(firstresult=True)
def hub_send_mail(mail: OutboundMail, hub: HubContext) -> str | None:
    """Send a mail of the hub's (an invitation, a password reset, a sign-in link) in a tenant's
    name, through the channel that tenant set up for outbound mail.

    firstresult, on the tenant's relay (a plugin the tenant has not enabled is not asked): the
    plugin that can send for ``mail.tenant_id`` sends and answers; the others return None. The
    hub calls it after its transaction committed, and falls back to the operator's system relay
    (``HUB_SYSTEM_RELAY_*``), else shows the link to whoever asked for it. Connections a tenant
    configured go through ``hub.egress``. Raise when the relay fails: the hub then tries its
    fallback. The body carries a secret link: never log it.
    :param mail: recipient, subject, plain-text body (and optional HTML) and the tenant.
    :param hub: the hub context.
    :return: the Message-ID of the mail handed to the relay, or None when the plugin cannot send
        for this tenant (not configured).

    Example::

        @hookimpl
        def hub_send_mail(mail: OutboundMail, hub: HubContext) -> str | None:
            settings = hub.config(mail.tenant_id, "myplugin").settings
            if not settings.get("relay_host"):
                return None
            return my_relay(settings).send(mail.to, mail.subject, mail.text, egress=hub.egress)
    """


@hookspec(firstresult=True)
def hub_notify_person(notice: PersonNotice, hub: HubContext) -> bool | None:
    """Tell one person about a ticket event by a direct message in the chat they are linked in
    (a Slack or Teams DM): the matrix's ``chat`` channel (``core.notifications.matrix``).

    firstresult, on the tenant's relay, from the outbox after commit: the plugin that finds the
    person (by ``notice.person.email``) sends the DM and answers True; the others return None.
    The hub records the delivery, so a retried event does not ask again once one plugin
    answered; stay idempotent on (``notice.event_id``, ``notice.person.id``) anyway. Connections
    go through ``hub.egress``. Raise to have the event retried.
    :param notice: who, which kind, the wording (subject, text) and the ticket.
    :param hub: the hub context.
    :return: True when a DM was sent, None when this plugin cannot reach the person.

    Example::

        @hookimpl
        def hub_notify_person(notice: PersonNotice, hub: HubContext) -> bool | None:
            user = my_directory(hub, notice.tenant_id).by_email(notice.person.email)
            if user is None:
                return None
            my_client(hub).direct_message(user, notice.text)
            return True
    """


# ------------------------------------------------------------------ escalation


@hookspec
def hub_escalate(escalation: Escalation, hub: HubContext) -> EscalationResult | None:
    """Escalate a ticket: an SLA breach, or an agent's request for a named target.

    Fan-out on the tenant's relay from the outbox, for ``sla.breached`` and ``ticket.escalated``
    events (``escalation.reason`` is ``"sla_breach"`` or ``"manual"``). A plugin acts when
    ``escalation.target`` is its own name, or when it is None and the breach concerns it (e.g.
    PagerDuty on Critical). Must be idempotent per ticket (dedup keys, stored external refs).
    Raise to be retried. The built-in admin escalation is ``trylast``.
    :param escalation: what to escalate and why.
    :param hub: the hub context.
    :return: a result naming the reference created (audited on the ticket), or None when not
        concerned.

    Example::

        @hookimpl
        def hub_escalate(escalation: Escalation, hub: HubContext) -> EscalationResult | None:
            if escalation.target not in (None, "myplugin"):
                return None
            key = open_incident(escalation.ticket, dedup=f"ticket-{escalation.ticket.id}")
            return EscalationResult(plugin="myplugin", reference=key)
    """


@hookspec
def hub_escalation_targets(tenant_id: uuid.UUID, hub: HubContext) -> list[EscalationTarget]:
    """Escalation actions this plugin offers agents for the tenant (buttons in the console).

    Fan-out on the tenant's relay.
    :param tenant_id: the tenant.
    :param hub: the hub context.
    :return: the targets; an agent's choice comes back as ``escalation.target``.

    Example::

        @hookimpl
        def hub_escalation_targets(tenant_id: uuid.UUID, hub: HubContext) -> list[EscalationTarget]:
            return [EscalationTarget(plugin="myplugin", target="myplugin", label="Open incident")]
    """


# ------------------------------------------------------------------ knowledge base


@hookspec
def hub_kb_suggest(
    tenant_id: uuid.UUID, text: str, limit: int, audience: str, hub: HubContext
) -> list[Suggestion]:
    """Articles ranked for a text. Fan-out on the tenant's relay; the hub merges all lists by score.

    The built-in full-text ranker is a ``trylast`` plugin, so another can replace or join it.
    :param tenant_id: the tenant whose articles to search.
    :param text: what the user wrote.
    :param limit: how many at most.
    :param audience: "public" (end users: published public articles) or "agent".
    :param hub: the hub context.
    :return: suggestions, best first; each ``source`` names the ranker.

    Example::

        @hookimpl
        def hub_kb_suggest(
            tenant_id: uuid.UUID, text: str, limit: int, audience: str, hub: HubContext
        ) -> list[Suggestion]:
            return [Suggestion(**hit, source="myplugin") for hit in my_index.search(text, limit)]
    """


# ------------------------------------------------------------------ person data


@hookspec
def hub_person_data(tenant_id: uuid.UUID, email: str, hub: HubContext) -> list[PersonRecord]:
    """What the plugin holds about one person of a tenant, for a data export (GDPR art. 15).

    Fan-out on the tenant's relay; each plugin reads its own tables only (core exports the
    tickets, comments and users itself).
    :param tenant_id: the tenant.
    :param email: the person's address, compared case-insensitively.
    :param hub: the hub context.
    :return: one PersonRecord per row that concerns the person; an empty list when none.

    Example::

        @hookimpl
        def hub_person_data(
            tenant_id: uuid.UUID, email: str, hub: HubContext
        ) -> list[PersonRecord]:
            with hub.session() as s:
                return [
                    PersonRecord("myplugin", "contact", str(c.id), c.created_at, {"name": c.name})
                    for c in contacts_of(s, tenant_id, email)
                ]
    """


@hookspec
def hub_erase_person(tenant_id: uuid.UUID, email: str, hub: HubContext) -> int:
    """Erase or anonymise what the plugin holds about one person of a tenant (GDPR art. 17).

    Fan-out on the tenant's relay, in the plugin's own transaction; idempotent (a second call
    finds nothing and returns 0). Afterwards ``hub_person_data`` returns nothing for the person.
    :param tenant_id: the tenant.
    :param email: the person's address, compared case-insensitively.
    :param hub: the hub context.
    :return: how many records were erased or anonymised.

    Example::

        @hookimpl
        def hub_erase_person(tenant_id: uuid.UUID, email: str, hub: HubContext) -> int:
            with hub.session() as s:
                return delete_contacts_of(s, tenant_id, email)
    """


@hookspec
def hub_merge_person(
    session: Session,
    tenant_id: uuid.UUID,
    source_id: int,
    source_email: str,
    target_id: int,
    target_email: str,
    hub: HubContext,
) -> int:
    """Two people of a tenant are one: move what the plugin holds about the source to the
    target (chat accounts linked to the source's address, transcripts).

    Fan-out on the tenant's relay, inside the merge's transaction (``session``: write with it,
    never commit); core has already moved tickets, comments and the rest, and deactivates the
    source afterwards. Raise to refuse the whole merge.
    :param session: the merge transaction's session.
    :param tenant_id: the tenant; touch nothing of another.
    :param source_id: the person merged away (deactivated afterwards, never deleted).
    :param source_email: the source's address, compared case-insensitively.
    :param target_id: the person who remains.
    :param target_email: the target's address.
    :param hub: the hub context.
    :return: how many records were moved.

    Example::

        @hookimpl
        def hub_merge_person(
            session: Session,
            tenant_id: uuid.UUID,
            source_id: int,
            source_email: str,
            target_id: int,
            target_email: str,
            hub: HubContext,
        ) -> int:
            return move_contacts(session, tenant_id, source_email, target_email)
    """


# ------------------------------------------------------------------ scanning


@hookspec(firstresult=True)
def hub_scan_attachment(
    data: bytes, filename: str, tenant_id: uuid.UUID, hub: HubContext
) -> ScanVerdict | None:
    """Scan one file for malware before it is stored on a ticket (every upload and every
    inbound attachment: console, API, mail, Slack, Teams, chat).

    firstresult, on the tenant's relay: the first engine that answers decides. The built-in
    ClamAV engine (clamd's zINSTREAM over ``HUB_CLAMD_SOCKET``) is ``trylast``, so an installed
    engine replaces it; with no engine answering, the file is stored as ``not_scanned``. An
    ``infected`` verdict stores the file quarantined (never downloadable until an admin
    releases it). Raise ``ScanUnavailable`` when the engine is down: the tenant's setting then
    refuses the file (HTTP 503, SMTP 451, channel retry) or holds it unscanned until
    ``hub attachments rescan`` succeeds.
    :param data: the file's bytes.
    :param filename: the file's cleaned display name (never a path).
    :param tenant_id: the tenant the file is for.
    :param hub: the hub context.
    :return: ``ScanVerdict("clean")`` or ``ScanVerdict("infected", signature=...)``, or None
        when this engine does not scan (not configured).

    Example::

        @hookimpl
        def hub_scan_attachment(
            data: bytes, filename: str, tenant_id: uuid.UUID, hub: HubContext
        ) -> ScanVerdict | None:
            try:
                found = my_engine.scan(data)
            except ConnectionError as exc:
                raise ScanUnavailable(f"my engine is down: {exc}") from exc
            return ScanVerdict("infected", signature=found) if found else ScanVerdict("clean")
    """


@hookspec
def hub_retention_sweep(
    tenant_id: uuid.UUID, kind: str, before: datetime, dry_run: bool, limit: int, hub: HubContext
) -> int | None:
    """One bounded batch of a retention kind a plugin owns (``parked_mail``: the email plugin).

    Fan-out on the tenant's relay; a plugin that does not own ``kind`` returns None. Idempotent:
    what was removed no longer matches, so the hub repeats the call until fewer than ``limit``
    come back.
    :param tenant_id: the tenant.
    :param kind: the retention kind, e.g. ``parked_mail``.
    :param before: data created before this moment goes.
    :param dry_run: count all that would go, removing nothing.
    :param limit: at most this many items in this batch (ignored by a dry run).
    :param hub: the hub context.
    :return: how many went (or would go); None when the kind is not the plugin's.

    Example::

        @hookimpl
        def hub_retention_sweep(tenant_id, kind, before, dry_run, limit, hub) -> int | None:
            if kind != "drafts":
                return None
            with hub.session() as s:
                return delete_drafts_before(s, tenant_id, before, dry_run=dry_run, limit=limit)
    """


@hookspec(firstresult=True)
def hub_check_connection(
    plugin: str, tenant_id: uuid.UUID, hub: HubContext
) -> ConnectionCheck | None:
    """Check the tenant's settings of one integration against its vendor, cheaply, and say in
    words what the vendor answered (the admin page's "Test connection").

    firstresult: each plugin answers for its own name only (None for any other ``plugin``). The
    check reads the tenant's stored settings, goes through the egress policy like all of the
    plugin's traffic, changes nothing, and never raises: a refusal or an unreachable vendor is
    ``ConnectionCheck(False, ...)``.
    :param plugin: the plugin the admin is testing.
    :param tenant_id: the tenant.
    :param hub: the hub context.
    :return: the outcome, or None when ``plugin`` is not this plugin.

    Example::

        @hookimpl
        def hub_check_connection(
            plugin: str, tenant_id: uuid.UUID, hub: HubContext
        ) -> ConnectionCheck | None:
            if plugin != "myplugin":
                return None
            try:
                me = client_for(hub, tenant_id).whoami()
            except VendorError as exc:
                return ConnectionCheck(False, f"the vendor refused: {exc.code}")
            return ConnectionCheck(True, f"signed in as {me.name}")
    """


@hookspec
def hub_admin_tables(tenant_id: uuid.UUID, hub: HubContext) -> list[AdminTable] | None:
    """The data this plugin keeps for the tenant that an admin reviews and acts on (mail that
    could not become a ticket, addresses that bounce), as tables the console renders at
    ``/admin/data/<plugin>/<key>`` with the same accessibility as every page, and lists on the
    admin home. Called for the plugins the tenant enabled.

    Keep it cheap: the newest rows only (at most 100 per table), no call to a vendor, and never
    a secret in a cell or a detail.
    :param tenant_id: the tenant whose data is listed.
    :param hub: the hub context.
    :return: this plugin's tables (empty, or None, when it keeps nothing to review).

    Example::

        @hookimpl
        def hub_admin_tables(tenant_id: uuid.UUID, hub: HubContext) -> list[AdminTable]:
            rows = [AdminRow(str(r.id), (r.at.isoformat(), r.reason), actions=("retry",))
                    for r in newest_failures(hub, tenant_id, limit=100)]
            return [AdminTable("myplugin", "failures", "Failed syncs", "...", ("When", "Why"),
                               tuple(rows), actions={"retry": "Retry"})]
    """


@hookspec(firstresult=True)
def hub_admin_action(
    plugin: str,
    tenant_id: uuid.UUID,
    table: str,
    row_id: str,
    action: str,
    actor_id: int,
    hub: HubContext,
) -> AdminActionResult | None:
    """Do one action of an admin table on one row (release a parked mail into a ticket, clear
    a failing address), for an admin of the tenant; the hub has checked the admin's role and
    the CSRF token, and audits the action with its outcome.

    firstresult: each plugin answers for its own ``plugin`` name only (None for any other). The
    plugin commits its own change before it answers; a row that is gone, or an action the row
    does not offer, is ``AdminActionResult(False, ...)``, never an exception.
    :param plugin: the plugin whose table it is.
    :param tenant_id: the tenant.
    :param table: the table's ``key``.
    :param row_id: the row's ``id``, as the table gave it.
    :param action: the action's name, one of the table's ``actions``.
    :param actor_id: the admin's user id (for the plugin's own records).
    :param hub: the hub context.
    :return: what happened, in words, or None when ``plugin`` is not this plugin.

    Example::

        @hookimpl
        def hub_admin_action(plugin, tenant_id, table, row_id, action, actor_id, hub):
            if plugin != "myplugin":
                return None
            if table == "failures" and action == "retry":
                return AdminActionResult(True, retry(hub, tenant_id, int(row_id)))
            return AdminActionResult(False, f"{table} has no action {action}")
    """
