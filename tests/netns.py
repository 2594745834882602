"""Hosts on one machine for the multi-host test: Linux network namespaces joined by veth pairs
to a bridge that lives in a namespace of its own (the machine's own network is never touched).
Needs root and iproute2. Every namespace and link is removed by ``close``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

SUBNET = "10.231.7"  # only the test's own hosts, inside its own namespaces


def available() -> str | None:
    """None when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "no `ip` (iproute2)"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class Topology:
    """A bridge namespace and one namespace per host, each host at ``SUBNET.<n>``."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:6]
        self.bridge_ns = f"hubbr-{self.tag}"
        self.hosts: dict[str, str] = {}  # host name -> address
        self.namespaces: list[str] = []
        _ip("netns", "add", self.bridge_ns)
        self.namespaces.append(self.bridge_ns)
        self.bridge_exec("ip", "link", "add", "br0", "type", "bridge")
        self.bridge_exec("ip", "link", "set", "br0", "up")

    def bridge_exec(self, *argv: str) -> None:
        subprocess.run(
            ["ip", "netns", "exec", self.bridge_ns, *argv],
            check=True,
            capture_output=True,
            timeout=30,
        )

    def ns(self, host: str) -> str:
        return f"hub{host}-{self.tag}"

    def add(self, host: str, n: int) -> str:
        """A host namespace with loopback and one address on the bridge."""
        name = self.ns(host)
        _ip("netns", "add", name)
        self.namespaces.append(name)
        outer, inner = f"v{n}-{self.tag}", f"e{n}-{self.tag}"
        _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        _ip("link", "set", outer, "netns", self.bridge_ns)
        _ip("link", "set", inner, "netns", name)
        self.bridge_exec("ip", "link", "set", outer, "master", "br0")
        self.bridge_exec("ip", "link", "set", outer, "up")
        address = f"{SUBNET}.{n}"
        for argv in (
            ["ip", "link", "set", "lo", "up"],
            ["ip", "addr", "add", f"{address}/24", "dev", inner],
            ["ip", "link", "set", inner, "up"],
        ):
            subprocess.run(
                ["ip", "netns", "exec", name, *argv], check=True, capture_output=True, timeout=30
            )
        self.hosts[host] = address
        return address

    def prefix(self, host: str) -> list[str]:
        """The command prefix that runs a program on ``host``."""
        return ["ip", "netns", "exec", self.ns(host)]

    def wait_port(self, host: str, address: str, port: int, timeout: float = 60.0) -> None:
        """Wait until ``address:port`` accepts a connection, as seen from ``host``."""
        probe = f"import socket; socket.create_connection(({address!r}, {port}), 1).close()"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = subprocess.run(
                [*self.prefix(host), sys.executable, "-c", probe], capture_output=True, timeout=30
            )
            if done.returncode == 0:
                return
            time.sleep(0.3)
        raise AssertionError(f"{address}:{port} did not answer from {host}")

    def close(self) -> None:
        for name in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        self.namespaces.clear()
