"""A test plugin implementing every hook family, recording what it was called with."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from core.api import (
    BackgroundService,
    Capability,
    Escalation,
    EscalationResult,
    EscalationTarget,
    HubContext,
    InboundMessage,
    NotFound,
    OutboundMail,
    PeriodicTask,
    PersonNotice,
    PluginInfo,
    Suggestion,
    TicketEvent,
    hookimpl,
)


class RecorderSettings(BaseModel):
    greeting: str = "hello"
    limit: int = 3
    api_key: str | None = None


class Recorder:
    """Each hook appends to ``calls``; ``fail_notify`` makes hub_notify raise that many times."""

    def __init__(self, name: str = "recorder") -> None:
        self.name = name
        self.calls: list[tuple[str, Any]] = []
        self.fail_notify = 0
        self.fail_on = "ticket.created"
        self.hub: HubContext | None = None

    def of(self, hook: str) -> list[Any]:
        return [arg for name, arg in self.calls if name == hook]

    @hookimpl
    def hub_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=self.name,
            title="Recorder",
            capabilities=tuple(Capability),
            settings_model=RecorderSettings,
            secret_fields=("api_key",),
        )

    @hookimpl
    def hub_configure(self, hub: HubContext) -> None:
        self.hub = hub
        self.calls.append(("hub_configure", hub))

    @hookimpl
    def hub_routes(self, hub: HubContext) -> APIRouter:
        router = APIRouter()

        @router.get("/ping/{tenant_id}")
        def ping(tenant_id: uuid.UUID) -> dict[str, str]:
            if not hub.config(tenant_id, self.name).enabled:
                raise NotFound("not enabled for this tenant")
            return {"pong": hub.config(tenant_id, self.name).get("greeting", "hello")}

        return router

    @hookimpl
    def hub_periodic_tasks(self, hub: HubContext) -> list[PeriodicTask]:
        return [
            PeriodicTask(
                name="recorder.tick", seconds=3600, run=lambda h: self.calls.append(("tick", h))
            )
        ]

    @hookimpl
    def hub_background_services(self, hub: HubContext) -> list[BackgroundService]:
        return [
            BackgroundService(
                name="recorder",
                start=lambda: self.calls.append(("start", 1)),
                stop=lambda: self.calls.append(("stop", 1)),
            )
        ]

    @hookimpl
    def hub_resolve_tenant(self, channel: str, key: str, hub: HubContext) -> uuid.UUID | None:
        if channel != "recorder":
            return None
        for config in hub.enabled_configs(self.name):
            if config.get("greeting") == key:
                return config.tenant_id
        return None

    @hookimpl
    def hub_thread_message(
        self, session: Any, tenant_id: uuid.UUID, message: InboundMessage
    ) -> int | None:
        self.calls.append(("hub_thread_message", message))
        return message.meta.get("recorder_ticket")

    @hookimpl
    def hub_notify(self, event: TicketEvent, hub: HubContext) -> None:
        if self.fail_notify > 0 and event.type == self.fail_on:
            self.fail_notify -= 1
            raise ConnectionError("channel down")
        self.calls.append(("hub_notify", event))

    @hookimpl
    def hub_send_mail(self, mail: OutboundMail, hub: HubContext) -> str | None:
        self.calls.append(("hub_send_mail", mail))
        return f"<{len(self.calls)}@recorder.test>"

    @hookimpl
    def hub_notify_person(self, notice: PersonNotice, hub: HubContext) -> bool | None:
        self.calls.append(("hub_notify_person", notice))
        return True

    @hookimpl
    def hub_escalate(self, escalation: Escalation, hub: HubContext) -> EscalationResult | None:
        self.calls.append(("hub_escalate", escalation))
        if escalation.target not in (None, self.name):
            return None
        return EscalationResult(plugin=self.name, reference=f"REC-{escalation.ticket.id}")

    @hookimpl
    def hub_escalation_targets(
        self, tenant_id: uuid.UUID, hub: HubContext
    ) -> list[EscalationTarget]:
        return [EscalationTarget(plugin=self.name, target=self.name, label="Record it")]

    @hookimpl
    def hub_kb_suggest(
        self, tenant_id: uuid.UUID, text: str, limit: int, audience: str, hub: HubContext
    ) -> list[Suggestion]:
        self.calls.append(("hub_kb_suggest", text))
        return [
            Suggestion(
                article_id=1,
                title="Recorded",
                excerpt=text[:20],
                url="/kb/1",
                score=0.5,
                source=self.name,
            )
        ]
