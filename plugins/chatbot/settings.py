"""The chatbot's per-tenant settings (validated by the admin page against this model)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ChatbotSettings(BaseModel):
    """How the web chat talks and how much it accepts."""

    greeting: str = Field(
        title="Greeting",
        default="Hi! I'm the virtual assistant. Tell me what you need help with and I'll look "
        "for an answer in our help centre.",
        max_length=500,
    )
    max_unanswered_turns: int = Field(
        title="Unanswered questions before a ticket is offered",
        default=2,
        ge=1,
        le=10,
        description="Questions without a helpful answer before a ticket is opened",
    )
    suggestions: int = Field(title="Articles suggested per answer", default=3, ge=1, le=5)
    min_score: float = Field(
        title="Lowest article score suggested",
        default=0.0,
        ge=0,
        le=1,
        description="Suggestions scoring below this are not shown",
    )
    max_message_chars: int = Field(
        title="Longest message (characters)", default=1000, ge=50, le=10000
    )
    messages_per_minute_per_session: int = Field(
        title="Messages per minute per chat", default=10, ge=1, le=600
    )
    messages_per_minute_per_address: int = Field(
        title="Messages per minute per client address", default=30, ge=1, le=6000
    )
    sessions_per_hour_per_address: int = Field(
        title="Chats per hour per client address", default=20, ge=1, le=10000
    )


def load(settings: dict[str, Any]) -> ChatbotSettings:
    """The tenant's settings; unknown or invalid stored values fall back to defaults."""
    known = {k: v for k, v in settings.items() if k in ChatbotSettings.model_fields}
    try:
        return ChatbotSettings.model_validate(known)
    except ValueError:
        return ChatbotSettings()
