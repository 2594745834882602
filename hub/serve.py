"""``hub serve``: the HTTP API in one or more uvicorn processes.

With several workers, each process opens its own listening socket on the port with SO_REUSEPORT,
and the kernel spreads new connections evenly over them. uvicorn's own ``--workers`` shares one
socket instead: whichever process wakes first accepts every connection waiting, so a burst of
clients can all land on one process while the other idles. Even spreading matters here because
each process writes new tickets in group commits (``hub.batching``), and a batch is cheaper per
ticket the more clients share it.
"""

from __future__ import annotations

import ipaddress
import logging
import multiprocessing
import signal
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import uvicorn

if TYPE_CHECKING:
    from hub.settings import Settings

log = logging.getLogger("hub.serve")
APP = "hub.asgi:app"
# On SIGTERM, requests in flight get this long; open live streams (hub.web.live) never end by
# themselves, so without a bound a stop would wait for every browser tab to go away.
GRACE_SECONDS = 5


class UnsafeSecretKey(Exception):
    """The hub would serve with a secret key anyone can read."""


def is_loopback(host: str) -> bool:
    """True for a bind address only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name or "0.0.0.0"/"::" (every interface): assume it is reachable


def check_secret_key(settings: Settings, host: str) -> str | None:
    """Refuse (``UnsafeSecretKey``) the public development key beyond loopback or in
    production; on loopback, return the warning to print. None: a real key is set."""
    if not settings.uses_dev_key:
        return None
    production = settings.env.strip().lower() in ("production", "prod")
    if production or not is_loopback(host):
        where = "with HUB_ENV=production" if production else f"on {host} (beyond loopback)"
        raise UnsafeSecretKey(
            f"refusing to serve {where} with the public development secret key: anyone can "
            "forge a session cookie with it. Set HUB_SECRET_KEY to a long random value, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    return (
        "HUB_SECRET_KEY is not set: serving on loopback with the public development key; "
        "sessions and signed links can be forged by anyone who reads it. Never expose "
        "this process beyond this machine."
    )


def run(host: str, port: int, workers: int = 1) -> None:
    """Serve until SIGINT or SIGTERM; with ``workers > 1``, one process per worker."""
    if workers <= 1 or not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(
            APP,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,
            log_config=None,  # the hub's structured logs (hub.log_config), not uvicorn's
            timeout_graceful_shutdown=GRACE_SECONDS,
        )
        return
    supervise(_worker, workers, name="hub-api", args=(host, port))


def supervise(
    target: Callable[..., None], count: int, *, name: str, args: tuple[Any, ...] = ()
) -> None:
    """Run ``count`` processes of ``target`` until SIGINT or SIGTERM, then stop them (SIGTERM).

    A process that dies takes the others down with it, so that whatever supervises the command
    (systemd, a container runtime) sees the failure and restarts it whole.
    """
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=target, args=args, name=f"{name}-{n}") for n in range(count)]
    for proc in procs:
        proc.start()
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        while not stop.is_set() and all(proc.is_alive() for proc in procs):
            stop.wait(0.5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: each finishes what it has in flight
        for proc in procs:
            proc.join(timeout=30)
    failed = [proc.name for proc in procs if proc.exitcode not in (0, -signal.SIGTERM)]
    if failed and not stop.is_set():
        raise SystemExit(f"process(es) stopped: {', '.join(failed)}")


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to the port with SO_REUSEPORT (uvicorn calls listen on it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int) -> None:
    config: Any = uvicorn.Config(
        APP,
        log_level="info",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=GRACE_SECONDS,
    )
    uvicorn.Server(config).run(sockets=[listening_socket(host, port)])
