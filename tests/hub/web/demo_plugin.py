"""A small plugin with a settings model of every field kind, for the plugin admin page tests."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from core.api import Capability, PluginInfo, hookimpl


class DemoSettings(BaseModel):
    """Settings of the demo plugin: one field of each kind the form builder handles."""

    base_url: str = Field(
        default="https://example.invalid",
        title="Base URL",
        description="Where the demo service answers.",
    )
    retries: int = Field(default=3, ge=0, le=10, title="Retries")
    verbose: bool = Field(default=False, title="Verbose logging")
    mode: Literal["sandbox", "live"] = Field(default="sandbox", title="Mode")
    channels: list[str] = Field(default_factory=list, title="Channels")
    api_token: str | None = Field(default=None, title="API token")


class DemoPlugin:
    """Only describes itself: the admin page is what is under test."""

    @hookimpl
    def hub_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name="webdemo",
            title="Web Demo",
            description="A demo integration used by the web console tests.",
            capabilities=(Capability.NOTIFY,),
            settings_model=DemoSettings,
            secret_fields=("api_token",),
        )
