"""A real ClamAV daemon a test starts and stops itself (never the machine's own): Debian's
``clamd`` on a private unix socket and a free TCP port of 127.0.0.1, with a signature database
the test writes (no freshclam, no download): one .ndb body signature for a test string and one
.hdb hash signature for a test file."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.services import free_port

# The bytes the custom signatures match (anywhere in a file), and their signature names.
BODY_MARK = b"HUB-QUARANTINE-TEST-STRING-7f3c"
BODY_SIGNATURE = "Hub.Test.BodyMark"
HASHED_FILE = b"a whole file the hash signature names\n"
HASH_SIGNATURE = "Hub.Test.HashedFile"


def clamd_binary() -> str | None:
    return shutil.which("clamd") or (
        "/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None
    )


class PrivateClamd:
    """``start()`` runs clamd in the foreground of a child process; ``stop()`` ends it."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix="hub-clamd-"))
        self.socket = str(self.dir / "clamd.sock")
        self.port = free_port()
        self.tcp = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        db = self.dir / "db"
        db.mkdir()
        (db / "hub.ndb").write_text(f"{BODY_SIGNATURE}:0:*:{BODY_MARK.hex()}\n")
        digest = hashlib.md5(HASHED_FILE).hexdigest()
        (db / "hub.hdb").write_text(f"{digest}:{len(HASHED_FILE)}:{HASH_SIGNATURE}\n")
        self.log = self.dir / "clamd.log"
        self.conf = self.dir / "clamd.conf"
        self.conf.write_text(
            "\n".join(
                (
                    f"LocalSocket {self.socket}",
                    f"TCPSocket {self.port}",
                    "TCPAddr 127.0.0.1",
                    f"DatabaseDirectory {db}",
                    f"LogFile {self.log}",
                    "Foreground yes",
                    "SelfCheck 3600",
                    "",
                )
            )
        )

    def start(self, timeout: float = 60.0) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--config-file", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"clamd exited: {self.log.read_text(errors='replace')}")
            if self.ping():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("clamd did not answer PING in time")

    def ping(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1)
                sock.connect(self.socket)
                sock.sendall(b"zPING\0")
                return sock.recv(16).startswith(b"PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
