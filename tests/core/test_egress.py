"""The egress policy: which addresses are refused, the operator's allow-list, vendor URLs, and
connections pinned to the address that was checked (so DNS rebinding cannot pass)."""

from __future__ import annotations

import smtplib
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import requests
from aiosmtpd.controller import Controller

from core.egress import EgressPolicy, EgressRefused, parse_allow
from hub.settings import Settings
from tests.services import free_port


def resolver(table: dict[str, list[str]]) -> Any:
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize(
    "addr",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "fd00:ec2::254",
        "100.100.100.200",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "240.0.0.1",
    ],
)
def test_internal_addresses_are_refused(addr: str) -> None:
    with pytest.raises(EgressRefused, match="HUB_EGRESS_ALLOW"):
        EgressPolicy().check_host(addr, 443)


def test_a_public_address_passes_and_is_what_is_returned() -> None:
    policy = EgressPolicy(resolver=resolver({"jira.example": ["8.8.4.4"]}))
    assert policy.check_host("8.8.8.8", 443) == "8.8.8.8"
    assert policy.check_host("Jira.Example.", 443) == "8.8.4.4"


def test_a_name_is_judged_by_what_it_resolves_to() -> None:
    policy = EgressPolicy(
        resolver=resolver({"evil.example": ["127.0.0.1"], "mixed.example": ["8.8.8.8", "10.0.0.7"]})
    )
    with pytest.raises(EgressRefused, match="evil.example resolves to a loopback address"):
        policy.check_host("evil.example", 80)
    # One public and one private answer: either could be connected to, so it is refused.
    with pytest.raises(EgressRefused, match="private"):
        policy.check_host("mixed.example", 80)


def test_the_allow_list_names_networks_addresses_ports_and_hosts() -> None:
    table = {"jira.corp": ["10.0.0.5"], "a.corp": ["10.9.9.9"], "other": ["10.0.0.6"]}
    policy = EgressPolicy(
        allow=parse_allow("192.168.0.0/16, 127.0.0.1:2525, jira.corp:443, *.corp"),
        resolver=resolver(table),
    )
    assert policy.check_host("192.168.7.7", 1) == "192.168.7.7"
    assert policy.check_host("127.0.0.1", 2525) == "127.0.0.1"
    with pytest.raises(EgressRefused):
        policy.check_host("127.0.0.1", 2526)
    assert policy.check_host("jira.corp", 443) == "10.0.0.5"
    assert policy.check_host("a.corp", 993) == "10.9.9.9"
    with pytest.raises(EgressRefused):
        policy.check_host("other", 443)


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "host:port", "127.0.0.1:0", "a b", "[::1]x"])
def test_a_bad_allow_list_entry_stops_the_start(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_allow(bad)
    with pytest.raises(ValueError):
        Settings(egress_allow=bad, _env_file=None)  # type: ignore[call-arg]


def test_settings_build_the_policy() -> None:
    settings = Settings(
        egress_allow="127.0.0.1:25", egress_allow_vendor_override=True, _env_file=None
    )  # type: ignore[call-arg]
    policy = EgressPolicy.from_settings(
        settings.egress_allow, vendor_override=settings.egress_allow_vendor_override
    )
    assert policy.check_host("127.0.0.1", 25) == "127.0.0.1"
    assert policy.vendor_override


def test_vendor_urls_stay_the_vendors_unless_overrides_are_allowed() -> None:
    default = "https://slack.com/api/"
    strict = EgressPolicy()
    assert strict.vendor_url("", default, ("slack.com",), "api_base_url") == default
    assert strict.vendor_url("https://slack.com/api/x", default, ("slack.com",), "f")
    for other in (
        "https://slack.com.evil.example/api/",
        "http://slack.com/api/",
        "https://127.0.0.1/api/",
    ):
        with pytest.raises(EgressRefused, match="fixed to https://slack.com/api/"):
            strict.vendor_url(other, default, ("slack.com",), "api_base_url")
    loose = EgressPolicy(vendor_override=True)
    assert loose.vendor_url("http://127.0.0.1/api/", default, ("slack.com",), "f")


def test_urls_with_other_schemes_or_credentials_are_refused() -> None:
    for url in ("file:///etc/passwd", "gopher://8.8.8.8/", "https://user:pw@8.8.8.8/"):
        with pytest.raises(EgressRefused):
            EgressPolicy().check_url(url)


# ------------------------------------------------------------------ pinning


class _Hosts(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Host", ""))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[int, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Hosts,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1]), seen
    server.shutdown()
    server.server_close()


def _pinned_policy(port: int) -> EgressPolicy:
    # "pinned.invalid" exists for the policy only: the system resolver has never heard of it,
    # so a client that resolved the name again itself could not connect at all.
    return EgressPolicy(
        allow=parse_allow(f"127.0.0.1:{port}"), resolver=resolver({"pinned.invalid": ["127.0.0.1"]})
    )


def test_httpx_connects_to_the_checked_address_and_keeps_the_host(http_server: Any) -> None:
    port, seen = http_server
    policy = _pinned_policy(port)
    with httpx.Client(transport=policy.httpx_transport(), trust_env=False) as client:
        assert client.get(f"http://pinned.invalid:{port}/").text == "ok"
    assert seen == [f"pinned.invalid:{port}"]
    assert policy.resolver.calls == ["pinned.invalid"]  # type: ignore[attr-defined]


def test_requests_connects_to_the_checked_address_and_keeps_the_host(http_server: Any) -> None:
    port, seen = http_server
    session = _pinned_policy(port).mount(requests.Session())
    assert session.get(f"http://pinned.invalid:{port}/", timeout=5).text == "ok"
    assert seen == [f"pinned.invalid:{port}"]


def test_urllib_connects_to_the_checked_address_and_keeps_the_host(http_server: Any) -> None:
    port, seen = http_server
    opener = urllib.request.build_opener(*_pinned_policy(port).urllib_handlers())
    with opener.open(f"http://pinned.invalid:{port}/", timeout=5) as resp:
        assert resp.read() == b"ok"
    assert seen == [f"pinned.invalid:{port}"]


def test_a_name_that_rebinds_to_loopback_is_refused_at_connect_time(http_server: Any) -> None:
    port, seen = http_server
    # What the name resolves to when the connection is made is what counts.
    policy = EgressPolicy(resolver=resolver({"rebind.example": ["127.0.0.1"]}))
    with (
        httpx.Client(transport=policy.httpx_transport(), trust_env=False) as client,
        pytest.raises(EgressRefused),
    ):
        client.get(f"http://rebind.example:{port}/")
    with pytest.raises(EgressRefused):
        policy.mount(requests.Session()).get(f"http://rebind.example:{port}/", timeout=5)
    assert seen == []


def test_smtp_connects_to_the_checked_address() -> None:
    got: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            got.append(envelope.content)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        policy = EgressPolicy(
            allow=parse_allow(f"127.0.0.1:{port}"),
            resolver=resolver({"relay.invalid": ["127.0.0.1"]}),
        )
        client: smtplib.SMTP = policy.smtp("relay.invalid", port, timeout=5)
        with client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nhi\r\n")
        with pytest.raises(EgressRefused):
            EgressPolicy().smtp("127.0.0.1", port, timeout=5)
    finally:
        controller.stop()
    assert len(got) == 1
