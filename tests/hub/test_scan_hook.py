"""``hub_scan_attachment``: firstresult on the tenant's relay, the built-in ClamAV engine last,
so an engine a tenant enabled replaces it; with no engine answering a file is not_scanned."""

from __future__ import annotations

import io
import uuid
from typing import Any

from fastapi.testclient import TestClient

from core.api import HubContext, PluginInfo, ScanUnavailable, ScanVerdict, hookimpl
from hub.app import create_app
from hub.builtins import plugins as builtin_plugins
from hub.context import Hub
from hub.plugins import make_plugin_manager
from tests.conftest import Member, TenantSet
from tests.private_clamd import BODY_MARK, BODY_SIGNATURE

T = "/api/v1/support/tickets/"
NEW = {"subject": "log", "description": "see file", "category": "Other"}


class OtherEngine:
    """A third-party engine: flags files holding b"EVIL", is down for b"DOWN"."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, uuid.UUID]] = []

    @hookimpl
    def hub_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="otherav", title="Other AV")

    @hookimpl
    def hub_scan_attachment(
        self, data: bytes, filename: str, tenant_id: uuid.UUID, hub: HubContext
    ) -> ScanVerdict | None:
        self.seen.append((filename, tenant_id))
        if b"DOWN" in data:
            raise ScanUnavailable("malware scanner unavailable: other engine down")
        if b"EVIL" in data:
            return ScanVerdict("infected", signature="Other.Evil", engine="otherav")
        return ScanVerdict("clean", engine="otherav")


def _upload(member: Member, client: TestClient, tid: int, data: bytes) -> Any:
    return client.post(
        f"{T}{tid}/attachment/",
        headers=member.headers,
        files={"file": ("f.txt", io.BytesIO(data), "text/plain")},
    )


def test_hook_hub_scan_attachment(
    hub: Hub, settings: Any, real_clamd: Any, org: TenantSet, other_org: TenantSet
) -> None:
    engine = OtherEngine()
    pm = make_plugin_manager(autoload=False, extra=[*builtin_plugins(), ("otherav", engine)])
    scanning = Hub(
        settings.model_copy(update={"clamd_socket": real_clamd.socket}), pm=pm, engine=hub.engine
    )
    with TestClient(create_app(scanning)) as client:
        r = client.post("/api/v1/admin/plugins/otherav/enable/", headers=org.admin.headers)
        assert r.status_code in (200, 201), r.text
        mine = org.tenant[0]
        # firstresult: one verdict, not a list; the enabled engine answers before ClamAV.
        verdict = scanning.hooks(mine).hub_scan_attachment(
            data=b"EVIL", filename="x.txt", tenant_id=mine, hub=scanning
        )
        assert verdict == ScanVerdict("infected", signature="Other.Evil", engine="otherav")
        tid = client.post(T, json=NEW, headers=org.end_user.headers).json()["id"]
        replaced = _upload(org.end_user, client, tid, BODY_MARK).json()
        assert replaced["scan_status"] == "clean" and replaced["held"] is None
        evil = _upload(org.end_user, client, tid, b"EVIL file").json()
        assert evil["held"] == "infected" and evil["scan_signature"] == "Other.Evil"
        assert _upload(org.end_user, client, tid, b"DOWN").status_code == 503
        # A tenant without the engine: it is never asked, the built-in ClamAV answers.
        theirs = other_org.tenant[0]
        before = len(engine.seen)
        verdict = scanning.hooks(theirs).hub_scan_attachment(
            data=BODY_MARK, filename="x.txt", tenant_id=theirs, hub=scanning
        )
        assert verdict.status == "infected" and verdict.signature.startswith(BODY_SIGNATURE)
        assert verdict.engine == "clamav" and len(engine.seen) == before
    # No engine answers (no clamd configured, no engine enabled): stored as not_scanned, served.
    with TestClient(create_app(hub)) as client:
        tid = client.post(T, json=NEW, headers=other_org.end_user.headers).json()["id"]
        plain = _upload(other_org.end_user, client, tid, BODY_MARK).json()
        assert plain["scan_status"] == "not_scanned" and plain["held"] is None
        got = client.get(plain["download_url"], headers=other_org.end_user.headers)
        assert got.content == BODY_MARK
