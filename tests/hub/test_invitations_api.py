"""Invitations through the API: invite (the link in the answer only when no mail went out),
list, resend, cancel, conflicts and validation, and the CLI's ``hub user invite``."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.cli import app as cli
from tests.conftest import TenantSet
from tests.smtp_sink import system_relay

INV = "/api/v1/admin/invitations/"
PASSWORD = "a brand new passphrase 42"


def _accept(client: TestClient, link: str) -> int:
    """Accept an invitation link in the console; the status of the answer."""
    path = urlsplit(link).path
    browser = TestClient(client.app, raise_server_exceptions=False)
    page = browser.get(path)
    if page.status_code != 200:
        return page.status_code
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = browser.post(path, data={"csrf_token": csrf, "password": PASSWORD}, follow_redirects=False)
    return r.status_code


def test_invite_list_resend_cancel(org: TenantSet, client: TestClient) -> None:
    r = org.admin.post(INV, json={"email": "Ann@Demo.Example", "role": "agent"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["email"] == "Ann@demo.example" and made["role"] == "agent"
    assert made["sent"] is False and made["link"].startswith("http://hub.test/invite/")
    listed = org.admin.get(INV).json()
    assert [i["id"] for i in listed] == [made["id"]]
    assert "link" not in listed[0] or listed[0]["link"] is None
    again = org.admin.post(f"{INV}{made['id']}/resend/")
    assert again.status_code == 200, again.text
    assert again.json()["id"] != made["id"] and again.json()["link"] != made["link"]
    assert _accept(client, made["link"]) == 401
    assert org.admin.post(f"{INV}{made['id']}/cancel/").status_code == 404  # replaced
    cancelled = org.admin.post(f"{INV}{again.json()['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json() == {
        "id": again.json()["id"],
        "cancelled": True,
    }
    assert org.admin.get(INV).json() == []
    assert _accept(client, again.json()["link"]) == 401


def test_inviting_again_replaces_the_pending_invitation(org: TenantSet, client: TestClient) -> None:
    first = org.admin.post(INV, json={"email": "bo@demo.example", "role": "agent"}).json()
    second = org.admin.post(INV, json={"email": "bo@demo.example", "role": "admin"}).json()
    assert [i["id"] for i in org.admin.get(INV).json()] == [second["id"]]
    assert _accept(client, first["link"]) == 401
    assert _accept(client, second["link"]) == 303
    me = org.admin.get("/api/v1/admin/members/").json()
    assert {m["email"]: m["role"] for m in me}["bo@demo.example"] == "admin"


def test_bad_invitations(org: TenantSet) -> None:
    r = org.admin.post(INV, json={"email": org.agent.email, "role": "agent"})
    assert r.status_code == 409 and "already a member" in r.json()["detail"]
    assert org.admin.post(INV, json={"email": "no-at-sign", "role": "agent"}).status_code == 422
    assert org.admin.post(INV, json={"email": "a@b.example", "role": "boss"}).status_code == 422
    assert org.admin.post(f"{INV}999999/resend/").status_code == 404


def test_another_tenants_invitation_is_404(org: TenantSet, other_org: TenantSet) -> None:
    made = org.admin.post(INV, json={"email": "cy@demo.example", "role": "agent"}).json()
    assert other_org.admin.post(f"{INV}{made['id']}/resend/").status_code == 404
    assert other_org.admin.post(f"{INV}{made['id']}/cancel/").status_code == 404
    assert other_org.admin.get(INV).json() == []
    assert [i["id"] for i in org.admin.get(INV).json()] == [made["id"]]


def test_with_a_relay_the_answer_does_not_carry_the_link(org: TenantSet, hub) -> None:  # type: ignore[no-untyped-def]
    with system_relay(hub.settings) as relay:
        made = org.admin.post(INV, json={"email": "di@demo.example", "role": "end_user"}).json()
        assert made["sent"] is True and made["link"] is None
        assert len(relay.links("invite")) == 1


def test_cli_invite_prints_the_link_without_a_relay(
    org: TenantSet, client: TestClient, settings, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUB_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("HUB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HUB_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("HUB_BASE_URL", "http://hub.test")
    result = CliRunner().invoke(
        cli, ["user", "invite", "eli@demo.example", "--tenant", org.tenant[1], "--role", "agent"]
    )
    assert result.exit_code == 0, result.output
    assert "no mail could be sent" in result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("http://hub.test/invite/")
    assert [i["email"] for i in org.admin.get(INV).json()] == ["eli@demo.example"]
    assert _accept(client, link) == 303
    refused = CliRunner().invoke(
        cli, ["user", "invite", "eli@demo.example", "--tenant", org.tenant[1]]
    )
    assert refused.exit_code == 2 and "already a member" in refused.output


def test_the_lifetime_is_72_hours_or_the_tenants_own(org: TenantSet, hub) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta

    from sqlalchemy import update

    from core.models import Tenant

    def lifetime(email: str) -> timedelta:
        made = org.admin.post(INV, json={"email": email, "role": "agent"}).json()
        return datetime.fromisoformat(made["expires_at"]) - datetime.fromisoformat(
            made["created_at"]
        )

    assert lifetime("a@ttl.example") == timedelta(hours=72)
    with hub.session() as s:
        s.execute(
            update(Tenant)
            .where(Tenant.id == org.tenant[0])
            .values(settings={"invitation_ttl_hours": 5})
        )
    assert lifetime("b@ttl.example") == timedelta(hours=5)
