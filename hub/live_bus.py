"""The live bus: changes published once after commit, fanned out in memory to every open stream.

A transaction's facts (``core.services.live``) are published when it commits, through one
transport per deployment:

- PostgreSQL: ``NOTIFY hub_live`` sent inside the transaction just before it commits, which
  PostgreSQL delivers only if (and when) the commit succeeds; each process keeps one listening
  connection (psycopg async, in a thread of its own) and reconnects when it drops.
- Redis pub/sub, where the hub's Celery broker is Redis: published after the commit.
- On SQLite: handed to this process's streams after the commit, and to the other processes on
  the same data directory as Unix datagrams (a Celery worker's notifications reach the server).

Each process keeps its open streams in memory, indexed by tenant; a fact goes to the streams whose
person may see it, decided from the fact itself (tenant, requester, internal or not, recipient),
so no stream queries the database per fact and a stream's cost does not grow with the number of
streams. Presence and typing on a ticket ride the same channel (never written to the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from core.models import Ticket
from core.permissions import Actor
from core.services import live as live_facts

if TYPE_CHECKING:
    from hub.context import Hub

log = logging.getLogger("hub.live")

CHANNEL = "hub_live"
MAX_PAYLOAD = 7800  # PostgreSQL refuses NOTIFY payloads of 8000 bytes and more
VIEW_SECONDS = 50.0  # a viewer without a heartbeat for this long has left (heartbeats: ~20 s)
TYPING_SECONDS = 8.0  # "typing" lapses this long after the last keystroke ping
READY = "hub.live.ready"  # session.info: the facts resolved before commit, published after


@dataclass(eq=False)
class Subscription:
    """One open stream: who reads it, which ticket page it is on (if any), and its queue."""

    actor: Actor
    ticket: int | None
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    @property
    def tenant(self) -> str:
        return str(self.actor.tenant_id)

    def wants(self, fact: dict[str, Any]) -> bool:
        """Whether this stream's person may see the fact (the tenant is already matched)."""
        kind = fact.get("k")
        if kind == "r":
            return True
        if kind == "n":
            return fact.get("user") == self.actor.user_id
        if kind == "p":
            return self.actor.is_staff and fact.get("ticket") == self.ticket
        if fact.get("internal") and not self.actor.sees_internal:
            return False
        return self.actor.reads_all_tickets or fact.get("req") == self.actor.user_id


class Presence:
    """Who is on which ticket page, and who is typing, as this process heard it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (tenant, ticket) -> user id -> [name, last seen, typing until] (monotonic seconds)
        self._on: dict[tuple[str, int], dict[int, list[Any]]] = {}

    def hear(self, fact: dict[str, Any]) -> None:
        key = (str(fact["tenant"]), int(fact["ticket"]))
        user = int(fact["user"])
        at = time.monotonic()
        with self._lock:
            people = self._on.setdefault(key, {})
            if fact.get("leave"):
                people.pop(user, None)
            else:
                typing_until = at + TYPING_SECONDS if fact.get("typing") else 0.0
                people[user] = [str(fact.get("name") or ""), at, typing_until]
            if not people:
                self._on.pop(key, None)

    def snapshot(self, tenant: str, ticket: int, me: int | None) -> dict[str, list[str]]:
        """The others on the ticket (names, sorted) and those of them typing."""
        at = time.monotonic()
        with self._lock:
            people = self._on.get((tenant, ticket), {})
            for user in [u for u, (_, seen, _) in people.items() if at - seen > VIEW_SECONDS]:
                del people[user]
            others = [(name, until) for u, (name, _, until) in people.items() if u != me]
        return {
            "viewing": sorted(name for name, _ in others),
            "typing": sorted(name for name, until in others if until > at),
        }


def chunks(facts: list[dict[str, Any]], limit: int = MAX_PAYLOAD) -> list[str]:
    """The facts as JSON arrays, each under ``limit`` bytes."""
    out: list[str] = []
    batch: list[str] = []
    size = 2
    for fact in facts:
        text = json.dumps(fact, separators=(",", ":"))
        if batch and size + len(text) + 1 > limit:
            out.append("[" + ",".join(batch) + "]")
            batch, size = [], 2
        batch.append(text)
        size += len(text) + 1
    if batch:
        out.append("[" + ",".join(batch) + "]")
    return out


class LiveBus:
    """One per process and transport: the publishing side (session hooks) and the fan-out."""

    kind = "local"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}
        self.presence = Presence()
        self.delivered = 0  # facts handed to streams (for tests and the bench)

    # ------------------------------------------------------------------ publishing

    def before_commit(self, session: Session) -> None:
        """Resolve what the facts need (one query for requesters the session did not hold)."""
        facts = live_facts.take(session)
        if not facts:
            return
        missing = {f["ticket"] for f in facts if f.get("ticket") and f.get("req") is None}
        if missing:
            owners = dict(
                session.execute(
                    select(Ticket.id, Ticket.created_by).where(Ticket.id.in_(sorted(missing)))
                )
                .tuples()
                .all()
            )
            for fact in facts:
                if fact.get("ticket") in owners and fact.get("req") is None:
                    fact["req"] = owners[fact["ticket"]]
        self.send_in_transaction(session, facts)

    def send_in_transaction(self, session: Session, facts: list[dict[str, Any]]) -> None:
        session.info.setdefault(READY, []).extend(facts)

    def after_commit(self, session: Session) -> None:
        facts = session.info.pop(READY, None)
        if facts:
            self.publish(facts)

    @staticmethod
    def forget(session: Session, *_: Any) -> None:
        live_facts.take(session)
        session.info.pop(READY, None)

    def publish(self, facts: list[dict[str, Any]]) -> None:
        """Publish committed facts (or presence) to every process; here: this one."""
        self.dispatch(facts)

    # ------------------------------------------------------------------ fan-out

    def start(self) -> None:
        """Make sure the process hears the transport (a no-op in-process)."""

    def wait_ready(self, timeout: float = 5.0) -> bool:
        return True

    def subscribe(self, actor: Actor, ticket: int | None) -> Subscription:
        sub = Subscription(actor, ticket, asyncio.get_running_loop())
        with self._lock:
            self._subs.setdefault(sub.tenant, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.tenant)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.tenant]

    @property
    def streams(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subs.values())

    def dispatch(self, facts: Iterable[dict[str, Any]]) -> None:
        """Hand each fact to the streams that may see it (any thread); one wake-up per loop."""
        per_loop: dict[asyncio.AbstractEventLoop, list[tuple[Subscription, dict[str, Any]]]] = {}
        with self._lock:
            for fact in facts:
                if fact.get("k") == "p":
                    self.presence.hear(fact)
                if fact.get("k") == "r":
                    targets: Iterable[Subscription] = [s for t in self._subs.values() for s in t]
                else:
                    targets = self._subs.get(str(fact.get("tenant")), ())
                for sub in targets:
                    if sub.wants(fact):
                        per_loop.setdefault(sub.loop, []).append((sub, fact))
        for loop, items in per_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, items)
            except RuntimeError:  # that loop has closed: its streams are gone
                for sub, _ in items:
                    self.unsubscribe(sub)
                continue
            self.delivered += len(items)


def _deliver(items: list[tuple[Subscription, dict[str, Any]]]) -> None:
    for sub, fact in items:
        sub.queue.put_nowait(fact)


class _ListeningBus(LiveBus):
    """A bus whose facts come back through a transport heard by one thread per process."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self.reconnects = 0

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._run, name=f"hub-live-{self.kind}", daemon=True
            )
            self._thread.start()

    def wait_ready(self, timeout: float = 5.0) -> bool:
        return self._ready.wait(timeout)

    def _run(self) -> None:
        delay = 0.2
        first = True
        while not self._stop.is_set():
            try:
                self._listen(first)
            except Exception as exc:  # a dropped connection, a restarted server
                log.warning("live listener lost (%s); reconnecting", type(exc).__name__)
            self._ready.clear()
            if self._stop.is_set():
                return
            first = False
            self.reconnects += 1
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _listening(self, first: bool) -> None:
        """Called once the transport listens: after a reconnect, streams resync (facts may
        have been missed while it was down)."""
        self._ready.set()
        if not first:
            log.info("live listener back")
            self.dispatch([{"k": "r"}])

    def heard(self, payload: str | bytes) -> None:
        try:
            facts = json.loads(payload)
        except ValueError:
            return
        if isinstance(facts, list):
            self.dispatch(f for f in facts if isinstance(f, dict))

    def _listen(self, first: bool) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()


class LocalBus(_ListeningBus):
    """SQLite: facts go straight to this process's streams, and to the other processes on the
    same data directory (a Celery worker's notifications, other ``hub serve`` workers) as
    datagrams on the Unix sockets each serving process binds in ``<data dir>/live/``."""

    kind = "local"

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder))
        self.folder = folder
        self._sock: socket.socket | None = None
        self._path: Path | None = None

    def publish(self, facts: list[dict[str, Any]]) -> None:
        self.dispatch(facts)
        try:
            peers = [Path(e.path) for e in os.scandir(self.folder) if e.name.endswith(".sock")]
        except FileNotFoundError:
            return  # no process serves streams
        peers = [p for p in peers if p != self._path]
        if not peers:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as out:
            out.setblocking(False)
            for text in chunks(facts):
                data = text.encode()
                for peer in peers:
                    try:
                        out.sendto(data, str(peer))
                    except (ConnectionRefusedError, FileNotFoundError):
                        with contextlib.suppress(OSError):
                            peer.unlink()  # its process is gone
                    except OSError:  # a full queue: that process misses this fact
                        continue

    def _listen(self, first: bool) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{os.getpid()}-{id(self):x}.sock"
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
        sock.settimeout(5.0)
        self._sock, self._path = sock, path
        try:
            self._listening(first)
            while not self._stop.is_set():
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    continue
                self.heard(data)
        finally:
            sock.close()
            with contextlib.suppress(OSError):
                path.unlink()
            self._path = None


class PostgresBus(_ListeningBus):
    """LISTEN/NOTIFY: NOTIFY in the committing transaction, one LISTEN connection per process."""

    kind = "postgres"

    def __init__(self, url: str, engine: Engine) -> None:
        super().__init__(url)
        self.engine = engine
        self.backend_pid: int | None = None

    def send_in_transaction(self, session: Session, facts: list[dict[str, Any]]) -> None:
        # Delivered by PostgreSQL at commit, and never if the transaction rolls back.
        for text in chunks(facts):
            session.execute(select(func.pg_notify(CHANNEL, text)))

    def publish(self, facts: list[dict[str, Any]]) -> None:
        with self.engine.connect() as connection:
            for text in chunks(facts):
                connection.execute(select(func.pg_notify(CHANNEL, text)))
            connection.commit()

    def _listen(self, first: bool) -> None:
        asyncio.run(self._alisten(first))

    async def _alisten(self, first: bool) -> None:
        import psycopg

        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.backend_pid = conn.info.backend_pid
            self._listening(first)
            while not self._stop.is_set():
                # The timeout only lets a stop request through; nothing is queried.
                async for note in conn.notifies(timeout=5.0):
                    self.heard(note.payload)


class RedisBus(_ListeningBus):
    """Redis pub/sub on the broker's Redis: published after commit, one subscriber per process."""

    kind = "redis"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        import redis

        self.client = redis.Redis.from_url(url)

    def publish(self, facts: list[dict[str, Any]]) -> None:
        for text in chunks(facts):
            self.client.publish(CHANNEL, text)

    def _listen(self, first: bool) -> None:
        import redis

        # Named, so that an operator's CLIENT LIST tells the hub's listeners apart.
        client = redis.Redis.from_url(
            self.url, health_check_interval=30, client_name=f"hub-live-{os.getpid()}"
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(CHANNEL)
            self._listening(first)
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=5.0)
                if message and message.get("type") == "message":
                    self.heard(message["data"])
        finally:
            with contextlib.suppress(Exception):
                pubsub.close()
                client.close()


_buses: dict[tuple[str, str], LiveBus] = {}
_buses_lock = threading.Lock()


def _transport(hub: Hub) -> tuple[str, str]:
    broker = hub.settings.resolved_broker_url
    if broker.startswith(("redis://", "rediss://")):
        return "redis", broker
    url = hub.engine.url
    if url.get_backend_name() == "postgresql":
        return "postgres", url.set(drivername="postgresql").render_as_string(hide_password=False)
    return "local", str((hub.data_dir / "live").resolve())


def bus_of(hub: Hub) -> LiveBus:
    """The process's bus for this hub's transport (hubs on one database share it)."""
    kind, url = _transport(hub)
    with _buses_lock:
        bus = _buses.get((kind, url))
        if bus is None:
            if kind == "redis":
                bus = RedisBus(url)
            elif kind == "postgres":
                bus = PostgresBus(url, hub.engine)
            else:
                bus = LocalBus(Path(url))
            _buses[(kind, url)] = bus
        return bus


def install(hub: Hub) -> LiveBus:
    """Publish the facts of every transaction of the hub's sessions once it commits."""
    bus = bus_of(hub)
    for maker in {
        id(hub.sessions): hub.sessions,
        id(hub.read_sessions): hub.read_sessions,
    }.values():
        event.listen(maker, "before_commit", bus.before_commit)
        event.listen(maker, "after_commit", bus.after_commit)
        event.listen(maker, "after_rollback", bus.forget)
    return bus
