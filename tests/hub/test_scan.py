"""Uploads go through clamd's INSTREAM protocol; infected files are refused, nothing is stored."""

from __future__ import annotations

import io
import socket
import struct
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.context import Hub
from hub.scan import ScanUnavailable, scan_bytes
from tests.conftest import Member

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _fake_clamd(path: Path) -> threading.Thread:
    """A unix-socket server speaking clamd's INSTREAM: FOUND when the stream holds EICAR."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(4)

    def serve() -> None:
        while True:
            conn, _ = server.accept()
            with conn:
                assert conn.recv(10) == b"zINSTREAM\0"
                data = b""
                while True:
                    size = struct.unpack("!L", conn.recv(4, socket.MSG_WAITALL))[0]
                    if size == 0:
                        break
                    data += conn.recv(size, socket.MSG_WAITALL)
                found = (
                    b"stream: Eicar-Test-Signature FOUND\0" if EICAR in data else b"stream: OK\0"
                )
                conn.sendall(found)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def clamd(tmp_path: Path) -> str:
    path = tmp_path / "clamd.sock"
    _fake_clamd(path)
    return str(path)


def test_scan_protocol(clamd: str, tmp_path: Path) -> None:
    assert scan_bytes(clamd, b"hello") is None
    assert scan_bytes(clamd, b"x" * 200_000 + EICAR) == "Eicar-Test-Signature"
    with pytest.raises(ScanUnavailable):
        scan_bytes(str(tmp_path / "missing.sock"), b"x")


def test_infected_upload_is_refused(hub: Hub, settings, clamd: str, org) -> None:  # type: ignore[no-untyped-def]
    scanning = Hub(
        settings.model_copy(update={"clamd_socket": clamd}), pm=hub.pm, engine=hub.engine
    )
    with TestClient(create_app(scanning)) as client:
        user = Member(**{**org.end_user.__dict__, "client": client})
        tid = user.post(
            "/api/v1/support/tickets/",
            json={"subject": "log", "description": "see file", "category": "Other"},
        ).json()["id"]
        bad = user.post(
            f"/api/v1/support/tickets/{tid}/attachment/",
            files={"file": ("eicar.txt", io.BytesIO(EICAR), "text/plain")},
        )
        assert bad.status_code == 422
        assert "Eicar-Test-Signature" in bad.json()["detail"]
        good = user.post(
            f"/api/v1/support/tickets/{tid}/attachment/",
            files={"file": ("notes.txt", io.BytesIO(b"fine"), "text/plain")},
        )
        assert good.status_code == 201
        names = [
            a["file_name"] for a in user.get(f"/api/v1/support/tickets/{tid}/attachments/").json()
        ]
        assert names == ["notes.txt"]


def test_scanner_down_is_503_and_nothing_stored(hub: Hub, settings, tmp_path, org) -> None:  # type: ignore[no-untyped-def]
    scanning = Hub(
        settings.model_copy(update={"clamd_socket": str(tmp_path / "gone.sock")}),
        pm=hub.pm,
        engine=hub.engine,
    )
    with TestClient(create_app(scanning)) as client:
        user = Member(**{**org.end_user.__dict__, "client": client})
        tid = user.post(
            "/api/v1/support/tickets/",
            json={"subject": "log", "description": "see file", "category": "Other"},
        ).json()["id"]
        r = user.post(
            f"/api/v1/support/tickets/{tid}/attachment/",
            files={"file": ("notes.txt", io.BytesIO(b"fine"), "text/plain")},
        )
        assert r.status_code == 503 and "scanner unavailable" in r.json()["detail"]
        assert user.get(f"/api/v1/support/tickets/{tid}/attachments/").json() == []
