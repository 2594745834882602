"""Reading real Teams activities (no hub needed)."""

from __future__ import annotations

from plugins.teams.auth import webhook_signature, webhook_valid
from plugins.teams.payloads import (
    aad_tenant_of,
    app_id_of,
    conversation_type,
    dedupe_key,
    is_from_bot,
    placeholder_email,
    plain_text,
    split_thread,
)
from tests.plugins.teams.conftest import fixture


def test_channel_reply_reads_thread_text_and_tenant() -> None:
    act = fixture("bot_framework/message.channel_reply_with_mention.json")
    assert plain_text(act) == "reply to thread"
    assert conversation_type(act) == "channel"
    assert split_thread(act["conversation"]["id"]) == (
        "19:6848757105754c8981c67612732d9aa7@thread.tacv2",
        "1759881511856",
    )
    assert aad_tenant_of(act) == "50612dbb-0237-4969-b378-8d42590f9c00"
    assert app_id_of(act) == "0b6fe6d1-fece-44f7-9a48-56465e2d5ab8"
    assert not is_from_bot(act)


def test_minimal_message_defaults() -> None:
    act = fixture("bot_framework/message.all_fields.json")
    assert plain_text(act) == "Hello World"
    assert conversation_type(act) == "personal"  # no conversationType, not a group
    assert app_id_of(act) == "bot-123"
    assert split_thread(act["conversation"]["id"]) == ("", "")
    assert dedupe_key("bot", act) == "bot:1234567890@conversation-123"


def test_bot_messages_are_recognised() -> None:
    assert is_from_bot(fixture("bot_framework/message.from_bot_itself.json"))
    assert is_from_bot(fixture("bot_framework/message.adaptive_card_attachment.json"))
    assert not is_from_bot(fixture("bot_framework/message.personal_chat.json"))


def test_long_dedupe_keys_are_hashed_to_fit() -> None:
    act = fixture("bot_framework/message.adaptive_card_attachment.json")
    act["id"] = "x" * 400
    key = dedupe_key("bot", act)
    assert len(key) <= 300 and key.startswith("bot:sha256:")
    assert key == dedupe_key("bot", act)


def test_placeholder_email() -> None:
    assert (
        placeholder_email("33333333-3333-4333-8333-333333333333", "00000000-ABCD")
        == "teams-33333333-3333-4333-8333-333333333333@00000000-abcd.teams.invalid"
    )


def test_outgoing_webhook_fixtures_carry_the_secret_they_were_signed_with() -> None:
    valid = fixture("outgoing_webhook/request.valid_hmac.json")
    bad = fixture("outgoing_webhook/request.bad_hmac.json")
    raw = valid["raw_body"].encode()
    secret = valid["security_token_b64"]
    assert valid["headers"]["Authorization"] == f"HMAC {webhook_signature(secret, raw)}"
    assert webhook_valid(secret, raw, valid["headers"]["Authorization"])
    assert not webhook_valid(secret, bad["raw_body"].encode(), bad["headers"]["Authorization"])
    assert not webhook_valid(secret, raw + b" ", valid["headers"]["Authorization"])
    assert not webhook_valid("not base64!", raw, valid["headers"]["Authorization"])
