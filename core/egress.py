"""The one egress policy: every outbound connection a tenant can configure goes through it.

A tenant's admin names hosts (a Jira site, a mail relay, an IMAP server, a PagerDuty endpoint)
and payloads name URLs (Teams' ``serviceUrl``, file downloads). None of them may make the hub
call its own network: an address that is not globally routable (loopback, private, link-local
and so cloud metadata, shared, reserved, multicast, unspecified; IPv4-mapped IPv6 is judged by
its IPv4 address) is refused unless the operator's allow-list names it.

The check is made on the **resolved** address and the connection is made to exactly that
address (pinned), so a name that resolves to a public address when checked and to 127.0.0.1 a
moment later (DNS rebinding) cannot pass. TLS still verifies, and SNI and ``Host`` still name,
the host that was asked for. Every refused address is refused before a byte is sent.

Vendor endpoints that a tenant has no reason to change (Slack's Web API, Teams' login and
OpenID metadata) are fixed to the vendor's hosts unless the operator allows overrides.

The adapters below pin the connection for each client library the plugins use: httpx (and the
``httpx2`` fork the ``pagerduty`` package uses) through a network backend, ``requests`` through a
transport adapter, ``urllib`` through handlers, ``smtplib`` and ``imaplib``/``imapclient`` by
connecting the socket themselves. Third-party modules are imported only when an adapter is built.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from core.errors import Invalid

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]
CONTEXT_KEY = "egress"  # pydantic validation context key the admin API passes the policy under


class EgressRefused(Invalid):
    """An outbound connection the egress policy does not allow (answered 422 when configured)."""

    code = "egress_refused"


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in out:
            out.append(addr)
    return out


def _address(value: str) -> IPAddress | None:
    try:
        addr = ipaddress.ip_address(value.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _why_refused(addr: IPAddress) -> str | None:
    """Why an address is not for tenants' connections, or None when it is a public one."""
    if addr.is_loopback:
        return "a loopback address"
    if addr.is_link_local:
        return "a link-local (cloud metadata) address"
    if addr.is_unspecified:
        return "an unspecified address"
    if addr.is_multicast:
        return "a multicast address"
    if addr.is_private:
        return "a private address"
    if not addr.is_global:
        return "a reserved address"
    return None


def _norm_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class AllowEntry:
    """One operator exception: a network (any port, or one port), or a host name[:port]."""

    network: IPNetwork | None = None
    host: str | None = None  # exact name, or ``*.example.com`` for its subdomains
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> AllowEntry:
        raw = text.strip()
        if not raw:
            raise ValueError("empty egress allow-list entry")
        try:
            return cls(network=ipaddress.ip_network(raw, strict=False))
        except ValueError:
            pass
        host, port = raw, None
        if raw.startswith("["):  # [v6]:port
            inside, _, rest = raw[1:].partition("]")
            host = inside
            if rest:
                if not rest.startswith(":") or not rest[1:].isdigit():
                    raise ValueError(f"bad egress allow-list entry {text!r}")
                port = int(rest[1:])
        elif raw.count(":") == 1:
            host, _, port_text = raw.partition(":")
            if not port_text.isdigit():
                raise ValueError(f"bad egress allow-list entry {text!r}")
            port = int(port_text)
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"bad port in egress allow-list entry {text!r}")
        addr = _address(host)
        if addr is not None:
            return cls(network=ipaddress.ip_network(addr), port=port)
        name = _norm_host(host)
        label = name[2:] if name.startswith("*.") else name
        if not label or any(
            not part or not all(c.isalnum() or c in "-_" for c in part) for part in label.split(".")
        ):
            raise ValueError(f"bad egress allow-list entry {text!r}")
        return cls(host=name, port=port)

    def names(self, host: str, port: int) -> bool:
        if self.host is None or (self.port is not None and self.port != port):
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host

    def contains(self, addr: IPAddress, port: int) -> bool:
        if self.network is None or (self.port is not None and self.port != port):
            return False
        return addr.version == self.network.version and addr in self.network


def parse_allow(value: str | Iterable[str]) -> tuple[AllowEntry, ...]:
    """``HUB_EGRESS_ALLOW``: a comma list of CIDRs, addresses and host names, each with an
    optional ``:port`` (``10.0.0.0/8, 127.0.0.1:8025, jira.corp.example, *.corp.example:443``)."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(AllowEntry.parse(item) for item in items if item.strip())


@dataclass(frozen=True)
class EgressPolicy:
    """What the operator allows; built once by the hub from its settings."""

    allow: tuple[AllowEntry, ...] = ()
    vendor_override: bool = False
    resolver: Resolver = field(default=_system_resolver, compare=False, repr=False)

    @classmethod
    def from_settings(
        cls, allow: str | Iterable[str] = "", *, vendor_override: bool = False
    ) -> EgressPolicy:
        return cls(allow=parse_allow(allow), vendor_override=vendor_override)

    # ------------------------------------------------------------------ checks

    def check_host(self, host: str, port: int) -> str:
        """The address to connect to for ``host:port``: resolved, checked, to be pinned.

        Raises ``EgressRefused`` when any address the name resolves to is refused (a name
        with one public and one private address is refused: either could be connected to),
        and ``OSError`` (``socket.gaierror``) when the name does not resolve."""
        name = _norm_host(host)
        if not name:
            raise EgressRefused("no host to connect to")
        literal = _address(name)
        if literal is not None:
            addrs = [literal]
        else:
            addrs = [a for a in (_address(r) for r in self.resolver(name, port)) if a is not None]
            if not addrs:
                raise socket.gaierror(f"{name} has no address")
            if any(entry.names(name, port) for entry in self.allow):
                return str(addrs[0])
        for addr in addrs:
            why = _why_refused(addr)
            if why is None or any(entry.contains(addr, port) for entry in self.allow):
                continue
            # A name's resolved address is not shown: it would tell the tenant our DNS.
            what = f"{name} is {why}" if literal is not None else f"{name} resolves to {why}"
            raise EgressRefused(
                f"{what}: outbound connections there are refused unless the "
                "operator's HUB_EGRESS_ALLOW names it"
            )
        return str(addrs[0])

    def check_url(self, url: str, *, schemes: tuple[str, ...] = ("https", "http")) -> str:
        """Check a URL's host and port (see ``check_host``); returns the pinned address."""
        host, port = url_host_port(url, schemes=schemes)
        return self.check_host(host, port)

    def vendor_url(self, url: str | None, default: str, hosts: tuple[str, ...], what: str) -> str:
        """A vendor endpoint: ``url`` when it is on one of the vendor's ``hosts`` over https
        (or the operator allows overrides), else ``EgressRefused``. Empty means ``default``."""
        value = (url or "").strip() or default
        host, _ = url_host_port(value, schemes=("https", "http", "wss"))
        on_vendor = urlsplit(value).scheme == "https" and _norm_host(host) in hosts
        if not on_vendor and not self.vendor_override:
            raise EgressRefused(
                f"{what} is fixed to {default}: the operator does not allow "
                "vendor URL overrides (HUB_EGRESS_ALLOW_VENDOR_OVERRIDE)"
            )
        return value

    def check_configured(self, host: str, port: int) -> None:
        """Configure-time check of a host an admin saves: refused addresses (literal or
        resolved now) are refused; a name that does not resolve yet is checked at connect time."""
        try:
            self.check_host(host, port)
        except OSError:
            return

    def check_configured_url(
        self, url: str, *, schemes: tuple[str, ...] = ("https", "http")
    ) -> None:
        host, port = url_host_port(url, schemes=schemes)
        self.check_configured(host, port)

    # --------------------------------------------------------------- sockets

    def connect(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        source_address: tuple[str, int] | None = None,
    ) -> socket.socket:
        """A TCP connection to the checked address of ``host:port`` (for smtplib, imaplib)."""
        ip = self.check_host(host, port)
        return socket.create_connection((ip, port), timeout, source_address=source_address)

    # -------------------------------------------------------------- adapters

    def httpx_transport(self, **kwargs: Any) -> Any:
        """An ``httpx.HTTPTransport`` whose connections go to checked, pinned addresses."""
        return _httpx_transport(self, "httpx", "httpcore", kwargs)

    def httpx2_transport(self, **kwargs: Any) -> Any:
        """The same for the ``httpx2`` fork (the ``pagerduty`` package's HTTP client)."""
        return _httpx_transport(self, "httpx2", "httpcore2", kwargs)

    def requests_adapter(self, **kwargs: Any) -> Any:
        """A ``requests`` transport adapter whose connections go to checked, pinned addresses."""
        return _requests_adapter(self, kwargs)

    def mount(self, session: Any) -> Any:
        """Mount ``requests_adapter`` on a ``requests.Session`` for http and https."""
        adapter = self.requests_adapter()
        session.trust_env = False  # an environment proxy would connect past the check
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def urllib_handlers(self, context: ssl.SSLContext | None = None) -> list[Any]:
        """``urllib.request`` handlers (http and https) that connect to pinned addresses."""
        return _urllib_handlers(self, context)

    def smtp(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        implicit_tls: bool = False,
        context: ssl.SSLContext | None = None,
    ) -> Any:
        """A connected ``smtplib.SMTP`` (or ``SMTP_SSL``) to the checked address of the host;
        STARTTLS and implicit TLS verify the host name that was configured."""
        return _smtp(self, host, port, timeout, implicit_tls, context)

    def imap_client(self, host: str, port: int, **kwargs: Any) -> Any:
        """A connected ``imapclient.IMAPClient`` to the checked address of the host."""
        return _imap_client(self, host, port, kwargs)


STRICT = EgressPolicy()  # no exceptions: what a caller without the hub's policy gets


def url_host_port(url: str, *, schemes: tuple[str, ...] = ("https", "http")) -> tuple[str, int]:
    """The host and port a URL connects to; ``EgressRefused`` for another scheme or no host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise EgressRefused(f"not a valid URL: {exc}") from None
    if parts.scheme.lower() not in schemes:
        raise EgressRefused(f"must be a {' or '.join(s + '://' for s in schemes)} URL")
    if not parts.hostname:
        raise EgressRefused("the URL names no host")
    if parts.username or parts.password:
        raise EgressRefused("the URL must not carry credentials")
    default = 443 if parts.scheme.lower() in ("https", "wss") else 80
    return parts.hostname, port or default


def policy_of(context: Mapping[str, Any] | None) -> EgressPolicy | None:
    """The policy the admin API passed in a pydantic validation context, if any."""
    if not context:
        return None
    policy = context.get(CONTEXT_KEY)
    return policy if isinstance(policy, EgressPolicy) else None


# ---------------------------------------------------------------------- adapters


def _httpx_transport(
    policy: EgressPolicy, httpx_name: str, httpcore_name: str, kwargs: dict[str, Any]
) -> Any:
    import importlib

    httpx_mod = importlib.import_module(httpx_name)
    httpcore_mod = importlib.import_module(httpcore_name)

    class PinnedBackend(httpcore_mod.SyncBackend):  # type: ignore[name-defined]
        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Any = None,
        ) -> Any:
            try:
                ip = policy.check_host(host, port)
            except OSError as exc:
                raise httpcore_mod.ConnectError(str(exc)) from exc
            return super().connect_tcp(
                ip,
                port,
                timeout=timeout,
                local_address=local_address,
                socket_options=socket_options,
            )

    class PinnedTransport(httpx_mod.HTTPTransport):  # type: ignore[name-defined]
        """No proxy (a proxy would be the one connecting); TLS and Host name the URL's host."""

        def __init__(
            self,
            verify: Any = True,
            http1: bool = True,
            http2: bool = False,
            limits: Any = None,
            retries: int = 0,
        ) -> None:
            limits = limits or httpx_mod.Limits(max_connections=100, max_keepalive_connections=20)
            # HTTPTransport.__init__ is not run: its one pool is built here, pinned.
            ssl_context = httpx_mod.create_ssl_context(verify=verify, trust_env=False)
            self._pool = httpcore_mod.ConnectionPool(
                ssl_context=ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                http1=http1,
                http2=http2,
                retries=retries,
                network_backend=PinnedBackend(),
            )

    return PinnedTransport(**kwargs)


def _requests_adapter(policy: EgressPolicy, kwargs: dict[str, Any]) -> Any:
    import requests.adapters
    import urllib3
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.exceptions import NameResolutionError

    def pinned(base: type) -> type:
        class Pinned(base):
            _dns_host: str

            def _new_conn(self) -> socket.socket:
                try:
                    ip = policy.check_host(self._dns_host, self.port)
                except socket.gaierror as exc:
                    raise NameResolutionError(self.host, self, exc) from exc
                self._dns_host = ip  # TLS (server_hostname) and Host still use self.host
                return super()._new_conn()

        return Pinned

    class HTTPPool(urllib3.HTTPConnectionPool):
        ConnectionCls = pinned(HTTPConnection)

    class HTTPSPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = pinned(HTTPSConnection)

    class PinnedAdapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kw: Any) -> None:
            super().init_poolmanager(*args, **kw)
            self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

        def proxy_manager_for(self, proxy: str, **kw: Any) -> Any:
            raise EgressRefused(
                "outbound connections through a proxy are not pinned; "
                "unset the proxy for this client"
            )

    return PinnedAdapter(**kwargs)


def _urllib_handlers(policy: EgressPolicy, context: ssl.SSLContext | None) -> list[Any]:
    import http.client
    import urllib.request

    def pinned_create(
        address: tuple[str, int],
        timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
        source_address: Any = None,
    ) -> socket.socket:
        host, port = address
        ip = policy.check_host(host, port)
        return socket.create_connection((ip, port), timeout, source_address)

    class PinnedHTTP(http.client.HTTPConnection):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            self._create_connection = pinned_create

    class PinnedHTTPS(http.client.HTTPSConnection):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            self._create_connection = pinned_create

    class HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(PinnedHTTP, req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> Any:
            return self.do_open(PinnedHTTPS, req, context=context)

    # No ProxyHandler: a proxy would be the one connecting, past the check.
    return [urllib.request.ProxyHandler({}), HTTPHandler(), HTTPSHandler(context=context)]


def _smtp(
    policy: EgressPolicy,
    host: str,
    port: int,
    timeout: float,
    implicit_tls: bool,
    context: ssl.SSLContext | None,
) -> Any:
    import smtplib

    class PinnedSMTP(smtplib.SMTP):
        def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
            return policy.connect(host, port, timeout, self.source_address)  # type: ignore[arg-type]

    class PinnedSMTPSSL(smtplib.SMTP_SSL):
        _host: str

        def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
            sock = policy.connect(host, port, timeout, self.source_address)  # type: ignore[arg-type]
            return self.context.wrap_socket(sock, server_hostname=self._host)

    if implicit_tls:
        return PinnedSMTPSSL(
            host, port, timeout=timeout, context=context or ssl.create_default_context()
        )
    return PinnedSMTP(host, port, timeout=timeout)


def _imap_client(policy: EgressPolicy, host: str, port: int, kwargs: dict[str, Any]) -> Any:
    from imapclient import IMAPClient, imap4, tls

    class PinnedTLS(tls.IMAP4_TLS):
        def _create_socket(self, timeout: float | None = None) -> socket.socket:
            sock = policy.connect(
                self.host, self.port, timeout if timeout is not None else self._timeout
            )
            return tls.wrap_socket(sock, self.ssl_context, self.host)

    class PinnedPlain(imap4.IMAP4WithTimeout):
        def _create_socket(self, timeout: float | None = None) -> socket.socket:
            return policy.connect(
                self.host, self.port, timeout if timeout is not None else self._timeout
            )

    class PinnedIMAPClient(IMAPClient):
        def _create_IMAP4(self) -> Any:
            connect_timeout = getattr(self._timeout, "connect", None)
            if self.ssl:
                return PinnedTLS(self.host, self.port, self.ssl_context, connect_timeout)
            return PinnedPlain(self.host, self.port, connect_timeout)

    return PinnedIMAPClient(host, port=port, **kwargs)
