"""The settings form built from a plugin's JSON schema, and the values parsed back from it."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from core.errors import Invalid
from hub.web.plugin_form import build_fields, parse_form
from tests.hub.web.demo_plugin import DemoSettings


def _plugin(settings: dict | None = None, secrets_set: list[str] | None = None) -> dict:  # type: ignore[type-arg]
    return {
        "settings_schema": DemoSettings.model_json_schema(),
        "secret_fields": ["api_token"],
        "settings": settings or {},
        "secrets_set": secrets_set or [],
    }


def test_each_schema_type_gets_its_input() -> None:
    fields = {f.name: f for f in build_fields(_plugin({"channels": ["a", "b"], "retries": 5}))}
    assert {n: f.kind for n, f in fields.items()} == {
        "base_url": "text",
        "retries": "int",
        "verbose": "bool",
        "mode": "select",
        "channels": "list",
        "api_token": "secret",
    }
    assert fields["mode"].choices == ["sandbox", "live"]
    assert fields["channels"].value == "a\nb" and fields["retries"].value == 5
    assert fields["base_url"].value == "https://example.invalid"  # the model's default
    assert fields["base_url"].help == "Where the demo service answers."
    assert fields["api_token"].value is None and not fields["api_token"].is_set


def test_parsing_keeps_secrets_unless_typed_or_cleared() -> None:
    fields = build_fields(_plugin(secrets_set=["api_token"]))
    form = FormData(
        [
            ("setting_base_url", "https://x.example"),
            ("setting_retries", "7"),
            ("setting_verbose", "on"),
            ("setting_mode", "live"),
            ("setting_channels", "one\n\n two \n"),
            ("setting_api_token", ""),
        ]
    )
    assert parse_form(fields, form) == {
        "base_url": "https://x.example",
        "retries": 7,
        "verbose": True,
        "mode": "live",
        "channels": ["one", "two"],
    }
    cleared = parse_form(fields, FormData([("clear_api_token", "on")]))
    assert cleared["api_token"] == "" and cleared["verbose"] is False
    typed = parse_form(fields, FormData([("setting_api_token", "t0ken")]))
    assert typed["api_token"] == "t0ken"


def test_bad_number_is_a_clear_error() -> None:
    with pytest.raises(Invalid, match="Retries must be a number"):
        parse_form(build_fields(_plugin()), FormData([("setting_retries", "many")]))
