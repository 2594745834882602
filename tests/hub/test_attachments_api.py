"""Attachment upload limits (by content, not name), storage outside the web root, access."""

from __future__ import annotations

import io
from pathlib import Path

from tests.conftest import TenantSet
from tests.samples import PNG

T = "/api/v1/support/tickets/"
NEW = {"subject": "Log attached", "description": "See the log.", "category": "Technical Issue"}


def _up(member, tid: int, name: str, data: bytes, ctype: str = "application/octet-stream"):  # type: ignore[no-untyped-def]
    return member.post(f"{T}{tid}/attachment/", files={"file": (name, io.BytesIO(data), ctype)})


def test_upload_list_download(org: TenantSet, settings) -> None:  # type: ignore[no-untyped-def]
    tid = org.end_user.post(T, json=NEW).json()["id"]
    r = _up(org.end_user, tid, "screenshot.png", PNG, "image/png")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["file_name"] == "screenshot.png" and body["file_size"] == len(PNG)
    assert body["ticket_id"] == tid
    listed = org.agent.get(f"{T}{tid}/attachments/").json()
    assert [a["id"] for a in listed] == [body["id"]]
    got = org.agent.get(listed[0]["download_url"])
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    stored = list(Path(settings.blob_dir).rglob("*"))
    assert stored and all("screenshot" not in p.name for p in stored)


def test_type_checked_by_content_not_name(org: TenantSet) -> None:
    tid = org.end_user.post(T, json=NEW).json()["id"]
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
    r = _up(org.end_user, tid, "harmless.png", exe, "image/png")
    assert r.status_code == 422
    assert "not accepted" in r.json()["detail"]
    r = _up(org.end_user, tid, "notes.txt", "plain text log ✓\n".encode(), "text/plain")
    assert r.status_code == 201
    assert r.json()["mime_type"] == "text/plain"


def test_size_limit_and_empty(org: TenantSet, settings) -> None:  # type: ignore[no-untyped-def]
    tid = org.end_user.post(T, json=NEW).json()["id"]
    r = _up(org.end_user, tid, "big.txt", b"a" * (settings.attachment_max_bytes + 1), "text/plain")
    assert r.status_code == 413
    assert "limit" in r.json()["detail"]
    assert _up(org.end_user, tid, "empty.txt", b"", "text/plain").status_code == 422


def test_file_name_never_a_path(org: TenantSet) -> None:
    tid = org.end_user.post(T, json=NEW).json()["id"]
    r = _up(org.end_user, tid, "../../etc/passwd", b"root:x:0:0\n", "text/plain")
    assert r.status_code == 201
    assert r.json()["file_name"] == "passwd"


def test_download_needs_access(org: TenantSet, make_member, other_org: TenantSet) -> None:  # type: ignore[no-untyped-def]
    tid = org.end_user.post(T, json=NEW).json()["id"]
    att = _up(org.end_user, tid, "s.png", PNG, "image/png").json()
    stranger = make_member(org.tenant, "end_user")
    assert stranger.get(att["download_url"]).status_code == 404
    assert other_org.admin.get(att["download_url"]).status_code == 404
    assert org.agent.client.get(att["download_url"]).status_code == 401
