"""A small authoritative DNS server on 127.0.0.1 for SPF, DKIM and DMARC records in tests.

It speaks real DNS over UDP (and TCP, for answers too large for a datagram), built from
dnspython's message parsing: the hub's resolver is pointed at it with ``HUB_DNS_NAMESERVERS``.
Names it does not know get NXDOMAIN, so nothing a test sends is looked up anywhere else.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset


class Zone:
    """TXT records by name; safe to change while the server runs.

    Answers and denials carry ``ttl`` (0 by default: tests change records while it runs, and
    the hub's resolver caches what the TTL allows; a benchmark with a fixed zone passes more).
    """

    def __init__(self, ttl: int = 0) -> None:
        self.ttl = ttl
        self._txt: dict[str, list[bytes]] = {}
        self._lock = threading.Lock()
        self.queries: list[tuple[str, str]] = []

    def txt(self, name: str, value: str) -> None:
        with self._lock:
            self._txt.setdefault(name.lower().rstrip("."), []).append(value.encode())

    def clear(self) -> None:
        with self._lock:
            self._txt.clear()
            self.queries.clear()

    def answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        for question in query.question:
            name = question.name.to_text(omit_final_dot=True).lower()
            with self._lock:
                self.queries.append((name, dns.rdatatype.to_text(question.rdtype)))
                values = list(self._txt.get(name, []))
            if not values:
                response.set_rcode(dns.rcode.NXDOMAIN)
                self._deny(response)
                continue
            if question.rdtype != dns.rdatatype.TXT:
                self._deny(response)  # the name exists, with no record of that type
                continue
            rrset = dns.rrset.RRset(question.name, dns.rdataclass.IN, dns.rdatatype.TXT)
            for value in values:
                chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [b""]
                rrset.add(
                    dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks),
                    ttl=self.ttl,
                )
            response.answer.append(rrset)
        return response.to_wire()

    def _deny(self, response: dns.message.Message) -> None:
        """The SOA a denial carries (RFC 2308): its minimum is how long it may be cached."""
        if response.authority:
            return
        soa = dns.rrset.from_text(
            dns.name.root, self.ttl, "IN", "SOA", f". hostmaster. 1 3600 600 86400 {self.ttl}"
        )
        response.authority.append(soa)


class _Udp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        zone: Zone = self.server.zone  # type: ignore[attr-defined]
        try:
            sock.sendto(zone.answer(data), self.client_address)
        except Exception:
            return


class _Tcp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        zone: Zone = self.server.zone  # type: ignore[attr-defined]
        head = self.request.recv(2)
        if len(head) < 2:
            return
        (length,) = struct.unpack("!H", head)
        data = b""
        while len(data) < length:
            chunk = self.request.recv(length - len(data))
            if not chunk:
                return
            data += chunk
        answer = zone.answer(data)
        self.request.sendall(struct.pack("!H", len(answer)) + answer)


class _UdpServer(socketserver.ThreadingUDPServer):
    daemon_threads = True


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def run_dns(ttl: int = 0) -> Iterator[tuple[Zone, str]]:
    """A DNS server on a free port of 127.0.0.1 (UDP and TCP); yields the zone and
    ``"127.0.0.1:<port>"`` for ``HUB_DNS_NAMESERVERS``."""
    zone = Zone(ttl)
    udp = _UdpServer(("127.0.0.1", 0), _Udp)
    port = udp.server_address[1]
    try:
        tcp = _TcpServer(("127.0.0.1", port), _Tcp)
    except OSError:
        udp.server_close()
        raise
    udp.zone = zone  # type: ignore[attr-defined]
    tcp.zone = zone  # type: ignore[attr-defined]
    threads = [
        threading.Thread(
            target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True, name="fake-dns"
        )
        for s in (udp, tcp)
    ]
    for thread in threads:
        thread.start()
    try:
        yield zone, f"127.0.0.1:{port}"
    finally:
        for server in (udp, tcp):
            server.shutdown()
            server.server_close()


def resolve_txt(server: str, name: str) -> list[bytes]:
    """A raw query to the server (for the fixture's own check)."""
    host, _, port = server.partition(":")
    query = dns.message.make_query(name, "TXT")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(query.to_wire(), (host, int(port)))
        response = dns.message.from_wire(sock.recv(4096))
    return [b"".join(r.strings) for rrset in response.answer for r in rrset]
