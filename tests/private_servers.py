"""Private servers a test starts and stops itself (never the machine's own): a PostgreSQL
cluster made with the Debian package's initdb in a temporary directory, and a Redis, each on a
free port of 127.0.0.1. PostgreSQL runs as the ``postgres`` user when the tests run as root."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.services import free_port, port_open


def pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    def __init__(
        self, bindir: Path, *, listen: str = "127.0.0.1", netns: list[str] | None = None
    ) -> None:
        """``listen``: the address it binds; ``netns``: a command prefix that runs it inside a
        network namespace (``["ip", "netns", "exec", NAME]``), clients then from that subnet."""
        self.bindir = bindir
        self.listen = listen
        self.netns = list(netns or [])
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hub-pg-outage-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def run(self, tool: str, *args: str) -> None:
        cmd = [*self.netns, *self.as_user, str(self.bindir / tool), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{tool} failed: {done.stdout}\n{done.stderr}"

    def init(self) -> None:
        self.run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        if self.listen != "127.0.0.1":
            subnet = ".".join(self.listen.split(".")[:3]) + ".0/24"
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {subnet} trust\n")

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses={self.listen} -c fsync=off "
            "-c max_connections=50"
        )
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@{self.listen}:{self.port}/{db}"

    def cleanup(self) -> None:
        subprocess.run(
            [
                *self.netns,
                *self.as_user,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A redis-server on a free port, without persistence, in a temporary directory."""

    def __init__(
        self,
        binary: str = "redis-server",
        *,
        bind: str = "127.0.0.1",
        netns: list[str] | None = None,
    ) -> None:
        self.binary = shutil.which(binary)
        self.bind = bind
        self.netns = list(netns or [])
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hub-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.bind}:{self.port}/0"

    def start(self) -> None:
        assert self.binary, "no redis-server"
        self.proc = subprocess.Popen(
            [
                *self.netns,
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                self.bind,
                "--protected-mode",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not self._answers():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def _answers(self) -> bool:
        if not self.netns:
            return port_open(self.bind, self.port)
        probe = f"import socket; socket.create_connection(({self.bind!r}, {self.port}), 1)"
        done = subprocess.run(
            [*self.netns, sys.executable, "-c", probe], capture_output=True, timeout=20
        )
        return done.returncode == 0

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None

    def cleanup(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=20)
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
