"""Sign-in throttling: failed sign-ins counted per account and client address (``limits``).

After ``per_account`` failures for one address from one client (5 in 15 minutes by default), or
``per_ip`` failures from one client whatever the account (20 in 15 minutes), every sign-in
attempt there is answered 429 with ``Retry-After`` until the moving window has room again, the
right password included (otherwise the lock-out would tell a guesser when a guess is right).
A successful sign-in clears the account's counter.

Then exponential back-off: each lock-out of an account from one client within a day is counted,
and the k-th one (k >= 2) holds for the window times 2^(k-1) (15, 30, 60 minutes... at most a
day) from the failure that caused it. With ``limits`` this is a second item per level: a
``1 per (window * 2^(k-1))`` item hit once when the k-th lock-out begins, tested while it holds.

Requests for a password-reset or sign-in link (``LinkThrottle``) are counted whatever their
outcome, per address and per client (5 an hour and 20 an hour by default,
``HUB_LINK_REQUESTS_PER_ADDRESS`` and ``HUB_LINK_REQUESTS_PER_IP``), in the same storage.

Counters live in memory by default, in Redis when the hub's broker is Redis (so every process
of the hub counts together), or wherever ``HUB_RATE_LIMIT_STORAGE`` says. If that storage is
down, sign-in is not throttled (and a warning logged) rather than refused to everyone.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
import weakref
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerSecond, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from hub.context import Hub

log = logging.getLogger(__name__)

PER_ACCOUNT = "5/15 minutes"
PER_IP = "20/15 minutes"
MAX_BACKOFF = 24 * 3600  # seconds: the longest hold of a repeated lock-out


@dataclass(frozen=True)
class Throttled:
    """A refused attempt: how long to wait, and what to tell the person."""

    retry_after: int

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        return (
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )


class SignInThrottle:
    def __init__(
        self,
        storage_uri: str = "memory://",
        *,
        per_account: str = PER_ACCOUNT,
        per_ip: str = PER_IP,
    ) -> None:
        storage = storage_from_string(storage_uri)
        if not isinstance(storage, Storage):
            raise ValueError(
                f"{storage_uri!r} names an asyncio storage; the throttle is synchronous"
            )
        self.storage: Storage = storage
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.per_account: RateLimitItem = parse(per_account)
        self.per_ip: RateLimitItem = parse(per_ip)
        self.lockouts: RateLimitItem = RateLimitItemPerDay(64)

    def _penalty(self, level: int) -> RateLimitItem | None:
        """The hold of the ``level``-th lock-out (None for the first: the window alone)."""
        if level < 2:
            return None
        seconds = self.per_account.get_expiry() * 2 ** (level - 1)
        return RateLimitItemPerSecond(1, min(seconds, MAX_BACKOFF))

    def _level(self, keys: tuple[str, ...]) -> int:
        stats = self.limiter.get_window_stats(self.lockouts, "signin-lockouts", *keys[1:])
        return self.lockouts.amount - int(stats.remaining)

    @staticmethod
    def _account(email: str) -> str:
        # The storage never holds the address itself (Redis keys are easy to list).
        return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]

    def _checks(self, email: str, ip: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        return [
            (self.per_account, ("signin-account", self._account(email), ip)),
            (self.per_ip, ("signin-ip", ip)),
        ]

    def blocked(self, email: str, ip: str) -> Throttled | None:
        """Refuse the attempt when a limit is used up; None lets it be checked."""
        try:
            waits = []
            for item, keys in self._checks(email, ip):
                if not self.limiter.test(item, *keys):
                    stats = self.limiter.get_window_stats(item, *keys)
                    waits.append(max(1, math.ceil(stats.reset_time - time.time())))
            keys = self._checks(email, ip)[0][1]
            penalty = self._penalty(self._level(keys))
            if penalty is not None and not self.limiter.test(penalty, "signin-penalty", *keys[1:]):
                stats = self.limiter.get_window_stats(penalty, "signin-penalty", *keys[1:])
                waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        except Exception:
            log.warning("sign-in throttle storage unavailable; not throttling", exc_info=True)
            return None
        return Throttled(retry_after=max(waits)) if waits else None

    def failed(self, email: str, ip: str) -> None:
        """Count a failed attempt against the account (from this client) and the client."""
        try:
            for item, keys in self._checks(email, ip):
                self.limiter.hit(item, *keys)
            item, keys = self._checks(email, ip)[0]
            if not self.limiter.test(item, *keys):  # this failure began a lock-out
                self.limiter.hit(self.lockouts, "signin-lockouts", *keys[1:])
                penalty = self._penalty(self._level(keys))
                if penalty is not None:
                    self.limiter.hit(penalty, "signin-penalty", *keys[1:])
        except Exception:
            log.warning("sign-in throttle storage unavailable; failure not counted", exc_info=True)

    def succeeded(self, email: str, ip: str) -> None:
        """A right password: the account's failures from this client are forgiven."""
        try:
            item, keys = self._checks(email, ip)[0]
            self.limiter.clear(item, *keys)
            self.limiter.clear(self.lockouts, "signin-lockouts", *keys[1:])
        except Exception:
            log.warning("sign-in throttle storage unavailable", exc_info=True)

    def reset(self) -> None:
        """Forget every counter (tests; only ever on memory storage)."""
        if isinstance(self.storage, MemoryStorage):
            self.storage.reset()


class LinkThrottle:
    """Requests for reset and sign-in links, counted per address and per client address."""

    def __init__(
        self,
        storage_uri: str = "memory://",
        *,
        per_address: str = "5/hour",
        per_ip: str = "20/hour",
    ) -> None:
        storage = storage_from_string(storage_uri)
        if not isinstance(storage, Storage):
            raise ValueError(
                f"{storage_uri!r} names an asyncio storage; the throttle is synchronous"
            )
        self.storage: Storage = storage
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.per_address: RateLimitItem = parse(per_address)
        self.per_ip: RateLimitItem = parse(per_ip)

    def hit(self, kind: str, email: str, ip: str) -> int | None:
        """Count one request of ``kind`` ("reset", "signin-link"); the seconds to wait when a
        limit is used up (the request is then refused), else None."""
        checks = [
            (self.per_address, (f"{kind}-address", SignInThrottle._account(email))),
            (self.per_ip, (f"{kind}-ip", ip)),
        ]
        try:
            waits = []
            for item, keys in checks:
                if not self.limiter.hit(item, *keys):
                    stats = self.limiter.get_window_stats(item, *keys)
                    waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        except Exception:
            log.warning("link throttle storage unavailable; not throttling", exc_info=True)
            return None
        return max(waits) if waits else None

    def reset(self) -> None:
        """Forget every counter (tests; only ever on memory storage)."""
        if isinstance(self.storage, MemoryStorage):
            self.storage.reset()


def wait_message(retry_after: int) -> str:
    """What a throttled person is told."""
    minutes = max(1, math.ceil(retry_after / 60))
    return f"Too many requests. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def storage_uri(hub: Hub) -> str:
    """``HUB_RATE_LIMIT_STORAGE`` when set; else Redis when the broker is Redis, else memory."""
    settings = hub.settings
    if "rate_limit_storage" in settings.model_fields_set:
        return settings.rate_limit_storage
    broker = settings.resolved_broker_url
    if broker.startswith(("redis://", "rediss://")):
        return broker
    return settings.rate_limit_storage


_throttles: weakref.WeakKeyDictionary[Hub, SignInThrottle] = weakref.WeakKeyDictionary()


def signin_throttle(hub: Hub) -> SignInThrottle:
    """The hub's sign-in throttle, made on first use."""
    throttle = _throttles.get(hub)
    if throttle is None:
        throttle = _throttles[hub] = SignInThrottle(storage_uri(hub))
    return throttle


_link_throttles: weakref.WeakKeyDictionary[Hub, LinkThrottle] = weakref.WeakKeyDictionary()


def link_throttle(hub: Hub) -> LinkThrottle:
    """The hub's throttle of reset and sign-in-link requests, made on first use."""
    throttle = _link_throttles.get(hub)
    if throttle is None:
        throttle = _link_throttles[hub] = LinkThrottle(
            storage_uri(hub),
            per_address=hub.settings.link_requests_per_address,
            per_ip=hub.settings.link_requests_per_ip,
        )
    return throttle


def install(hub: Hub, throttle: SignInThrottle | LinkThrottle) -> None:
    """Use this throttle for the hub (tests use short windows)."""
    if isinstance(throttle, LinkThrottle):
        _link_throttles[hub] = throttle
    else:
        _throttles[hub] = throttle


def reset_all() -> None:
    """Forget the counters of every hub's throttles (tests, between tests; memory only)."""
    for throttle in list(_throttles.values()):
        throttle.reset()
    for links in list(_link_throttles.values()):
        links.reset()
