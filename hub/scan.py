"""Malware scanning of uploads through a ClamAV daemon: clamd's zINSTREAM command, the file sent
in chunks over a unix socket (``/path`` or ``unix:/path``) or TCP (``host:port``, an operator
setting: ``HUB_CLAMD_SOCKET``)."""

from __future__ import annotations

import socket
import struct

from core.errors import ScanUnavailable

CHUNK = 64 * 1024
__all__ = ["ScanUnavailable", "scan_bytes"]


def _connect(address: str, timeout: float) -> socket.socket:
    if address.startswith(("/", "unix:")):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: str | tuple[str, int] = address.removeprefix("unix:")
    else:
        host, _, port = address.rpartition(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        target = (host or "127.0.0.1", int(port))
    sock.settimeout(timeout)
    sock.connect(target)
    return sock


def scan_bytes(address: str, data: bytes, timeout: float = 30.0) -> str | None:
    """None when clean, else the signature name clamd reports."""
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            for i in range(0, len(data), CHUNK):
                chunk = data[i : i + CHUNK]
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                part = sock.recv(4096)
                if not part:
                    break
                reply += part
    except OSError as exc:
        raise ScanUnavailable(f"malware scanner unavailable: {exc}") from exc
    text = reply.rstrip(b"\0").decode("utf-8", "replace")
    if text.endswith("OK"):
        return None
    if text.endswith("FOUND"):
        return text.split(":", 1)[-1].removesuffix("FOUND").strip()
    raise ScanUnavailable(f"malware scanner error: {text}")
